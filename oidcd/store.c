/*
 * Copyright (c) 2026 The oidcd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * The OpenID Provider's records in the storage process's LMDB env:
 * auth requests, authorization codes, refresh token families and the
 * subject index (DESIGN.md §5), with Dex's rules (reference/dex.md
 * §1.4, §4.5, §4.6) and the improvements of its §10.
 *
 * Nothing here stores a code or a refresh token: records are keyed by
 * SHA-256 of them.  Nothing here logs one, nor a hash of one; a family
 * id is logged by its first eight hex digits.
 *
 * A refresh token is base64url(family id || secret).  The secret of
 * the first token is random; each rotation makes the next secret as
 * HMAC-SHA256(salt, previous token) with a fresh random salt kept in
 * the family record.  That lets the holder of the token just rotated
 * out get the current token back within reuseInterval (Dex hands back
 * the current token there) although only hashes are stored: neither a
 * copy of the database nor a stolen old token alone yields a token.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "oidcd.h"
#include "db.h"
#include "jose.h"
#include "passwd.h"
#include "store.h"

/* Record types (the db header's type byte). */
#define REC_AUTHREQ	1
#define REC_CODE	2
#define REC_TOMBSTONE	3	/* a redeemed code */
/* 4 was a refresh token record: no longer written. */
#define REC_FAMILY	5
#define REC_REVOKED	6	/* a revoked access token */
#define REC_DEVREQ	6
#define REC_DEVTOKEN	7
#define REC_DEVTOMB	8	/* a device code that gave its tokens */
#define REC_SESSION	9	/* a browser session */

#define HASH_LEN	32

#define ERR_REQUEST	"invalid_request"
#define ERR_GRANT	"invalid_grant"
#define ERR_SERVER	"server_error"
#define TXT_SESSION	"User session error."
#define TXT_EXPIRED	"User session has expired."
#define TXT_CODE	"Invalid or expired code parameter."
#define TXT_REDIRECT	"redirect_uri did not match URI from initial request."
#define TXT_VERIFIER	"Invalid code_verifier."
#define TXT_NOVERIFIER	"Expecting parameter code_verifier in PKCE flow."
#define TXT_NOPKCE	"No PKCE flow started. Cannot check code_verifier."
#define TXT_REFRESH	"Refresh token is invalid or has already been " \
			    "claimed by another client."
#define TXT_RTEXPIRED	"Refresh token expired."
#define TXT_SCOPES	"Requested scopes contain unauthorized scope(s)"
#define TXT_USERCODE	"Invalid or expired user code."
#define TXT_AUTHCODE	"Invalid or expired auth code."
#define TXT_DEVCODE	"Invalid Device code."
#define TXT_DENIED	"The authorization request was denied."

/* Device token states: Dex's two, and a refusal (RFC 8628 §3.5). */
#define DEV_PENDING	"authorization_pending"
#define DEV_COMPLETE	"complete"
#define DEV_DENIED	"access_denied"

/*
 * Request validation: a table of members per object.  A member not in
 * the table, a missing required one, a wrong type or length: malformed.
 */
enum ftype {
	F_STR,		/* string, at most f_max bytes, no NUL */
	F_B64,		/* exactly f_max base64url characters */
	F_BOOL,
	F_TIME,		/* integer 0 .. STORE_TIME_MAX */
	F_STRS,		/* array of at most f_max strings of f_emax bytes */
	F_RTYPES,	/* 1 to 3 of code, token, id_token */
	F_METHOD,	/* "", plain, S256 */
	F_IDENTITY,
	F_GRANT,
	F_AUTHREQ,
	F_UCODE		/* a user code as XXXX-XXXX */
};
#define F_REQ		0x1	/* required */
#define F_NONEMPTY	0x2	/* a string that must not be empty */

struct field {
	const char	*f_name;
	enum ftype	 f_type;
	size_t		 f_max;
	size_t		 f_emax;
	int		 f_flags;
};

static const struct field identity_fields[] = {
	{ "userId",		F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ "username",		F_STR, STORE_TEXT_MAX, 0, 0 },
	{ "preferredUsername",	F_STR, STORE_TEXT_MAX, 0, 0 },
	{ "email",		F_STR, STORE_TEXT_MAX, 0, 0 },
	{ "emailVerified",	F_BOOL, 0, 0, 0 },
	{ "groups",		F_STRS, STORE_GROUPS_MAX, STORE_NAME_MAX, 0 },
	{ "connectorId",	F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ "connectorData",	F_STR, STORE_CONNDATA_MAX, 0, 0 },
	{ NULL }
};

static const struct field grant_fields[] = {
	{ "clientId",		F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ "scopes",		F_STRS, STORE_SCOPES_MAX, STORE_SCOPE_MAX,
				    F_REQ },
	{ "nonce",		F_STR, STORE_TEXT_MAX, 0, 0 },
	{ "identity",		F_IDENTITY, 0, 0, F_REQ },
	{ "connectorId",	F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ "authTime",		F_TIME, 0, 0, 0 },
	{ "sid",		F_B64, STORE_SID_LEN, 0, 0 },
	{ NULL }
};

static const struct field authreq_fields[] = {
	{ "id",			F_B64, STORE_ID_LEN, 0, F_REQ },
	{ "clientId",		F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ "redirectUri",	F_STR, STORE_URI_MAX, 0, F_REQ },
	{ "scopes",		F_STRS, STORE_SCOPES_MAX, STORE_SCOPE_MAX,
				    F_REQ },
	{ "responseTypes",	F_RTYPES, 0, 0, F_REQ },
	{ "state",		F_STR, STORE_TEXT_MAX, 0, 0 },
	{ "nonce",		F_STR, STORE_TEXT_MAX, 0, 0 },
	{ "codeChallenge",	F_STR, STORE_CHALLENGE_MAX, 0, 0 },
	{ "codeChallengeMethod", F_METHOD, 0, 0, 0 },
	{ "connectorId",	F_STR, STORE_NAME_MAX, 0, 0 },
	{ "connectorData",	F_STR, STORE_CONNDATA_MAX, 0, 0 },
	{ "forceApproval",	F_BOOL, 0, 0, 0 },
	{ "expiry",		F_TIME, 0, 0, F_REQ },
	{ "hmacKey",		F_B64, STORE_HMACKEY_LEN, 0, F_REQ },
	{ "loggedIn",		F_BOOL, 0, 0, 0 },
	{ "identity",		F_IDENTITY, 0, 0, 0 },
	{ "authTime",		F_TIME, 0, 0, 0 },
	{ "sid",		F_B64, STORE_SID_LEN, 0, 0 },
	{ NULL }
};

static const struct field put_fields[] = {
	{ "authreq",		F_AUTHREQ, 0, 0, F_REQ },
	{ NULL }
};

static const struct field id_fields[] = {
	{ "id",			F_B64, STORE_ID_LEN, 0, F_REQ },
	{ NULL }
};

static const struct field login_fields[] = {
	{ "id",			F_B64, STORE_ID_LEN, 0, F_REQ },
	{ "identity",		F_IDENTITY, 0, 0, F_REQ },
	{ NULL }
};

static const struct field redeem_fields[] = {
	{ "code",		F_B64, STORE_CODE_LEN, 0, F_REQ },
	{ "clientId",		F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ "redirectUri",	F_STR, STORE_URI_MAX, 0, F_REQ },
	{ "codeVerifier",	F_STR, STORE_VERIFIER_MAX, 0, 0 },
	{ "refresh",		F_BOOL, 0, 0, 0 },
	{ NULL }
};

static const struct field issue_fields[] = {
	{ "grant",		F_GRANT, 0, 0, F_REQ },
	{ NULL }
};

static const struct field rotate_fields[] = {
	{ "refreshToken",	F_B64, STORE_TOKEN_LEN, 0, F_REQ },
	{ "clientId",		F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ "scopes",		F_STRS, STORE_SCOPES_MAX, STORE_SCOPE_MAX, 0 },
	{ "upstreamFirst",	F_BOOL, 0, 0, 0 },
	{ "identity",		F_IDENTITY, 0, 0, 0 },
	{ NULL }
};

static const struct field introspect_fields[] = {
	{ "refreshToken",	F_B64, STORE_TOKEN_LEN, 0, F_REQ },
	{ NULL }
};

static const struct field devcreate_fields[] = {
	{ "clientId",		F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ "scopes",		F_STRS, STORE_SCOPES_MAX, STORE_SCOPE_MAX,
				    F_REQ },
	{ "redirectUri",	F_STR, STORE_URI_MAX, 0, F_REQ | F_NONEMPTY },
	{ "codeChallenge",	F_STR, STORE_CHALLENGE_MAX, 0, 0 },
	{ "codeChallengeMethod", F_METHOD, 0, 0, 0 },
	{ NULL }
};

static const struct field usercode_fields[] = {
	{ "userCode",		F_UCODE, 0, 0, F_REQ },
	{ NULL }
};

static const struct field devcomplete_fields[] = {
	{ "userCode",		F_UCODE, 0, 0, F_REQ },
	{ "code",		F_B64, STORE_CODE_LEN, 0, F_REQ },
	{ NULL }
};

static const struct field devpoll_fields[] = {
	{ "deviceCode",		F_B64, STORE_DEVICE_CODE_LEN, 0, F_REQ },
	{ "clientId",		F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ "codeVerifier",	F_STR, STORE_VERIFIER_MAX, 0, 0 },
	{ "refresh",		F_BOOL, 0, 0, 0 },
	{ NULL }
};

static const struct field access_revoke_fields[] = {
	{ "jti",		F_STR, STORE_JTI_MAX, 0, F_REQ | F_NONEMPTY },
	{ "exp",		F_TIME, 0, 0, F_REQ },
	{ "clientId",		F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ NULL }
};

static const struct field access_check_fields[] = {
	{ "jti",		F_STR, STORE_JTI_MAX, 0, F_REQ | F_NONEMPTY },
	{ NULL }
};

static const struct field refresh_revoke_fields[] = {
	{ "refreshToken",	F_B64, STORE_TOKEN_LEN, 0, F_REQ },
	{ "clientId",		F_STR, STORE_NAME_MAX, 0, F_REQ | F_NONEMPTY },
	{ NULL }
};

static const struct field sesscreate_fields[] = {
	{ "id",			F_B64, STORE_ID_LEN, 0, F_REQ },
	{ "identity",		F_IDENTITY, 0, 0, F_REQ },
	{ "session",		F_B64, STORE_HASH_LEN, 0, F_REQ },
	{ "replaces",		F_B64, STORE_HASH_LEN, 0, 0 },
	{ NULL }
};

static const struct field sesslogin_fields[] = {
	{ "authreq",		F_AUTHREQ, 0, 0, F_REQ },
	{ "session",		F_B64, STORE_HASH_LEN, 0, F_REQ },
	{ "maxAge",		F_TIME, 0, 0, 0 },
	{ "sub",		F_STR, STORE_SUB_MAX, 0, 0 },
	{ NULL }
};

static const struct field sessget_fields[] = {
	{ "session",		F_B64, STORE_HASH_LEN, 0, F_REQ },
	{ NULL }
};

static const struct field sessend_fields[] = {
	{ "session",		F_B64, STORE_HASH_LEN, 0, F_REQ },
	{ "sid",		F_B64, STORE_SID_LEN, 0, 0 },
	{ NULL }
};

static int	 check_object(json_t *, const struct field *);

static int
check_string(json_t *v, size_t max, int flags)
{
	size_t	 len;

	if (!json_is_string(v))
		return (-1);
	len = json_string_length(v);
	/* A NUL inside would cut the string short in C. */
	if (len > max || strlen(json_string_value(v)) != len)
		return (-1);
	if ((flags & F_NONEMPTY) && len == 0)
		return (-1);
	return (0);
}

static int
check_b64(json_t *v, size_t len)
{
	const char	*s;
	size_t		 i;

	if (!json_is_string(v) || json_string_length(v) != len)
		return (-1);
	s = json_string_value(v);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_'))
			return (-1);
	return (0);
}

static int
check_strings(json_t *v, size_t max, size_t emax)
{
	json_t	*e;
	size_t	 i;

	if (!json_is_array(v) || json_array_size(v) > max)
		return (-1);
	json_array_foreach(v, i, e)
		if (check_string(e, emax, F_NONEMPTY) == -1)
			return (-1);
	return (0);
}

static int
check_rtypes(json_t *v)
{
	json_t		*e, *f;
	const char	*s;
	size_t		 i, j;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > STORE_RTYPES_MAX)
		return (-1);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return (-1);
		s = json_string_value(e);
		if (strcmp(s, "code") != 0 && strcmp(s, "token") != 0 &&
		    strcmp(s, "id_token") != 0)
			return (-1);
		for (j = 0; j < i; j++) {
			f = json_array_get(v, j);
			if (strcmp(json_string_value(f), s) == 0)
				return (-1);
		}
	}
	return (0);
}

/* Only the canonical form: what store_user_code_parse() gives. */
static int
check_user_code(json_t *v)
{
	char	 code[STORE_USER_CODE_LEN + 1];

	if (!json_is_string(v) ||
	    json_string_length(v) != STORE_USER_CODE_LEN ||
	    store_user_code_parse(json_string_value(v), code) == -1 ||
	    strcmp(code, json_string_value(v)) != 0)
		return (-1);
	return (0);
}

static int
check_value(json_t *v, const struct field *f)
{
	json_int_t	 i;
	const char	*s;

	switch (f->f_type) {
	case F_STR:
		return (check_string(v, f->f_max, f->f_flags));
	case F_B64:
		return (check_b64(v, f->f_max));
	case F_BOOL:
		return (json_is_boolean(v) ? 0 : -1);
	case F_TIME:
		if (!json_is_integer(v))
			return (-1);
		i = json_integer_value(v);
		return (i >= 0 && i <= STORE_TIME_MAX ? 0 : -1);
	case F_STRS:
		return (check_strings(v, f->f_max, f->f_emax));
	case F_RTYPES:
		return (check_rtypes(v));
	case F_METHOD:
		if (!json_is_string(v))
			return (-1);
		s = json_string_value(v);
		return (strcmp(s, "") == 0 || strcmp(s, "plain") == 0 ||
		    strcmp(s, "S256") == 0 ? 0 : -1);
	case F_IDENTITY:
		return (check_object(v, identity_fields));
	case F_GRANT:
		return (check_object(v, grant_fields));
	case F_AUTHREQ:
		return (check_object(v, authreq_fields));
	case F_UCODE:
		return (check_user_code(v));
	}
	return (-1);
}

static int
check_object(json_t *o, const struct field *fields)
{
	const struct field	*f;
	const char		*key;
	json_t			*v;

	if (!json_is_object(o))
		return (-1);
	json_object_foreach(o, key, v) {
		for (f = fields; f->f_name != NULL; f++)
			if (strcmp(f->f_name, key) == 0)
				break;
		if (f->f_name == NULL || check_value(v, f) == -1)
			return (-1);
	}
	for (f = fields; f->f_name != NULL; f++)
		if ((f->f_flags & F_REQ) &&
		    json_object_get(o, f->f_name) == NULL)
			return (-1);
	return (0);
}

int
store_request_check(int type, json_t *req)
{
	json_t	*ar;

	switch (type) {
	case IMSG_STORE_AUTHREQ_PUT:
		if (check_object(req, put_fields) == -1)
			return (-1);
		/* A new auth request is not logged in yet. */
		ar = json_object_get(req, "authreq");
		if (json_is_true(json_object_get(ar, "loggedIn")) ||
		    json_object_get(ar, "identity") != NULL ||
		    json_object_get(ar, "authTime") != NULL ||
		    json_object_get(ar, "sid") != NULL)
			return (-1);
		return (0);
	case IMSG_STORE_AUTHREQ_GET:
	case IMSG_STORE_CODE_ISSUE:
		return (check_object(req, id_fields));
	case IMSG_STORE_AUTHREQ_LOGIN:
		return (check_object(req, login_fields));
	case IMSG_STORE_CODE_REDEEM:
		return (check_object(req, redeem_fields));
	case IMSG_STORE_REFRESH_ISSUE:
		return (check_object(req, issue_fields));
	case IMSG_STORE_REFRESH_ROTATE:
		return (check_object(req, rotate_fields));
	case IMSG_STORE_INTROSPECT:
		return (check_object(req, introspect_fields));
	case IMSG_STORE_DEVICE_CREATE:
		return (check_object(req, devcreate_fields));
	case IMSG_STORE_DEVICE_GET:
	case IMSG_STORE_DEVICE_DENY:
		return (check_object(req, usercode_fields));
	case IMSG_STORE_DEVICE_COMPLETE:
		return (check_object(req, devcomplete_fields));
	case IMSG_STORE_DEVICE_POLL:
		return (check_object(req, devpoll_fields));
	case IMSG_STORE_SESSION_CREATE:
		return (check_object(req, sesscreate_fields));
	case IMSG_STORE_SESSION_LOGIN:
		if (check_object(req, sesslogin_fields) == -1)
			return (-1);
		/* Storage logs it in, from the session: not before. */
		ar = json_object_get(req, "authreq");
		if (json_object_get(ar, "loggedIn") != NULL ||
		    json_object_get(ar, "identity") != NULL ||
		    json_object_get(ar, "authTime") != NULL ||
		    json_object_get(ar, "sid") != NULL)
			return (-1);
		return (0);
	case IMSG_STORE_SESSION_GET:
		return (check_object(req, sessget_fields));
	case IMSG_STORE_ACCESS_REVOKE:
		return (check_object(req, access_revoke_fields));
	case IMSG_STORE_ACCESS_CHECK:
		return (check_object(req, access_check_fields));
	case IMSG_STORE_REFRESH_REVOKE:
		return (check_object(req, refresh_revoke_fields));
	case IMSG_STORE_SESSION_END:
		return (check_object(req, sessend_fields));
	}
	return (-1);
}

/*
 * Helpers.
 */

json_t *
store_error(const char *error, const char *desc)
{
	json_t	*o;

	if ((o = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", error,
	    "error_description", desc)) == NULL)
		fatalx("%s: json_pack", __func__);
	return (o);
}

static json_t *
reply_ok(void)
{
	json_t	*o;

	if ((o = json_pack("{s:b}", "ok", 1)) == NULL)
		fatalx("%s: json_pack", __func__);
	return (o);
}

static void
set_new(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) == -1)
		fatalx("%s: %s", __func__, key);
}

static void
sha256(const void *p, size_t len, uint8_t out[HASH_LEN])
{
	unsigned int	 mdlen = HASH_LEN;

	if (jose_digest(EVP_sha256(), p, len, out, &mdlen) == -1 ||
	    mdlen != HASH_LEN)
		fatalx("%s: jose_digest", __func__);
}

/* base64url of SHA-256: how hashes and PKCE challenges are written. */
static void
sha256_b64(const void *p, size_t len, char out[STORE_HASH_LEN + 1])
{
	uint8_t	 md[HASH_LEN];
	char	*s;

	sha256(p, len, md);
	if ((s = jose_b64url_encode(md, sizeof(md))) == NULL ||
	    strlen(s) != STORE_HASH_LEN)
		fatalx("%s: encode", __func__);
	memcpy(out, s, STORE_HASH_LEN + 1);
	free(s);
}

static void
hex(const uint8_t *p, size_t len, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

static int
unhex(const char *s, uint8_t *out, size_t len)
{
	size_t	 i;
	int	 hi, lo;

	if (strlen(s) != 2 * len)
		return (-1);
	for (i = 0; i < len; i++) {
		if ((hi = hexval(s[2 * i])) == -1 ||
		    (lo = hexval(s[2 * i + 1])) == -1)
			return (-1);
		out[i] = hi << 4 | lo;
	}
	return (0);
}

static const char *
str(json_t *o, const char *key)
{
	const char	*s;

	s = json_string_value(json_object_get(o, key));
	return (s != NULL ? s : "");
}

static uint64_t
num(json_t *o, const char *key)
{
	json_int_t	 i;

	i = json_integer_value(json_object_get(o, key));
	return (i > 0 ? (uint64_t)i : 0);
}

static int
strs_contain(json_t *a, const char *s)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(a, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
			return (1);
	return (0);
}

/* Record expiry: 0 means never; a record is gone once now >= exp. */
static int
expired(json_t *rec, uint64_t now)
{
	uint64_t	 exp = db_record_exp(rec);

	return (exp != 0 && exp <= now);
}

/*
 * Store side of the refresh token policy.
 */

int
store_policy_parse(json_t *cfg, struct store_policy *sp)
{
	json_t		*refreshers, *r, *e;
	json_int_t	 ar, reuse, idle, abs;
	int		 disable;
	size_t		 i;

	memset(sp, 0, sizeof(*sp));
	if (json_unpack(cfg, "{s:I, s:o, s:o}", "authRequests", &ar,
	    "refreshConnectors", &refreshers, "refresh", &r) == -1 ||
	    json_unpack(r, "{s:b, s:I, s:I, s:I}", "disableRotation",
	    &disable, "reuseInterval", &reuse, "validIfNotUsedFor", &idle,
	    "absoluteLifetime", &abs) == -1)
		return (-1);
	if (ar < 0 || reuse < 0 || idle < 0 || abs < 0 ||
	    ar > STORE_TIME_MAX || reuse > STORE_TIME_MAX ||
	    idle > STORE_TIME_MAX || abs > STORE_TIME_MAX ||
	    !json_is_array(refreshers) ||
	    json_array_size(refreshers) > STORE_REFRESHERS_MAX)
		return (-1);
	sp->sp_authreq_lifetime = ar;
	sp->sp_disable_rotation = disable;
	sp->sp_reuse_interval = reuse;
	sp->sp_valid_if_not_used_for = idle;
	sp->sp_absolute_lifetime = abs;
	/* Optional: a config of an older parent has none. */
	if ((e = json_object_get(cfg, "deviceRequests")) != NULL) {
		if (!json_is_integer(e) || json_integer_value(e) < 0 ||
		    json_integer_value(e) > STORE_TIME_MAX)
			return (-1);
		sp->sp_device_lifetime = json_integer_value(e);
	}
	/* Optional too: {"absoluteLifetime", "validIfNotUsedFor"}. */
	if ((e = json_object_get(cfg, "sessions")) != NULL) {
		if (json_unpack(e, "{s:I, s:I}", "absoluteLifetime", &abs,
		    "validIfNotUsedFor", &idle) == -1 || abs < 0 ||
		    idle < 0 || abs > STORE_TIME_MAX || idle > STORE_TIME_MAX)
			return (-1);
		sp->sp_session_absolute = abs;
		sp->sp_session_idle = idle;
	}
	/* Optional: the password database's users, without hashes. */
	if ((e = json_object_get(cfg, "localUsers")) != NULL) {
		if (!json_is_array(e) ||
		    (sp->sp_local = passwd_dir_load(e)) == NULL)
			return (-1);
	}
	json_array_foreach(refreshers, i, e) {
		if (check_string(e, STORE_NAME_MAX, F_NONEMPTY) == -1) {
			store_policy_free(sp);
			return (-1);
		}
		if ((sp->sp_refreshers[i] = strdup(json_string_value(e))) ==
		    NULL)
			fatal("%s: strdup", __func__);
		sp->sp_nrefreshers = i + 1;
	}
	return (0);
}

void
store_policy_free(struct store_policy *sp)
{
	size_t	 i;

	for (i = 0; i < sp->sp_nrefreshers; i++)
		free(sp->sp_refreshers[i]);
	if (sp->sp_local != NULL)
		passwd_db_free(sp->sp_local);
	memset(sp, 0, sizeof(*sp));
}

/* Dex: a refresh token needs offline_access and a refreshing connector. */
static int
refresh_allowed(const struct store_policy *sp, json_t *grant)
{
	const char	*conn = str(grant, "connectorId");
	size_t		 i;

	if (!strs_contain(json_object_get(grant, "scopes"), "offline_access"))
		return (0);
	for (i = 0; i < sp->sp_nrefreshers; i++)
		if (strcmp(sp->sp_refreshers[i], conn) == 0)
			return (1);
	return (0);
}

/* When a family stops being valid: 0 if the policy never ends it. */
static uint64_t
family_exp(const struct store_policy *sp, uint64_t created,
    uint64_t lastused)
{
	uint64_t	 exp = 0;

	if (sp->sp_absolute_lifetime > 0)
		exp = created + sp->sp_absolute_lifetime;
	if (sp->sp_valid_if_not_used_for > 0 &&
	    (exp == 0 || lastused + sp->sp_valid_if_not_used_for < exp))
		exp = lastused + sp->sp_valid_if_not_used_for;
	/* A record expiring at exp is gone at exp; Dex allows now == end. */
	return (exp != 0 ? exp + 1 : 0);
}

/*
 * Refresh token families.
 */

/*
 * The subject index key: connectorId \0 userId \0 clientId, or, when
 * that does not fit in an LMDB key, 0xff and its SHA-256 (no UTF-8
 * string starts with 0xff, so the two forms never meet).
 */
static size_t
subject_key(json_t *grant, uint8_t *key, size_t keylen)
{
	const char	*c = str(grant, "connectorId");
	const char	*u = str(json_object_get(grant, "identity"), "userId");
	const char	*cl = str(grant, "clientId");
	size_t		 cn = strlen(c), un = strlen(u), cln = strlen(cl);
	size_t		 n = cn + un + cln + 2;
	uint8_t		*buf;

	if (n <= DB_KEY_MAX && n <= keylen) {
		memcpy(key, c, cn + 1);
		memcpy(key + cn + 1, u, un + 1);
		memcpy(key + cn + un + 2, cl, cln);
		return (n);
	}
	if ((buf = malloc(n)) == NULL)
		fatal("%s: malloc", __func__);
	memcpy(buf, c, cn + 1);
	memcpy(buf + cn + 1, u, un + 1);
	memcpy(buf + cn + un + 2, cl, cln);
	key[0] = 0xff;
	sha256(buf, n, key + 1);
	free(buf);
	return (1 + HASH_LEN);
}

static int
family_get(struct db_txn *t, const uint8_t *fid, json_t **fam)
{
	uint8_t	 type;
	int	 rc;

	if ((rc = db_get(t, DB_KIND_FAMILY, fid, STORE_FAMILY_BYTES, &type,
	    fam)) == DB_OK && type != REC_FAMILY) {
		json_decref(*fam);
		*fam = NULL;
		return (DB_EBADREC);
	}
	return (rc);
}

/*
 * Write a family record.  The family is the only record of its tokens:
 * a token is found by the family id it starts with, and the family holds
 * the hashes of its current and obsolete tokens.  (Older versions also
 * kept a record per token hash; those only wait for the GC now.)
 */
static int
family_put(struct db_txn *t, const struct store_policy *sp,
    const uint8_t *fid, json_t *fam)
{
	uint64_t	 exp;

	exp = family_exp(sp, num(fam, "created"), num(fam, "lastUsed"));
	return (db_put(t, DB_KIND_FAMILY, fid, STORE_FAMILY_BYTES,
	    REC_FAMILY, fam, exp));
}

/*
 * Revoke a family: every token of it fails from now on.  The record
 * stays a day, marked, so that a late token of it is logged as such.
 */
static int
family_revoke(struct db_txn *t, uint64_t now, const uint8_t *fid,
    json_t *fam, const char *why)
{
	uint8_t		 key[DB_KEY_MAX];
	size_t		 klen;
	char		 fhex[STORE_FAMILY_HEX + 1];
	int		 rc;

	if (json_is_true(json_object_get(fam, "revoked")))
		return (DB_OK);
	klen = subject_key(json_object_get(fam, "grant"), key, sizeof(key));
	rc = db_dup_del(t, DB_KIND_SUBJECT, key, klen, fid,
	    STORE_FAMILY_BYTES);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return (rc);
	set_new(fam, "revoked", json_true());
	if ((rc = db_put(t, DB_KIND_FAMILY, fid, STORE_FAMILY_BYTES,
	    REC_FAMILY, fam, now + STORE_REVOKED_KEEP)) != DB_OK)
		return (rc);
	hex(fid, STORE_FAMILY_BYTES, fhex);
	log_info("refresh token family %.8s revoked: %s", fhex, why);
	return (DB_OK);
}

static int
family_live(json_t *fam, uint64_t now)
{
	return (fam != NULL && !json_is_true(json_object_get(fam,
	    "revoked")) && !expired(fam, now));
}

struct famlist {
	uint8_t		 fl_ids[STORE_FAMILIES_MAX * 4][STORE_FAMILY_BYTES];
	size_t		 fl_n;
	const uint8_t	*fl_key;
	size_t		 fl_klen;
};

static int
subject_collect(const void *k, size_t klen, const void *v, size_t vlen,
    void *arg)
{
	struct famlist	*fl = arg;

	if (klen != fl->fl_klen || memcmp(k, fl->fl_key, klen) != 0)
		return (0);	/* a longer key with our key as prefix */
	if (vlen != STORE_FAMILY_BYTES)
		return (0);
	if (fl->fl_n == sizeof(fl->fl_ids) / sizeof(fl->fl_ids[0]))
		return (1);
	memcpy(fl->fl_ids[fl->fl_n++], v, STORE_FAMILY_BYTES);
	return (0);
}

/*
 * Unlike Dex, a user keeps several families per connector and client
 * (a new login does not end the session on another device), but at
 * most STORE_FAMILIES_MAX: the oldest goes.  Index entries of families
 * that expired or went are dropped on the way.
 */
static int
subject_add(struct db_txn *t, uint64_t now, json_t *grant,
    const uint8_t *fid)
{
	struct famlist	*fl;
	uint8_t		 key[DB_KEY_MAX];
	json_t		*fam, *oldest;
	size_t		 i, live, oi;
	uint64_t	 oc;
	int		 rc;

	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		fatal("%s: calloc", __func__);
	fl->fl_klen = subject_key(grant, key, sizeof(key));
	fl->fl_key = key;
	rc = db_foreach(t, DB_KIND_SUBJECT, key, fl->fl_klen,
	    subject_collect, fl);
	if (rc < 0)
		goto done;
	for (;;) {
		live = 0;
		oldest = NULL;
		oi = 0;
		oc = UINT64_MAX;
		for (i = 0; i < fl->fl_n; i++) {
			rc = family_get(t, fl->fl_ids[i], &fam);
			if (rc != DB_OK && rc != DB_NOTFOUND)
				goto done;
			if (!family_live(fam, now)) {
				rc = db_dup_del(t, DB_KIND_SUBJECT, key,
				    fl->fl_klen, fl->fl_ids[i],
				    STORE_FAMILY_BYTES);
				json_decref(fam);
				if (rc != DB_OK && rc != DB_NOTFOUND)
					goto done;
				/* Forget it: swap in the last one. */
				memmove(fl->fl_ids[i], fl->fl_ids[--fl->fl_n],
				    STORE_FAMILY_BYTES);
				i--;
				continue;
			}
			live++;
			if (num(fam, "created") < oc) {
				json_decref(oldest);
				oldest = fam;
				oi = i;
				oc = num(fam, "created");
			} else
				json_decref(fam);
		}
		if (live < STORE_FAMILIES_MAX) {
			json_decref(oldest);
			break;
		}
		rc = family_revoke(t, now, fl->fl_ids[oi], oldest,
		    "too many sessions for one user and client");
		json_decref(oldest);
		if (rc != DB_OK)
			goto done;
		memmove(fl->fl_ids[oi], fl->fl_ids[--fl->fl_n],
		    STORE_FAMILY_BYTES);
	}
	rc = db_dup_add(t, DB_KIND_SUBJECT, key, fl->fl_klen, fid,
	    STORE_FAMILY_BYTES);
 done:
	free(fl);
	return (rc);
}

/* A new family from a grant; *tokenp is the first token (malloc'd). */
static int
family_create(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *grant, const char *codehash, uint8_t *fid,
    char **tokenp)
{
	uint8_t		 raw[STORE_TOKEN_BYTES];
	char		 h[STORE_HASH_LEN + 1];
	char		*token;
	json_t		*fam;
	int		 rc;

	*tokenp = NULL;
	arc4random_buf(raw, sizeof(raw));
	memcpy(fid, raw, STORE_FAMILY_BYTES);
	if ((token = jose_b64url_encode(raw, sizeof(raw))) == NULL)
		fatalx("%s: encode", __func__);
	explicit_bzero(raw, sizeof(raw));
	sha256_b64(token, strlen(token), h);
	if ((fam = json_pack("{s:O, s:I, s:I, s:s, s:I, s:b}",
	    "grant", grant, "created", (json_int_t)now,
	    "lastUsed", (json_int_t)now, "current", h, "generation",
	    (json_int_t)1, "revoked", 0)) == NULL)
		fatalx("%s: json_pack", __func__);
	if (codehash != NULL)
		set_new(fam, "codeHash", json_string(codehash));
	if ((rc = db_insert(t, DB_KIND_FAMILY, fid, STORE_FAMILY_BYTES,
	    REC_FAMILY, fam, 0)) == DB_OK &&
	    (rc = family_put(t, sp, fid, fam)) == DB_OK)
		rc = subject_add(t, now, grant, fid);
	json_decref(fam);
	if (rc != DB_OK) {
		freezero(token, strlen(token));
		return (rc == DB_EXISTS ? DB_ERR : rc);
	}
	*tokenp = token;
	return (DB_OK);
}

/*
 * Auth requests.
 */

/* An auth request as the frontend sees it: without the db's "exp". */
static json_t *
authreq_out(json_t *ar)
{
	json_t	*o;

	if ((o = json_deep_copy(ar)) == NULL)
		fatalx("%s: json_deep_copy", __func__);
	(void)json_object_del(o, DB_EXP_MEMBER);
	return (o);
}

/*
 * Load a live auth request.  DB_OK with *arp NULL and *reply set when
 * the client gets an error instead.
 */
static int
authreq_load(struct db_txn *t, uint64_t now, const char *id, json_t **arp,
    json_t **reply)
{
	uint8_t	 type;
	int	 rc;

	*arp = NULL;
	rc = db_get(t, DB_KIND_AUTHREQ, id, STORE_ID_LEN, &type, arp);
	if (rc == DB_NOTFOUND) {
		*reply = store_error(ERR_REQUEST, TXT_SESSION);
		return (DB_OK);
	}
	if (rc != DB_OK)
		return (rc);
	if (type != REC_AUTHREQ) {
		json_decref(*arp);
		*arp = NULL;
		return (DB_EBADREC);
	}
	if (expired(*arp, now)) {
		json_decref(*arp);
		*arp = NULL;
		*reply = store_error(ERR_REQUEST, TXT_EXPIRED);
	}
	return (DB_OK);
}

int
store_authreq_put(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	json_t		*ar;
	uint64_t	 exp;
	int		 rc;

	*reply = NULL;
	if ((ar = json_deep_copy(json_object_get(req, "authreq"))) == NULL)
		fatalx("%s: json_deep_copy", __func__);
	exp = num(ar, "expiry");
	/* The configured lifetime bounds what a frontend asks for. */
	if (sp->sp_authreq_lifetime > 0 &&
	    exp > now + sp->sp_authreq_lifetime) {
		exp = now + sp->sp_authreq_lifetime;
		set_new(ar, "expiry", json_integer((json_int_t)exp));
	}
	if (exp <= now) {
		json_decref(ar);
		*reply = store_error(ERR_REQUEST, TXT_EXPIRED);
		return (DB_OK);
	}
	rc = db_insert(t, DB_KIND_AUTHREQ, str(ar, "id"), STORE_ID_LEN,
	    REC_AUTHREQ, ar, exp);
	json_decref(ar);
	if (rc == DB_EXISTS) {
		/* 128 random bits twice: the frontend's generator broke. */
		log_warnx("%s: auth request id reused", __func__);
		return (DB_ERR);
	}
	if (rc == DB_OK)
		*reply = reply_ok();
	return (rc);
}

int
store_authreq_get(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	json_t	*ar;
	int	 rc;

	*reply = NULL;
	if ((rc = authreq_load(t, now, str(req, "id"), &ar, reply)) !=
	    DB_OK || ar == NULL)
		return (rc);
	*reply = reply_ok();
	set_new(*reply, "authreq", authreq_out(ar));
	json_decref(ar);
	return (DB_OK);
}

int
store_authreq_login(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	json_t		*ar, *ident = json_object_get(req, "identity");
	const char	*conn;
	int		 rc;

	*reply = NULL;
	if ((rc = authreq_load(t, now, str(req, "id"), &ar, reply)) !=
	    DB_OK || ar == NULL)
		return (rc);
	/* Once only, and through the connector the request was for. */
	conn = str(ar, "connectorId");
	if (json_is_true(json_object_get(ar, "loggedIn")) ||
	    (*conn != '\0' && strcmp(conn, str(ident, "connectorId")) != 0)) {
		json_decref(ar);
		*reply = store_error(ERR_REQUEST, TXT_SESSION);
		return (DB_OK);
	}
	set_new(ar, "loggedIn", json_true());
	set_new(ar, "identity", json_deep_copy(ident));
	set_new(ar, "authTime", json_integer((json_int_t)now));
	if ((rc = db_put(t, DB_KIND_AUTHREQ, str(ar, "id"), STORE_ID_LEN,
	    REC_AUTHREQ, ar, db_record_exp(ar))) == DB_OK) {
		*reply = reply_ok();
		set_new(*reply, "authreq", authreq_out(ar));
	}
	json_decref(ar);
	return (rc);
}

/*
 * Codes.
 */

int
store_code_issue(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	json_t		*ar, *grant, *rec;
	uint8_t		 raw[STORE_CODE_BYTES], hash[HASH_LEN];
	const char	*conn;
	char		*code;
	int		 rc;

	*reply = NULL;
	if ((rc = authreq_load(t, now, str(req, "id"), &ar, reply)) !=
	    DB_OK || ar == NULL)
		return (rc);
	if (!json_is_true(json_object_get(ar, "loggedIn"))) {
		json_decref(ar);
		*reply = store_error(ERR_REQUEST, TXT_SESSION);
		return (DB_OK);
	}
	/* Single use: the request goes in the txn that makes the code. */
	if ((rc = db_del(t, DB_KIND_AUTHREQ, str(ar, "id"),
	    STORE_ID_LEN)) != DB_OK) {
		json_decref(ar);
		return (rc);
	}
	conn = str(ar, "connectorId");
	if (*conn == '\0')
		conn = str(json_object_get(ar, "identity"), "connectorId");
	if ((grant = json_pack("{s:s, s:O, s:O, s:s, s:I}",
	    "clientId", str(ar, "clientId"),
	    "scopes", json_object_get(ar, "scopes"),
	    "identity", json_object_get(ar, "identity"),
	    "connectorId", conn,
	    "authTime", (json_int_t)num(ar, "authTime"))) == NULL)
		fatalx("%s: json_pack", __func__);
	if (json_object_get(ar, "nonce") != NULL)
		set_new(grant, "nonce", json_string(str(ar, "nonce")));
	if (json_object_get(ar, "sid") != NULL)
		set_new(grant, "sid", json_string(str(ar, "sid")));
	if ((rec = json_pack("{s:o, s:s, s:s, s:s, s:s, s:O}",
	    "grant", grant,
	    "redirectUri", str(ar, "redirectUri"),
	    "clientId", str(ar, "clientId"),
	    "codeChallenge", str(ar, "codeChallenge"),
	    "codeChallengeMethod", str(ar, "codeChallengeMethod"),
	    "responseTypes", json_object_get(ar, "responseTypes"))) == NULL)
		fatalx("%s: json_pack", __func__);

	arc4random_buf(raw, sizeof(raw));
	if ((code = jose_b64url_encode(raw, sizeof(raw))) == NULL)
		fatalx("%s: encode", __func__);
	explicit_bzero(raw, sizeof(raw));
	sha256(code, strlen(code), hash);
	rc = db_insert(t, DB_KIND_CODE, hash, sizeof(hash), REC_CODE, rec,
	    now + STORE_CODE_LIFETIME);
	json_decref(rec);
	if (rc == DB_OK) {
		*reply = reply_ok();
		set_new(*reply, "code", json_string(code));
		set_new(*reply, "authreq", authreq_out(ar));
	} else if (rc == DB_EXISTS)
		rc = DB_ERR;
	freezero(code, strlen(code));
	json_decref(ar);
	return (rc);
}

/* dex.md §1.4: 0 when PKCE passes, else the error reply. */
static json_t *
pkce_check(json_t *rec, json_t *req)
{
	const char	*challenge = str(rec, "codeChallenge");
	const char	*method = str(rec, "codeChallengeMethod");
	const char	*verifier = str(req, "codeVerifier");
	char		 h[STORE_HASH_LEN + 1];
	const char	*want;
	size_t		 len;

	if (*challenge == '\0') {
		if (*verifier != '\0')
			return (store_error(ERR_REQUEST, TXT_NOPKCE));
		return (NULL);
	}
	if (*verifier == '\0')
		return (store_error(ERR_GRANT, TXT_NOVERIFIER));
	if (strcmp(method, "S256") == 0) {
		sha256_b64(verifier, strlen(verifier), h);
		want = h;
	} else
		want = verifier;	/* "plain", or empty as Dex */
	len = strlen(challenge);
	if (strlen(want) != len || timingsafe_bcmp(want, challenge, len) != 0)
		return (store_error(ERR_GRANT, TXT_VERIFIER));
	return (NULL);
}

/*
 * A replayed code (RFC 6749 §4.1.2), or a device code that gave its
 * tokens already: the refresh tokens it issued are revoked, since
 * either the client or an attacker holds a stolen code.
 */
static int
code_replayed(struct db_txn *t, uint64_t now, json_t *tomb, const char *what)
{
	uint8_t		 fid[STORE_FAMILY_BYTES];
	char		 why[64];
	json_t		*fam;
	int		 rc;

	log_warnx("%s used again", what);
	if (json_object_get(tomb, "family") == NULL ||
	    unhex(str(tomb, "family"), fid, sizeof(fid)) == -1)
		return (DB_OK);
	if ((rc = family_get(t, fid, &fam)) == DB_NOTFOUND)
		return (DB_OK);
	if (rc != DB_OK)
		return (rc);
	(void)snprintf(why, sizeof(why), "its %s was used again", what);
	rc = family_revoke(t, now, fid, fam, why);
	json_decref(fam);
	return (rc);
}

/*
 * The live record of a code (by its hash) in *recp; or NULL with the
 * reply invalid_grant (txt) when there is none, and, for a code used
 * before (its tombstone), the refresh family it issued revoked.
 */
static int
code_load(struct db_txn *t, uint64_t now, int kind, const uint8_t *hash,
    uint8_t live, uint8_t dead, const char *what, const char *txt,
    json_t **recp, json_t **reply)
{
	json_t	*rec;
	uint8_t	 type;
	int	 rc;

	*recp = NULL;
	rc = db_get(t, kind, hash, HASH_LEN, &type, &rec);
	if (rc == DB_NOTFOUND) {
		*reply = store_error(ERR_GRANT, txt);
		return (DB_OK);
	}
	if (rc != DB_OK)
		return (rc);
	if (type == dead) {
		rc = code_replayed(t, now, rec, what);
		json_decref(rec);
		if (rc == DB_OK)
			*reply = store_error(ERR_GRANT, txt);
		return (rc);
	}
	if (type != live) {
		json_decref(rec);
		return (DB_EBADREC);
	}
	*recp = rec;
	return (DB_OK);
}

/*
 * What a redeemed code leaves: a tombstone that names the refresh family
 * it started (when the request asked for one and the connector allows
 * it), so that the code coming back can revoke that family.  salt is
 * the family's first-token salt (NULL: a random one).
 */
static int
redeem_tomb(struct db_txn *t, const struct store_policy *sp, uint64_t now,
    json_t *grant, const char *salt, json_t *req, json_t **tombp,
    char **tokenp)
{
	uint8_t		 fid[STORE_FAMILY_BYTES];
	char		 fhex[STORE_FAMILY_HEX + 1];
	int		 rc;

	*tokenp = NULL;
	if ((*tombp = json_pack("{s:b}", "redeemed", 1)) == NULL)
		fatalx("%s: json_pack", __func__);
	if (!json_is_true(json_object_get(req, "refresh")) ||
	    !refresh_allowed(sp, grant))
		return (DB_OK);
	if ((rc = family_create(t, sp, now, grant, salt, fid, tokenp)) !=
	    DB_OK)
		return (rc);
	hex(fid, sizeof(fid), fhex);
	set_new(*tombp, "family", json_string(fhex));
	return (DB_OK);
}

/* {"ok", "grant", "refreshToken" (or absent)}; grant is consumed. */
static json_t *
redeemed_reply(json_t *grant, const char *token)
{
	json_t	*r = reply_ok();

	set_new(r, "grant", grant);
	if (token != NULL)
		set_new(r, "refreshToken", json_string(token));
	return (r);
}

int
store_code_redeem(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 hash[HASH_LEN];
	char		 hb64[STORE_HASH_LEN + 1];
	const char	*code = str(req, "code");
	char		*token = NULL;
	json_t		*rec, *tomb, *grant, *err;
	uint64_t	 exp;
	int		 rc;

	*reply = NULL;
	sha256(code, strlen(code), hash);
	if ((rc = code_load(t, now, DB_KIND_CODE, hash, REC_CODE,
	    REC_TOMBSTONE, "authorization code", TXT_CODE, &rec, reply)) !=
	    DB_OK || rec == NULL)
		return (rc);
	exp = db_record_exp(rec);
	if (expired(rec, now) ||
	    strcmp(str(rec, "clientId"), str(req, "clientId")) != 0) {
		json_decref(rec);
		*reply = store_error(ERR_GRANT, TXT_CODE);
		return (DB_OK);
	}
	/* Exactly, even when both are empty (dex.md §1.2). */
	if (strcmp(str(rec, "redirectUri"), str(req, "redirectUri")) != 0) {
		json_decref(rec);
		*reply = store_error(ERR_GRANT, TXT_REDIRECT);
		return (DB_OK);
	}
	if ((err = pkce_check(rec, req)) != NULL) {
		json_decref(rec);
		*reply = err;
		return (DB_OK);
	}

	grant = json_object_get(rec, "grant");
	sha256_b64(code, strlen(code), hb64);
	if ((rc = redeem_tomb(t, sp, now, grant, hb64, req, &tomb,
	    &token)) != DB_OK)
		goto done;
	/* The tombstone replaces the code under the same key. */
	if ((rc = db_put(t, DB_KIND_CODE, hash, sizeof(hash), REC_TOMBSTONE,
	    tomb, exp + STORE_TOMBSTONE_MARGIN)) != DB_OK)
		goto done;
	*reply = redeemed_reply(json_deep_copy(grant), token);
 done:
	if (token != NULL)
		freezero(token, strlen(token));
	json_decref(tomb);
	json_decref(rec);
	return (rc);
}

/*
 * Refresh tokens.
 */

int
store_refresh_issue(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 fid[STORE_FAMILY_BYTES];
	json_t		*grant = json_object_get(req, "grant");
	char		*token;
	int		 rc;

	*reply = NULL;
	/* Without offline_access or a refreshing connector: no token. */
	if (!refresh_allowed(sp, grant)) {
		*reply = reply_ok();
		return (DB_OK);
	}
	if ((rc = family_create(t, sp, now, grant, NULL, fid, &token)) !=
	    DB_OK)
		return (rc);
	*reply = reply_ok();
	set_new(*reply, "refreshToken", json_string(token));
	freezero(token, strlen(token));
	return (DB_OK);
}

/*
 * The family a refresh token names: DB_OK with *famp NULL when there is
 * none.  hash gets base64url(SHA-256(token)), which the caller compares
 * with the family's current and obsolete ones.  The family id is 16
 * random bytes that only ever travel inside the tokens of that family,
 * so a token that carries it and matches neither hash comes from
 * someone who held one of them: an old token replayed.
 */
static int
token_lookup(struct db_txn *t, const char *token, uint8_t *fid,
    char *hash, json_t **famp)
{
	uint8_t		*raw = NULL;
	size_t		 rawlen;
	int		 rc;

	*famp = NULL;
	if (jose_b64url_decode(token, strlen(token), &raw, &rawlen) == -1 ||
	    rawlen != STORE_TOKEN_BYTES) {
		freezero(raw, rawlen);
		return (DB_OK);
	}
	memcpy(fid, raw, STORE_FAMILY_BYTES);
	freezero(raw, rawlen);
	sha256_b64(token, strlen(token), hash);
	rc = family_get(t, fid, famp);
	return (rc == DB_NOTFOUND ? DB_OK : rc);
}

/* The token after prev: fid || HMAC-SHA256(salt, prev), base64url. */
static char *
token_next(const uint8_t *fid, const char *salt64, const char *prev)
{
	uint8_t		 raw[STORE_TOKEN_BYTES];
	uint8_t		*salt = NULL;
	size_t		 saltlen;
	char		*token;

	if (jose_b64url_decode(salt64, strlen(salt64), &salt, &saltlen) ==
	    -1 || saltlen != HASH_LEN) {
		free(salt);
		return (NULL);
	}
	memcpy(raw, fid, STORE_FAMILY_BYTES);
	if (jose_hmac_sha256(salt, saltlen, prev, strlen(prev),
	    raw + STORE_FAMILY_BYTES) == -1)
		fatalx("%s: HMAC", __func__);
	freezero(salt, saltlen);
	if ((token = jose_b64url_encode(raw, sizeof(raw))) == NULL)
		fatalx("%s: encode", __func__);
	explicit_bzero(raw, sizeof(raw));
	return (token);
}

/* Dex's absolute and idle limits (dex.md §4.5 step 4). */
static int
family_timed_out(const struct store_policy *sp, json_t *fam, uint64_t now)
{
	if (sp->sp_absolute_lifetime > 0 &&
	    now > num(fam, "created") + sp->sp_absolute_lifetime)
		return (1);
	if (sp->sp_valid_if_not_used_for > 0 &&
	    now > num(fam, "lastUsed") + sp->sp_valid_if_not_used_for)
		return (1);
	return (0);
}

static int
in_reuse_window(const struct store_policy *sp, json_t *fam, uint64_t now)
{
	return (sp->sp_reuse_interval > 0 &&
	    now <= num(fam, "lastUsed") + sp->sp_reuse_interval);
}

/* The grant with the scopes asked for, or NULL if one was not granted. */
static json_t *
grant_scoped(json_t *grant, json_t *scopes)
{
	json_t	*g, *e;
	size_t	 i;

	/*
	 * Nothing changes the grant inside a family record once it is
	 * read, so the reply may share it; a narrowed grant differs only
	 * in its top-level "scopes", so a shallow copy does.  (A deep copy
	 * of every grant showed in the token endpoint's profile.)
	 */
	if (grant == NULL)
		fatalx("%s: no grant", __func__);
	if (scopes == NULL || json_array_size(scopes) == 0)
		return (json_incref(grant));
	json_array_foreach(scopes, i, e)
		if (!strs_contain(json_object_get(grant, "scopes"),
		    json_string_value(e)))
			return (NULL);
	if ((g = json_copy(grant)) == NULL)
		fatalx("%s: json_copy", __func__);
	set_new(g, "scopes", json_deep_copy(scopes));
	return (g);
}

/*
 * The claims an upstream refresh brought (and the upstream's new refresh
 * token, sealed, in connectorData) replace the family's identity, which
 * is written with the rotation.  The user must stay the same user.
 */
static int
grant_reidentify(json_t *grant, json_t *identity, json_t **reply)
{
	json_t	*old = json_object_get(grant, "identity");

	if (strcmp(str(old, "userId"), str(identity, "userId")) != 0 ||
	    strcmp(str(old, "connectorId"), str(identity, "connectorId")) !=
	    0) {
		*reply = store_error(ERR_GRANT, "The upstream identity of "
		    "this refresh token has changed.");
		return (DB_OK);
	}
	if (json_object_set(grant, "identity", identity) == -1)
		return (DB_ERR);
	return (DB_OK);
}

/*
 * Dex's password connector on refresh: the user must still be there,
 * under the same id, and the claims follow the entry.  Checked here, in
 * the rotation's transaction, so that a user who is gone does not spend
 * the token and the family keeps what the directory says now.
 */
static int
local_reidentify(const struct store_policy *sp, const uint8_t *fid,
    json_t *grant, json_t **reply)
{
	char	 fhex[STORE_FAMILY_HEX + 1];
	json_t	*id;
	int	 rc;

	switch (passwd_refresh(sp->sp_local, json_object_get(grant,
	    "identity"), &id)) {
	case PASSWD_OK:
		rc = grant_reidentify(grant, id, reply);
		json_decref(id);
		return (rc);
	case PASSWD_NOTFOUND:
		hex(fid, STORE_FAMILY_BYTES, fhex);
		log_info("refresh token family %.8s refused: its local user "
		    "is gone", fhex);
		*reply = store_error(ERR_GRANT, PASSWD_ERR_NOTFOUND);
		return (DB_OK);
	default:
		*reply = store_error(ERR_SERVER, PASSWD_ERR_LOGIN);
		return (DB_OK);
	}
}

/* Rotate: the family remembers the token rotated out as obsolete. */
static int
family_rotate(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, const uint8_t *fid, json_t *fam, const char *presented,
    char **tokenp)
{
	uint8_t		 salt[HASH_LEN];
	char		 h[STORE_HASH_LEN + 1];
	char		*salt64, *token;
	uint64_t	 gen = num(fam, "generation");
	int		 rc;

	*tokenp = NULL;
	arc4random_buf(salt, sizeof(salt));
	if ((salt64 = jose_b64url_encode(salt, sizeof(salt))) == NULL)
		fatalx("%s: encode", __func__);
	explicit_bzero(salt, sizeof(salt));
	if ((token = token_next(fid, salt64, presented)) == NULL)
		fatalx("%s: token_next", __func__);
	sha256_b64(token, strlen(token), h);
	set_new(fam, "salt", json_string(salt64));
	free(salt64);
	set_new(fam, "obsolete", json_string(str(fam, "current")));
	set_new(fam, "current", json_string(h));
	set_new(fam, "generation", json_integer((json_int_t)gen + 1));
	set_new(fam, "lastUsed", json_integer((json_int_t)now));
	if ((rc = family_put(t, sp, fid, fam)) != DB_OK) {
		freezero(token, strlen(token));
		return (rc);
	}
	*tokenp = token;
	return (DB_OK);
}

int
store_refresh_rotate(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 fid[STORE_FAMILY_BYTES];
	char		 hash[STORE_HASH_LEN + 1], h[STORE_HASH_LEN + 1];
	const char	*presented = str(req, "refreshToken");
	char		*token = NULL;
	json_t		*fam, *grant = NULL, *identity;
	int		 iscur, isobs, inwin, reused = 0, checked = 0, rc;

	*reply = NULL;
	if ((rc = token_lookup(t, presented, fid, hash, &fam)) != DB_OK)
		return (rc);
	if (fam == NULL) {
		*reply = store_error(ERR_GRANT, TXT_REFRESH);
		return (DB_OK);
	}
	if (json_is_true(json_object_get(fam, "revoked")) ||
	    strcmp(str(json_object_get(fam, "grant"), "clientId"),
	    str(req, "clientId")) != 0) {
		*reply = store_error(ERR_GRANT, TXT_REFRESH);
		goto done;
	}
	iscur = strcmp(hash, str(fam, "current")) == 0;
	isobs = strcmp(hash, str(fam, "obsolete")) == 0;
	inwin = in_reuse_window(sp, fam, now);
	if (!iscur && !(inwin && isobs)) {
		/* A rotated-out token came back: someone else has one. */
		rc = family_revoke(t, now, fid, fam,
		    "a rotated-out refresh token was reused");
		if (rc == DB_OK)
			*reply = store_error(ERR_GRANT, TXT_REFRESH);
		goto done;
	}
	if (family_timed_out(sp, fam, now)) {
		*reply = store_error(ERR_GRANT, TXT_RTEXPIRED);
		goto done;
	}
	if (json_is_true(json_object_get(req, "upstreamFirst")) && !inwin &&
	    json_object_get(req, "identity") == NULL &&
	    strcmp(str(json_object_get(fam, "grant"), "connectorId"),
	    STORE_LOCAL_CONNECTOR) != 0) {
		/*
		 * The first half of an upstream refresh: the token is
		 * good, here is what it stands for; nothing is written,
		 * so a failure upstream leaves the token as it was.  The
		 * password database cannot fail that way, so its tokens
		 * rotate at once and save a round trip.
		 */
		if ((grant = grant_scoped(json_object_get(fam, "grant"),
		    json_object_get(req, "scopes"))) == NULL) {
			*reply = store_error(ERR_REQUEST, TXT_SCOPES);
			goto done;
		}
		*reply = reply_ok();
		set_new(*reply, "grant", grant);
		set_new(*reply, "upstream", json_true());
		grant = NULL;
		goto done;
	}
	if ((identity = json_object_get(req, "identity")) != NULL && !inwin &&
	    (rc = grant_reidentify(json_object_get(fam, "grant"), identity,
	    reply)) != DB_OK)
		goto done;
	if (identity == NULL && !inwin && sp->sp_local != NULL &&
	    strcmp(str(json_object_get(fam, "grant"), "connectorId"),
	    STORE_LOCAL_CONNECTOR) == 0) {
		if ((rc = local_reidentify(sp, fid, json_object_get(fam,
		    "grant"), reply)) != DB_OK)
			goto done;
		checked = 1;
	}
	if (*reply != NULL)
		goto done;
	if ((grant = grant_scoped(json_object_get(fam, "grant"),
	    json_object_get(req, "scopes"))) == NULL) {
		*reply = store_error(ERR_REQUEST, TXT_SCOPES);
		goto done;
	}

	if (inwin) {
		/* Dex: within reuseInterval, the current token, unchanged. */
		reused = 1;
		if (iscur)
			token = strdup(presented);
		else {
			token = token_next(fid, str(fam, "salt"), presented);
			if (token != NULL) {
				sha256_b64(token, strlen(token), h);
				if (strcmp(h, str(fam, "current")) != 0) {
					freezero(token, strlen(token));
					token = NULL;
				}
			}
			if (token == NULL) {
				rc = DB_EBADREC;
				goto done;
			}
		}
		if (token == NULL)
			fatal("%s: strdup", __func__);
	} else if (sp->sp_disable_rotation) {
		if ((token = strdup(presented)) == NULL)
			fatal("%s: strdup", __func__);
		set_new(fam, "lastUsed", json_integer((json_int_t)now));
		if ((rc = family_put(t, sp, fid, fam)) != DB_OK)
			goto done;
	} else if ((rc = family_rotate(t, sp, now, fid, fam, presented,
	    &token)) != DB_OK)
		goto done;

	*reply = reply_ok();
	set_new(*reply, "grant", grant);
	grant = NULL;
	set_new(*reply, "refreshToken", json_string(token));
	set_new(*reply, "reused", json_boolean(reused));
	if (checked)
		set_new(*reply, "identityChecked", json_true());
 done:
	if (token != NULL)
		freezero(token, strlen(token));
	json_decref(grant);
	json_decref(fam);
	return (rc);
}

int
store_introspect(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 fid[STORE_FAMILY_BYTES];
	char		 hash[STORE_HASH_LEN + 1];
	json_t		*fam;
	uint64_t	 exp;
	int		 iscur, isobs, rc;

	*reply = NULL;
	if ((rc = token_lookup(t, str(req, "refreshToken"), fid, hash,
	    &fam)) != DB_OK)
		return (rc);
	if (fam == NULL || !family_live(fam, now) ||
	    family_timed_out(sp, fam, now)) {
		json_decref(fam);
		*reply = json_pack("{s:b, s:b}", "ok", 1, "active", 0);
		return (DB_OK);
	}
	iscur = strcmp(hash, str(fam, "current")) == 0;
	isobs = strcmp(hash, str(fam, "obsolete")) == 0;
	if (!iscur && !(isobs && in_reuse_window(sp, fam, now))) {
		json_decref(fam);
		*reply = json_pack("{s:b, s:b}", "ok", 1, "active", 0);
		return (DB_OK);
	}
	exp = family_exp(sp, num(fam, "created"), num(fam, "lastUsed"));
	*reply = json_pack("{s:b, s:b, s:O, s:I, s:I}", "ok", 1,
	    "active", 1, "grant", json_object_get(fam, "grant"),
	    "iat", (json_int_t)num(fam, "created"),
	    "exp", (json_int_t)(exp != 0 ? exp - 1 : 0));
	json_decref(fam);
	if (*reply == NULL)
		fatalx("%s: json_pack", __func__);
	return (DB_OK);
}

/*
 * Revocation (RFC 7009).
 */

/*
 * Remember an access token as revoked, by its jti, until it expires
 * anyway: the expiry index lets the GC forget it then.  The jti is no
 * secret (the signer logs it), so it is the key as it is.
 */
static int
access_revoke(struct db_txn *t, uint64_t now, const char *jti,
    uint64_t exp, const char *client)
{
	json_t	*rec;
	int	 rc;

	if (exp <= now)
		return (DB_OK);
	if ((rec = json_pack("{s:s, s:I}", "clientId", client, "revoked",
	    (json_int_t)now)) == NULL)
		fatalx("%s: json_pack", __func__);
	rc = db_put(t, DB_KIND_REVOKED, jti, strlen(jti), REC_REVOKED, rec,
	    exp);
	json_decref(rec);
	if (rc == DB_OK)
		log_info("access token jti=%s of client %s revoked", jti,
		    client);
	return (rc);
}

int
store_access_revoke(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	int	 rc;

	*reply = NULL;
	if ((rc = access_revoke(t, now, str(req, "jti"), num(req, "exp"),
	    str(req, "clientId"))) != DB_OK)
		return (rc);
	*reply = reply_ok();
	return (DB_OK);
}

/*
 * Is this jti revoked?  A record past its expiry that the GC has not
 * reached yet still says so: its token has expired as well.
 */
int
store_access_check(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	const char	*jti = str(req, "jti");
	uint8_t		 type;
	int		 rc;

	*reply = NULL;
	rc = db_get(t, DB_KIND_REVOKED, jti, strlen(jti), &type, NULL);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return (rc);
	if (rc == DB_OK && type != REC_REVOKED)
		return (DB_EBADREC);
	*reply = reply_ok();
	set_new(*reply, "revoked", json_boolean(rc == DB_OK));
	return (DB_OK);
}

/*
 * A client revokes one of its refresh tokens: the whole family goes,
 * whichever of its tokens was shown.  Another client's token, or one
 * unknown, changes nothing, and the client is not told (RFC 7009 §2.1:
 * the answer is 200 either way).
 */
int
store_refresh_revoke(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 fid[STORE_FAMILY_BYTES];
	char		 hash[STORE_HASH_LEN + 1];
	char		 fhex[STORE_FAMILY_HEX + 1];
	json_t		*fam;
	const char	*owner;
	int		 revoked = 0, rc;

	*reply = NULL;
	if ((rc = token_lookup(t, str(req, "refreshToken"), fid, hash,
	    &fam)) != DB_OK)
		return (rc);
	if (fam != NULL && family_live(fam, now)) {
		owner = str(json_object_get(fam, "grant"), "clientId");
		if (strcmp(owner, str(req, "clientId")) == 0) {
			rc = family_revoke(t, now, fid, fam,
			    "revoked by its client");
			revoked = rc == DB_OK;
		} else {
			hex(fid, STORE_FAMILY_BYTES, fhex);
			log_info("client %s asked to revoke refresh token "
			    "family %.8s of client %s: ignored",
			    str(req, "clientId"), fhex, owner);
		}
	}
	json_decref(fam);
	if (rc != DB_OK)
		return (rc);
	*reply = reply_ok();
	set_new(*reply, "revoked", json_boolean(revoked));
	return (DB_OK);
}

/*
 * Control: sessions and revocation.
 */

struct famwalk {
	uint64_t	 fw_now;
	const char	*fw_user;	/* NULL: every user */
	char		*fw_uid;	/* from a decoded sub */
	char		*fw_cid;
	int		(*fw_cb)(json_t *, void *);
	void		*fw_arg;
	/* revocation: the ids collected */
	uint8_t		(*fw_ids)[STORE_FAMILY_BYTES];
	size_t		 fw_n;
	size_t		 fw_max;
	int		 fw_error;
};

static int
famwalk_match(struct famwalk *fw, json_t *fam)
{
	json_t		*g = json_object_get(fam, "grant");
	const char	*uid = str(json_object_get(g, "identity"), "userId");

	if (fw->fw_user == NULL)
		return (1);
	if (strcmp(uid, fw->fw_user) == 0)
		return (1);
	/* Dex's sub: the user id and the connector id together. */
	return (fw->fw_uid != NULL && strcmp(uid, fw->fw_uid) == 0 &&
	    strcmp(str(g, "connectorId"), fw->fw_cid) == 0);
}

static json_t *
famwalk_decode(struct famwalk *fw, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	struct db_rechdr hdr;
	json_t		*fam;

	if (klen != STORE_FAMILY_BYTES ||
	    db_record_decode(v, vlen, &hdr, &fam) != DB_OK)
		return (NULL);
	if (hdr.rh_type != REC_FAMILY || !family_live(fam, fw->fw_now) ||
	    !famwalk_match(fw, fam)) {
		json_decref(fam);
		return (NULL);
	}
	return (fam);
}

static int
sessions_cb(const void *k, size_t klen, const void *v, size_t vlen,
    void *arg)
{
	struct famwalk	*fw = arg;
	json_t		*fam, *g, *id, *o;
	char		 fhex[STORE_FAMILY_HEX + 1];
	uint64_t	 exp;
	int		 rc;

	if ((fam = famwalk_decode(fw, k, klen, v, vlen)) == NULL)
		return (0);
	g = json_object_get(fam, "grant");
	id = json_object_get(g, "identity");
	hex(k, STORE_FAMILY_BYTES, fhex);
	exp = db_record_exp(fam);
	if ((o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}",
	    "family", fhex, "clientId", str(g, "clientId"),
	    "connectorId", str(g, "connectorId"),
	    "userId", str(id, "userId"), "email", str(id, "email"),
	    "created", (json_int_t)num(fam, "created"),
	    "lastUsed", (json_int_t)num(fam, "lastUsed"),
	    "expires", (json_int_t)(exp != 0 ? exp - 1 : 0),
	    "kind", "refresh")) == NULL)
		fatalx("%s: json_pack", __func__);
	json_decref(fam);
	rc = fw->fw_cb(o, fw->fw_arg);
	json_decref(o);
	return (rc);
}

static void
famwalk_init(struct famwalk *fw, uint64_t now, const char *user)
{
	memset(fw, 0, sizeof(*fw));
	fw->fw_now = now;
	if (user != NULL && *user != '\0') {
		fw->fw_user = user;
		if (jose_dex_subject_decode(user, &fw->fw_uid,
		    &fw->fw_cid) == -1 || fw->fw_cid == NULL) {
			free(fw->fw_uid);
			free(fw->fw_cid);
			fw->fw_uid = fw->fw_cid = NULL;
		}
	}
}

/*
 * Browser sessions (sessions: in the config).  A record per session,
 * keyed by SHA-256 of its cookie: the identity it logged in with, its
 * connector, when the user really logged in (authTime), its sid, when
 * it was made and last used, and the clients it signed in.  It lives
 * validIfNotUsedFor after its last use, never past absoluteLifetime.
 */

static char *
random_b64(size_t n)
{
	uint8_t	 buf[32];
	char	*s;

	if (n > sizeof(buf))
		fatalx("%s: too long", __func__);
	arc4random_buf(buf, n);
	if ((s = jose_b64url_encode(buf, n)) == NULL)
		fatalx("%s: encode", __func__);
	explicit_bzero(buf, sizeof(buf));
	return (s);
}

static uint64_t
session_exp(const struct store_policy *sp, uint64_t created,
    uint64_t lastused)
{
	uint64_t	 abs, idle;

	abs = sp->sp_session_absolute ? sp->sp_session_absolute :
	    STORE_SESSION_ABSOLUTE;
	idle = sp->sp_session_idle ? sp->sp_session_idle : STORE_SESSION_IDLE;
	return (lastused + idle < created + abs ? lastused + idle :
	    created + abs);
}

/* The live session of a cookie hash: DB_OK with *sessp NULL if none. */
static int
session_load(struct db_txn *t, uint64_t now, const char *hash64,
    uint8_t key[HASH_LEN], json_t **sessp)
{
	uint8_t		*dec = NULL, type;
	size_t		 declen = 0;
	int		 rc;

	*sessp = NULL;
	if (jose_b64url_decode(hash64, strlen(hash64), &dec, &declen) == -1 ||
	    declen != HASH_LEN) {
		free(dec);
		return (DB_OK);
	}
	memcpy(key, dec, HASH_LEN);
	free(dec);
	rc = db_get(t, DB_KIND_SESSION, key, HASH_LEN, &type, sessp);
	if (rc == DB_NOTFOUND)
		return (DB_OK);
	if (rc != DB_OK)
		return (rc);
	if (type != REC_SESSION) {
		json_decref(*sessp);
		*sessp = NULL;
		return (DB_EBADREC);
	}
	if (expired(*sessp, now)) {
		json_decref(*sessp);
		*sessp = NULL;
	}
	return (DB_OK);
}

static int
session_put(struct db_txn *t, const struct store_policy *sp,
    const uint8_t *key, json_t *sess, int insert)
{
	uint64_t	 exp;

	exp = session_exp(sp, num(sess, "created"), num(sess, "lastUsed"));
	if (insert)
		return (db_insert(t, DB_KIND_SESSION, key, HASH_LEN,
		    REC_SESSION, sess, exp));
	return (db_put(t, DB_KIND_SESSION, key, HASH_LEN, REC_SESSION, sess,
	    exp));
}

static void
session_add_client(json_t *sess, const char *client)
{
	json_t	*cl = json_object_get(sess, "clients");

	if (!json_is_array(cl) || strs_contain(cl, client) ||
	    json_array_size(cl) >= STORE_SESSION_CLIENTS_MAX)
		return;
	if (json_array_append_new(cl, json_string(client)) == -1)
		fatalx("%s: json_array_append_new", __func__);
}

/*
 * A login through a connector that also starts a browser session: the
 * auth request is logged in as by IMSG_STORE_AUTHREQ_LOGIN, and carries
 * the new session's sid on to its code and tokens.
 */
int
store_session_create(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 key[HASH_LEN], *dec = NULL;
	size_t		 declen = 0;
	json_t		*ar, *sess, *ident;
	char		*sid;
	int		 rc;

	if ((rc = store_authreq_login(t, sp, now, req, reply)) != DB_OK ||
	    !json_is_true(json_object_get(*reply, "ok")))
		return (rc);
	json_decref(*reply);
	*reply = NULL;
	if ((rc = authreq_load(t, now, str(req, "id"), &ar, reply)) !=
	    DB_OK || ar == NULL)
		return (rc);
	if (jose_b64url_decode(str(req, "session"), STORE_HASH_LEN, &dec,
	    &declen) == -1 || declen != HASH_LEN)
		fatalx("%s: session hash", __func__);
	memcpy(key, dec, HASH_LEN);
	free(dec);
	sid = random_b64(STORE_SID_BYTES);
	ident = json_object_get(ar, "identity");
	if ((sess = json_pack("{s:s, s:O, s:s, s:I, s:I, s:I, s:[s]}",
	    "sid", sid, "identity", ident,
	    "connectorId", str(ident, "connectorId"),
	    "authTime", (json_int_t)num(ar, "authTime"),
	    "created", (json_int_t)now, "lastUsed", (json_int_t)now,
	    "clients", str(ar, "clientId"))) == NULL)
		fatalx("%s: json_pack", __func__);
	rc = session_put(t, sp, key, sess, 1);
	json_decref(sess);
	/* A new login in a browser ends the session it had (prompt=login). */
	dec = NULL;
	declen = 0;
	if (rc == DB_OK && json_object_get(req, "replaces") != NULL &&
	    strcmp(str(req, "replaces"), str(req, "session")) != 0 &&
	    jose_b64url_decode(str(req, "replaces"), STORE_HASH_LEN, &dec,
	    &declen) == 0) {
		if (declen == HASH_LEN && (rc = db_del(t, DB_KIND_SESSION, dec,
		    HASH_LEN)) == DB_NOTFOUND)
			rc = DB_OK;
		free(dec);
	}
	if (rc == DB_EXISTS) {
		/* 256 random bits twice: the frontend's generator broke. */
		log_warnx("%s: session cookie reused", __func__);
		rc = DB_ERR;
	}
	if (rc == DB_OK) {
		set_new(ar, "sid", json_string(sid));
		rc = db_put(t, DB_KIND_AUTHREQ, str(ar, "id"), STORE_ID_LEN,
		    REC_AUTHREQ, ar, db_record_exp(ar));
	}
	if (rc == DB_OK) {
		*reply = reply_ok();
		set_new(*reply, "authreq", authreq_out(ar));
		set_new(*reply, "sid", json_string(sid));
	}
	free(sid);
	json_decref(ar);
	return (rc);
}

/* Does an id_token_hint's sub (Dex's encoding) name this identity? */
static int
session_sub_matches(json_t *sess, const char *sub)
{
	json_t	*ident = json_object_get(sess, "identity");
	char	*uid = NULL, *cid = NULL;
	int	 ok;

	if (jose_dex_subject_decode(sub, &uid, &cid) == -1 || cid == NULL) {
		free(uid);
		free(cid);
		return (0);
	}
	ok = strcmp(uid, str(ident, "userId")) == 0 &&
	    strcmp(cid, str(sess, "connectorId")) == 0;
	free(uid);
	free(cid);
	return (ok);
}

/*
 * A new auth request logged in at once from a browser session, or
 * login_required (and nothing written) when the session cannot do it:
 * none, expired, another connector, an auth_time older than maxAge, or
 * another user than the id_token_hint's sub.
 */
int
store_session_login(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 key[HASH_LEN];
	json_t		*sess, *ar, *ma;
	const char	*conn, *why = NULL;
	uint64_t	 exp;
	int		 rc;

	*reply = NULL;
	if ((rc = session_load(t, now, str(req, "session"), key, &sess)) !=
	    DB_OK)
		return (rc);
	if (sess == NULL) {
		*reply = store_error(STORE_ERR_LOGIN, "No session.");
		return (DB_OK);
	}
	ar = json_object_get(req, "authreq");
	conn = str(ar, "connectorId");
	ma = json_object_get(req, "maxAge");
	if (*conn != '\0' && strcmp(conn, str(sess, "connectorId")) != 0)
		why = "The session is for another connector.";
	else if (ma != NULL &&
	    now >= num(sess, "authTime") + num(req, "maxAge"))
		why = "The login is older than max_age.";
	else if (json_object_get(req, "sub") != NULL &&
	    !session_sub_matches(sess, str(req, "sub")))
		why = "The session is not the id_token_hint's user.";
	if (why != NULL) {
		json_decref(sess);
		*reply = store_error(STORE_ERR_LOGIN, why);
		return (DB_OK);
	}
	if ((ar = json_deep_copy(ar)) == NULL)
		fatalx("%s: json_deep_copy", __func__);
	exp = num(ar, "expiry");
	if (sp->sp_authreq_lifetime > 0 &&
	    exp > now + sp->sp_authreq_lifetime) {
		exp = now + sp->sp_authreq_lifetime;
		set_new(ar, "expiry", json_integer((json_int_t)exp));
	}
	if (exp <= now) {
		json_decref(ar);
		json_decref(sess);
		*reply = store_error(ERR_REQUEST, TXT_EXPIRED);
		return (DB_OK);
	}
	set_new(ar, "connectorId", json_string(str(sess, "connectorId")));
	set_new(ar, "loggedIn", json_true());
	set_new(ar, "identity", json_deep_copy(json_object_get(sess,
	    "identity")));
	set_new(ar, "authTime", json_integer((json_int_t)num(sess,
	    "authTime")));
	set_new(ar, "sid", json_string(str(sess, "sid")));
	rc = db_insert(t, DB_KIND_AUTHREQ, str(ar, "id"), STORE_ID_LEN,
	    REC_AUTHREQ, ar, exp);
	if (rc == DB_EXISTS) {
		log_warnx("%s: auth request id reused", __func__);
		rc = DB_ERR;
	}
	if (rc == DB_OK) {
		set_new(sess, "lastUsed", json_integer((json_int_t)now));
		session_add_client(sess, str(ar, "clientId"));
		(void)json_object_del(sess, DB_EXP_MEMBER);
		rc = session_put(t, sp, key, sess, 0);
	}
	if (rc == DB_OK) {
		*reply = reply_ok();
		set_new(*reply, "authreq", authreq_out(ar));
	}
	json_decref(ar);
	json_decref(sess);
	return (rc);
}

/* Which connector a session is for: /auth skips the chooser with it. */
int
store_session_get(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 key[HASH_LEN];
	json_t		*sess;
	int		 rc;

	*reply = NULL;
	if ((rc = session_load(t, now, str(req, "session"), key, &sess)) !=
	    DB_OK)
		return (rc);
	if (sess == NULL) {
		*reply = store_error(STORE_ERR_LOGIN, "No session.");
		return (DB_OK);
	}
	if ((*reply = json_pack("{s:b, s:s}", "ok", 1, "connectorId",
	    str(sess, "connectorId"))) == NULL)
		fatalx("%s: json_pack", __func__);
	json_decref(sess);
	return (DB_OK);
}

/*
 * RP-initiated logout: the browser session of a cookie ends.  The reply
 * says what it was (its sid, user, connector and clients), for the
 * upstream's logout and back-channel logout; {"ended": false} when
 * there was none, which is no error: the user is signed out either way.
 */
int
store_session_end(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 key[HASH_LEN];
	json_t		*sess, *ident;
	int		 rc;

	(void)sp;
	*reply = NULL;
	if ((rc = session_load(t, now, str(req, "session"), key, &sess)) !=
	    DB_OK)
		return (rc);
	if (sess == NULL) {
		if ((*reply = json_pack("{s:b, s:b}", "ok", 1, "ended", 0)) ==
		    NULL)
			fatalx("%s: json_pack", __func__);
		return (DB_OK);
	}
	/* An id_token_hint of another session: the user is asked first. */
	if (json_object_get(req, "sid") != NULL &&
	    strcmp(str(req, "sid"), str(sess, "sid")) != 0) {
		json_decref(sess);
		if ((*reply = json_pack("{s:b, s:b, s:b}", "ok", 1, "ended", 0,
		    "other", 1)) == NULL)
			fatalx("%s: json_pack", __func__);
		return (DB_OK);
	}
	if ((rc = db_del(t, DB_KIND_SESSION, key, HASH_LEN)) != DB_OK) {
		json_decref(sess);
		return (rc);
	}
	ident = json_object_get(sess, "identity");
	if ((*reply = json_pack("{s:b, s:b, s:s, s:s, s:s, s:O}", "ok", 1,
	    "ended", 1, "sid", str(sess, "sid"), "userId",
	    str(ident, "userId"), "connectorId", str(sess, "connectorId"),
	    "clients", json_is_array(json_object_get(sess, "clients")) ?
	    json_object_get(sess, "clients") : json_array())) == NULL)
		fatalx("%s: json_pack", __func__);
	json_decref(sess);
	return (DB_OK);
}

/* A session record for oidcctl, when fw's user (or everyone) has it. */
static json_t *
browser_decode(struct famwalk *fw, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	struct db_rechdr hdr;
	json_t		*sess, *ident;
	const char	*uid;
	int		 match;

	if (klen != HASH_LEN || db_record_decode(v, vlen, &hdr, &sess) !=
	    DB_OK)
		return (NULL);
	ident = json_object_get(sess, "identity");
	uid = str(ident, "userId");
	match = fw->fw_user == NULL || strcmp(uid, fw->fw_user) == 0 ||
	    (fw->fw_uid != NULL && strcmp(uid, fw->fw_uid) == 0 &&
	    strcmp(str(sess, "connectorId"), fw->fw_cid) == 0);
	if (hdr.rh_type != REC_SESSION || expired(sess, fw->fw_now) ||
	    !match) {
		json_decref(sess);
		return (NULL);
	}
	return (sess);
}

static int
browser_show_cb(const void *k, size_t klen, const void *v, size_t vlen,
    void *arg)
{
	struct famwalk	*fw = arg;
	json_t		*sess, *ident, *e, *o;
	char		*clients = NULL, *t;
	size_t		 i;
	int		 rc;

	if ((sess = browser_decode(fw, k, klen, v, vlen)) == NULL)
		return (0);
	ident = json_object_get(sess, "identity");
	json_array_foreach(json_object_get(sess, "clients"), i, e) {
		if (asprintf(&t, "%s%s%s", clients ? clients : "",
		    clients ? "," : "", json_string_value(e)) == -1)
			fatal("%s: asprintf", __func__);
		free(clients);
		clients = t;
	}
	/* The columns of a family, the sid where its id is. */
	if ((o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}",
	    "family", str(sess, "sid"), "clientId", clients ? clients : "",
	    "connectorId", str(sess, "connectorId"),
	    "userId", str(ident, "userId"), "email", str(ident, "email"),
	    "created", (json_int_t)num(sess, "created"),
	    "lastUsed", (json_int_t)num(sess, "lastUsed"),
	    "expires", (json_int_t)db_record_exp(sess),
	    "kind", "browser")) == NULL)
		fatalx("%s: json_pack", __func__);
	free(clients);
	json_decref(sess);
	rc = fw->fw_cb(o, fw->fw_arg);
	json_decref(o);
	return (rc);
}

struct browser_walk {
	struct famwalk	*bw_fw;
	const char	*bw_sid;	/* NULL: fw's user */
	uint8_t		(*bw_keys)[HASH_LEN];
	size_t		 bw_n;
	size_t		 bw_max;
};

static int
browser_collect(const void *k, size_t klen, const void *v, size_t vlen,
    void *arg)
{
	struct browser_walk	*bw = arg;
	json_t			*sess;
	void			*p;
	size_t			 max;
	int			 match;

	if ((sess = browser_decode(bw->bw_fw, k, klen, v, vlen)) == NULL)
		return (0);
	match = bw->bw_sid == NULL || strcmp(str(sess, "sid"),
	    bw->bw_sid) == 0;
	json_decref(sess);
	if (!match)
		return (0);
	if (bw->bw_n == bw->bw_max) {
		max = bw->bw_max ? bw->bw_max * 2 : 16;
		if ((p = reallocarray(bw->bw_keys, max, HASH_LEN)) == NULL)
			fatal("%s: reallocarray", __func__);
		bw->bw_keys = p;
		bw->bw_max = max;
	}
	memcpy(bw->bw_keys[bw->bw_n++], k, HASH_LEN);
	return (0);
}

/* End the browser sessions of fw's user, or the one of sid. */
static int
browser_revoke(struct db_txn *t, struct famwalk *fw, const char *sid,
    size_t *n)
{
	struct browser_walk	 bw;
	size_t			 i;
	int			 rc;

	memset(&bw, 0, sizeof(bw));
	bw.bw_fw = fw;
	bw.bw_sid = sid;
	rc = db_foreach(t, DB_KIND_SESSION, NULL, 0, browser_collect, &bw);
	for (i = 0; rc == DB_OK && i < bw.bw_n; i++)
		if ((rc = db_del(t, DB_KIND_SESSION, bw.bw_keys[i],
		    HASH_LEN)) == DB_OK)
			(*n)++;
	free(bw.bw_keys);
	if (rc == DB_OK && bw.bw_n > 0)
		log_info("storage: %zu browser session%s ended by oidcctl",
		    bw.bw_n, bw.bw_n == 1 ? "" : "s");
	return (rc < 0 ? rc : DB_OK);
}

/*
 * Call cb with one object per live family of user (a user id or a Dex
 * sub; NULL or empty: everyone).  cb returns 0 to go on.
 */
int
store_sessions(struct db_txn *t, uint64_t now, const char *user,
    int (*cb)(json_t *, void *), void *arg)
{
	struct famwalk	 fw;
	int		 rc;

	famwalk_init(&fw, now, user);
	fw.fw_cb = cb;
	fw.fw_arg = arg;
	rc = db_foreach(t, DB_KIND_FAMILY, NULL, 0, sessions_cb, &fw);
	if (rc == DB_OK)
		rc = db_foreach(t, DB_KIND_SESSION, NULL, 0, browser_show_cb,
		    &fw);
	free(fw.fw_uid);
	free(fw.fw_cid);
	return (rc < 0 ? rc : DB_OK);
}

static int
revoke_collect(const void *k, size_t klen, const void *v, size_t vlen,
    void *arg)
{
	struct famwalk	*fw = arg;
	json_t		*fam;
	void		*p;
	size_t		 max;

	if ((fam = famwalk_decode(fw, k, klen, v, vlen)) == NULL)
		return (0);
	json_decref(fam);
	if (fw->fw_n == fw->fw_max) {
		max = fw->fw_max ? fw->fw_max * 2 : 16;
		if ((p = reallocarray(fw->fw_ids, max,
		    STORE_FAMILY_BYTES)) == NULL)
			fatal("%s: reallocarray", __func__);
		fw->fw_ids = p;
		fw->fw_max = max;
	}
	memcpy(fw->fw_ids[fw->fw_n++], k, STORE_FAMILY_BYTES);
	return (0);
}

/* oidcctl revoke token with an access token: {"jti", "exp"}. */
static int
revoke_jti(struct db_txn *t, uint64_t now, json_t *req, size_t *n,
    const char **errstr)
{
	json_t	*exp = json_object_get(req, "exp");
	int	 rc;

	if (json_object_size(req) != 2 ||
	    check_string(json_object_get(req, "jti"), STORE_JTI_MAX,
	    F_NONEMPTY) == -1 || !json_is_integer(exp) ||
	    json_integer_value(exp) < 0 ||
	    json_integer_value(exp) > STORE_TIME_MAX) {
		*errstr = "bad access token";
		return (DB_EINVAL);
	}
	if ((uint64_t)json_integer_value(exp) <= now) {
		*errstr = "the access token has expired already";
		return (DB_NOTFOUND);
	}
	if ((rc = access_revoke(t, now, str(req, "jti"),
	    json_integer_value(exp), "(oidcctl)")) == DB_OK)
		*n = 1;
	return (rc);
}

static int
revoke_one(struct db_txn *t, uint64_t now, const uint8_t *fid, size_t *n)
{
	json_t	*fam;
	int	 rc;

	if ((rc = family_get(t, fid, &fam)) == DB_NOTFOUND)
		return (DB_OK);
	if (rc != DB_OK)
		return (rc);
	if (family_live(fam, now)) {
		rc = family_revoke(t, now, fid, fam, "revoked by oidcctl");
		if (rc == DB_OK)
			(*n)++;
	}
	json_decref(fam);
	return (rc);
}

/*
 * Revoke {"user": id or sub}, {"family": hex} or {"refreshToken"}, or
 * an access token: {"jti", "exp"} (oidcctl read them from the token).
 * DB_EINVAL with *errstr when the request names nothing valid.
 */
int
store_revoke(struct db_txn *t, uint64_t now, json_t *req, size_t *n,
    const char **errstr)
{
	struct famwalk	 fw;
	uint8_t		 fid[STORE_FAMILY_BYTES];
	char		 hash[STORE_HASH_LEN + 1];
	json_t		*v, *fam;
	size_t		 i;
	int		 rc = DB_OK;

	*n = 0;
	*errstr = NULL;
	if (json_is_object(req) && json_object_get(req, "jti") != NULL)
		return (revoke_jti(t, now, req, n, errstr));
	if (!json_is_object(req) || json_object_size(req) != 1) {
		*errstr = "bad revoke request";
		return (DB_EINVAL);
	}
	if ((v = json_object_get(req, "user")) != NULL) {
		if (check_string(v, STORE_NAME_MAX, F_NONEMPTY) == -1) {
			*errstr = "bad user id";
			return (DB_EINVAL);
		}
		famwalk_init(&fw, now, json_string_value(v));
		rc = db_foreach(t, DB_KIND_FAMILY, NULL, 0, revoke_collect,
		    &fw);
		for (i = 0; rc == DB_OK && i < fw.fw_n; i++)
			rc = revoke_one(t, now, fw.fw_ids[i], n);
		free(fw.fw_ids);
		if (rc == DB_OK)
			rc = browser_revoke(t, &fw, NULL, n);
		free(fw.fw_uid);
		free(fw.fw_cid);
		return (rc);
	}
	if ((v = json_object_get(req, "family")) != NULL &&
	    check_b64(v, STORE_SID_LEN) == 0) {
		/* A browser session's sid: oidcctl revoke session ID. */
		famwalk_init(&fw, now, NULL);
		if ((rc = browser_revoke(t, &fw, json_string_value(v), n)) ==
		    DB_OK && *n == 0) {
			*errstr = "no such session";
			return (DB_NOTFOUND);
		}
		return (rc);
	}
	if ((v = json_object_get(req, "family")) != NULL) {
		if (!json_is_string(v) ||
		    unhex(json_string_value(v), fid, sizeof(fid)) == -1) {
			*errstr = "bad family id";
			return (DB_EINVAL);
		}
	} else if ((v = json_object_get(req, "refreshToken")) != NULL) {
		if (check_b64(v, STORE_TOKEN_LEN) == -1) {
			*errstr = "bad refresh token";
			return (DB_EINVAL);
		}
		if ((rc = token_lookup(t, json_string_value(v), fid, hash,
		    &fam)) != DB_OK)
			return (rc);
		if (fam == NULL) {
			*errstr = "no such session";
			return (DB_NOTFOUND);
		}
		json_decref(fam);
	} else {
		*errstr = "bad revoke request";
		return (DB_EINVAL);
	}
	if ((rc = revoke_one(t, now, fid, n)) == DB_OK && *n == 0) {
		*errstr = "no such session";
		return (DB_NOTFOUND);
	}
	return (rc);
}

/*
 * The device flow (RFC 8628; dex.md §4.10).  Two records, as Dex has
 * them: the request, by user code, for the browser side; and the device
 * token, by SHA-256 of the device code, for the polling device.  Unlike
 * Dex, the token record holds the grant, never tokens: the tokens are
 * made when the device collects them, once, as at a code redemption.
 */

void
store_user_code_make(char *out)
{
	static const char	 chars[] = STORE_USER_CODE_CHARS;
	size_t			 i, o = 0;

	for (i = 0; i < STORE_USER_CODE_LETTERS; i++) {
		if (i == STORE_USER_CODE_LETTERS / 2)
			out[o++] = '-';
		out[o++] = chars[arc4random_uniform(sizeof(chars) - 1)];
	}
	out[o] = '\0';
}

/*
 * What a user typed: letters in any case, with or without the dash,
 * spaces ignored (RFC 8628 §6.1), as XXXX-XXXX in out.
 */
int
store_user_code_parse(const char *in, char *out)
{
	char		 letters[STORE_USER_CODE_LETTERS];
	size_t		 i, n = 0;
	int		 c;

	if (in == NULL || strnlen(in, STORE_USER_CODE_INPUT_MAX + 1) >
	    STORE_USER_CODE_INPUT_MAX)
		return (-1);
	for (i = 0; in[i] != '\0'; i++) {
		c = (unsigned char)in[i];
		if (c == '-' || c == ' ' || c == '\t')
			continue;
		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (c == '\0' || strchr(STORE_USER_CODE_CHARS, c) == NULL ||
		    n == sizeof(letters))
			return (-1);
		letters[n++] = c;
	}
	if (n != sizeof(letters))
		return (-1);
	memcpy(out, letters, n / 2);
	out[n / 2] = '-';
	memcpy(out + n / 2 + 1, letters + n / 2, n - n / 2);
	out[STORE_USER_CODE_LEN] = '\0';
	return (0);
}

static uint64_t
device_lifetime(const struct store_policy *sp)
{
	return (sp->sp_device_lifetime > 0 ? sp->sp_device_lifetime :
	    STORE_DEVICE_LIFETIME);
}

/* A live device request; DB_OK with *devp NULL and *reply when not. */
static int
devreq_load(struct db_txn *t, uint64_t now, const char *ucode,
    json_t **devp, json_t **reply)
{
	uint8_t	 type;
	int	 rc;

	*devp = NULL;
	rc = db_get(t, DB_KIND_DEVREQ, ucode, STORE_USER_CODE_LEN, &type,
	    devp);
	if (rc == DB_NOTFOUND || (rc == DB_OK && expired(*devp, now))) {
		json_decref(*devp);
		*devp = NULL;
		*reply = store_error(ERR_REQUEST, TXT_USERCODE);
		return (DB_OK);
	}
	if (rc == DB_OK && type != REC_DEVREQ) {
		json_decref(*devp);
		*devp = NULL;
		return (DB_EBADREC);
	}
	return (rc);
}

/* The device token a request names, by the hash kept in the request. */
static int
devtoken_of(struct db_txn *t, json_t *dev, uint8_t *hash, json_t **tokp)
{
	uint8_t		*dec = NULL;
	size_t		 declen;
	uint8_t		 type;
	int		 rc;

	*tokp = NULL;
	if (jose_b64url_decode(str(dev, "deviceHash"), STORE_HASH_LEN, &dec,
	    &declen) == -1 || declen != HASH_LEN) {
		free(dec);
		return (DB_EBADREC);
	}
	memcpy(hash, dec, HASH_LEN);
	free(dec);
	rc = db_get(t, DB_KIND_DEVTOKEN, hash, HASH_LEN, &type, tokp);
	if (rc == DB_OK && type != REC_DEVTOKEN) {
		/* Collected already: the request is done with. */
		json_decref(*tokp);
		*tokp = NULL;
		return (DB_NOTFOUND);
	}
	return (rc);
}

/* The token record's state changes; its expiry does not. */
static int
devtoken_put(struct db_txn *t, const uint8_t *hash, uint8_t type,
    json_t *rec, uint64_t exp)
{
	return (db_put(t, DB_KIND_DEVTOKEN, hash, HASH_LEN, type, rec, exp));
}

int
store_device_create(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 raw[STORE_DEVICE_CODE_BYTES], hash[HASH_LEN];
	char		 ucode[STORE_USER_CODE_LEN + 1];
	char		 h64[STORE_HASH_LEN + 1];
	char		*dcode, *nonce;
	json_t		*dev, *tok;
	uint64_t	 expiry = now + device_lifetime(sp);
	int		 i, rc;

	*reply = NULL;
	arc4random_buf(raw, sizeof(raw));
	if ((dcode = jose_b64url_encode(raw, sizeof(raw))) == NULL)
		fatalx("%s: encode", __func__);
	/* Binds the browser's auth code to this request (Dex #4928). */
	arc4random_buf(raw, STORE_ID_BYTES);
	if ((nonce = jose_b64url_encode(raw, STORE_ID_BYTES)) == NULL)
		fatalx("%s: encode", __func__);
	explicit_bzero(raw, sizeof(raw));
	sha256(dcode, strlen(dcode), hash);
	sha256_b64(dcode, strlen(dcode), h64);

	if ((dev = json_pack("{s:O, s:O, s:O, s:s, s:s, s:I}",
	    "clientId", json_object_get(req, "clientId"),
	    "scopes", json_object_get(req, "scopes"),
	    "redirectUri", json_object_get(req, "redirectUri"),
	    "nonce", nonce, "deviceHash", h64,
	    "expiry", (json_int_t)expiry)) == NULL)
		fatalx("%s: json_pack", __func__);
	/* 20^8 codes: a clash with a live one is rare; try another. */
	rc = DB_EXISTS;
	for (i = 0; i < STORE_USER_CODE_TRIES && rc == DB_EXISTS; i++) {
		store_user_code_make(ucode);
		rc = db_insert(t, DB_KIND_DEVREQ, ucode, STORE_USER_CODE_LEN,
		    REC_DEVREQ, dev, expiry);
	}
	json_decref(dev);
	if (rc != DB_OK) {
		if (rc == DB_EXISTS)
			log_warnx("%s: no free user code", __func__);
		rc = rc == DB_EXISTS ? DB_ERR : rc;
		goto done;
	}

	/* Dex's first poll may come at once: interval 0 until then. */
	if ((tok = json_pack("{s:s, s:O, s:s, s:I, s:I, s:I, s:s, s:s}",
	    "status", DEV_PENDING,
	    "clientId", json_object_get(req, "clientId"),
	    "userCode", ucode,
	    "expiry", (json_int_t)expiry,
	    "lastPoll", (json_int_t)now,
	    "interval", (json_int_t)0,
	    "codeChallenge", str(req, "codeChallenge"),
	    "codeChallengeMethod", str(req, "codeChallengeMethod"))) == NULL)
		fatalx("%s: json_pack", __func__);
	rc = db_insert(t, DB_KIND_DEVTOKEN, hash, HASH_LEN, REC_DEVTOKEN,
	    tok, expiry + STORE_DEVICE_KEEP);
	json_decref(tok);
	if (rc == DB_EXISTS)
		rc = DB_ERR;	/* 256 random bits twice */
	if (rc != DB_OK)
		goto done;
	*reply = reply_ok();
	set_new(*reply, "deviceCode", json_string(dcode));
	set_new(*reply, "userCode", json_string(ucode));
	set_new(*reply, "expiresIn",
	    json_integer((json_int_t)device_lifetime(sp)));
	set_new(*reply, "interval", json_integer(STORE_DEVICE_INTERVAL));
 done:
	freezero(dcode, strlen(dcode));
	free(nonce);
	return (rc);
}

int
store_device_get(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	json_t	*dev;
	int	 rc;

	*reply = NULL;
	if ((rc = devreq_load(t, now, str(req, "userCode"), &dev, reply)) !=
	    DB_OK || dev == NULL)
		return (rc);
	*reply = reply_ok();
	set_new(*reply, "device", json_pack("{s:O, s:O, s:O}",
	    "clientId", json_object_get(dev, "clientId"),
	    "scopes", json_object_get(dev, "scopes"),
	    "nonce", json_object_get(dev, "nonce")));
	json_decref(dev);
	return (DB_OK);
}

/*
 * The browser side is done with a device request: its token record
 * takes the status the device will poll, the request (by user code)
 * goes, and the frontend hears which client it was.
 */
static int
device_settle(struct db_txn *t, const uint8_t *hash, json_t *tok,
    const char *status, const char *ucode, json_t *dev, json_t **reply)
{
	int	rc;

	set_new(tok, "status", json_string(status));
	if ((rc = devtoken_put(t, hash, REC_DEVTOKEN, tok,
	    db_record_exp(tok))) != DB_OK ||
	    (rc = db_del(t, DB_KIND_DEVREQ, ucode, STORE_USER_CODE_LEN)) !=
	    DB_OK)
		return (rc);
	*reply = reply_ok();
	set_new(*reply, "clientId", json_string(str(dev, "clientId")));
	return (DB_OK);
}

/*
 * The browser is back from the login with an auth code (state: the user
 * code).  The code is redeemed here, for the request's client and
 * redirect URI, and must carry the request's nonce: a code of
 * another login cannot finish this one.  The grant goes to the device
 * token; the request is done.
 */
int
store_device_complete(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 hash[HASH_LEN];
	const char	*want, *got;
	json_t		*dev, *tok = NULL, *redeem = NULL, *r = NULL, *grant;
	int		 rc;

	*reply = NULL;
	if ((rc = devreq_load(t, now, str(req, "userCode"), &dev, reply)) !=
	    DB_OK || dev == NULL)
		return (rc);
	if ((rc = devtoken_of(t, dev, hash, &tok)) == DB_NOTFOUND ||
	    (rc == DB_OK && strcmp(str(tok, "status"), DEV_PENDING) != 0)) {
		*reply = store_error(ERR_REQUEST, TXT_USERCODE);
		rc = DB_OK;
		goto done;
	}
	if (rc != DB_OK)
		goto done;
	if ((redeem = json_pack("{s:O, s:O, s:O, s:b}",
	    "code", json_object_get(req, "code"),
	    "clientId", json_object_get(dev, "clientId"),
	    "redirectUri", json_object_get(dev, "redirectUri"),
	    "refresh", 0)) == NULL)
		fatalx("%s: json_pack", __func__);
	if ((rc = store_code_redeem(t, sp, now, redeem, &r)) != DB_OK)
		goto done;
	if (!json_is_true(json_object_get(r, "ok"))) {
		*reply = store_error(ERR_GRANT, TXT_AUTHCODE);
		goto done;
	}
	grant = json_object_get(r, "grant");
	want = str(dev, "nonce");
	got = str(grant, "nonce");
	if (strlen(got) != strlen(want) ||
	    timingsafe_bcmp(got, want, strlen(want)) != 0) {
		/* The code is spent either way: it came to the wrong place. */
		log_warnx("device flow: the auth code of another login came "
		    "back to a device request");
		*reply = store_error(ERR_GRANT, TXT_AUTHCODE);
		goto done;
	}
	/* The nonce was ours, not the client's: not for its ID token. */
	(void)json_object_del(grant, "nonce");
	set_new(tok, "grant", json_incref(grant));
	rc = device_settle(t, hash, tok, DEV_COMPLETE, str(req, "userCode"),
	    dev, reply);
 done:
	json_decref(r);
	json_decref(redeem);
	json_decref(tok);
	json_decref(dev);
	return (rc);
}

/* The login failed or the user said no: the device hears access_denied. */
int
store_device_deny(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 hash[HASH_LEN];
	json_t		*dev, *tok = NULL;
	int		 rc;

	*reply = NULL;
	if ((rc = devreq_load(t, now, str(req, "userCode"), &dev, reply)) !=
	    DB_OK || dev == NULL)
		return (rc);
	if ((rc = devtoken_of(t, dev, hash, &tok)) == DB_NOTFOUND ||
	    (rc == DB_OK && strcmp(str(tok, "status"), DEV_PENDING) != 0)) {
		*reply = store_error(ERR_REQUEST, TXT_USERCODE);
		rc = DB_OK;
		goto done;
	}
	if (rc != DB_OK)
		goto done;
	rc = device_settle(t, hash, tok, DEV_DENIED, str(req, "userCode"),
	    dev, reply);
 done:
	json_decref(tok);
	json_decref(dev);
	return (rc);
}

/*
 * The device polls (Dex's handleDeviceToken): expired_token; while
 * pending, slow_down when it came before its interval was up (and the
 * interval grows by STORE_DEVICE_SLOWDOWN) or authorization_pending;
 * access_denied; once complete, PKCE, then the grant and a refresh
 * token, once: the record becomes a tombstone in the same txn.
 */
int
store_device_poll(struct db_txn *t, const struct store_policy *sp,
    uint64_t now, json_t *req, json_t **reply)
{
	uint8_t		 hash[HASH_LEN];
	const char	*code = str(req, "deviceCode"), *status;
	char		*token = NULL;
	json_t		*tok, *tomb = NULL, *grant, *err;
	uint64_t	 interval;
	int		 slow, rc;

	*reply = NULL;
	sha256(code, strlen(code), hash);
	if ((rc = code_load(t, now, DB_KIND_DEVTOKEN, hash, REC_DEVTOKEN,
	    REC_DEVTOMB, "device code", TXT_DEVCODE, &tok, reply)) != DB_OK ||
	    tok == NULL)
		return (rc);
	/* Another client's code is no code at all to this one. */
	if (strcmp(str(tok, "clientId"), str(req, "clientId")) != 0) {
		*reply = store_error(ERR_GRANT, TXT_DEVCODE);
		goto done;
	}
	if (now >= num(tok, "expiry")) {
		*reply = store_error("expired_token", "");
		goto done;
	}
	status = str(tok, "status");
	if (strcmp(status, DEV_PENDING) == 0) {
		interval = num(tok, "interval");
		slow = now < num(tok, "lastPoll") + interval;
		if (slow) {
			interval += STORE_DEVICE_SLOWDOWN;
			if (interval > STORE_DEVICE_INTERVAL_MAX)
				interval = STORE_DEVICE_INTERVAL_MAX;
		} else
			interval = STORE_DEVICE_INTERVAL;
		set_new(tok, "interval", json_integer((json_int_t)interval));
		set_new(tok, "lastPoll", json_integer((json_int_t)now));
		if ((rc = devtoken_put(t, hash, REC_DEVTOKEN, tok,
		    db_record_exp(tok))) != DB_OK)
			goto done;
		*reply = store_error(slow ? "slow_down" : DEV_PENDING, "");
		goto done;
	}
	if (strcmp(status, DEV_DENIED) == 0) {
		*reply = store_error(DEV_DENIED, TXT_DENIED);
		goto done;
	}
	if (strcmp(status, DEV_COMPLETE) != 0 ||
	    (grant = json_object_get(tok, "grant")) == NULL) {
		rc = DB_EBADREC;
		goto done;
	}
	if ((err = pkce_check(tok, req)) != NULL) {
		*reply = err;
		goto done;
	}
	if ((rc = redeem_tomb(t, sp, now, grant, NULL, req, &tomb,
	    &token)) != DB_OK)
		goto done;
	if ((rc = devtoken_put(t, hash, REC_DEVTOMB, tomb,
	    db_record_exp(tok))) != DB_OK)
		goto done;
	*reply = redeemed_reply(json_incref(grant), token);
 done:
	if (token != NULL)
		freezero(token, strlen(token));
	json_decref(tomb);
	json_decref(tok);
	return (rc);
}

/*
 * Dispatch and group commit.
 */

int
store_exec(struct db_txn *t, const struct store_policy *sp, uint64_t now,
    int type, json_t *req, json_t **reply)
{
	*reply = NULL;
	switch (type) {
	case IMSG_STORE_AUTHREQ_PUT:
		return (store_authreq_put(t, sp, now, req, reply));
	case IMSG_STORE_AUTHREQ_GET:
		return (store_authreq_get(t, sp, now, req, reply));
	case IMSG_STORE_AUTHREQ_LOGIN:
		return (store_authreq_login(t, sp, now, req, reply));
	case IMSG_STORE_CODE_ISSUE:
		return (store_code_issue(t, sp, now, req, reply));
	case IMSG_STORE_CODE_REDEEM:
		return (store_code_redeem(t, sp, now, req, reply));
	case IMSG_STORE_REFRESH_ISSUE:
		return (store_refresh_issue(t, sp, now, req, reply));
	case IMSG_STORE_REFRESH_ROTATE:
		return (store_refresh_rotate(t, sp, now, req, reply));
	case IMSG_STORE_INTROSPECT:
		return (store_introspect(t, sp, now, req, reply));
	case IMSG_STORE_DEVICE_CREATE:
		return (store_device_create(t, sp, now, req, reply));
	case IMSG_STORE_DEVICE_GET:
		return (store_device_get(t, sp, now, req, reply));
	case IMSG_STORE_DEVICE_COMPLETE:
		return (store_device_complete(t, sp, now, req, reply));
	case IMSG_STORE_DEVICE_DENY:
		return (store_device_deny(t, sp, now, req, reply));
	case IMSG_STORE_DEVICE_POLL:
		return (store_device_poll(t, sp, now, req, reply));
	case IMSG_STORE_SESSION_CREATE:
		return (store_session_create(t, sp, now, req, reply));
	case IMSG_STORE_SESSION_LOGIN:
		return (store_session_login(t, sp, now, req, reply));
	case IMSG_STORE_SESSION_GET:
		return (store_session_get(t, sp, now, req, reply));
	case IMSG_STORE_ACCESS_REVOKE:
		return (store_access_revoke(t, sp, now, req, reply));
	case IMSG_STORE_ACCESS_CHECK:
		return (store_access_check(t, sp, now, req, reply));
	case IMSG_STORE_REFRESH_REVOKE:
		return (store_refresh_revoke(t, sp, now, req, reply));
	case IMSG_STORE_SESSION_END:
		return (store_session_end(t, sp, now, req, reply));
	}
	return (DB_EINVAL);
}

static json_t *
server_error(int rc)
{
	return (store_error(ERR_SERVER, rc == DB_EFULL ?
	    "Storage is full." : "Storage error."));
}

int
store_batch(struct db *db, const struct store_policy *sp, uint64_t now,
    struct store_op *ops, size_t nops)
{
	struct db_txn	*t, *c;
	json_t		*reply;
	size_t		 i;
	int		 rc;

	for (i = 0; i < nops; i++)
		ops[i].so_reply = NULL;
	if ((t = db_txn_begin(db, 1)) == NULL) {
		rc = DB_ERR;
		goto fail;
	}
	for (i = 0; i < nops; i++) {
		/* A failed request undoes its own writes and no other's. */
		if ((c = db_txn_child(t)) == NULL) {
			ops[i].so_reply = server_error(DB_ERR);
			continue;
		}
		rc = store_exec(c, sp, now, ops[i].so_type, ops[i].so_req,
		    &reply);
		if (rc == DB_OK)
			rc = db_txn_commit(c);
		else
			db_txn_abort(c);
		if (rc != DB_OK || reply == NULL) {
			json_decref(reply);
			reply = server_error(rc);
		}
		ops[i].so_reply = reply;
	}
	if ((rc = db_txn_commit(t)) == DB_OK)
		return (DB_OK);
 fail:
	log_warnx("storage: a batch of %zu requests failed: %s", nops,
	    db_strerror(rc));
	for (i = 0; i < nops; i++) {
		json_decref(ops[i].so_reply);
		ops[i].so_reply = server_error(rc);
	}
	return (rc);
}
