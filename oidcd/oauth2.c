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
 * OAuth 2.0 and OpenID Connect rules of the frontend, to Dex's
 * behaviour (dex.md §1.3-§1.7, §2.10, §4.3, §4.6), with the few
 * improvements dex.md §10 allows.  Pure functions over the frontend's
 * config JSON (config.c config_frontend()) and decoded parameters.
 */

#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http.h"
#include "jose.h"
#include "oauth2.h"

#define SCOPE_OPENID		"openid"
#define SCOPE_AUDIENCE		"audience:server:client_id:"
/* A token response's bytes besides the tokens, with room to spare. */
#define OAUTH2_TOKEN_RESPONSE_FIXED	128

/* A growable string; on overflow of its limit it fails for good. */
struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
	int	 failed;
};

static void	 sb_init(struct sbuf *, size_t);
static void	 sb_reserve(struct sbuf *, size_t);
static void	 sb_add(struct sbuf *, const char *, size_t);
static void	 sb_adds(struct sbuf *, const char *);
static char	*sb_finish(struct sbuf *);

static void
sb_init(struct sbuf *sb, size_t max)
{
	memset(sb, 0, sizeof(*sb));
	sb->max = max;
}

/* Room for n more bytes at once, when the caller can tell. */
static void
sb_reserve(struct sbuf *sb, size_t n)
{
	char	*ns;

	if (sb->failed || n > sb->max || sb->len + n + 1 <= sb->cap)
		return;
	if ((ns = realloc(sb->s, sb->len + n + 1)) == NULL) {
		sb->failed = 1;
		return;
	}
	sb->s = ns;
	sb->cap = sb->len + n + 1;
}

static void
sb_add(struct sbuf *sb, const char *p, size_t n)
{
	size_t	 ncap;
	char	*ns;

	if (sb->failed)
		return;
	if (n > sb->max || sb->len + n > sb->max) {
		sb->failed = 1;
		return;
	}
	if (sb->len + n + 1 > sb->cap) {
		ncap = sb->cap == 0 ? 256 : sb->cap;
		while (ncap < sb->len + n + 1)
			ncap *= 2;
		if ((ns = realloc(sb->s, ncap)) == NULL) {
			sb->failed = 1;
			return;
		}
		sb->s = ns;
		sb->cap = ncap;
	}
	memcpy(sb->s + sb->len, p, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

static void
sb_adds(struct sbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

/* The string, or NULL (and nothing left to free) if anything failed. */
static char *
sb_finish(struct sbuf *sb)
{
	if (sb->failed) {
		free(sb->s);
		sb->s = NULL;
		return (NULL);
	}
	if (sb->s == NULL)
		return (strdup(""));
	return (sb->s);
}

/*
 * Length of the well-formed UTF-8 sequence at p (at most n bytes), its
 * code point in *cp; 0 if the bytes are not well-formed UTF-8.
 */
static size_t
utf8_next(const unsigned char *p, size_t n, unsigned int *cp)
{
	unsigned int	 c, min;
	size_t		 len, i;

	if (n == 0)
		return (0);
	if (p[0] < 0x80) {
		*cp = p[0];
		return (1);
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		c = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	} else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return (0);
	*cp = c;
	return (len);
}

/* Is all of s well-formed UTF-8? */
static int
utf8_valid(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), l;
	unsigned int		 cp;

	while (n > 0) {
		if ((l = utf8_next(p, n, &cp)) == 0)
			return (0);
		p += l;
		n -= l;
	}
	return (1);
}

/*
 * Go's strconv.Quote, which Dex's %q uses in error descriptions:
 * printable text kept, quote and backslash escaped, control bytes as
 * \a..\v or \xNN, invalid UTF-8 as \xNN.
 */
static void
go_quote(struct sbuf *sb, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), l;
	unsigned int		 cp;
	char			 t[8];

	sb_add(sb, "\"", 1);
	while (n > 0) {
		if ((l = utf8_next(p, n, &cp)) == 0) {
			(void)snprintf(t, sizeof(t), "\\x%02x", *p);
			sb_adds(sb, t);
			p++;
			n--;
			continue;
		}
		switch (cp) {
		case '"':
			sb_adds(sb, "\\\"");
			break;
		case '\\':
			sb_adds(sb, "\\\\");
			break;
		case '\a':
			sb_adds(sb, "\\a");
			break;
		case '\b':
			sb_adds(sb, "\\b");
			break;
		case '\f':
			sb_adds(sb, "\\f");
			break;
		case '\n':
			sb_adds(sb, "\\n");
			break;
		case '\r':
			sb_adds(sb, "\\r");
			break;
		case '\t':
			sb_adds(sb, "\\t");
			break;
		case '\v':
			sb_adds(sb, "\\v");
			break;
		default:
			if (cp < 0x20 || cp == 0x7f) {
				(void)snprintf(t, sizeof(t), "\\x%02x", cp);
				sb_adds(sb, t);
			} else
				sb_add(sb, (const char *)p, l);
			break;
		}
		p += l;
		n -= l;
	}
	sb_add(sb, "\"", 1);
}

/* Go's %q of a []string: ["a" "b"]. */
static void
go_quote_list(struct sbuf *sb, const char **v, size_t n)
{
	size_t	i;

	sb_add(sb, "[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_add(sb, " ", 1);
		go_quote(sb, v[i]);
	}
	sb_add(sb, "]", 1);
}

/*
 * Copy a built description into a fixed buffer, cut at a character
 * boundary when it is too long.
 */
static void
desc_set(char *dst, size_t dstsz, struct sbuf *sb)
{
	size_t	 n;

	if (sb->s == NULL) {
		(void)strlcpy(dst, sb->failed ? "Invalid request." : "",
		    dstsz);
		return;
	}
	n = sb->len;
	if (n >= dstsz) {
		n = dstsz - 1;
		while (n > 0 && ((unsigned char)sb->s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, sb->s, n);
	dst[n] = '\0';
}

/* "prefix" + %q(arg) + "suffix" into dst. */
static void
desc_quote(char *dst, size_t dstsz, const char *prefix, const char *arg,
    const char *suffix)
{
	struct sbuf	 sb;

	/* A little beyond dstsz: desc_set() cuts it cleanly. */
	sb_init(&sb, dstsz + 64);
	sb_adds(&sb, prefix);
	go_quote(&sb, arg);
	sb_adds(&sb, suffix);
	if (sb.failed) {
		/* Too long: quote a cut copy so that it still ends well. */
		free(sb.s);
		sb_init(&sb, OAUTH2_DESC_MAX * 8);
		sb_adds(&sb, prefix);
		sb_add(&sb, "\"", 1);
		sb_adds(&sb, "...\"");
		sb_adds(&sb, suffix);
	}
	desc_set(dst, dstsz, &sb);
	free(sb.s);
}

static void
desc_quote_list(char *dst, size_t dstsz, const char *prefix,
    const char **v, size_t n)
{
	struct sbuf	 sb;

	sb_init(&sb, dstsz + 64);
	sb_adds(&sb, prefix);
	go_quote_list(&sb, v, n);
	if (sb.failed) {
		free(sb.s);
		sb_init(&sb, OAUTH2_DESC_MAX);
		sb_adds(&sb, prefix);
		sb_adds(&sb, "[...]");
	}
	desc_set(dst, dstsz, &sb);
	free(sb.s);
}

/*
 * Errors.
 */

static const char *const oauth2_error_names[] = {
	[OAUTH2_OK] = "",
	[OAUTH2_INVALID_REQUEST] = "invalid_request",
	[OAUTH2_INVALID_CLIENT] = "invalid_client",
	[OAUTH2_INVALID_GRANT] = "invalid_grant",
	[OAUTH2_UNAUTHORIZED_CLIENT] = "unauthorized_client",
	[OAUTH2_UNSUPPORTED_GRANT_TYPE] = "unsupported_grant_type",
	[OAUTH2_INVALID_SCOPE] = "invalid_scope",
	[OAUTH2_ACCESS_DENIED] = "access_denied",
	[OAUTH2_UNSUPPORTED_RESPONSE_TYPE] = "unsupported_response_type",
	[OAUTH2_SERVER_ERROR] = "server_error",
	[OAUTH2_REQUEST_NOT_SUPPORTED] = "request_not_supported",
	[OAUTH2_REQUEST_URI_NOT_SUPPORTED] = "request_uri_not_supported"
};

const char *
oauth2_error_name(enum oauth2_error e)
{
	if ((size_t)e >= sizeof(oauth2_error_names) /
	    sizeof(oauth2_error_names[0]))
		return ("server_error");
	return (oauth2_error_names[e]);
}

/* The status Dex answers a token-style error with. */
int
oauth2_error_status(enum oauth2_error e)
{
	switch (e) {
	case OAUTH2_OK:
		return (200);
	case OAUTH2_INVALID_CLIENT:
		return (401);
	case OAUTH2_SERVER_ERROR:
		return (500);
	default:
		return (400);
	}
}

/*
 * Bytes that go_json_string copies as they are: printable ASCII but
 * for the quote, the backslash and Go's HTML escapes.
 */
#define JP8(x)	x, x, x, x, x, x, x, x
static const unsigned char json_plain[256] = {
	JP8(0), JP8(0), JP8(0), JP8(0),			/* 0x00-0x1f */
	1, 1, 0, 1, 1, 1, 0, 1,				/*  !"#$%&' */
	JP8(1), JP8(1),					/* ( - 7 */
	1, 1, 1, 1, 0, 1, 0, 1,				/* 89:;<=>? */
	JP8(1), JP8(1), JP8(1),				/* @ - W */
	1, 1, 1, 1, 0, 1, 1, 1,				/* XYZ[\]^_ */
	JP8(1), JP8(1), JP8(1),				/* ` - w */
	1, 1, 1, 1, 1, 1, 1, 0,				/* xyz{|}~ DEL */
	/* 0x80-0xff: zero, UTF-8 goes the long way */
};
#undef JP8

/*
 * A JSON string as Go's encoding/json writes it, so that bodies match
 * Dex's to the byte: <, > and & as \u003c.., U+2028 and U+2029
 * escaped, invalid UTF-8 as U+FFFD.
 */
static void
go_json_string(struct sbuf *sb, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), l;
	unsigned int		 cp;
	char			 t[8];

	sb_add(sb, "\"", 1);
	while (n > 0) {
		/*
		 * Tokens are long runs of printable ASCII that need no
		 * escaping: copy a whole run at once rather than a byte at
		 * a time, which showed in the token endpoint's profile.
		 */
		for (l = 0; l < n && json_plain[p[l]]; l++)
			;
		if (l > 0) {
			sb_add(sb, (const char *)p, l);
			p += l;
			n -= l;
			continue;
		}
		if ((l = utf8_next(p, n, &cp)) == 0) {
			sb_adds(sb, "\\ufffd");
			p++;
			n--;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			t[0] = '\\';
			t[1] = cp;
			sb_add(sb, t, 2);
		} else if (cp == '\n')
			sb_adds(sb, "\\n");
		else if (cp == '\r')
			sb_adds(sb, "\\r");
		else if (cp == '\t')
			sb_adds(sb, "\\t");
		else if (cp == '\b')
			sb_adds(sb, "\\b");
		else if (cp == '\f')
			sb_adds(sb, "\\f");
		else if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&') {
			(void)snprintf(t, sizeof(t), "\\u00%c%c",
			    hex[cp >> 4], hex[cp & 0xf]);
			sb_adds(sb, t);
		} else if (cp == 0x2028)
			sb_adds(sb, "\\u2028");
		else if (cp == 0x2029)
			sb_adds(sb, "\\u2029");
		else
			sb_add(sb, (const char *)p, l);
		p += l;
		n -= l;
	}
	sb_add(sb, "\"", 1);
}

/*
 * {"error":..,"error_description":..} as Dex's tokenErr; the
 * description is left out when NULL or empty.  Malloc'd.
 */
char *
oauth2_error_json(const char *error, const char *description)
{
	struct sbuf	 sb;

	sb_init(&sb, OAUTH2_URL_MAX);
	sb_adds(&sb, "{\"error\":");
	go_json_string(&sb, error);
	if (description != NULL && *description != '\0') {
		sb_adds(&sb, ",\"error_description\":");
		go_json_string(&sb, description);
	}
	sb_adds(&sb, "}");
	return (sb_finish(&sb));
}

/*
 * Dex's accessTokenResponse, members in its order: access_token,
 * token_type, expires_in (left out when 0), refresh_token and id_token
 * (left out when NULL or empty).  Malloc'd.
 */
char *
oauth2_token_response(const char *access_token, const char *id_token,
    const char *refresh_token, int64_t expires_in)
{
	struct sbuf	 sb;
	char		 num[32];

	sb_init(&sb, OAUTH2_URL_MAX);
	/* Tokens need no escaping as a rule: one allocation then. */
	sb_reserve(&sb, OAUTH2_TOKEN_RESPONSE_FIXED +
	    (access_token != NULL ? strlen(access_token) : 0) +
	    (id_token != NULL ? strlen(id_token) : 0) +
	    (refresh_token != NULL ? strlen(refresh_token) : 0));
	sb_adds(&sb, "{\"access_token\":");
	go_json_string(&sb, access_token != NULL ? access_token : "");
	sb_adds(&sb, ",\"token_type\":\"bearer\"");
	if (expires_in != 0) {
		(void)snprintf(num, sizeof(num), "%lld",
		    (long long)expires_in);
		sb_adds(&sb, ",\"expires_in\":");
		sb_adds(&sb, num);
	}
	if (refresh_token != NULL && *refresh_token != '\0') {
		sb_adds(&sb, ",\"refresh_token\":");
		go_json_string(&sb, refresh_token);
	}
	if (id_token != NULL && *id_token != '\0') {
		sb_adds(&sb, ",\"id_token\":");
		go_json_string(&sb, id_token);
	}
	sb_adds(&sb, "}");
	return (sb_finish(&sb));
}

/*
 * Config.
 */

static int
conf_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
conf_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* The strings of a JSON array, strdup'd; n strings at most. */
static int
conf_strv(const json_t *a, size_t max, char ***vp, size_t *np)
{
	char	**v;
	size_t	  i, n;

	*vp = NULL;
	*np = 0;
	if (a == NULL)
		return (0);
	if (!json_is_array(a) || (n = json_array_size(a)) > max)
		return (-1);
	if (n == 0)
		return (0);
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		if (!json_is_string(json_array_get(a, i)) ||
		    (v[i] = strdup(json_string_value(json_array_get(a, i)))) ==
		    NULL) {
			while (i > 0)
				free(v[--i]);
			free(v);
			return (-1);
		}
	}
	*vp = v;
	*np = n;
	return (0);
}

static void
strv_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static const struct {
	const char	*name;
	int		 bit;
} oauth2_grant_names[] = {
	{ "authorization_code", OAUTH2_GT_AUTHCODE },
	{ "implicit", OAUTH2_GT_IMPLICIT },
	{ "password", OAUTH2_GT_PASSWORD },
	{ "refresh_token", OAUTH2_GT_REFRESH },
	{ "urn:ietf:params:oauth:grant-type:device_code",
	    OAUTH2_GT_DEVICECODE },
	{ "urn:ietf:params:oauth:grant-type:token-exchange",
	    OAUTH2_GT_TOKENEXCHANGE },
	{ "client_credentials", OAUTH2_GT_CLIENTCREDS }
};

static int
grant_bit(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(oauth2_grant_names) /
	    sizeof(oauth2_grant_names[0]); i++)
		if (strcmp(oauth2_grant_names[i].name, name) == 0)
			return (oauth2_grant_names[i].bit);
	return (0);
}

static int
rt_bit(const char *s, size_t n)
{
	if (n == 4 && strncmp(s, "code", 4) == 0)
		return (OAUTH2_RT_CODE);
	if (n == 5 && strncmp(s, "token", 5) == 0)
		return (OAUTH2_RT_TOKEN);
	if (n == 8 && strncmp(s, "id_token", 8) == 0)
		return (OAUTH2_RT_IDTOKEN);
	return (0);
}

/* Go's strings.Fields separators, as far as ASCII goes. */
static int
is_field_space(int c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
	    c == '\f' || c == '\r');
}

/* A response type set as written ("code id_token"); -1 if unknown. */
static int
rt_set(const char *s)
{
	const char	*p = s, *q;
	int		 set = 0, bit;

	for (;;) {
		while (is_field_space((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		for (q = p; *q != '\0' && !is_field_space((unsigned char)*q);
		    q++)
			;
		if ((bit = rt_bit(p, q - p)) == 0)
			return (-1);
		set |= bit;
		p = q;
	}
	return (set == 0 ? -1 : set);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

static int
client_cmp(const void *a, const void *b)
{
	const struct oauth2_client	*ca = a, *cb = b;

	return (strcmp(ca->id, cb->id));
}

static void
client_free(struct oauth2_client *c)
{
	free(c->id);
	free(c->name);
	free(c->logo_url);
	strv_free(c->redirect_uris, c->nredirect_uris);
	strv_free(c->trusted_peers, c->ntrusted_peers);
	strv_free(c->cc_groups, c->ncc_groups);
	strv_free(c->post_logout_uris, c->npost_logout_uris);
	free(c->backchannel_uri);
	explicit_bzero(c->secret_hash, sizeof(c->secret_hash));
}

/* Dex master's clientCredentialsClaims: {"groups": [...]}. */
static int
conf_client_cc(struct oauth2_client *c, const json_t *o)
{
	size_t	 i;

	if (o == NULL)
		return (0);
	if (!json_is_object(o) || conf_strv(json_object_get(o, "groups"),
	    OAUTH2_MAX_CC_GROUPS, &c->cc_groups, &c->ncc_groups) == -1)
		return (-1);
	for (i = 0; i < c->ncc_groups; i++)
		if (strlen(c->cc_groups[i]) > OAUTH2_GROUP_MAX)
			return (-1);
	return (0);
}

static int
conf_client(struct oauth2_client *c, const json_t *o, char *err,
    size_t errlen)
{
	const json_t	*v;
	const char	*s;
	size_t		 i;
	int		 bit, hi, lo;

	if (!json_is_object(o) ||
	    !json_is_string(v = json_object_get(o, "id")))
		return (conf_err(err, errlen, "client without an id"));
	s = json_string_value(v);
	if (*s == '\0' || strlen(s) > OAUTH2_ID_MAX)
		return (conf_err(err, errlen, "client id of bad length"));
	if ((c->id = strdup(s)) == NULL)
		return (conf_err(err, errlen, "out of memory"));
	v = json_object_get(o, "name");
	if ((c->name = strdup(json_is_string(v) ?
	    json_string_value(v) : "")) == NULL)
		return (conf_err(err, errlen, "out of memory"));
	if (json_is_string(v = json_object_get(o, "logoURL")) &&
	    (c->logo_url = strdup(json_string_value(v))) == NULL)
		return (conf_err(err, errlen, "out of memory"));
	c->public = json_is_true(json_object_get(o, "public"));
	if (conf_strv(json_object_get(o, "redirectURIs"), OAUTH2_MAX_URIS,
	    &c->redirect_uris, &c->nredirect_uris) == -1)
		return (conf_err(err, errlen, "client %s: bad redirectURIs",
		    c->id));
	if (conf_strv(json_object_get(o, "trustedPeers"), OAUTH2_MAX_PEERS,
	    &c->trusted_peers, &c->ntrusted_peers) == -1)
		return (conf_err(err, errlen, "client %s: bad trustedPeers",
		    c->id));
	v = json_object_get(o, "grantTypes");
	if (v != NULL && !json_is_array(v))
		return (conf_err(err, errlen, "client %s: bad grantTypes",
		    c->id));
	for (i = 0; v != NULL && i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i)) ||
		    (bit = grant_bit(json_string_value(
		    json_array_get(v, i)))) == 0)
			return (conf_err(err, errlen,
			    "client %s: unknown grant type", c->id));
		c->grant_mask |= bit;
	}
	if (conf_client_cc(c, json_object_get(o, "clientCredentialsClaims")) ==
	    -1)
		return (conf_err(err, errlen,
		    "client %s: bad clientCredentialsClaims", c->id));
	if (conf_strv(json_object_get(o, "postLogoutRedirectURIs"),
	    OAUTH2_MAX_LOGOUT_URIS, &c->post_logout_uris,
	    &c->npost_logout_uris) == -1)
		return (conf_err(err, errlen,
		    "client %s: bad postLogoutRedirectURIs", c->id));
	if (json_is_string(v = json_object_get(o, "backchannelLogoutURI")) &&
	    *json_string_value(v) != '\0' &&
	    (c->backchannel_uri = strdup(json_string_value(v))) == NULL)
		return (conf_err(err, errlen, "out of memory"));
	if ((v = json_object_get(o, "secretHash")) != NULL) {
		if (!json_is_string(v) ||
		    strlen(s = json_string_value(v)) != 64)
			return (conf_err(err, errlen,
			    "client %s: bad secretHash", c->id));
		for (i = 0; i < 32; i++) {
			if ((hi = hexval((unsigned char)s[2 * i])) == -1 ||
			    (lo = hexval((unsigned char)s[2 * i + 1])) == -1)
				return (conf_err(err, errlen,
				    "client %s: bad secretHash", c->id));
			c->secret_hash[i] = hi << 4 | lo;
		}
		c->has_secret = 1;
	} else if (!c->public)
		/* Never let a confidential client in with no secret. */
		return (conf_err(err, errlen, "client %s: no secret", c->id));
	return (0);
}

static int
conf_connector(struct oauth2_connector *cn, const json_t *o, char *err,
    size_t errlen)
{
	const json_t	*id, *name, *type;

	if (!json_is_object(o) ||
	    !json_is_string(id = json_object_get(o, "id")) ||
	    strlen(json_string_value(id)) == 0 ||
	    strlen(json_string_value(id)) > OAUTH2_ID_MAX)
		return (conf_err(err, errlen, "connector without an id"));
	name = json_object_get(o, "name");
	type = json_object_get(o, "type");
	if ((cn->id = strdup(json_string_value(id))) == NULL ||
	    (cn->name = strdup(json_is_string(name) ?
	    json_string_value(name) : "")) == NULL ||
	    (cn->type = strdup(json_is_string(type) ?
	    json_string_value(type) : "")) == NULL)
		return (conf_err(err, errlen, "out of memory"));
	return (0);
}

/*
 * Build the frontend's OAuth 2.0 view of the config from the JSON of
 * config_frontend().  NULL with a message in err on a bad config.
 */
struct oauth2_conf *
oauth2_conf_new(const json_t *cfg, char *err, size_t errlen)
{
	struct oauth2_conf	*conf;
	const json_t		*v, *e;
	const char		*s;
	size_t			 i, n;
	int			 set, token = 0;

	if (!json_is_object(cfg)) {
		conf_err(err, errlen, "config is not an object");
		return (NULL);
	}
	if ((conf = calloc(1, sizeof(*conf))) == NULL) {
		conf_err(err, errlen, "out of memory");
		return (NULL);
	}
	if (!json_is_string(v = json_object_get(cfg, "issuer"))) {
		conf_err(err, errlen, "no issuer");
		goto fail;
	}
	if ((conf->issuer = strdup(json_string_value(v))) == NULL)
		goto nomem;
	v = json_object_get(cfg, "issuerPath");
	s = json_is_string(v) ? json_string_value(v) : "";
	/* A lone "/" would make "//device/callback". */
	if ((conf->issuer_path = strdup(strcmp(s, "/") == 0 ? "" : s)) ==
	    NULL)
		goto nomem;

	v = json_object_get(cfg, "clients");
	n = json_is_array(v) ? json_array_size(v) : 0;
	if (n > OAUTH2_MAX_CLIENTS) {
		conf_err(err, errlen, "too many clients");
		goto fail;
	}
	if (n > 0 && (conf->clients = calloc(n, sizeof(*conf->clients))) ==
	    NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		conf->nclients++;
		if (conf_client(&conf->clients[i], json_array_get(v, i), err,
		    errlen) == -1)
			goto fail;
	}
	if (conf->nclients > 1)
		qsort(conf->clients, conf->nclients, sizeof(*conf->clients),
		    client_cmp);
	for (i = 1; i < conf->nclients; i++)
		if (strcmp(conf->clients[i - 1].id, conf->clients[i].id) ==
		    0) {
			conf_err(err, errlen, "client %s given twice",
			    conf->clients[i].id);
			goto fail;
		}

	v = json_object_get(cfg, "connectors");
	n = json_is_array(v) ? json_array_size(v) : 0;
	if (n > OAUTH2_MAX_CONNECTORS) {
		conf_err(err, errlen, "too many connectors");
		goto fail;
	}
	if (n > 0 && (conf->connectors = calloc(n,
	    sizeof(*conf->connectors))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		conf->nconnectors++;
		if (conf_connector(&conf->connectors[i], json_array_get(v, i),
		    err, errlen) == -1)
			goto fail;
	}

	/* Dex's default is ["code"]. */
	v = json_object_get(cfg, "responseTypes");
	n = json_is_array(v) ? json_array_size(v) : 0;
	if (n > OAUTH2_MAX_RTSETS) {
		conf_err(err, errlen, "too many responseTypes");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		e = json_array_get(v, i);
		if (!json_is_string(e) ||
		    (set = rt_set(json_string_value(e))) == -1) {
			conf_err(err, errlen, "bad responseTypes entry");
			goto fail;
		}
		conf->rt_sets[conf->nrt_sets++] = set;
		if (set == OAUTH2_RT_CODE || set == OAUTH2_RT_TOKEN ||
		    set == OAUTH2_RT_IDTOKEN)
			conf->rt_single |= set;
		if (set & OAUTH2_RT_TOKEN)
			token = 1;
	}
	if (conf->nrt_sets == 0) {
		conf->rt_sets[conf->nrt_sets++] = OAUTH2_RT_CODE;
		conf->rt_single = OAUTH2_RT_CODE;
	}

	v = json_object_get(cfg, "pkceMethods");
	n = json_is_array(v) ? json_array_size(v) : 0;
	for (i = 0; i < n; i++) {
		e = json_array_get(v, i);
		s = json_is_string(e) ? json_string_value(e) : "";
		if (strcmp(s, "S256") == 0)
			conf->pkce_methods |= OAUTH2_PKCE_S256;
		else if (strcmp(s, "plain") == 0)
			conf->pkce_methods |= OAUTH2_PKCE_PLAIN;
		else {
			conf_err(err, errlen, "bad pkceMethods entry");
			goto fail;
		}
	}
	if (conf->pkce_methods == 0)
		conf->pkce_methods = OAUTH2_PKCE_S256 | OAUTH2_PKCE_PLAIN;
	conf->pkce_enforce = json_is_true(json_object_get(cfg,
	    "pkceEnforce"));

	if (json_is_string(v = json_object_get(cfg, "passwordConnector")) &&
	    (conf->password_connector = strdup(json_string_value(v))) ==
	    NULL)
		goto nomem;
	conf->skip_approval = json_is_true(json_object_get(cfg,
	    "skipApproval"));
	conf->always_show_login = json_is_true(json_object_get(cfg,
	    "alwaysShowLogin"));

	/* Dex's grant set (dex.md §1.2), then the grantTypes filter. */
	conf->grant_mask = OAUTH2_GT_AUTHCODE | OAUTH2_GT_REFRESH |
	    OAUTH2_GT_DEVICECODE | OAUTH2_GT_TOKENEXCHANGE;
	if (token)
		conf->grant_mask |= OAUTH2_GT_IMPLICIT;
	if (conf->password_connector != NULL)
		conf->grant_mask |= OAUTH2_GT_PASSWORD;
	v = json_object_get(cfg, "grantMask");
	/*
	 * client_credentials is Dex master's, off unless oauth2.grantTypes
	 * names it (its DEX_CLIENT_CREDENTIAL_GRANT_ENABLED_BY_DEFAULT).
	 */
	if (json_is_integer(v) &&
	    (json_integer_value(v) & OAUTH2_GT_CLIENTCREDS))
		conf->grant_mask |= OAUTH2_GT_CLIENTCREDS;
	if (json_is_integer(v) && json_integer_value(v) != 0)
		conf->grant_mask &= (int)json_integer_value(v);

	v = json_object_get(cfg, "idTokens");
	conf->id_token_ttl = json_is_integer(v) && json_integer_value(v) > 0 ?
	    json_integer_value(v) : 24 * 3600;
	v = json_object_get(cfg, "authRequests");
	conf->authreq_ttl = json_is_integer(v) && json_integer_value(v) > 0 ?
	    json_integer_value(v) : 24 * 3600;
	v = json_object_get(cfg, "signingAlgs");
	conf->alg = JOSE_ALG_RS256;
	if (json_is_array(v) && json_is_string(json_array_get(v, 0)) &&
	    (conf->alg = jose_alg_from_name(json_string_value(
	    json_array_get(v, 0)))) == JOSE_ALG_UNKNOWN) {
		conf_err(err, errlen, "bad signingAlgs");
		goto fail;
	}
	return (conf);

 nomem:
	conf_err(err, errlen, "out of memory");
 fail:
	oauth2_conf_free(conf);
	return (NULL);
}

void
oauth2_conf_free(struct oauth2_conf *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nclients; i++)
		client_free(&conf->clients[i]);
	free(conf->clients);
	for (i = 0; i < conf->nconnectors; i++) {
		free(conf->connectors[i].id);
		free(conf->connectors[i].name);
		free(conf->connectors[i].type);
	}
	free(conf->connectors);
	free(conf->issuer);
	free(conf->issuer_path);
	free(conf->password_connector);
	free(conf);
}

const struct oauth2_client *
oauth2_client_find(const struct oauth2_conf *conf, const char *id)
{
	struct oauth2_client	key;

	if (id == NULL || conf->nclients == 0)
		return (NULL);
	memset(&key, 0, sizeof(key));
	key.id = (char *)(uintptr_t)id;
	return (bsearch(&key, conf->clients, conf->nclients,
	    sizeof(*conf->clients), client_cmp));
}

const struct oauth2_connector *
oauth2_connector_find(const struct oauth2_conf *conf, const char *id)
{
	size_t	i;

	if (id == NULL)
		return (NULL);
	for (i = 0; i < conf->nconnectors; i++)
		if (strcmp(conf->connectors[i].id, id) == 0)
			return (&conf->connectors[i]);
	return (NULL);
}

/*
 * Dex's validateCrossClientTrust: may client_id put peer_id in its
 * tokens' audience?  Only if peer lists it in trustedPeers, or is it.
 */
int
oauth2_peer_trusted(const struct oauth2_conf *conf, const char *client_id,
    const char *peer_id)
{
	const struct oauth2_client	*peer;
	size_t				 i;

	if (strcmp(client_id, peer_id) == 0)
		return (1);
	if ((peer = oauth2_client_find(conf, peer_id)) == NULL)
		return (0);
	for (i = 0; i < peer->ntrusted_peers; i++)
		if (strcmp(peer->trusted_peers[i], client_id) == 0)
			return (1);
	return (0);
}

/*
 * Redirect URIs.
 */

/* Is this host (no brackets, no port) a loopback literal or localhost? */
static int
host_is_loopback_ip(const char *host, size_t len, int bracketed)
{
	char		 buf[INET6_ADDRSTRLEN + 1];
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (len == 0 || len >= sizeof(buf))
		return (0);
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (!bracketed)
		return (inet_pton(AF_INET, buf, &a4) == 1 &&
		    (ntohl(a4.s_addr) >> 24) == 127);
	if (inet_pton(AF_INET6, buf, &a6) != 1)
		return (0);
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return (1);
	/* Go's IsLoopback() sees ::ffff:127.x.y.z as IPv4 loopback. */
	return (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

static int
port_valid(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)p[i]))
			return (0);
	return (1);
}

/*
 * Dex's isHostLocal() over what Go's url.Parse would give: scheme http,
 * host "localhost" or a loopback IP literal, any (or no) port.  Two
 * stricter points: userinfo is refused, and so is a backslash, which
 * browsers read as '/' and so would send the user to the "userinfo".
 */
static int
uri_is_loopback(const char *uri)
{
	const char	*auth, *end, *host, *p;
	size_t		 hlen;

	if (strncasecmp(uri, "http://", 7) != 0 ||
	    strchr(uri, '\\') != NULL)
		return (0);
	auth = uri + 7;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', end - auth) != NULL)
		return (0);
	if (*auth == '[') {
		if ((p = memchr(auth, ']', end - auth)) == NULL)
			return (0);
		host = auth + 1;
		hlen = p - host;
		p++;
		/* Go's SplitHostPort wants a port after brackets. */
		if (p == end || *p != ':' || !port_valid(p + 1, end - p - 1))
			return (0);
		return (host_is_loopback_ip(host, hlen, 1));
	}
	host = auth;
	for (p = end; p > auth && p[-1] != ':'; p--)
		;
	if (p > auth) {
		if (!port_valid(p, end - p))
			return (0);
		hlen = p - 1 - auth;
	} else
		hlen = end - auth;
	if (memchr(host, ':', hlen) != NULL)
		return (0);
	if (hlen == 9 && strncmp(host, "localhost", 9) == 0)
		return (1);
	return (host_is_loopback_ip(host, hlen, 0));
}

/* Bytes a Location header cannot carry. */
static int
uri_has_ctl(const char *uri)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)uri; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return (1);
	return (0);
}

/*
 * Dex's validateRedirectURI (dex.md §2.10): a registered URI matches
 * exactly; a public client with no registered URI may also use the oob
 * URI, /device/callback and http loopback URIs on any port.
 */
int
oauth2_redirect_uri_valid(const struct oauth2_client *client,
    const char *uri)
{
	size_t	i;

	if (uri == NULL || strlen(uri) > OAUTH2_REDIRECT_MAX ||
	    uri_has_ctl(uri))
		return (0);
	for (i = 0; i < client->nredirect_uris; i++)
		if (strcmp(client->redirect_uris[i], uri) == 0)
			return (1);
	if (!client->public || client->nredirect_uris > 0)
		return (0);
	if (strcmp(uri, OAUTH2_REDIRECT_OOB) == 0 ||
	    strcmp(uri, OAUTH2_REDIRECT_DEVICE) == 0)
		return (1);
	return (uri_is_loopback(uri));
}

/* Percent-encode all but RFC 3986 unreserved characters. */
static void
pct_encode(struct sbuf *sb, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			 t[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~') {
			sb_add(sb, (const char *)p, 1);
			continue;
		}
		t[0] = '%';
		t[1] = hex[*p >> 4];
		t[2] = hex[*p & 0xf];
		sb_add(sb, t, 3);
	}
}

/*
 * The redirect_uri with params added (those with a NULL value left
 * out), percent-encoded: to the query with '?' or '&', before any
 * fragment; or with fragment set, as the fragment, replacing any.
 * Malloc'd; NULL if the URI holds a control byte or it gets too long.
 */
char *
oauth2_redirect(const char *uri, int fragment, const struct http_kv *kv,
    size_t n)
{
	struct sbuf	 sb;
	const char	*hash;
	size_t		 baselen, i;
	int		 first = 1;

	if (uri == NULL || uri_has_ctl(uri))
		return (NULL);
	sb_init(&sb, OAUTH2_URL_MAX);
	hash = strchr(uri, '#');
	baselen = hash != NULL ? (size_t)(hash - uri) : strlen(uri);
	sb_add(&sb, uri, baselen);
	if (fragment)
		sb_add(&sb, "#", 1);
	else if (memchr(uri, '?', baselen) == NULL)
		sb_add(&sb, "?", 1);
	else if (baselen > 0 && uri[baselen - 1] != '?' &&
	    uri[baselen - 1] != '&')
		first = 0;
	for (i = 0; i < n; i++) {
		if (kv[i].value == NULL)
			continue;
		if (!first)
			sb_add(&sb, "&", 1);
		first = 0;
		pct_encode(&sb, kv[i].key);
		sb_add(&sb, "=", 1);
		pct_encode(&sb, kv[i].value);
	}
	if (!fragment && hash != NULL)
		sb_adds(&sb, hash);
	return (sb_finish(&sb));
}

/*
 * The successful authorization response (Dex's sendCodeResponse): in
 * the query "code" and "state"; in the fragment (implicit and hybrid)
 * access_token, code, expires_in (only with an id_token and no code),
 * id_token, state and token_type, in the sorted order Go's
 * url.Values.Encode() gives.  NULL arguments are left out; state is
 * always there, as in Dex.
 */
char *
oauth2_code_redirect(const char *uri, int fragment, const char *code,
    const char *state, const char *access_token, const char *id_token,
    int64_t expires_in)
{
	struct http_kv	 kv[6];
	char		 num[32];
	size_t		 n = 0;

	if (!fragment) {
		kv[n].key = "code";
		kv[n++].value = code != NULL ? code : "";
		kv[n].key = "state";
		kv[n++].value = state != NULL ? state : "";
		return (oauth2_redirect(uri, 0, kv, n));
	}
	(void)snprintf(num, sizeof(num), "%lld", (long long)expires_in);
	kv[n].key = "access_token";
	kv[n++].value = access_token;
	kv[n].key = "code";
	kv[n++].value = code;
	kv[n].key = "expires_in";
	kv[n++].value = id_token != NULL && code == NULL ? num : NULL;
	kv[n].key = "id_token";
	kv[n++].value = id_token;
	kv[n].key = "state";
	kv[n++].value = state != NULL ? state : "";
	kv[n].key = "token_type";
	kv[n++].value = access_token != NULL ? "bearer" : NULL;
	return (oauth2_redirect(uri, 1, kv, n));
}

/*
 * The authorization request (/auth/{connector}).
 */

/* The whitespace-separated fields of s (Go's strings.Fields). */
struct fields {
	char		*buf;
	const char	*v[OAUTH2_MAX_SCOPES];
	size_t		 n;
	int		 toomany;
};

static int
fields_split(struct fields *f, const char *s)
{
	char	*p;

	memset(f, 0, sizeof(*f));
	if ((f->buf = strdup(s)) == NULL)
		return (-1);
	for (p = f->buf;;) {
		while (is_field_space((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (f->n == OAUTH2_MAX_SCOPES) {
			f->toomany = 1;
			break;
		}
		f->v[f->n++] = p;
		while (*p != '\0' && !is_field_space((unsigned char)*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	return (0);
}

static void
fields_free(struct fields *f)
{
	free(f->buf);
	f->buf = NULL;
}

static const char *
param(const struct http_params *pp, const char *name)
{
	const char	*v;

	return ((v = http_param(pp, name)) != NULL ? v : "");
}

/* Does response_type ask for anything in the fragment? */
static int
rt_wants_fragment(const char *s)
{
	struct fields	 f;
	size_t		 i;
	int		 frag = 0, bit;

	if (fields_split(&f, s) == -1)
		return (0);
	for (i = 0; i < f.n; i++) {
		bit = rt_bit(f.v[i], strlen(f.v[i]));
		if (bit == OAUTH2_RT_TOKEN || bit == OAUTH2_RT_IDTOKEN)
			frag = 1;
	}
	fields_free(&f);
	return (frag);
}

int
oauth2_authreq_fragment(const json_t *authreq)
{
	const json_t	*rts, *e;
	size_t		 i;

	rts = json_object_get(authreq, "responseTypes");
	json_array_foreach(rts, i, e) {
		if (!json_is_string(e))
			continue;
		if (strcmp(json_string_value(e), "token") == 0 ||
		    strcmp(json_string_value(e), "id_token") == 0)
			return (1);
	}
	return (0);
}

static int
scope_known(const char *s)
{
	return (strcmp(s, "offline_access") == 0 ||
	    strcmp(s, "email") == 0 || strcmp(s, "profile") == 0 ||
	    strcmp(s, "groups") == 0 || strcmp(s, "federated:id") == 0);
}

/* The peer of an audience:server:client_id: scope, or NULL. */
static const char *
scope_peer(const char *s)
{
	size_t	n = sizeof(SCOPE_AUDIENCE) - 1;

	if (strncmp(s, SCOPE_AUDIENCE, n) != 0)
		return (NULL);
	return (s + n);
}

/*
 * Dex's scope rules for a client: openid required, the known scopes,
 * and cross-client audiences only with the peer's trust.  With cc,
 * Dex master's rules for client_credentials instead: no openid needed,
 * offline_access and federated:id refused at once.  Sets the
 * description; returns 0 or -1, whose error code the caller picks
 * (invalid_scope at /auth, invalid_request at /token).
 */
static int
scopes_check_as(const struct oauth2_conf *conf, const char *client_id,
    const struct fields *f, char *desc, size_t descsz, int cc)
{
	const char	*unrec[OAUTH2_MAX_SCOPES], *bad[OAUTH2_MAX_SCOPES];
	const char	*peer;
	size_t		 i, nunrec = 0, nbad = 0, naud = 0;
	int		 openid = 0;

	if (f->toomany) {
		(void)strlcpy(desc, "Too many scopes.", descsz);
		return (-1);
	}
	for (i = 0; i < f->n; i++) {
		if (cc && (strcmp(f->v[i], "offline_access") == 0 ||
		    strcmp(f->v[i], "federated:id") == 0)) {
			(void)snprintf(desc, descsz, "client_credentials "
			    "grant does not support %s scope.", f->v[i]);
			return (-1);
		}
		if (strcmp(f->v[i], SCOPE_OPENID) == 0)
			openid = 1;
		else if (scope_known(f->v[i]))
			continue;
		else if ((peer = scope_peer(f->v[i])) == NULL)
			unrec[nunrec++] = f->v[i];
		else if (!oauth2_peer_trusted(conf, client_id, peer))
			bad[nbad++] = f->v[i];
		else
			naud++;
	}
	if (!openid && !cc) {
		(void)strlcpy(desc, "Missing required scope(s) [\"openid\"].",
		    descsz);
		return (-1);
	}
	if (nunrec > 0) {
		desc_quote_list(desc, descsz, "Unrecognized scope(s) ", unrec,
		    nunrec);
		return (-1);
	}
	if (nbad > 0) {
		desc_quote_list(desc, descsz, "Client can't request scope(s) ",
		    bad, nbad);
		return (-1);
	}
	if (naud > OAUTH2_MAX_AUDIENCE) {
		(void)strlcpy(desc, "Too many audience scopes.", descsz);
		return (-1);
	}
	return (0);
}

static int
scopes_check(const struct oauth2_conf *conf, const char *client_id,
    const struct fields *f, char *desc, size_t descsz)
{
	return (scopes_check_as(conf, client_id, f, desc, descsz, 0));
}

static json_t *
fields_json(const struct fields *f, int dedup)
{
	json_t	*a;
	size_t	 i, j;

	if ((a = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < f->n; i++) {
		for (j = 0; dedup && j < i; j++)
			if (strcmp(f->v[i], f->v[j]) == 0)
				break;
		if (dedup && j < i)
			continue;
		if (json_array_append_new(a, json_string(f->v[i])) == -1) {
			json_decref(a);
			return (NULL);
		}
	}
	return (a);
}

static int
authreq_display(struct oauth2_authreq_result *r, int status,
    const char *desc)
{
	r->outcome = OAUTH2_AUTHREQ_DISPLAY;
	r->status = status;
	r->error = OAUTH2_INVALID_REQUEST;
	if (desc != NULL)
		(void)strlcpy(r->description, desc, sizeof(r->description));
	return (r->outcome);
}

/* The error redirect: error, error_description, state (Dex's order). */
static int
authreq_redirect(struct oauth2_authreq_result *r, const char *uri,
    enum oauth2_error e, const char *state)
{
	struct http_kv	kv[3];

	kv[0].key = "error";
	kv[0].value = oauth2_error_name(e);
	kv[1].key = "error_description";
	kv[1].value = r->description[0] != '\0' ? r->description : NULL;
	kv[2].key = "state";
	kv[2].value = state;
	r->error = e;
	/* Dex would "redirect" to the oob URN; show the page instead. */
	if (strcmp(uri, OAUTH2_REDIRECT_OOB) == 0) {
		r->outcome = OAUTH2_AUTHREQ_DISPLAY;
		r->status = 400;
		return (r->outcome);
	}
	if ((r->redirect = oauth2_redirect(uri, r->fragment, kv, 3)) ==
	    NULL)
		/* Only a URI we validated gets here; be safe anyway. */
		return (authreq_display(r, 400, "Invalid redirect_uri."));
	r->outcome = OAUTH2_AUTHREQ_REDIRECT;
	r->status = 303;
	return (r->outcome);
}

/*
 * Ours: the client's own grantTypes, at /auth too.  A code is the
 * authorization_code grant (the device flow's internal one is the
 * device_code grant); a token or an ID token from /auth is the implicit
 * grant, as OpenID Connect Dynamic Client Registration 1.0 §2 pairs
 * them, so a hybrid request needs both.
 */
static int
authreq_client_grants(const struct oauth2_client *client, int set,
    int device)
{
	int	 need = 0;

	if (client->grant_mask == 0)
		return (1);
	if (set & OAUTH2_RT_CODE)
		need |= device ? OAUTH2_GT_DEVICECODE : OAUTH2_GT_AUTHCODE;
	if (set & (OAUTH2_RT_TOKEN | OAUTH2_RT_IDTOKEN))
		need |= OAUTH2_GT_IMPLICIT;
	return ((client->grant_mask & need) == need);
}

#define REDIRECT_ERR(e, ...) do {					\
	(void)snprintf(r->description, sizeof(r->description),		\
	    __VA_ARGS__);						\
	ret = authreq_redirect(r, redirect_uri, (e), state);		\
	goto done;							\
} while (0)

/*
 * Validate an authorization request in Dex's order (dex.md §4.6 step
 * 2): client, redirect_uri, connector_id, request, PKCE, scopes,
 * response types, nonce.  path_connector is the {connector} of
 * /auth/{connector}, or NULL at /auth.  Returns r->outcome:
 *   OAUTH2_AUTHREQ_DISPLAY   render the error page with r->status and
 *                            r->description; never redirect;
 *   OAUTH2_AUTHREQ_REDIRECT  303 to r->redirect (error, error_description
 *                            and state, in the fragment for implicit and
 *                            hybrid requests, else in the query);
 *   OAUTH2_AUTHREQ_OK        r->authreq holds the authreq record but its
 *                            id, hmacKey, expiry, loggedIn, identity and
 *                            authTime.
 * Free r with oauth2_authreq_result_free().
 */
int
oauth2_authreq_parse(const struct oauth2_conf *conf,
    const struct http_params *pp, const char *path_connector,
    struct oauth2_authreq_result *r)
{
	const struct oauth2_client	*client;
	const char			*client_id, *redirect_uri, *state;
	const char			*nonce, *connector_id, *cc, *ccm;
	const char			*connector;
	struct fields			 scopes, rts;
	char				*devuri = NULL;
	size_t				 i;
	int				 ret, set, bit, allowed, method;

	memset(r, 0, sizeof(*r));
	memset(&scopes, 0, sizeof(scopes));
	memset(&rts, 0, sizeof(rts));
	client_id = param(pp, "client_id");
	redirect_uri = param(pp, "redirect_uri");
	state = param(pp, "state");
	nonce = param(pp, "nonce");
	connector_id = param(pp, "connector_id");
	cc = param(pp, "code_challenge");
	ccm = param(pp, "code_challenge_method");
	if (*ccm == '\0')
		ccm = "plain";
	/* dex.md §10: errors of implicit and hybrid requests in the
	 * fragment, where their client looks for them. */
	r->fragment = rt_wants_fragment(param(pp, "response_type"));

	if ((client = oauth2_client_find(conf, client_id)) == NULL) {
		desc_quote(r->description, sizeof(r->description),
		    "Invalid client_id (", client_id, ").");
		return (authreq_display(r, 404, NULL));
	}
	r->client = client;
	if (!oauth2_redirect_uri_valid(client, redirect_uri)) {
		desc_quote(r->description, sizeof(r->description),
		    "Unregistered redirect_uri (", redirect_uri, ").");
		return (authreq_display(r, 400, NULL));
	}
	/*
	 * Dex keeps /device/callback relative, which breaks under an
	 * issuer path (master fixes it, #4597): any client that may use
	 * it gets it under the issuer path.
	 */
	if (strcmp(redirect_uri, OAUTH2_REDIRECT_DEVICE) == 0) {
		if (asprintf(&devuri, "%s%s", conf->issuer_path,
		    OAUTH2_REDIRECT_DEVICE) == -1)
			return (authreq_display(r, 500, "Out of memory."));
		redirect_uri = devuri;
	}

	/* From here on errors go back to the client. */
	if (strlen(state) > OAUTH2_STATE_MAX) {
		state = NULL;
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "Invalid state: longer than %d bytes.", OAUTH2_STATE_MAX);
	}
	if (*connector_id != '\0' &&
	    oauth2_connector_find(conf, connector_id) == NULL)
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST, "Invalid ConnectorID");
	if (*param(pp, "request") != '\0')
		REDIRECT_ERR(OAUTH2_REQUEST_NOT_SUPPORTED,
		    "Server does not support request parameter.");
	/* Dex ignores request_uri; a client that sends one is better told. */
	if (*param(pp, "request_uri") != '\0')
		REDIRECT_ERR(OAUTH2_REQUEST_URI_NOT_SUPPORTED,
		    "Server does not support request_uri parameter.");

	method = strcmp(ccm, "S256") == 0 ? OAUTH2_PKCE_S256 :
	    strcmp(ccm, "plain") == 0 ? OAUTH2_PKCE_PLAIN : 0;
	/* codeChallengeMethodsSupported binds only a challenge given. */
	if (method == 0 || (*cc != '\0' && !(conf->pkce_methods & method))) {
		desc_quote(r->description, sizeof(r->description),
		    "Unsupported PKCE challenge method (", ccm, ").");
		ret = authreq_redirect(r, redirect_uri,
		    OAUTH2_INVALID_REQUEST, state);
		goto done;
	}
	if (conf->pkce_enforce && *cc == '\0')
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "PKCE is required. The code_challenge parameter must be "
		    "provided.");
	if (strlen(cc) > OAUTH2_CHALLENGE_MAX)
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "Invalid code_challenge: longer than %d bytes.",
		    OAUTH2_CHALLENGE_MAX);

	if (fields_split(&scopes, param(pp, "scope")) == -1 ||
	    fields_split(&rts, param(pp, "response_type")) == -1)
		REDIRECT_ERR(OAUTH2_SERVER_ERROR, "Internal server error.");
	if (scopes_check(conf, client->id, &scopes, r->description,
	    sizeof(r->description)) == -1) {
		ret = authreq_redirect(r, redirect_uri, OAUTH2_INVALID_SCOPE,
		    state);
		goto done;
	}

	/*
	 * Each type must be allowed (Dex: listed on its own in
	 * oauth2.responseTypes).  Better than Dex, a combination listed as
	 * such ("code id_token") is allowed as a whole, where Dex would
	 * accept none of it.
	 */
	set = 0;
	for (i = 0; i < rts.n; i++)
		set |= rt_bit(rts.v[i], strlen(rts.v[i]));
	allowed = 0;
	for (i = 0; i < conf->nrt_sets; i++)
		if (conf->rt_sets[i] == set)
			allowed = 1;
	for (i = 0; i < rts.n; i++) {
		if ((bit = rt_bit(rts.v[i], strlen(rts.v[i]))) == 0) {
			desc_quote(r->description, sizeof(r->description),
			    "Invalid response type ", rts.v[i], "");
			ret = authreq_redirect(r, redirect_uri,
			    OAUTH2_INVALID_REQUEST, state);
			goto done;
		}
		if (!allowed && !(conf->rt_single & bit)) {
			desc_quote(r->description, sizeof(r->description),
			    "Unsupported response type ", rts.v[i], "");
			ret = authreq_redirect(r, redirect_uri,
			    OAUTH2_UNSUPPORTED_RESPONSE_TYPE, state);
			goto done;
		}
	}
	if (rts.toomany)
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "Too many response types.");
	if (rts.n == 0)
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "No response_type provided");
	if (!authreq_client_grants(client, set, devuri != NULL))
		REDIRECT_ERR(OAUTH2_UNAUTHORIZED_CLIENT,
		    "Client is not allowed to use this response type.");
	if (set == OAUTH2_RT_TOKEN)
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "Response type 'token' must be provided with type "
		    "'id_token' and/or 'code'");
	if (!(set & OAUTH2_RT_CODE) && *nonce == '\0')
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "Response type 'token' requires a 'nonce' value.");
	if ((set & OAUTH2_RT_TOKEN) &&
	    strcmp(redirect_uri, OAUTH2_REDIRECT_OOB) == 0)
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "Cannot use response type 'token' with redirect_uri "
		    "'%s'.", OAUTH2_REDIRECT_OOB);
	/* Dex lets this through and then has nowhere to send the token. */
	if (!(set & OAUTH2_RT_CODE) &&
	    strcmp(redirect_uri, OAUTH2_REDIRECT_OOB) == 0)
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "Cannot use response type 'id_token' with redirect_uri "
		    "'%s'.", OAUTH2_REDIRECT_OOB);
	if (strlen(nonce) > OAUTH2_NONCE_MAX)
		REDIRECT_ERR(OAUTH2_INVALID_REQUEST,
		    "Invalid nonce: longer than %d bytes.", OAUTH2_NONCE_MAX);

	/* handleConnectorLogin: the connector of the path. */
	connector = connector_id;
	if (path_connector != NULL) {
		if (oauth2_connector_find(conf, path_connector) == NULL) {
			ret = authreq_display(r, 400,
			    "Requested resource does not exist");
			goto done;
		}
		if (*connector_id != '\0' &&
		    strcmp(connector_id, path_connector) != 0) {
			ret = authreq_display(r, 400, "Bad connector ID");
			goto done;
		}
		connector = path_connector;
	}

	r->authreq = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, "
	    "s:s, s:b}",
	    "clientId", client->id,
	    "redirectUri", redirect_uri,
	    "scopes", fields_json(&scopes, 0),
	    "responseTypes", fields_json(&rts, 1),
	    "state", state,
	    "nonce", nonce,
	    "codeChallenge", cc,
	    "codeChallengeMethod", ccm,
	    "connectorId", connector,
	    "forceApproval", strcmp(param(pp, "approval_prompt"), "force") ==
	    0);
	if (r->authreq == NULL) {
		ret = authreq_display(r, 500, "Out of memory.");
		r->error = OAUTH2_SERVER_ERROR;
		goto done;
	}
	r->outcome = ret = OAUTH2_AUTHREQ_OK;
	r->status = 200;
	r->error = OAUTH2_OK;
 done:
	fields_free(&scopes);
	fields_free(&rts);
	free(devuri);
	return (ret);
}

#undef REDIRECT_ERR

void
oauth2_authreq_result_free(struct oauth2_authreq_result *r)
{
	free(r->redirect);
	r->redirect = NULL;
	json_decref(r->authreq);
	r->authreq = NULL;
}

/*
 * Client authentication (Dex's withClientFromStorage).
 */

/*
 * Does the secret match?  SHA-256 of it against the configured hash,
 * in constant time; a client without a secret takes only "".
 */
int
oauth2_secret_check(const struct oauth2_client *client, const char *secret,
    size_t len)
{
	uint8_t		md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen;
	int		ok;

	if (!client->has_secret)
		return (len == 0);
	if (jose_digest(EVP_sha256(), secret, len, md, &mdlen) == -1 ||
	    mdlen != sizeof(client->secret_hash))
		return (0);
	ok = CRYPTO_memcmp(md, client->secret_hash, mdlen) == 0;
	explicit_bzero(md, sizeof(md));
	return (ok);
}

/*
 * Go's Request.BasicAuth(): "Basic " (any case) and padded base64 of
 * "id:secret".  0 and the decoded text (to freezero) when it is one, -1
 * when it is not, so that the form's fields are used as in Dex.
 */
static int
basic_auth(const char *hdr, char **credp, size_t *lenp, char **colonp)
{
	uint8_t	*dec;
	size_t	 len;
	char	*colon;

	*credp = NULL;
	if (hdr == NULL || strncasecmp(hdr, "Basic ", 6) != 0)
		return (-1);
	hdr += 6;
	if (jose_b64_decode(hdr, strlen(hdr), &dec, &len) == -1)
		return (-1);
	if ((colon = memchr(dec, ':', len)) == NULL) {
		freezero(dec, len);
		return (-1);
	}
	*credp = (char *)dec;
	*lenp = len;
	*colonp = colon;
	return (0);
}

/*
 * Authenticate the client of a /token or /token/introspect request:
 * HTTP Basic when the request carries it (credentials URL-unescaped,
 * RFC 6749 §2.3.1), else client_id and client_secret of the form.
 * Returns OAUTH2_OK with *clientp set, OAUTH2_INVALID_REQUEST for bad
 * escaping, OAUTH2_INVALID_CLIENT (answer 401) for an unknown client or
 * a wrong secret; *descp is the error_description.
 */
enum oauth2_error
oauth2_client_auth(const struct oauth2_conf *conf,
    const struct http_request *req, const struct http_params *form,
    const struct oauth2_client **clientp, const char **descp)
{
	const struct oauth2_client	*client;
	const char			*hdr, *id, *secret;
	char				*cred = NULL, *colon, *idbuf = NULL;
	char				*secbuf = NULL;
	size_t				 credlen = 0, idlen, seclen = 0;
	size_t				 secsz = 0;
	enum oauth2_error		 e;

	*clientp = NULL;
	*descp = NULL;
	hdr = req != NULL ? http_header(req, "Authorization") : NULL;
	if (hdr != NULL && strlen(hdr) > OAUTH2_BASIC_MAX) {
		e = OAUTH2_INVALID_CLIENT;
		*descp = "Invalid client credentials.";
		goto done;
	}
	if (basic_auth(hdr, &cred, &credlen, &colon) == 0) {
		idlen = colon - cred;
		seclen = credlen - idlen - 1;
		secsz = seclen + 1;
		if ((idbuf = malloc(idlen + 1)) == NULL ||
		    (secbuf = malloc(secsz)) == NULL) {
			e = OAUTH2_SERVER_ERROR;
			goto done;
		}
		if (http_pct_decode(idbuf, idlen + 1, cred, idlen, 1,
		    NULL) == -1) {
			e = OAUTH2_INVALID_REQUEST;
			*descp = "client_id improperly encoded";
			goto done;
		}
		if (http_pct_decode(secbuf, secsz, colon + 1, seclen, 1,
		    &seclen) == -1) {
			e = OAUTH2_INVALID_REQUEST;
			*descp = "client_secret improperly encoded";
			goto done;
		}
		id = idbuf;
		secret = secbuf;
	} else {
		id = form != NULL ? param(form, "client_id") : "";
		secret = form != NULL ? param(form, "client_secret") : "";
		seclen = strlen(secret);
	}
	e = OAUTH2_INVALID_CLIENT;
	*descp = "Invalid client credentials.";
	if (strlen(id) > OAUTH2_ID_MAX || seclen > OAUTH2_SECRET_MAX ||
	    (client = oauth2_client_find(conf, id)) == NULL ||
	    !oauth2_secret_check(client, secret, seclen))
		goto done;
	*clientp = client;
	*descp = NULL;
	e = OAUTH2_OK;
 done:
	if (cred != NULL)
		freezero(cred, credlen);
	free(idbuf);
	if (secbuf != NULL)
		freezero(secbuf, secsz);
	return (e);
}

/*
 * The token request.
 */

static int
token_err(struct oauth2_token_request *tr, enum oauth2_error e,
    const char *desc)
{
	tr->error = e;
	tr->status = oauth2_error_status(e);
	if (desc != NULL)
		(void)strlcpy(tr->description, desc, sizeof(tr->description));
	json_decref(tr->scopes);
	tr->scopes = NULL;
	return (-1);
}

/* The scope parameter, checked as at /auth, into tr->scopes. */
static int
token_scopes(const struct oauth2_conf *conf, const struct http_params *form,
    struct oauth2_token_request *tr)
{
	struct fields	 f;

	if (fields_split(&f, param(form, "scope")) == -1)
		return (token_err(tr, OAUTH2_SERVER_ERROR, NULL));
	if (scopes_check(conf, tr->client->id, &f, tr->description,
	    sizeof(tr->description)) == -1) {
		fields_free(&f);
		return (token_err(tr, OAUTH2_INVALID_REQUEST, NULL));
	}
	tr->scopes = fields_json(&f, 0);
	fields_free(&f);
	if (tr->scopes == NULL)
		return (token_err(tr, OAUTH2_SERVER_ERROR, NULL));
	return (0);
}

/*
 * client_credentials (Dex master's server/grants/clientcredentials.go):
 * a confidential client only, then its scopes, then the nonce.
 */
static int
cc_request(const struct oauth2_conf *conf, const struct http_params *form,
    struct oauth2_token_request *tr)
{
	struct fields	 f;

	if (tr->client->public)
		return (token_err(tr, OAUTH2_UNAUTHORIZED_CLIENT,
		    "Public clients cannot use client_credentials grant."));
	if (fields_split(&f, param(form, "scope")) == -1)
		return (token_err(tr, OAUTH2_SERVER_ERROR, NULL));
	if (scopes_check_as(conf, tr->client->id, &f, tr->description,
	    sizeof(tr->description), 1) == -1) {
		fields_free(&f);
		return (token_err(tr, OAUTH2_INVALID_SCOPE, NULL));
	}
	tr->scopes = fields_json(&f, 0);
	fields_free(&f);
	if (tr->scopes == NULL)
		return (token_err(tr, OAUTH2_SERVER_ERROR, NULL));
	tr->nonce = param(form, "nonce");
	if (strlen(tr->nonce) > OAUTH2_NONCE_MAX)
		return (token_err(tr, OAUTH2_INVALID_REQUEST,
		    "Invalid nonce: too long."));
	/* It goes into JSON claims: UTF-8 only. */
	if (!utf8_valid(tr->nonce))
		return (token_err(tr, OAUTH2_INVALID_REQUEST,
		    "Invalid nonce: not UTF-8."));
	return (0);
}

/*
 * Parse a /token request in Dex's order: grant_type (unsupported or
 * filtered by oauth2.grantTypes: unsupported_grant_type), then client
 * authentication (oauth2_client_auth()), then the client's own
 * grantTypes (ours: unauthorized_client), then the grant's fields.
 * 0 with tr filled, or -1 with tr->error, tr->status (401 for
 * invalid_client and access_denied) and tr->description.  Free with
 * oauth2_token_request_free().
 */
int
oauth2_token_request(const struct oauth2_conf *conf,
    const struct http_request *req, const struct http_params *form,
    struct oauth2_token_request *tr)
{
	const char	*gt, *desc, *s;
	struct fields	 f;
	enum oauth2_error e;
	int		 bit;

	memset(tr, 0, sizeof(*tr));
	gt = param(form, "grant_type");
	if (strcmp(gt, "authorization_code") == 0) {
		tr->grant = OAUTH2_GRANT_AUTHCODE;
		bit = OAUTH2_GT_AUTHCODE;
	} else if (strcmp(gt, "refresh_token") == 0) {
		tr->grant = OAUTH2_GRANT_REFRESH;
		bit = OAUTH2_GT_REFRESH;
	} else if (strcmp(gt, "password") == 0 &&
	    conf->password_connector != NULL) {
		tr->grant = OAUTH2_GRANT_PASSWORD;
		bit = OAUTH2_GT_PASSWORD;
	} else if (strcmp(gt,
	    "urn:ietf:params:oauth:grant-type:token-exchange") == 0) {
		tr->grant = OAUTH2_GRANT_TOKEN_EXCHANGE;
		bit = OAUTH2_GT_TOKENEXCHANGE;
	} else if (strcmp(gt, "client_credentials") == 0) {
		tr->grant = OAUTH2_GRANT_CLIENT_CREDENTIALS;
		bit = OAUTH2_GT_CLIENTCREDS;
	} else if (strcmp(gt, OAUTH2_GRANT_DEVICE) == 0) {
		tr->grant = OAUTH2_GRANT_DEVICE_CODE;
		bit = OAUTH2_GT_DEVICECODE;
	} else
		bit = 0;
	if (bit == 0 || !(conf->grant_mask & bit)) {
		tr->grant = OAUTH2_GRANT_NONE;
		return (token_err(tr, OAUTH2_UNSUPPORTED_GRANT_TYPE, NULL));
	}

	if ((e = oauth2_client_auth(conf, req, form, &tr->client, &desc)) !=
	    OAUTH2_OK)
		return (token_err(tr, e, desc));
	if (tr->client->grant_mask != 0 && !(tr->client->grant_mask & bit))
		return (token_err(tr, OAUTH2_UNAUTHORIZED_CLIENT,
		    "Client is not allowed to use this grant type."));

	switch (tr->grant) {
	case OAUTH2_GRANT_AUTHCODE:
		tr->code = param(form, "code");
		tr->redirect_uri = param(form, "redirect_uri");
		s = param(form, "code_verifier");
		tr->code_verifier = *s != '\0' ? s : NULL;
		if (*tr->code == '\0')
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "Required param: code."));
		/* No code this long was ever issued. */
		if (strlen(tr->code) > OAUTH2_CODE_MAX)
			return (token_err(tr, OAUTH2_INVALID_GRANT,
			    "Invalid or expired code parameter."));
		if (*tr->redirect_uri == '\0')
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "Required param: redirect_uri."));
		if (strlen(tr->redirect_uri) > OAUTH2_REDIRECT_MAX)
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "redirect_uri did not match URI from initial "
			    "request."));
		if (tr->code_verifier != NULL &&
		    strlen(tr->code_verifier) > OAUTH2_VERIFIER_MAX)
			return (token_err(tr, OAUTH2_INVALID_GRANT,
			    "Invalid code_verifier."));
		break;
	case OAUTH2_GRANT_REFRESH:
		tr->refresh_token = param(form, "refresh_token");
		if (*tr->refresh_token == '\0')
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "No refresh token is found in request."));
		if (strlen(tr->refresh_token) > OAUTH2_REFRESH_MAX)
			return (token_err(tr, OAUTH2_INVALID_GRANT,
			    "Refresh token is invalid or has already been "
			    "claimed by another client."));
		if (fields_split(&f, param(form, "scope")) == -1)
			return (token_err(tr, OAUTH2_SERVER_ERROR, NULL));
		if (f.toomany) {
			fields_free(&f);
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "Too many scopes."));
		}
		/* No scope: the refresh token's own (Dex). */
		if (f.n > 0 && (tr->scopes = fields_json(&f, 0)) == NULL) {
			fields_free(&f);
			return (token_err(tr, OAUTH2_SERVER_ERROR, NULL));
		}
		fields_free(&f);
		break;
	case OAUTH2_GRANT_PASSWORD:
		tr->nonce = param(form, "nonce");
		if (token_scopes(conf, form, tr) == -1)
			return (-1);
		if (strlen(tr->nonce) > OAUTH2_NONCE_MAX)
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "Invalid nonce: too long."));
		tr->username = param(form, "username");
		tr->password = param(form, "password");
		/* What the password database would say, without asking. */
		if (*tr->username == '\0' || *tr->password == '\0' ||
		    strlen(tr->username) > OAUTH2_USERNAME_MAX ||
		    strlen(tr->password) > OAUTH2_PASSWORD_MAX) {
			token_err(tr, OAUTH2_ACCESS_DENIED,
			    "Invalid username or password");
			tr->status = 401;
			return (-1);
		}
		break;
	case OAUTH2_GRANT_TOKEN_EXCHANGE:
		/* Dex's handleTokenExchange, in its order. */
		if (token_scopes(conf, form, tr) == -1)
			return (-1);
		tr->requested_token_type = param(form, "requested_token_type");
		if (*tr->requested_token_type == '\0')
			tr->requested_token_type = OAUTH2_TOKEN_TYPE_ACCESS;
		tr->subject_token = param(form, "subject_token");
		tr->subject_token_type = param(form, "subject_token_type");
		if (strcmp(tr->subject_token_type, OAUTH2_TOKEN_TYPE_ID) != 0 &&
		    strcmp(tr->subject_token_type, OAUTH2_TOKEN_TYPE_ACCESS) !=
		    0)
			return (token_err(tr, OAUTH2_REQUEST_NOT_SUPPORTED,
			    "Invalid subject_token_type."));
		if (*tr->subject_token == '\0')
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "Missing subject_token"));
		if (strlen(tr->subject_token) > OAUTH2_SUBJECT_TOKEN_MAX)
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "subject_token is too long."));
		if ((tr->connector = oauth2_connector_find(conf,
		    param(form, "connector_id"))) == NULL)
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "Requested connector does not exist."));
		if (strcmp(tr->connector->type, "oidc") != 0)
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "Requested connector does not support token "
			    "exchange."));
		if (strcmp(tr->requested_token_type, OAUTH2_TOKEN_TYPE_ID) !=
		    0 && strcmp(tr->requested_token_type,
		    OAUTH2_TOKEN_TYPE_ACCESS) != 0)
			return (token_err(tr, OAUTH2_REQUEST_NOT_SUPPORTED,
			    "Invalid requested_token_type."));
		break;
	case OAUTH2_GRANT_DEVICE_CODE:
		/*
		 * Dex authenticates no client here; RFC 8628 §3.4 wants
		 * it as at any grant, and the code must be the client's.
		 */
		tr->device_code = param(form, "device_code");
		s = param(form, "code_verifier");
		tr->code_verifier = *s != '\0' ? s : NULL;
		if (*tr->device_code == '\0')
			return (token_err(tr, OAUTH2_INVALID_REQUEST,
			    "No device code received"));
		if (strlen(tr->device_code) > OAUTH2_CODE_MAX)
			return (token_err(tr, OAUTH2_INVALID_GRANT,
			    "Invalid Device code."));
		if (tr->code_verifier != NULL &&
		    strlen(tr->code_verifier) > OAUTH2_VERIFIER_MAX)
			return (token_err(tr, OAUTH2_INVALID_GRANT,
			    "Invalid code_verifier."));
		break;
	case OAUTH2_GRANT_CLIENT_CREDENTIALS:
		if (cc_request(conf, form, tr) == -1)
			return (-1);
		break;
	default:
		return (token_err(tr, OAUTH2_SERVER_ERROR, NULL));
	}
	return (0);
}

/*
 * Dex's token exchange answer: the one token asked for in access_token
 * (an ID token too), with issued_token_type, in accessTokenResponse's
 * member order.
 */
char *
oauth2_exchange_response(const char *token, const char *issued_type,
    int64_t expires_in)
{
	struct sbuf	 sb;
	char		 num[32];

	sb_init(&sb, OAUTH2_URL_MAX);
	sb_adds(&sb, "{\"access_token\":");
	go_json_string(&sb, token);
	sb_adds(&sb, ",\"issued_token_type\":");
	go_json_string(&sb, issued_type);
	sb_adds(&sb, ",\"token_type\":\"bearer\",\"expires_in\":");
	(void)snprintf(num, sizeof(num), "%lld", (long long)expires_in);
	sb_adds(&sb, num);
	sb_adds(&sb, "}");
	return (sb_finish(&sb));
}

void
oauth2_token_request_free(struct oauth2_token_request *tr)
{
	json_decref(tr->scopes);
	tr->scopes = NULL;
}

/*
 * The device flow (RFC 8628; dex.md §4.10).
 */

static int
device_err(struct oauth2_device_request *dr, enum oauth2_error e,
    const char *desc)
{
	dr->error = e;
	dr->status = oauth2_error_status(e);
	if (desc != NULL)
		(void)strlcpy(dr->description, desc, sizeof(dr->description));
	json_decref(dr->scopes);
	dr->scopes = NULL;
	return (-1);
}

/*
 * Where the browser half of a device login comes back to, for a
 * client: the absolute <issuer>/device/callback when the client
 * registered it, else Dex's "/device/callback" (a public client without
 * redirectURIs, or one that lists it), which the authorization request
 * stores under the issuer path (stored = 1 gives that form).  NULL when
 * the client may use neither.  Malloc'd.
 */
char *
oauth2_device_redirect_uri(const struct oauth2_conf *conf,
    const struct oauth2_client *client, int stored)
{
	char	*abs, *s;
	size_t	 n, i;

	n = strlen(conf->issuer);
	if (n > 0 && conf->issuer[n - 1] == '/')
		n--;
	if (asprintf(&abs, "%.*s%s", (int)n, conf->issuer,
	    OAUTH2_REDIRECT_DEVICE) == -1)
		return (NULL);
	for (i = 0; i < client->nredirect_uris; i++)
		if (strcmp(client->redirect_uris[i], abs) == 0)
			return (abs);
	free(abs);
	if (!oauth2_redirect_uri_valid(client, OAUTH2_REDIRECT_DEVICE))
		return (NULL);
	if (!stored)
		return (strdup(OAUTH2_REDIRECT_DEVICE));
	if (asprintf(&s, "%s%s", conf->issuer_path,
	    OAUTH2_REDIRECT_DEVICE) == -1)
		return (NULL);
	return (s);
}

/*
 * POST /device/code: client_id (with its secret, as at /token: unlike
 * Dex, which checks nothing here and carries the secret along), scope
 * (Dex's default "openid"; checked as at /auth, so that a bad one fails
 * now and not after the user typed the code), and PKCE as at /auth.
 * The client must be able to come back to /device/callback.  0, or -1
 * with dr->error, dr->status and dr->description.
 */
int
oauth2_device_request(const struct oauth2_conf *conf,
    const struct http_request *req, const struct http_params *form,
    struct oauth2_device_request *dr)
{
	const char	*desc, *scope, *cc, *ccm;
	struct fields	 f;
	enum oauth2_error e;
	char		*uri;
	int		 method;

	memset(dr, 0, sizeof(*dr));
	if ((e = oauth2_client_auth(conf, req, form, &dr->client, &desc)) !=
	    OAUTH2_OK)
		return (device_err(dr, e, desc));
	if (dr->client->grant_mask != 0 &&
	    !(dr->client->grant_mask & OAUTH2_GT_DEVICECODE))
		return (device_err(dr, OAUTH2_UNAUTHORIZED_CLIENT,
		    "Client is not allowed to use this grant type."));
	if ((uri = oauth2_device_redirect_uri(conf, dr->client, 0)) == NULL)
		return (device_err(dr, OAUTH2_UNAUTHORIZED_CLIENT,
		    "Client has no /device/callback redirect URI."));
	free(uri);

	scope = param(form, "scope");
	if (*scope == '\0')
		scope = SCOPE_OPENID;
	if (fields_split(&f, scope) == -1)
		return (device_err(dr, OAUTH2_SERVER_ERROR, NULL));
	if (scopes_check(conf, dr->client->id, &f, dr->description,
	    sizeof(dr->description)) == -1) {
		fields_free(&f);
		return (device_err(dr, OAUTH2_INVALID_SCOPE, NULL));
	}
	dr->scopes = fields_json(&f, 1);
	fields_free(&f);
	if (dr->scopes == NULL)
		return (device_err(dr, OAUTH2_SERVER_ERROR, NULL));

	cc = param(form, "code_challenge");
	ccm = param(form, "code_challenge_method");
	if (*ccm == '\0')
		ccm = "plain";
	method = strcmp(ccm, "S256") == 0 ? OAUTH2_PKCE_S256 :
	    strcmp(ccm, "plain") == 0 ? OAUTH2_PKCE_PLAIN : 0;
	if (method == 0 || (*cc != '\0' && !(conf->pkce_methods & method))) {
		desc_quote(dr->description, sizeof(dr->description),
		    "Unsupported PKCE challenge method (", ccm, ").");
		return (device_err(dr, OAUTH2_INVALID_REQUEST, NULL));
	}
	if (conf->pkce_enforce && *cc == '\0')
		return (device_err(dr, OAUTH2_INVALID_REQUEST,
		    "PKCE is required. The code_challenge parameter must be "
		    "provided."));
	if (strlen(cc) > OAUTH2_CHALLENGE_MAX)
		return (device_err(dr, OAUTH2_INVALID_REQUEST,
		    "Invalid code_challenge: too long."));
	dr->code_challenge = cc;
	dr->code_challenge_method = *cc != '\0' ? ccm : "";
	return (0);
}

void
oauth2_device_request_free(struct oauth2_device_request *dr)
{
	json_decref(dr->scopes);
	dr->scopes = NULL;
}

/*
 * The grant record (oidcd.h) of a client_credentials request: the
 * client is the user, under the empty connector id that no connector
 * can have, so its sub is Dex's encoding of (client id, "").  Its name
 * is the profile's, its clientCredentialsClaims.groups the groups, as
 * Dex master's claims for it.  NULL on a bad argument.
 */
json_t *
oauth2_client_grant(const struct oauth2_client *client, const json_t *scopes,
    const char *nonce)
{
	json_t	*g, *groups;
	size_t	 i;

	if (client == NULL || !json_is_array(scopes))
		return (NULL);
	if ((groups = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < client->ncc_groups; i++)
		if (json_array_append_new(groups,
		    json_string(client->cc_groups[i])) == -1) {
			json_decref(groups);
			return (NULL);
		}
	g = json_pack("{s:s, s:O, s:s, s:{s:s, s:s, s:s, s:o}, s:s}",
	    "clientId", client->id, "scopes", scopes,
	    "nonce", nonce != NULL ? nonce : "",
	    "identity", "userId", client->id, "username", client->name,
	    "preferredUsername", client->name, "groups", groups,
	    "connectorId", "");
	return (g);
}

/*
 * A /token/revoke request (RFC 7009 §2.1): the client authenticates as
 * at /token, and names the token; token_type_hint is only a hint, and
 * one we do not know is ignored, as §2.1 allows.  0 with r filled, or
 * -1 with r->error, r->status and r->description.
 */
int
oauth2_revoke_request(const struct oauth2_conf *conf,
    const struct http_request *req, const struct http_params *form,
    struct oauth2_revoke_request *r)
{
	const char	*desc;
	enum oauth2_error e;

	memset(r, 0, sizeof(*r));
	if ((e = oauth2_client_auth(conf, req, form, &r->client, &desc)) !=
	    OAUTH2_OK) {
		r->error = e;
		r->status = oauth2_error_status(e);
		if (desc != NULL)
			(void)strlcpy(r->description, desc,
			    sizeof(r->description));
		return (-1);
	}
	r->token = param(form, "token");
	r->hint = param(form, "token_type_hint");
	if (*r->token == '\0') {
		r->error = OAUTH2_INVALID_REQUEST;
		r->status = 400;
		(void)strlcpy(r->description, "Required param: token.",
		    sizeof(r->description));
		return (-1);
	}
	return (0);
}

/*
 * The client a token of ours was issued to: its audience when that is
 * one client, else its azp (Dex's introspection client_id).  NULL when
 * neither says.
 */
const char *
oauth2_token_client(const json_t *claims)
{
	const json_t	*aud, *azp;

	aud = json_object_get(claims, "aud");
	if (json_is_string(aud))
		return (json_string_value(aud));
	azp = json_object_get(claims, "azp");
	return (json_is_string(azp) ? json_string_value(azp) : NULL);
}

/*
 * Claims (dex.md §1.7).
 */

static const char *
jstr(const json_t *o, const char *key)
{
	const json_t	*v;

	v = json_object_get(o, key);
	return (json_is_string(v) ? json_string_value(v) : "");
}

static int
set_str(json_t *o, const char *key, const char *v)
{
	return (json_object_set_new(o, key, json_string(v)));
}

/*
 * Dex's newIDToken: members in idTokenClaims order, iss, sub, aud,
 * exp, iat, azp, nonce, at_hash, c_hash, email, email_verified, groups,
 * name, preferred_username, federated_claims, then jti when given.
 */
static json_t *
claims_build(const struct oauth2_conf *conf, const json_t *grant,
    const char *client_id, int64_t now, const char *access_token,
    const char *code, enum jose_alg alg, const char *jti)
{
	const json_t	*identity, *scopes, *e, *groups;
	const char	*user_id, *conn_id, *peer, *s;
	const char	*aud[OAUTH2_MAX_AUDIENCE + 1];
	json_t		*o = NULL, *a;
	char		*sub = NULL, *h;
	size_t		 i, j, naud = 0;
	int		 email = 0, profile = 0, grp = 0, fed = 0, cross;

	if (!json_is_object(grant) || client_id == NULL)
		return (NULL);
	identity = json_object_get(grant, "identity");
	scopes = json_object_get(grant, "scopes");
	user_id = jstr(identity, "userId");
	conn_id = jstr(grant, "connectorId");
	if (*conn_id == '\0')
		conn_id = jstr(identity, "connectorId");

	json_array_foreach(scopes, i, e) {
		if (!json_is_string(e))
			continue;
		s = json_string_value(e);
		if (strcmp(s, "email") == 0)
			email = 1;
		else if (strcmp(s, "profile") == 0)
			profile = 1;
		else if (strcmp(s, "groups") == 0)
			grp = 1;
		else if (strcmp(s, "federated:id") == 0)
			fed = 1;
		else if ((peer = scope_peer(s)) != NULL) {
			/* Trust is checked again, as Dex does. */
			if (!oauth2_peer_trusted(conf, client_id, peer))
				return (NULL);
			for (j = 0; j < naud; j++)
				if (strcmp(aud[j], peer) == 0)
					break;
			if (j < naud)
				continue;
			if (naud == OAUTH2_MAX_AUDIENCE)
				return (NULL);
			aud[naud++] = peer;
		}
	}
	/* Cross-client: the requester joins the audience and is azp. */
	cross = naud > 0;
	for (j = 0; j < naud; j++)
		if (strcmp(aud[j], client_id) == 0)
			break;
	if (j == naud)
		aud[naud++] = client_id;

	if ((sub = jose_dex_subject(user_id, conn_id)) == NULL ||
	    (o = json_object()) == NULL)
		goto fail;
	if (set_str(o, "iss", conf->issuer) == -1 ||
	    set_str(o, "sub", sub) == -1)
		goto fail;
	if (naud == 1) {
		if (set_str(o, "aud", aud[0]) == -1)
			goto fail;
	} else {
		if ((a = json_array()) == NULL ||
		    json_object_set_new(o, "aud", a) == -1)
			goto fail;
		for (j = 0; j < naud; j++)
			if (json_array_append_new(a, json_string(aud[j])) ==
			    -1)
				goto fail;
	}
	if (json_object_set_new(o, "exp",
	    json_integer(now + conf->id_token_ttl)) == -1 ||
	    json_object_set_new(o, "iat", json_integer(now)) == -1)
		goto fail;
	if (cross && set_str(o, "azp", client_id) == -1)
		goto fail;
	if (*(s = jstr(grant, "nonce")) != '\0' &&
	    set_str(o, "nonce", s) == -1)
		goto fail;
	/* A browser session's login: when the user really logged in. */
	if (*(s = jstr(grant, "sid")) != '\0') {
		e = json_object_get(grant, "authTime");
		if ((json_is_integer(e) && json_integer_value(e) > 0 &&
		    json_object_set_new(o, "auth_time",
		    json_integer(json_integer_value(e))) == -1) ||
		    set_str(o, "sid", s) == -1)
			goto fail;
	}
	if (access_token != NULL && *access_token != '\0') {
		if ((h = jose_half_hash(alg, access_token,
		    strlen(access_token))) == NULL)
			goto fail;
		if (set_str(o, "at_hash", h) == -1) {
			free(h);
			goto fail;
		}
		free(h);
	}
	if (code != NULL && *code != '\0') {
		if ((h = jose_half_hash(alg, code, strlen(code))) == NULL)
			goto fail;
		if (set_str(o, "c_hash", h) == -1) {
			free(h);
			goto fail;
		}
		free(h);
	}
	if (email) {
		if (*(s = jstr(identity, "email")) != '\0' &&
		    set_str(o, "email", s) == -1)
			goto fail;
		if (json_object_set_new(o, "email_verified",
		    json_boolean(json_is_true(json_object_get(identity,
		    "emailVerified")))) == -1)
			goto fail;
	}
	groups = json_object_get(identity, "groups");
	if (grp && json_is_array(groups) && json_array_size(groups) > 0 &&
	    json_object_set_new(o, "groups", json_deep_copy(groups)) == -1)
		goto fail;
	if (profile) {
		if (*(s = jstr(identity, "username")) != '\0' &&
		    set_str(o, "name", s) == -1)
			goto fail;
		if (*(s = jstr(identity, "preferredUsername")) != '\0' &&
		    set_str(o, "preferred_username", s) == -1)
			goto fail;
	}
	if (fed) {
		if ((a = json_object()) == NULL ||
		    json_object_set_new(o, "federated_claims", a) == -1)
			goto fail;
		if (*conn_id != '\0' && set_str(a, "connector_id", conn_id) ==
		    -1)
			goto fail;
		if (*user_id != '\0' && set_str(a, "user_id", user_id) == -1)
			goto fail;
	}
	if (jti != NULL && set_str(o, "jti", jti) == -1)
		goto fail;
	free(sub);
	return (o);
 fail:
	free(sub);
	json_decref(o);
	return (NULL);
}

/*
 * The ID token's claims for client_id from a grant record (oidcd.h),
 * at_hash over access_token and c_hash over code when given.  NULL if
 * an audience scope is no longer trusted or on a bad grant.
 */
json_t *
oauth2_id_token_claims(const struct oauth2_conf *conf, const json_t *grant,
    const char *client_id, int64_t now, const char *access_token,
    const char *code, enum jose_alg alg, const char *jti)
{
	return (claims_build(conf, grant, client_id, now, access_token, code,
	    alg, jti));
}

/*
 * The access token's claims: Dex's newAccessToken, the ID token's shape
 * with an at_hash over a random string that means nothing, plus jti.
 */
json_t *
oauth2_access_token_claims(const struct oauth2_conf *conf,
    const json_t *grant, const char *client_id, int64_t now,
    enum jose_alg alg, const char *jti)
{
	uint8_t		 rnd[16];
	char		*nonce;
	json_t		*o;

	arc4random_buf(rnd, sizeof(rnd));
	if ((nonce = jose_b64url_encode(rnd, sizeof(rnd))) == NULL)
		return (NULL);
	o = claims_build(conf, grant, client_id, now, nonce, NULL, alg, jti);
	free(nonce);
	return (o);
}

/*
 * The approval page.
 */

static const struct {
	const char	*scope;
	const char	*desc;
} oauth2_scope_descs[] = {
	{ "offline_access", "Have offline access" },
	{ "profile", "View basic profile information" },
	{ "email", "View your email address" },
	{ "groups", "View your groups" }
};

const char *
oauth2_scope_description(const char *scope)
{
	size_t	i;

	for (i = 0; i < sizeof(oauth2_scope_descs) /
	    sizeof(oauth2_scope_descs[0]); i++)
		if (strcmp(oauth2_scope_descs[i].scope, scope) == 0)
			return (oauth2_scope_descs[i].desc);
	return (NULL);
}

static int
str_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * What the approval page lists for these scopes, sorted as Dex's
 * approval template gets it; scopes without a description add nothing.
 */
json_t *
oauth2_scope_descriptions(const json_t *scopes)
{
	const char	*d[OAUTH2_MAX_SCOPES];
	const json_t	*e;
	json_t		*a;
	size_t		 i, n = 0;

	json_array_foreach(scopes, i, e) {
		if (n == OAUTH2_MAX_SCOPES)
			break;
		if (json_is_string(e) &&
		    (d[n] = oauth2_scope_description(json_string_value(e))) !=
		    NULL)
			n++;
	}
	if (n > 1)
		qsort(d, n, sizeof(d[0]), str_cmp);
	if ((a = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(d[i])) == -1) {
			json_decref(a);
			return (NULL);
		}
	return (a);
}
