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
 * Unit tests for store.c on a real LMDB env under /var/tmp: every
 * storage request with a fake clock, group commit, sessions and
 * revocation, GC.  T_STORE_BENCH=1 adds a benchmark of REFRESH_ROTATE
 * with one synced commit per request against batches.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "oidcd.h"
#include "db.h"
#include "jose.h"
#include "passwd.h"
#include "store.h"
#include "tap.h"

/* Dex's text for a refresh token that is not (or no longer) good. */
#define CLAIMED		"Refresh token is invalid or has already been "	\
			"claimed by another client."

#define T0		1700000000ULL
#define ID1		"AAAAAAAAAAAAAAAAAAAAAA"
#define ID2		"BBBBBBBBBBBBBBBBBBBBBB"
#define ID3		"DDDDDDDDDDDDDDDDDDDDDD"
#define HMACKEY		"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
#define VERIFIER	"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE	"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static char		 topdir[64];
static struct db	*db;
static struct store_policy pol;

static void
policy(int disable, uint64_t reuse, uint64_t idle, uint64_t abs)
{
	store_policy_free(&pol);
	pol.sp_authreq_lifetime = 3600;
	pol.sp_disable_rotation = disable;
	pol.sp_reuse_interval = reuse;
	pol.sp_valid_if_not_used_for = idle;
	pol.sp_absolute_lifetime = abs;
	pol.sp_refreshers[0] = strdup("local");
	pol.sp_refreshers[1] = strdup("ldap");
	pol.sp_nrefreshers = 2;
}

/* One request through the validator and a batch of one. */
static json_t *
run(int type, uint64_t now, const char *fmt, ...)
{
	struct store_op	 op;
	json_error_t	 jerr;
	json_t		*req;
	char		 buf[8192];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((req = json_loads(buf, 0, &jerr)) == NULL) {
		diag("bad test JSON: %s: %s", jerr.text, buf);
		abort();
	}
	if (store_request_check(type, req) == -1) {
		diag("request refused by the validator: %s", buf);
		abort();
	}
	op.so_type = type;
	op.so_req = req;
	store_batch(db, &pol, now, &op, 1);
	json_decref(req);
	return (op.so_reply);
}

static int
is_ok(json_t *r)
{
	return (json_is_true(json_object_get(r, "ok")));
}

static const char *
rstr(json_t *r, const char *k)
{
	const char	*s = json_string_value(json_object_get(r, k));

	return (s != NULL ? s : "");
}

/* Check an error reply and free it. */
static void
want_err(json_t *r, const char *err, const char *desc, const char *what)
{
	if (!ok(!is_ok(r) && strcmp(rstr(r, "error"), err) == 0 &&
	    strcmp(rstr(r, "error_description"), desc) == 0, "%s", what)) {
		char *s = json_dumps(r, JSON_COMPACT);
		diag("got %s", s);
		free(s);
	}
	json_decref(r);
}

static void
want_ok(json_t *r, const char *what)
{
	if (!ok(is_ok(r), "%s", what)) {
		char *s = json_dumps(r, JSON_COMPACT);
		diag("got %s", s);
		free(s);
	}
	json_decref(r);
}

#define IDENT(user, conn) "{\"userId\":\"" user "\",\"username\":\"U\"," \
	"\"email\":\"" user "@example.com\",\"emailVerified\":true," \
	"\"groups\":[\"g1\"],\"connectorId\":\"" conn "\"}"

static void
put_authreq(const char *id, uint64_t now, const char *scopes,
    const char *challenge, const char *method)
{
	want_ok(run(IMSG_STORE_AUTHREQ_PUT, now, "{\"authreq\":{\"id\":\"%s\","
	    "\"clientId\":\"app\",\"redirectUri\":\"https://app/cb\","
	    "\"scopes\":%s,\"responseTypes\":[\"code\"],\"state\":\"st\","
	    "\"nonce\":\"n0\",\"codeChallenge\":\"%s\","
	    "\"codeChallengeMethod\":\"%s\",\"connectorId\":\"local\","
	    "\"expiry\":%llu,\"hmacKey\":\"" HMACKEY "\"}}", id, scopes,
	    challenge, method, (unsigned long long)now + 600), "authreq put");
}

/* A logged-in auth request turned into a code; the code, malloc'd. */
static char *
make_code(uint64_t now, const char *scopes, const char *challenge,
    const char *method)
{
	json_t	*r;
	char	*code;

	put_authreq(ID1, now, scopes, challenge, method);
	json_decref(run(IMSG_STORE_AUTHREQ_LOGIN, now,
	    "{\"id\":\"" ID1 "\",\"identity\":" IDENT("alice", "local") "}"));
	r = run(IMSG_STORE_CODE_ISSUE, now, "{\"id\":\"" ID1 "\"}");
	code = strdup(rstr(r, "code"));
	json_decref(r);
	return (code);
}

static json_t *
redeem(const char *code, uint64_t now, const char *client,
    const char *redirect, const char *verifier, int refresh)
{
	char	 v[512] = "";

	if (verifier != NULL)
		snprintf(v, sizeof(v), ",\"codeVerifier\":\"%s\"", verifier);
	return (run(IMSG_STORE_CODE_REDEEM, now, "{\"code\":\"%s\","
	    "\"clientId\":\"%s\",\"redirectUri\":\"%s\"%s,\"refresh\":%s}",
	    code, client, redirect, v, refresh ? "true" : "false"));
}

/* A new family for user/client through the password grant path. */
static char *
issue_conn(uint64_t now, const char *user, const char *client,
    const char *conn)
{
	json_t	*r;
	char	*tok;

	r = run(IMSG_STORE_REFRESH_ISSUE, now, "{\"grant\":{\"clientId\":"
	    "\"%s\",\"scopes\":[\"openid\",\"email\",\"offline_access\"],"
	    "\"identity\":{\"userId\":\"%s\",\"email\":\"%s@x\","
	    "\"connectorId\":\"%s\"},\"connectorId\":\"%s\","
	    "\"authTime\":%llu}}", client, user, user, conn, conn,
	    (unsigned long long)now);
	tok = strdup(rstr(r, "refreshToken"));
	json_decref(r);
	return (tok);
}

static char *
issue(uint64_t now, const char *user, const char *client)
{
	return (issue_conn(now, user, client, "local"));
}

static json_t *
rotate(const char *tok, uint64_t now, const char *client,
    const char *scopes)
{
	if (scopes != NULL)
		return (run(IMSG_STORE_REFRESH_ROTATE, now,
		    "{\"refreshToken\":\"%s\",\"clientId\":\"%s\","
		    "\"scopes\":%s}", tok, client, scopes));
	return (run(IMSG_STORE_REFRESH_ROTATE, now, "{\"refreshToken\":"
	    "\"%s\",\"clientId\":\"%s\"}", tok, client));
}

/* Rotate and return the new token (malloc'd), "" on error. */
static char *
rotate_tok(const char *tok, uint64_t now)
{
	json_t	*r = rotate(tok, now, "app", NULL);
	char	*s = strdup(is_ok(r) ? rstr(r, "refreshToken") : "");

	json_decref(r);
	return (s);
}

static int
active(const char *tok, uint64_t now)
{
	json_t	*r;
	int	 a;

	r = run(IMSG_STORE_INTROSPECT, now, "{\"refreshToken\":\"%s\"}", tok);
	a = is_ok(r) && json_is_true(json_object_get(r, "active"));
	json_decref(r);
	return (a);
}

static int
check(int type, const char *s)
{
	json_t	*j;
	int	 rc;

	if ((j = json_loads(s, JSON_ALLOW_NUL, NULL)) == NULL)
		return (-2);
	rc = store_request_check(type, j);
	json_decref(j);
	return (rc);
}

static void
test_validate(void)
{
	is_int(check(IMSG_STORE_AUTHREQ_GET, "{\"id\":\"" ID1 "\"}"), 0,
	    "valid get");
	is_int(check(IMSG_STORE_AUTHREQ_GET, "{\"id\":\"AAAA\"}"), -1,
	    "short id refused");
	is_int(check(IMSG_STORE_AUTHREQ_GET, "{\"id\":\"AAAAAAAAAAAAAAAAAAAA"
	    "A+\"}"), -1, "id outside base64url refused");
	is_int(check(IMSG_STORE_AUTHREQ_GET, "{\"id\":\"" ID1 "\",\"x\":1}"),
	    -1, "unknown member refused");
	is_int(check(IMSG_STORE_AUTHREQ_GET, "{}"), -1, "missing id refused");
	is_int(check(IMSG_STORE_AUTHREQ_GET, "[]"), -1, "array refused");
	is_int(check(IMSG_STORE_INTROSPECT, "{\"refreshToken\":7}"), -1,
	    "number for a token refused");
	is_int(check(IMSG_STORE_REFRESH_ROTATE, "{\"refreshToken\":\""
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    "\"clientId\":\"app\",\"scopes\":[\"a\",\"b\",\"c\",\"d\",\"e\","
	    "\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\","
	    "\"q\",\"r\",\"s\",\"t\",\"u\",\"v\",\"w\",\"x\",\"y\",\"z\",\"A\","
	    "\"B\",\"C\",\"D\",\"E\",\"F\",\"G\"]}"), -1,
	    "33 scopes refused");
	is_int(check(IMSG_STORE_REFRESH_ROTATE, "{\"refreshToken\":\""
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    "\"clientId\":\"a\\u0000b\"}"), -1, "NUL in a string refused");
	is_int(check(IMSG_STORE_REFRESH_ROTATE, "{\"refreshToken\":\""
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    "\"clientId\":\"app\"}"), 0, "valid rotate");
	is_int(check(IMSG_STORE_AUTHREQ_PUT, "{\"authreq\":{\"id\":\"" ID1
	    "\",\"clientId\":\"a\",\"redirectUri\":\"\",\"scopes\":[],"
	    "\"responseTypes\":[\"code\"],\"expiry\":1,\"hmacKey\":\"" HMACKEY
	    "\",\"loggedIn\":true}}"), -1, "put logged in refused");
	is_int(check(IMSG_STORE_AUTHREQ_PUT, "{\"authreq\":{\"id\":\"" ID1
	    "\",\"clientId\":\"a\",\"redirectUri\":\"\",\"scopes\":[],"
	    "\"responseTypes\":[\"code\",\"code\"],\"expiry\":1,\"hmacKey\":\""
	    HMACKEY "\"}}"), -1, "repeated response type refused");
	is_int(check(IMSG_STORE_AUTHREQ_PUT, "{\"authreq\":{\"id\":\"" ID1
	    "\",\"clientId\":\"a\",\"redirectUri\":\"\",\"scopes\":[],"
	    "\"responseTypes\":[\"code\"],\"expiry\":1,\"hmacKey\":\"" HMACKEY
	    "\",\"codeChallengeMethod\":\"S512\"}}"), -1,
	    "unknown PKCE method refused");
	is_int(check(IMSG_STORE_AUTHREQ_PUT, "{\"authreq\":{\"id\":\"" ID1
	    "\",\"clientId\":\"a\",\"redirectUri\":\"\",\"scopes\":[],"
	    "\"responseTypes\":[\"code\"],\"expiry\":1,\"hmacKey\":\"" HMACKEY
	    "\"}}"), 0, "valid put");
	is_int(check(IMSG_STORE_AUTHREQ_LOGIN, "{\"id\":\"" ID1 "\","
	    "\"identity\":{\"userId\":\"\",\"connectorId\":\"local\"}}"), -1,
	    "empty user id refused");
	is_int(check(IMSG_STORE_RESULT, "{}"), -1, "not a request type");
}

static void
test_authreq(void)
{
	json_t	*r;

	policy(0, 0, 0, 0);
	want_err(run(IMSG_STORE_AUTHREQ_GET, T0, "{\"id\":\"" ID2 "\"}"),
	    "invalid_request", "User session error.", "unknown authreq");
	put_authreq(ID1, T0, "[\"openid\"]", "", "");
	r = run(IMSG_STORE_AUTHREQ_GET, T0 + 10, "{\"id\":\"" ID1 "\"}");
	ok(is_ok(r) && strcmp(rstr(json_object_get(r, "authreq"), "state"),
	    "st") == 0 && json_object_get(json_object_get(r, "authreq"),
	    "exp") == NULL, "get returns the authreq without exp");
	json_decref(r);
	want_err(run(IMSG_STORE_AUTHREQ_GET, T0 + 600, "{\"id\":\"" ID1
	    "\"}"), "invalid_request", "User session has expired.",
	    "expired authreq");
	want_err(run(IMSG_STORE_CODE_ISSUE, T0 + 10, "{\"id\":\"" ID1 "\"}"),
	    "invalid_request", "User session error.",
	    "no code before login");
	want_err(run(IMSG_STORE_AUTHREQ_LOGIN, T0 + 10, "{\"id\":\"" ID1
	    "\",\"identity\":" IDENT("alice", "ldap") "}"),
	    "invalid_request", "User session error.",
	    "login through another connector refused");
	r = run(IMSG_STORE_AUTHREQ_LOGIN, T0 + 10, "{\"id\":\"" ID1
	    "\",\"identity\":" IDENT("alice", "local") "}");
	ok(is_ok(r) && json_is_true(json_object_get(json_object_get(r,
	    "authreq"), "loggedIn")) && json_integer_value(json_object_get(
	    json_object_get(r, "authreq"), "authTime")) == (json_int_t)T0 + 10,
	    "login sets loggedIn and authTime");
	json_decref(r);
	want_err(run(IMSG_STORE_AUTHREQ_LOGIN, T0 + 11, "{\"id\":\"" ID1
	    "\",\"identity\":" IDENT("mallory", "local") "}"),
	    "invalid_request", "User session error.", "second login refused");
	want_err(run(IMSG_STORE_CODE_ISSUE, T0 + 600, "{\"id\":\"" ID1
	    "\"}"), "invalid_request", "User session has expired.",
	    "no code from an expired authreq");
	r = run(IMSG_STORE_CODE_ISSUE, T0 + 20, "{\"id\":\"" ID1 "\"}");
	ok(is_ok(r) && strlen(rstr(r, "code")) == STORE_CODE_LEN &&
	    strcmp(rstr(json_object_get(r, "authreq"), "redirectUri"),
	    "https://app/cb") == 0, "code issued, 43 chars, with the authreq");
	json_decref(r);
	want_err(run(IMSG_STORE_CODE_ISSUE, T0 + 21, "{\"id\":\"" ID1 "\"}"),
	    "invalid_request", "User session error.", "authreq single use");

	/* authRequests bounds the expiry the frontend asks for. */
	pol.sp_authreq_lifetime = 100;
	put_authreq(ID2, T0, "[\"openid\"]", "", "");
	want_err(run(IMSG_STORE_AUTHREQ_GET, T0 + 100, "{\"id\":\"" ID2
	    "\"}"), "invalid_request", "User session has expired.",
	    "authRequests caps the expiry");
	pol.sp_authreq_lifetime = 3600;
}

static void
test_redeem(void)
{
	json_t		*r;
	char		*code, *tok;
	const char	*scopes = "[\"openid\",\"offline_access\"]";

	policy(0, 0, 0, 0);
	code = make_code(T0, scopes, "", "");
	want_err(redeem(code, T0 + 1, "other", "https://app/cb", NULL, 1),
	    "invalid_grant", "Invalid or expired code parameter.",
	    "code of another client");
	want_err(redeem(code, T0 + 1, "app", "https://app/cb2", NULL, 1),
	    "invalid_grant",
	    "redirect_uri did not match URI from initial request.",
	    "redirect_uri mismatch");
	want_err(redeem(code, T0 + 1, "app", "", NULL, 1), "invalid_grant",
	    "redirect_uri did not match URI from initial request.",
	    "empty redirect_uri mismatch");
	want_err(redeem(code, T0 + STORE_CODE_LIFETIME, "app",
	    "https://app/cb", NULL, 1), "invalid_grant",
	    "Invalid or expired code parameter.", "expired code");
	r = redeem(code, T0 + 1, "app", "https://app/cb", NULL, 1);
	ok(is_ok(r) && strlen(rstr(r, "refreshToken")) == STORE_TOKEN_LEN &&
	    strcmp(rstr(json_object_get(json_object_get(r, "grant"),
	    "identity"), "userId"), "alice") == 0 &&
	    strcmp(rstr(json_object_get(r, "grant"), "nonce"), "n0") == 0,
	    "redeem: grant and a refresh token");
	tok = strdup(rstr(r, "refreshToken"));
	json_decref(r);
	ok(active(tok, T0 + 2), "its refresh token is active");
	want_err(redeem(code, T0 + 2, "app", "https://app/cb", NULL, 1),
	    "invalid_grant", "Invalid or expired code parameter.",
	    "replayed code");
	ok(!active(tok, T0 + 3), "replay revoked the family");
	want_err(rotate(tok, T0 + 3, "app", NULL), "invalid_grant",
	    CLAIMED, "revoked token cannot refresh");
	want_err(redeem(code, T0 + STORE_CODE_LIFETIME +
	    STORE_TOMBSTONE_MARGIN, "app", "https://app/cb", NULL, 1),
	    "invalid_grant", "Invalid or expired code parameter.",
	    "replay after the tombstone");
	free(tok);
	free(code);

	/* No refresh token without offline_access or without asking. */
	code = make_code(T0, "[\"openid\"]", "", "");
	r = redeem(code, T0 + 1, "app", "https://app/cb", NULL, 1);
	ok(is_ok(r) && json_object_get(r, "refreshToken") == NULL,
	    "no offline_access: no refresh token");
	json_decref(r);
	free(code);
	code = make_code(T0, scopes, "", "");
	r = redeem(code, T0 + 1, "app", "https://app/cb", NULL, 0);
	ok(is_ok(r) && json_object_get(r, "refreshToken") == NULL,
	    "refresh false: no refresh token");
	json_decref(r);
	free(code);
	store_policy_free(&pol);
	pol.sp_authreq_lifetime = 3600;
	code = make_code(T0, scopes, "", "");
	r = redeem(code, T0 + 1, "app", "https://app/cb", NULL, 1);
	ok(is_ok(r) && json_object_get(r, "refreshToken") == NULL,
	    "connector cannot refresh: no refresh token");
	json_decref(r);
	free(code);
	policy(0, 0, 0, 0);
}

static void
test_pkce(void)
{
	char	*code;

	policy(0, 0, 0, 0);
	code = make_code(T0, "[\"openid\"]", CHALLENGE, "S256");
	want_err(redeem(code, T0 + 1, "app", "https://app/cb", NULL, 0),
	    "invalid_grant", "Expecting parameter code_verifier in PKCE flow.",
	    "challenge, no verifier");
	want_err(redeem(code, T0 + 1, "app", "https://app/cb", "", 0),
	    "invalid_grant", "Expecting parameter code_verifier in PKCE flow.",
	    "challenge, empty verifier");
	want_err(redeem(code, T0 + 1, "app", "https://app/cb", VERIFIER "x",
	    0), "invalid_grant", "Invalid code_verifier.", "S256 mismatch");
	want_err(redeem(code, T0 + 1, "app", "https://app/cb", CHALLENGE, 0),
	    "invalid_grant", "Invalid code_verifier.",
	    "S256: the challenge itself is no verifier");
	want_ok(redeem(code, T0 + 1, "app", "https://app/cb", VERIFIER, 0),
	    "S256 verifier (RFC 7636 appendix B)");
	free(code);

	code = make_code(T0, "[\"openid\"]", "plainsecret", "plain");
	want_err(redeem(code, T0 + 1, "app", "https://app/cb", "plainsecreT",
	    0), "invalid_grant", "Invalid code_verifier.", "plain mismatch");
	want_ok(redeem(code, T0 + 1, "app", "https://app/cb", "plainsecret",
	    0), "plain verifier");
	free(code);

	code = make_code(T0, "[\"openid\"]", "plainsecret", "");
	want_ok(redeem(code, T0 + 1, "app", "https://app/cb", "plainsecret",
	    0), "empty method is plain");
	free(code);

	code = make_code(T0, "[\"openid\"]", "", "");
	want_err(redeem(code, T0 + 1, "app", "https://app/cb", VERIFIER, 0),
	    "invalid_request",
	    "No PKCE flow started. Cannot check code_verifier.",
	    "verifier without a challenge");
	want_ok(redeem(code, T0 + 1, "app", "https://app/cb", NULL, 0),
	    "no challenge, no verifier");
	free(code);
}

/* tok with the byte at off changed, re-encoded (malloc'd). */
static char *
forged(const char *tok, size_t off)
{
	uint8_t	*raw;
	size_t	 len;
	char	*out;

	if (jose_b64url_decode(tok, strlen(tok), &raw, &len) == -1 ||
	    len != STORE_TOKEN_BYTES)
		abort();
	raw[off] ^= 0x5a;
	if ((out = jose_b64url_encode(raw, len)) == NULL)
		abort();
	free(raw);
	return (out);
}

static void
test_rotate(void)
{
	json_t	*r;
	char	*t1, *t2, *t3, *t4;

	policy(0, 0, 0, 0);
	t1 = issue(T0, "bob", "app");
	ok(strlen(t1) == STORE_TOKEN_LEN, "issued a 64-char token");
	t2 = rotate_tok(t1, T0 + 10);
	ok(*t2 != '\0' && strcmp(t1, t2) != 0, "rotation: a new token");
	want_err(rotate(t2, T0 + 11, "other", NULL), "invalid_grant",
	    CLAIMED, "another client's token");
	ok(active(t2, T0 + 11), "another client did not revoke it");
	want_err(rotate(t1, T0 + 12, "app", NULL), "invalid_grant",
	    CLAIMED, "reuse of the rotated-out token");
	ok(!active(t2, T0 + 12), "reuse revoked the current token too");
	t3 = rotate_tok(t2, T0 + 13);
	ok(*t3 == '\0', "family stays revoked");
	free(t1);
	free(t2);
	free(t3);

	/*
	 * A token is found by the family id it starts with: an unknown id
	 * is refused and touches nothing; the family's id with any other
	 * tail came from a holder of one of its tokens, and revokes it.
	 */
	t1 = issue(T0, "bob", "app");
	t2 = rotate_tok(t1, T0 + 10);
	t3 = forged(t2, 0);
	want_err(rotate(t3, T0 + 11, "app", NULL), "invalid_grant",
	    CLAIMED, "an unknown family id");
	ok(active(t2, T0 + 11), "an unknown family id revoked nothing");
	free(t3);
	t3 = forged(t2, STORE_TOKEN_BYTES - 1);
	want_err(rotate(t3, T0 + 12, "app", NULL), "invalid_grant",
	    CLAIMED, "the family's id with another tail");
	ok(!active(t2, T0 + 12), "... revoked the family");
	free(t1);
	free(t2);
	free(t3);

	/* reuseInterval: the old token gets the current one back. */
	policy(0, 10, 0, 0);
	t1 = issue(T0, "bob", "app");
	t2 = rotate_tok(t1, T0 + 20);
	r = rotate(t1, T0 + 25, "app", NULL);
	ok(is_ok(r) && strcmp(rstr(r, "refreshToken"), t2) == 0 &&
	    json_is_true(json_object_get(r, "reused")),
	    "obsolete token within reuseInterval: the current token");
	json_decref(r);
	r = rotate(t2, T0 + 26, "app", NULL);
	ok(is_ok(r) && strcmp(rstr(r, "refreshToken"), t2) == 0,
	    "current token within reuseInterval: unchanged (Dex)");
	json_decref(r);
	t3 = rotate_tok(t2, T0 + 31);
	ok(*t3 != '\0' && strcmp(t3, t2) != 0, "after the window: rotated");
	want_err(rotate(t1, T0 + 32, "app", NULL), "invalid_grant",
	    CLAIMED, "a token two generations old");
	ok(!active(t3, T0 + 32), "and the family is revoked");
	free(t1);
	free(t2);
	free(t3);

	/* validIfNotUsedFor counts from the last use. */
	policy(0, 0, 100, 0);
	t1 = issue(T0, "bob", "app");
	t2 = rotate_tok(t1, T0 + 100);
	ok(*t2 != '\0', "idle: used at the limit");
	t3 = rotate_tok(t2, T0 + 190);
	ok(*t3 != '\0', "idle: the last use moved the limit");
	want_err(rotate(t3, T0 + 291, "app", NULL), "invalid_grant",
	    "Refresh token expired.", "idle: expired");
	ok(!active(t3, T0 + 291), "idle: introspection inactive");
	free(t1);
	free(t2);
	free(t3);

	/* absoluteLifetime counts from creation, across rotations. */
	policy(0, 0, 0, 100);
	t1 = issue(T0, "bob", "app");
	t2 = rotate_tok(t1, T0 + 60);
	t3 = rotate_tok(t2, T0 + 100);
	ok(*t2 != '\0' && *t3 != '\0', "absolute: within the lifetime");
	want_err(rotate(t3, T0 + 101, "app", NULL), "invalid_grant",
	    "Refresh token expired.", "absolute: expired");
	free(t1);
	free(t2);
	free(t3);

	/* disableRotation keeps the token and still moves lastUsed. */
	policy(1, 0, 100, 0);
	t1 = issue(T0, "bob", "app");
	t2 = rotate_tok(t1, T0 + 90);
	t3 = rotate_tok(t1, T0 + 180);
	ok(strcmp(t1, t2) == 0 && strcmp(t1, t3) == 0,
	    "disableRotation: the same token");
	ok(active(t1, T0 + 270), "disableRotation: lastUsed moved");
	free(t1);
	free(t2);
	free(t3);

	/* Scopes: narrowing yes, widening no. */
	policy(0, 0, 0, 0);
	t1 = issue(T0, "bob", "app");
	want_err(rotate(t1, T0 + 1, "app", "[\"openid\",\"groups\"]"),
	    "invalid_request", "Requested scopes contain unauthorized scope(s)",
	    "widening refused");
	r = rotate(t1, T0 + 2, "app", "[\"openid\"]");
	ok(is_ok(r) && json_array_size(json_object_get(json_object_get(r,
	    "grant"), "scopes")) == 1, "narrowing: the scopes asked for");
	t2 = strdup(rstr(r, "refreshToken"));
	json_decref(r);
	r = rotate(t2, T0 + 3, "app", "[]");
	ok(is_ok(r) && json_array_size(json_object_get(json_object_get(r,
	    "grant"), "scopes")) == 3, "empty scopes: the original ones");
	t4 = strdup(rstr(r, "refreshToken"));
	json_decref(r);
	ok(active(t4, T0 + 4), "introspect the current token");
	free(t1);
	free(t2);
	free(t4);

	/* Unknown tokens. */
	want_err(rotate("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAA", T0, "app", NULL), "invalid_grant",
	    CLAIMED, "unknown token");
	ok(!active("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAA", T0), "unknown token inactive");
}

/*
 * An upstream refresh: "check" says what the token stands for without
 * writing, and the rotation that follows stores the new identity.
 */
static void
test_reidentify(void)
{
	json_t	*r, *id;
	char	*t1, *t2;

	policy(0, 0, 0, 0);
	t1 = issue(T0, "erin", "app");
	r = run(IMSG_STORE_REFRESH_ROTATE, T0 + 5, "{\"refreshToken\":\"%s\","
	    "\"clientId\":\"app\",\"upstreamFirst\":true}", t1);
	ok(is_ok(r) && *rstr(r, "refreshToken") != '\0' &&
	    json_object_get(r, "upstream") == NULL,
	    "upstreamFirst: a local token rotates at once");
	json_decref(r);
	free(t1);

	t1 = issue_conn(T0, "carol", "app", "ldap");
	r = run(IMSG_STORE_REFRESH_ROTATE, T0 + 5, "{\"refreshToken\":\"%s\","
	    "\"clientId\":\"app\",\"upstreamFirst\":true}", t1);
	ok(is_ok(r) && json_object_get(r, "refreshToken") == NULL &&
	    json_is_true(json_object_get(r, "upstream")) &&
	    strcmp(rstr(json_object_get(json_object_get(r, "grant"),
	    "identity"), "userId"), "carol") == 0,
	    "upstreamFirst: an upstream token's grant, no new token");
	json_decref(r);
	ok(active(t1, T0 + 6), "the check left the token current");
	want_err(run(IMSG_STORE_REFRESH_ROTATE, T0 + 6, "{\"refreshToken\":"
	    "\"%s\",\"clientId\":\"other\",\"upstreamFirst\":true}", t1),
	    "invalid_grant", "Refresh token is invalid or has already been "
	    "claimed by another client.", "check: another client's token");

	r = run(IMSG_STORE_REFRESH_ROTATE, T0 + 7, "{\"refreshToken\":\"%s\","
	    "\"clientId\":\"app\",\"identity\":{\"userId\":\"carol\","
	    "\"email\":\"new@x\",\"groups\":[\"g1\"],\"connectorId\":"
	    "\"ldap\",\"connectorData\":\"sealed-2\"}}", t1);
	ok(is_ok(r), "rotate with a new identity");
	t2 = strdup(is_ok(r) ? rstr(r, "refreshToken") : "");
	id = json_object_get(json_object_get(r, "grant"), "identity");
	ok(strcmp(rstr(id, "email"), "new@x") == 0 &&
	    strcmp(rstr(id, "connectorData"), "sealed-2") == 0,
	    "the reply carries the new identity");
	json_decref(r);
	r = run(IMSG_STORE_REFRESH_ROTATE, T0 + 8, "{\"refreshToken\":\"%s\","
	    "\"clientId\":\"app\",\"upstreamFirst\":true}", t2);
	id = json_object_get(json_object_get(r, "grant"), "identity");
	ok(is_ok(r) && strcmp(rstr(id, "email"), "new@x") == 0 &&
	    strcmp(rstr(id, "connectorData"), "sealed-2") == 0,
	    "the new identity is stored with the family");
	json_decref(r);
	want_err(run(IMSG_STORE_REFRESH_ROTATE, T0 + 9, "{\"refreshToken\":"
	    "\"%s\",\"clientId\":\"app\",\"identity\":{\"userId\":"
	    "\"mallory\",\"connectorId\":\"ldap\"}}", t2), "invalid_grant",
	    "The upstream identity of this refresh token has changed.",
	    "another user id is refused");
	ok(active(t2, T0 + 10), "and the token stays current");
	free(t1);
	free(t2);
}

static void
test_introspect(void)
{
	json_t	*r;
	char	*t1;

	policy(0, 0, 100, 1000);
	t1 = issue(T0, "carol", "app");
	r = run(IMSG_STORE_INTROSPECT, T0 + 5, "{\"refreshToken\":\"%s\"}",
	    t1);
	ok(is_ok(r) && json_is_true(json_object_get(r, "active")) &&
	    json_integer_value(json_object_get(r, "iat")) == (json_int_t)T0 &&
	    json_integer_value(json_object_get(r, "exp")) ==
	    (json_int_t)T0 + 100 && strcmp(rstr(json_object_get(r, "grant"),
	    "clientId"), "app") == 0, "introspection: active, iat, exp, grant");
	json_decref(r);
	r = run(IMSG_STORE_INTROSPECT, T0 + 101, "{\"refreshToken\":\"%s\"}",
	    t1);
	ok(is_ok(r) && json_is_false(json_object_get(r, "active")) &&
	    json_object_size(r) == 2, "introspection: expired, nothing more");
	json_decref(r);
	free(t1);
}

struct counter {
	int	 n;
	char	 family[STORE_FAMILY_HEX + 1];
};

static int
count_cb(json_t *o, void *arg)
{
	struct counter	*c = arg;

	if (json_object_get(o, "userId") == NULL ||
	    json_object_get(o, "created") == NULL)
		return (0);
	snprintf(c->family, sizeof(c->family), "%s", rstr(o, "family"));
	c->n++;
	return (0);
}

static int
count_sessions(const char *user, char *family)
{
	struct counter	 c;
	struct db_txn	*t;

	memset(&c, 0, sizeof(c));
	t = db_txn_begin(db, 0);
	if (store_sessions(t, T0 + 50, user, count_cb, &c) != DB_OK)
		c.n = -1;
	db_txn_abort(t);
	if (family != NULL)
		memcpy(family, c.family, sizeof(c.family));
	return (c.n);
}

static int
do_revoke(const char *fmt, const char *arg, size_t *n)
{
	struct db_txn	*t;
	json_t		*req;
	const char	*err;
	char		 buf[512];
	int		 rc;

	snprintf(buf, sizeof(buf), fmt, arg);
	req = json_loads(buf, 0, NULL);
	t = db_txn_begin(db, 1);
	rc = store_revoke(t, T0 + 50, req, n, &err);
	if (rc == DB_OK)
		rc = db_txn_commit(t);
	else
		db_txn_abort(t);
	json_decref(req);
	return (rc);
}

/* The local users' directory, from a JSON array (for sp_local). */
static void
local_users(const char *arr)
{
	json_t	*a;

	if (pol.sp_local != NULL)
		passwd_db_free(pol.sp_local);
	if ((a = json_loads(arr, 0, NULL)) == NULL ||
	    (pol.sp_local = passwd_dir_load(a)) == NULL)
		abort();
	json_decref(a);
}

static void
test_local_refresh(void)
{
	json_t	*r, *id;
	char	*t1, *t2, *t3;

	policy(0, 0, 0, 0);
	local_users("[{\"email\":\"Bob@X\",\"userId\":\"bob\","
	    "\"username\":\"bob\",\"name\":\"Bob B.\","
	    "\"groups\":[\"admins\"]}]");
	t1 = issue(T0, "bob", "app");
	r = rotate(t1, T0 + 1, "app", NULL);
	ok(is_ok(r) && json_is_true(json_object_get(r, "identityChecked")),
	    "local user: checked in the rotation");
	id = json_object_get(json_object_get(r, "grant"), "identity");
	is_str(rstr(id, "username"), "Bob B.", "local user: name from the "
	    "directory now");
	is_int((int)json_array_size(json_object_get(id, "groups")), 1,
	    "local user: groups from the directory now");
	t2 = strdup(is_ok(r) ? rstr(r, "refreshToken") : "");
	json_decref(r);
	r = run(IMSG_STORE_INTROSPECT, T0 + 1, "{\"refreshToken\":\"%s\"}",
	    t2);
	is_str(rstr(json_object_get(json_object_get(r, "grant"), "identity"),
	    "username"), "Bob B.", "local user: the family keeps it");
	json_decref(r);

	/* Gone, or another user under the same email: refused, not spent. */
	local_users("[{\"email\":\"bob@x\",\"userId\":\"bob-2\"}]");
	want_err(rotate(t2, T0 + 2, "app", NULL), "invalid_grant",
	    "User not found.", "local user: same email, another id");
	local_users("[]");
	want_err(rotate(t2, T0 + 3, "app", NULL), "invalid_grant",
	    "User not found.", "local user: gone");
	ok(active(t2, T0 + 3), "local user gone: the token is not spent");
	local_users("[{\"email\":\"bob@x\",\"userId\":\"bob\"}]");
	t3 = rotate_tok(t2, T0 + 4);
	ok(*t3 != '\0', "local user back: the token works");
	free(t1);
	free(t2);
	free(t3);

	/* Another connector's token is left to the connector. */
	t1 = issue_conn(T0, "carol", "app", "ldap");
	r = rotate(t1, T0 + 1, "app", NULL);
	ok(is_ok(r) && json_object_get(r, "identityChecked") == NULL,
	    "another connector: not looked up here");
	json_decref(r);
	free(t1);
	policy(0, 0, 0, 0);
	ok(pol.sp_local == NULL, "policy reset frees the directory");
}

/* The family id a token starts with, in hex, in buf. */
static const char *
family_hex(const char *tok, char *buf)
{
	uint8_t	*raw;
	size_t	 len, i;

	if (jose_b64url_decode(tok, strlen(tok), &raw, &len) == -1 ||
	    len != STORE_TOKEN_BYTES)
		abort();
	for (i = 0; i < STORE_FAMILY_BYTES; i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	free(raw);
	return (buf);
}

static void
test_sessions(void)
{
	char	*toks[STORE_FAMILIES_MAX + 1], *sub;
	char	 fam[STORE_FAMILY_HEX + 1], hex[STORE_FAMILY_HEX + 1];
	size_t	 i, j, n;

	policy(0, 0, 0, 0);
	for (i = 0; i < 3; i++)
		toks[i] = issue(T0 + i, "dave", "app");
	for (i = 0; i < 3; i++)
		ok(active(toks[i], T0 + 10), "several families: %zu live", i);
	is_int(count_sessions("dave", NULL), 3, "sessions of dave");
	sub = jose_dex_subject("dave", "local");
	is_int(count_sessions(sub, NULL), 3, "sessions by Dex sub");
	free(sub);
	is_int(count_sessions("nobody", NULL), 0, "no sessions of nobody");
	ok(count_sessions(NULL, NULL) >= 3, "every session");
	for (i = 3; i < STORE_FAMILIES_MAX + 1; i++)
		toks[i] = issue(T0 + i, "dave", "app");
	ok(!active(toks[0], T0 + 40), "the 33rd family ends the oldest");
	ok(active(toks[1], T0 + 40) && active(toks[STORE_FAMILIES_MAX],
	    T0 + 40), "the others live");
	is_int(count_sessions("dave", fam), STORE_FAMILIES_MAX, "bounded sessions");

	is_int(do_revoke("{\"family\":\"%s\"}", fam, &n), DB_OK,
	    "revoke by family");
	is_int(n, 1, "one revoked");
	is_int(do_revoke("{\"family\":\"%s\"}", fam, &n), DB_NOTFOUND,
	    "revoked twice: no such session");
	is_int(do_revoke("{\"family\":\"%s\"}", "xyz", &n), DB_EINVAL,
	    "bad family id");
	/* A token of another family than the one just revoked. */
	for (j = 1; strcmp(family_hex(toks[j], hex), fam) == 0; j++)
		;
	is_int(do_revoke("{\"refreshToken\":\"%s\"}", toks[j], &n), DB_OK,
	    "revoke by token");
	ok(!active(toks[j], T0 + 50), "token revoked");
	is_int(do_revoke("{\"user\":\"%s\"}", "dave", &n), DB_OK,
	    "revoke by user");
	is_int(n, STORE_FAMILIES_MAX - 2, "all of dave's other sessions");
	is_int(count_sessions("dave", NULL), 0, "dave has none left");
	ok(!active(toks[STORE_FAMILIES_MAX], T0 + 50), "his tokens fail");
	for (i = 0; i < STORE_FAMILIES_MAX + 1; i++)
		free(toks[i]);
}

/* Is this jti revoked?  -1 when the request fails. */
static int
jti_revoked(const char *jti, uint64_t now)
{
	json_t	*r;
	int	 rv;

	r = run(IMSG_STORE_ACCESS_CHECK, now, "{\"jti\":\"%s\"}", jti);
	rv = !is_ok(r) ? -1 : json_is_true(json_object_get(r, "revoked"));
	json_decref(r);
	return (rv);
}

/* IMSG_STORE_REFRESH_REVOKE: its "revoked", -1 when it fails. */
static int
refresh_revoke(const char *tok, const char *client, uint64_t now)
{
	json_t	*r;
	int	 rv;

	r = run(IMSG_STORE_REFRESH_REVOKE, now, "{\"refreshToken\":\"%s\","
	    "\"clientId\":\"%s\"}", tok, client);
	rv = !is_ok(r) ? -1 : json_is_true(json_object_get(r, "revoked"));
	json_decref(r);
	return (rv);
}

/* RFC 7009: access tokens by jti until they expire, refresh families. */
static void
test_revocation(void)
{
	char	 longjti[STORE_JTI_MAX + 2];
	char	 buf[512];
	char	*t1, *t2, *t3, *t4;
	size_t	 deleted, n;

	memset(longjti, 'j', sizeof(longjti) - 1);
	longjti[sizeof(longjti) - 1] = '\0';
	is_int(check(IMSG_STORE_ACCESS_REVOKE, "{\"jti\":\"j\",\"exp\":1,"
	    "\"clientId\":\"app\"}"), 0, "valid access revoke");
	is_int(check(IMSG_STORE_ACCESS_REVOKE, "{\"jti\":\"j\","
	    "\"clientId\":\"app\"}"), -1, "access revoke without exp refused");
	is_int(check(IMSG_STORE_ACCESS_REVOKE, "{\"jti\":\"\",\"exp\":1,"
	    "\"clientId\":\"app\"}"), -1, "empty jti refused");
	is_int(check(IMSG_STORE_ACCESS_REVOKE, "{\"jti\":\"j\",\"exp\":-1,"
	    "\"clientId\":\"app\"}"), -1, "negative exp refused");
	snprintf(buf, sizeof(buf), "{\"jti\":\"%s\"}", longjti);
	is_int(check(IMSG_STORE_ACCESS_CHECK, buf), -1,
	    "jti longer than STORE_JTI_MAX refused");
	longjti[STORE_JTI_MAX] = '\0';
	snprintf(buf, sizeof(buf), "{\"jti\":\"%s\"}", longjti);
	is_int(check(IMSG_STORE_ACCESS_CHECK, buf), 0,
	    "jti of STORE_JTI_MAX bytes");
	is_int(check(IMSG_STORE_ACCESS_CHECK, "{\"jti\":\"j\",\"x\":1}"), -1,
	    "access check: unknown member refused");
	is_int(check(IMSG_STORE_REFRESH_REVOKE, "{\"refreshToken\":\"AAAA\","
	    "\"clientId\":\"app\"}"), -1, "short refresh token refused");
	is_int(check(IMSG_STORE_REFRESH_REVOKE, "{\"refreshToken\":\""
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "\"}"), -1, "refresh revoke without clientId refused");

	/* Access tokens: remembered until exp, then collected. */
	is_int(jti_revoked("jti-1", T0), 0, "unknown jti: not revoked");
	want_ok(run(IMSG_STORE_ACCESS_REVOKE, T0, "{\"jti\":\"jti-1\","
	    "\"exp\":%llu,\"clientId\":\"app\"}",
	    (unsigned long long)T0 + 100), "revoke an access token");
	is_int(jti_revoked("jti-1", T0 + 1), 1, "its jti is revoked");
	is_int(jti_revoked("jti-2", T0 + 1), 0, "another jti is not");
	want_ok(run(IMSG_STORE_ACCESS_REVOKE, T0 + 2, "{\"jti\":\"jti-1\","
	    "\"exp\":%llu,\"clientId\":\"app\"}",
	    (unsigned long long)T0 + 100), "revoking it again is fine");
	want_ok(run(IMSG_STORE_ACCESS_REVOKE, T0, "{\"jti\":\"jti-3\","
	    "\"exp\":%llu,\"clientId\":\"app\"}", (unsigned long long)T0),
	    "an expired access token: ok");
	is_int(jti_revoked("jti-3", T0), 0, "... and nothing stored");
	deleted = 0;
	is_int(db_gc(db, T0 + 99, 0, &deleted), DB_OK, "gc before exp");
	is_int(jti_revoked("jti-1", T0 + 99), 1, "kept until its exp");
	is_int(db_gc(db, T0 + 100, 0, &deleted), DB_OK, "gc at exp");
	is_int(jti_revoked("jti-1", T0 + 100), 0, "collected at its exp");

	/* Refresh tokens: the family, whichever token is shown. */
	policy(0, 0, 0, 0);
	t1 = issue(T0, "rita", "app");
	t2 = rotate_tok(t1, T0 + 1);
	t4 = issue(T0, "rita", "app");
	ok(active(t2, T0 + 2) && !active(t1, T0 + 2), "rotated");
	is_int(refresh_revoke(t1, "other", T0 + 2), 0,
	    "another client's token: not revoked");
	ok(active(t2, T0 + 2), "... its family lives");
	is_int(refresh_revoke(t1, "app", T0 + 2), 1,
	    "the rotated-out token of its client: revoked");
	ok(!active(t2, T0 + 3), "the current token of the family fails");
	want_err(rotate(t2, T0 + 3, "app", NULL), "invalid_grant",
	    "Refresh token is invalid or has already been claimed by "
	    "another client.", "... at rotation too");
	ok(active(t4, T0 + 3), "another family of the user lives");
	is_int(refresh_revoke(t2, "app", T0 + 3), 0, "revoked twice: no-op");
	is_int(refresh_revoke("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAA", "app", T0 + 3), 0, "an unknown token: no-op");
	t3 = issue(T0 + 4, "rita", "app");
	is_int(refresh_revoke(t3, "app", T0 + 5), 1, "the current token: "
	    "revoked");
	ok(!active(t3, T0 + 5), "... and fails");

	/* oidcctl revoke token with an access token: {"jti", "exp"}. */
	is_int(do_revoke("{\"jti\":\"%s\",\"exp\":1800000000}", "jti-5",
	    &n), DB_OK, "control: revoke by jti");
	is_int(n, 1, "control: one revoked");
	is_int(jti_revoked("jti-5", T0 + 60), 1, "control: jti revoked");
	is_int(do_revoke("{\"jti\":\"%s\",\"exp\":1700000001}", "jti-6",
	    &n), DB_NOTFOUND, "control: an expired access token");
	is_int(do_revoke("{\"jti\":\"%s\"}", "jti-7", &n), DB_EINVAL,
	    "control: jti without exp");
	is_int(do_revoke("{\"jti\":\"%s\",\"exp\":\"x\"}", "jti-7", &n),
	    DB_EINVAL, "control: exp not a number");
	free(t1);
	free(t2);
	free(t3);
	free(t4);
}

static void
test_gc(void)
{
	size_t	 deleted = 0;
	char	*t1, *t2, *code;

	policy(0, 0, 100, 0);
	t1 = issue(T0, "erin", "gcapp");
	policy(0, 0, 0, 0);
	t2 = issue(T0, "erin", "gcapp");
	code = make_code(T0, "[\"openid\"]", "", "");
	put_authreq(ID3, T0, "[\"openid\"]", "", "");
	is_int(db_gc(db, T0 + 100000, 0, &deleted), DB_OK, "gc");
	ok(deleted >= 4, "gc deleted expired records (%zu)", deleted);
	want_err(run(IMSG_STORE_AUTHREQ_GET, T0, "{\"id\":\"" ID3 "\"}"),
	    "invalid_request", "User session error.", "authreq collected");
	want_err(redeem(code, T0, "app", "https://app/cb", NULL, 0),
	    "invalid_grant", "Invalid or expired code parameter.",
	    "code collected");
	ok(!active(t1, T0), "family with an idle limit collected");
	ok(active(t2, T0), "family without limits kept");
	free(t1);
	free(t2);
	free(code);
}

/*
 * Browser sessions.
 */

#define HASH1	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define HASH2	"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA"
#define HASH3	"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA"
#define HASH4	"DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDA"
#define HASH5	"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA"
#define HASH6	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA"
#define HASH7	"GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGA"

/* A new auth request id each time: a login stores it for good. */
static const char *
next_id(void)
{
	static char	 id[STORE_ID_LEN + 1];
	static int	 n;

	snprintf(id, sizeof(id), "S%021d", ++n);
	return (id);
}

/* IMSG_STORE_SESSION_LOGIN for client app2 through conn; extra members. */
static json_t *
sess_login(uint64_t now, const char *hash, const char *conn,
    const char *extra)
{
	return (run(IMSG_STORE_SESSION_LOGIN, now, "{\"authreq\":{\"id\":"
	    "\"%s\",\"clientId\":\"app2\",\"redirectUri\":\"https://app2/cb\","
	    "\"scopes\":[\"openid\"],\"responseTypes\":[\"code\"],"
	    "\"connectorId\":\"%s\",\"expiry\":%llu,\"hmacKey\":\"" HMACKEY
	    "\"},\"session\":\"%s\"%s}", next_id(), conn,
	    (unsigned long long)now + 600, hash, extra));
}

/* A password login at now that starts the session of hash. */
static json_t *
sess_create(uint64_t now, const char *hash, const char *user)
{
	const char	*id = next_id();
	char		 ident[512];

	snprintf(ident, sizeof(ident), "{\"userId\":\"%s\",\"email\":"
	    "\"%s@x\",\"connectorId\":\"local\"}", user, user);
	want_ok(run(IMSG_STORE_AUTHREQ_PUT, now, "{\"authreq\":{\"id\":\"%s\","
	    "\"clientId\":\"app\",\"redirectUri\":\"https://app/cb\","
	    "\"scopes\":[\"openid\"],\"responseTypes\":[\"code\"],"
	    "\"connectorId\":\"local\",\"expiry\":%llu,\"hmacKey\":\""
	    HMACKEY "\"}}", id, (unsigned long long)now + 600),
	    "session: authreq put");
	return (run(IMSG_STORE_SESSION_CREATE, now, "{\"id\":\"%s\","
	    "\"identity\":%s,\"session\":\"%s\"}", id, ident, hash));
}

static void
want_login_required(json_t *r, const char *what)
{
	if (!ok(!is_ok(r) && strcmp(rstr(r, "error"), STORE_ERR_LOGIN) == 0,
	    "%s", what)) {
		char *s = json_dumps(r, JSON_COMPACT);
		diag("got %s", s);
		free(s);
	}
	json_decref(r);
}

static void
test_browser(void)
{
	json_t		*r, *ar, *g;
	char		 sid[STORE_SID_LEN + 1], fam[STORE_FAMILY_HEX + 1];
	char		 extra[512], *code, *sub;
	const char	*id;
	size_t		 n;

	policy(0, 0, 0, 0);
	pol.sp_session_absolute = 300;
	pol.sp_session_idle = 100;

	is_int(check(IMSG_STORE_SESSION_GET, "{\"session\":\"" HASH1 "\"}"),
	    0, "session get: valid");
	is_int(check(IMSG_STORE_SESSION_GET, "{\"session\":\"AAAA\"}"), -1,
	    "session get: short hash refused");
	is_int(check(IMSG_STORE_SESSION_LOGIN, "{\"authreq\":{\"id\":\"" ID1
	    "\",\"clientId\":\"a\",\"redirectUri\":\"r\",\"scopes\":[],"
	    "\"responseTypes\":[\"code\"],\"expiry\":1,\"hmacKey\":\"" HMACKEY
	    "\",\"loggedIn\":true},\"session\":\"" HASH1 "\"}"), -1,
	    "session login: an authreq logged in already refused");
	is_int(check(IMSG_STORE_AUTHREQ_PUT, "{\"authreq\":{\"id\":\"" ID1
	    "\",\"clientId\":\"a\",\"redirectUri\":\"r\",\"scopes\":[],"
	    "\"responseTypes\":[\"code\"],\"expiry\":1,\"hmacKey\":\"" HMACKEY
	    "\",\"sid\":\"" ID2 "\"}}"), -1, "authreq put: a sid refused");

	/* The first login: a session, and its sid on the way to tokens. */
	r = sess_create(T0, HASH1, "brenda");
	ar = json_object_get(r, "authreq");
	ok(is_ok(r) && strlen(rstr(r, "sid")) == STORE_SID_LEN &&
	    strcmp(rstr(ar, "sid"), rstr(r, "sid")) == 0 &&
	    json_is_true(json_object_get(ar, "loggedIn")),
	    "session create: logged in, with a sid");
	snprintf(sid, sizeof(sid), "%s", rstr(r, "sid"));
	id = rstr(ar, "id");
	json_decref(run(IMSG_STORE_CODE_ISSUE, T0, "{\"id\":\"%s\"}", id));
	json_decref(r);
	want_login_required(sess_login(T0, HASH2, "local", ""),
	    "another cookie: login_required");

	/* A second client, later: the same user, auth_time and sid. */
	r = sess_login(T0 + 50, HASH1, "local", "");
	ar = json_object_get(r, "authreq");
	ok(is_ok(r) && json_is_true(json_object_get(ar, "loggedIn")) &&
	    strcmp(rstr(json_object_get(ar, "identity"), "userId"),
	    "brenda") == 0 && json_integer_value(json_object_get(ar,
	    "authTime")) == (json_int_t)T0 && strcmp(rstr(ar, "sid"), sid) == 0,
	    "session login: brenda, auth_time of the first login, same sid");
	g = run(IMSG_STORE_CODE_ISSUE, T0 + 50, "{\"id\":\"%s\"}",
	    rstr(ar, "id"));
	json_decref(r);
	code = strdup(rstr(g, "code"));
	json_decref(g);
	r = redeem(code, T0 + 50, "app2", "https://app2/cb", NULL, 0);
	g = json_object_get(r, "grant");
	ok(is_ok(r) && strcmp(rstr(g, "sid"), sid) == 0 &&
	    json_integer_value(json_object_get(g, "authTime")) ==
	    (json_int_t)T0, "the code's grant has the sid and auth_time");
	json_decref(r);
	free(code);

	want_login_required(sess_login(T0 + 60, HASH1, "ldap", ""),
	    "another connector: login_required");
	want_login_required(sess_login(T0 + 60, HASH1, "local",
	    ",\"maxAge\":30"), "auth_time older than max_age: login_required");
	want_login_required(sess_login(T0 + 60, HASH1, "local",
	    ",\"maxAge\":0"), "max_age=0: login_required");
	want_ok(sess_login(T0 + 60, HASH1, "local", ",\"maxAge\":100"),
	    "auth_time within max_age: ok");
	sub = jose_dex_subject("brenda", "local");
	snprintf(extra, sizeof(extra), ",\"sub\":\"%s\"", sub);
	free(sub);
	want_ok(sess_login(T0 + 70, HASH1, "local", extra),
	    "id_token_hint of brenda: ok");
	sub = jose_dex_subject("carol", "local");
	snprintf(extra, sizeof(extra), ",\"sub\":\"%s\"", sub);
	free(sub);
	want_login_required(sess_login(T0 + 70, HASH1, "local", extra),
	    "id_token_hint of another user: login_required");
	sub = jose_dex_subject("brenda", "ldap");
	snprintf(extra, sizeof(extra), ",\"sub\":\"%s\"", sub);
	free(sub);
	want_login_required(sess_login(T0 + 70, HASH1, "local", extra),
	    "id_token_hint of brenda at another connector: login_required");
	want_login_required(sess_login(T0 + 70, HASH1, "local",
	    ",\"sub\":\"garbage\""), "an undecodable sub: login_required");
	r = sess_login(T0 + 70, HASH1, "", "");
	ok(is_ok(r) && strcmp(rstr(json_object_get(r, "authreq"),
	    "connectorId"), "local") == 0,
	    "no connector chosen: the session's");
	json_decref(r);

	r = run(IMSG_STORE_SESSION_GET, T0 + 70, "{\"session\":\"" HASH1
	    "\"}");
	ok(is_ok(r) && strcmp(rstr(r, "connectorId"), "local") == 0,
	    "session get: its connector");
	json_decref(r);
	want_login_required(run(IMSG_STORE_SESSION_GET, T0 + 70,
	    "{\"session\":\"" HASH2 "\"}"), "session get: none");

	/* validIfNotUsedFor (100 s) from the last use, at T0 + 70. */
	want_login_required(sess_login(T0 + 170, HASH1, "local", ""),
	    "idle past validIfNotUsedFor: login_required");
	r = sess_create(T0 + 200, HASH3, "brenda");
	json_decref(r);
	want_ok(sess_login(T0 + 290, HASH3, "local", ""), "used: lives on");
	want_ok(sess_login(T0 + 380, HASH3, "local", ""), "used again");
	want_ok(sess_login(T0 + 470, HASH3, "local", ""), "and again");
	want_login_required(sess_login(T0 + 510, HASH3, "local", ""),
	    "past absoluteLifetime (300 s): login_required");

	/* A new login in the same browser replaces its session. */
	json_decref(sess_create(T0 + 200, HASH5, "brenda"));
	want_ok(sess_login(T0 + 210, HASH5, "local", ""), "a new session");
	id = next_id();
	want_ok(run(IMSG_STORE_AUTHREQ_PUT, T0 + 220, "{\"authreq\":{\"id\":"
	    "\"%s\",\"clientId\":\"app\",\"redirectUri\":\"https://app/cb\","
	    "\"scopes\":[\"openid\"],\"responseTypes\":[\"code\"],"
	    "\"connectorId\":\"local\",\"expiry\":%llu,\"hmacKey\":\""
	    HMACKEY "\"}}", id, (unsigned long long)T0 + 800), "authreq put");
	r = run(IMSG_STORE_SESSION_CREATE, T0 + 220, "{\"id\":\"%s\","
	    "\"identity\":{\"userId\":\"brenda\",\"connectorId\":"
	    "\"local\"},\"session\":\"" HASH4 "\",\"replaces\":\"" HASH5
	    "\"}", id);
	ok(is_ok(r), "a login that replaces a session");
	json_decref(r);
	want_login_required(sess_login(T0 + 230, HASH5, "local", ""),
	    "the replaced session is gone");
	want_ok(sess_login(T0 + 230, HASH4, "local", ""),
	    "the new one works");

	/* oidcctl: show and revoke (its clock is T0 + 50). */
	json_decref(sess_create(T0, HASH2, "bruno"));
	is_int(count_sessions("bruno", fam), 1,
	    "oidcctl: bruno's browser session");
	is_int(strlen(fam), STORE_SID_LEN, "listed by its sid");
	sub = jose_dex_subject("bruno", "local");
	is_int(count_sessions(sub, NULL), 1, "by Dex sub too");
	free(sub);
	is_int(do_revoke("{\"family\":\"%s\"}", fam, &n), DB_OK,
	    "revoke session by sid");
	is_int(n, 1, "one ended");
	want_login_required(sess_login(T0 + 50, HASH2, "local", ""),
	    "a revoked session: login_required");
	is_int(do_revoke("{\"family\":\"%s\"}", fam, &n), DB_NOTFOUND,
	    "revoked twice: no such session");
	json_decref(sess_create(T0, HASH2, "bruno"));
	is_int(do_revoke("{\"user\":\"%s\"}", "bruno", &n), DB_OK,
	    "revoke user");
	ok(n >= 1, "ends his browser session");
	want_login_required(sess_login(T0 + 50, HASH2, "local", ""),
	    "after revoke user: login_required");
	is_int(count_sessions("bruno", NULL), 0, "bruno has none left");
}

/* RP-initiated logout: the cookie's session ends, and says what it was. */
static void
test_session_end(void)
{
	json_t		*r, *cl;
	char		 sid[STORE_SID_LEN + 1];

	policy(0, 0, 0, 0);
	pol.sp_session_absolute = 300;
	pol.sp_session_idle = 100;
	is_int(check(IMSG_STORE_SESSION_END, "{\"session\":\"" HASH6 "\"}"),
	    0, "session end: valid");
	is_int(check(IMSG_STORE_SESSION_END, "{\"session\":\"AAAA\"}"), -1,
	    "session end: short hash refused");
	is_int(check(IMSG_STORE_SESSION_END, "{}"), -1,
	    "session end: no session refused");

	r = sess_create(T0, HASH6, "carla");
	snprintf(sid, sizeof(sid), "%s", rstr(r, "sid"));
	json_decref(r);
	r = sess_create(T0, HASH7, "dora");
	json_decref(r);
	want_ok(sess_login(T0 + 10, HASH6, "local", ""), "carla signs in");
	is_int(check(IMSG_STORE_SESSION_END, "{\"session\":\"" HASH6 "\","
	    "\"sid\":\"AAAAAAAAAAAAAAAAAAAAAA\"}"), 0,
	    "session end with a sid: valid");
	is_int(check(IMSG_STORE_SESSION_END, "{\"session\":\"" HASH6 "\","
	    "\"sid\":\"AAAA\"}"), -1, "session end: short sid refused");

	/* The id_token_hint's sid is another session's: nothing ends. */
	r = run(IMSG_STORE_SESSION_END, T0 + 15, "{\"session\":\"" HASH6
	    "\",\"sid\":\"AAAAAAAAAAAAAAAAAAAAAA\"}");
	ok(is_ok(r) && json_is_false(json_object_get(r, "ended")) &&
	    json_is_true(json_object_get(r, "other")),
	    "session end with another sid: not ended, other");
	json_decref(r);
	want_ok(sess_login(T0 + 16, HASH6, "local", ""),
	    "... and the session lives");

	r = run(IMSG_STORE_SESSION_END, T0 + 20, "{\"session\":\"" HASH6
	    "\",\"sid\":\"%s\"}", sid);
	cl = json_object_get(r, "clients");
	ok(is_ok(r) && json_is_true(json_object_get(r, "ended")) &&
	    strcmp(rstr(r, "sid"), sid) == 0 &&
	    strcmp(rstr(r, "userId"), "carla") == 0 &&
	    strcmp(rstr(r, "connectorId"), "local") == 0 &&
	    json_array_size(cl) == 2 &&
	    strcmp(json_string_value(json_array_get(cl, 0)), "app") == 0 &&
	    strcmp(json_string_value(json_array_get(cl, 1)), "app2") == 0,
	    "session end: its sid, user, connector and both clients");
	json_decref(r);
	want_login_required(sess_login(T0 + 30, HASH6, "local", ""),
	    "an ended session: login_required");
	want_ok(sess_login(T0 + 30, HASH7, "local", ""),
	    "another browser's session lives on");

	r = run(IMSG_STORE_SESSION_END, T0 + 40, "{\"session\":\"" HASH6
	    "\"}");
	ok(is_ok(r) && json_is_false(json_object_get(r, "ended")) &&
	    json_object_get(r, "sid") == NULL,
	    "ended twice: ok, nothing ended");
	json_decref(r);
	/* An expired session is no session. */
	r = run(IMSG_STORE_SESSION_END, T0 + 500, "{\"session\":\"" HASH7
	    "\"}");
	ok(is_ok(r) && json_is_false(json_object_get(r, "ended")),
	    "an expired session: nothing ended");
	json_decref(r);
}

/*
 * The device flow.
 */

#define DEVREDIR	"/dex/device/callback"

static void
test_user_code(void)
{
	char		 c[STORE_USER_CODE_LEN + 1], in[128];
	int		 seen[26], all = 1, good = 1, i, j;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 1000; i++) {
		store_user_code_make(c);
		if (strlen(c) != STORE_USER_CODE_LEN || c[4] != '-')
			good = 0;
		for (j = 0; j < STORE_USER_CODE_LEN; j++) {
			if (j == 4)
				continue;
			if (strchr(STORE_USER_CODE_CHARS, c[j]) == NULL)
				good = 0;
			else
				seen[c[j] - 'A'] = 1;
		}
		strlcpy(in, c, sizeof(in));
		if (store_user_code_parse(in, c) == -1 || strcmp(in, c) != 0)
			good = 0;
	}
	ok(good, "1000 user codes: XXXX-XXXX of Dex's letters, canonical");
	for (i = 0; STORE_USER_CODE_CHARS[i] != '\0'; i++)
		if (!seen[STORE_USER_CODE_CHARS[i] - 'A'])
			all = 0;
	ok(all, "every letter of the alphabet turns up");
	ok(!seen['A' - 'A'] && !seen['E' - 'A'] && !seen['Y' - 'A'],
	    "no vowels, no Y");

	ok(store_user_code_parse("bcdf-ghjk", c) == 0 &&
	    strcmp(c, "BCDF-GHJK") == 0, "lower case is upper-cased");
	ok(store_user_code_parse("BCDFGHJK", c) == 0 &&
	    strcmp(c, "BCDF-GHJK") == 0, "no dash");
	ok(store_user_code_parse(" bcd fg-hj\tk ", c) == 0 &&
	    strcmp(c, "BCDF-GHJK") == 0, "spaces and a stray dash ignored");
	is_int(store_user_code_parse("BCDF-GHJA", c), -1, "a vowel refused");
	is_int(store_user_code_parse("BCDF-GHJ", c), -1, "seven letters");
	is_int(store_user_code_parse("BCDF-GHJKL", c), -1, "nine letters");
	is_int(store_user_code_parse("BCDF-GHJ1", c), -1, "a digit");
	is_int(store_user_code_parse("BCDF-GHJ\xc3\x9f", c), -1,
	    "a byte above ASCII");
	is_int(store_user_code_parse("", c), -1, "empty");
	is_int(store_user_code_parse(NULL, c), -1, "NULL");
	memset(in, '-', sizeof(in));
	memcpy(in + 100, "BCDFGHJK", 9);
	is_int(store_user_code_parse(in, c), -1,
	    "longer than STORE_USER_CODE_INPUT_MAX");
	memset(in, ' ', sizeof(in));
	memcpy(in + STORE_USER_CODE_INPUT_MAX - 8, "BCDFGHJK", 9);
	is_int(store_user_code_parse(in, c), 0,
	    "exactly STORE_USER_CODE_INPUT_MAX");

	is_int(check(IMSG_STORE_DEVICE_GET, "{\"userCode\":\"BCDF-GHJK\"}"), 0,
	    "device get: canonical user code");
	is_int(check(IMSG_STORE_DEVICE_GET, "{\"userCode\":\"bcdf-ghjk\"}"),
	    -1, "device get: lower case refused");
	is_int(check(IMSG_STORE_DEVICE_GET, "{\"userCode\":\"BCDFGHJK\"}"),
	    -1, "device get: without the dash refused");
	is_int(check(IMSG_STORE_DEVICE_CREATE, "{\"clientId\":\"a\","
	    "\"scopes\":[\"openid\"]}"), -1,
	    "device create: no redirectUri refused");
	is_int(check(IMSG_STORE_DEVICE_POLL, "{\"deviceCode\":\"AAAA\","
	    "\"clientId\":\"a\"}"), -1, "device poll: short code refused");
	is_int(check(IMSG_STORE_DEVICE_COMPLETE, "{\"userCode\":\"BCDF-GHJK\","
	    "\"code\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"), 0,
	    "device complete: valid");
}

struct dev {
	char	 device[STORE_DEVICE_CODE_LEN + 1];
	char	 user[STORE_USER_CODE_LEN + 1];
	char	 nonce[64];
};

/* A device request of app for scopes; 0, or -1 when it failed. */
static int
dev_create(struct dev *d, uint64_t now, const char *scopes,
    const char *challenge)
{
	json_t	*r, *g;
	int	 rv = -1;

	r = run(IMSG_STORE_DEVICE_CREATE, now, "{\"clientId\":\"app\","
	    "\"scopes\":%s,\"redirectUri\":\"" DEVREDIR "\","
	    "\"codeChallenge\":\"%s\",\"codeChallengeMethod\":\"%s\"}",
	    scopes, challenge, *challenge != '\0' ? "S256" : "");
	if (is_ok(r) &&
	    strlen(rstr(r, "deviceCode")) == STORE_DEVICE_CODE_LEN &&
	    strlen(rstr(r, "userCode")) == STORE_USER_CODE_LEN) {
		strlcpy(d->device, rstr(r, "deviceCode"), sizeof(d->device));
		strlcpy(d->user, rstr(r, "userCode"), sizeof(d->user));
		rv = 0;
	}
	json_decref(r);
	if (rv == -1)
		return (-1);
	g = run(IMSG_STORE_DEVICE_GET, now, "{\"userCode\":\"%s\"}", d->user);
	strlcpy(d->nonce, rstr(json_object_get(g, "device"), "nonce"),
	    sizeof(d->nonce));
	json_decref(g);
	return (strlen(d->nonce) == STORE_ID_LEN ? 0 : -1);
}

/* The code of a login as verify_code starts it: client, redirect, nonce. */
static char *
dev_login_code(uint64_t now, const char *client, const char *redirect,
    const char *nonce, const char *state)
{
	json_t	*r;
	char	*code;

	want_ok(run(IMSG_STORE_AUTHREQ_PUT, now, "{\"authreq\":{\"id\":\""
	    ID2 "\",\"clientId\":\"%s\",\"redirectUri\":\"%s\","
	    "\"scopes\":[\"openid\",\"email\",\"offline_access\"],"
	    "\"responseTypes\":[\"code\"],\"state\":\"%s\",\"nonce\":\"%s\","
	    "\"expiry\":%llu,\"hmacKey\":\"" HMACKEY "\"}}", client, redirect,
	    state, nonce, (unsigned long long)now + 600), "device login: put");
	json_decref(run(IMSG_STORE_AUTHREQ_LOGIN, now, "{\"id\":\"" ID2 "\","
	    "\"identity\":" IDENT("dora", "local") "}"));
	r = run(IMSG_STORE_CODE_ISSUE, now, "{\"id\":\"" ID2 "\"}");
	code = strdup(rstr(r, "code"));
	json_decref(r);
	return (code);
}

static json_t *
dev_poll(const struct dev *d, uint64_t now, const char *client,
    const char *verifier)
{
	char	 v[256] = "";

	if (verifier != NULL)
		snprintf(v, sizeof(v), ",\"codeVerifier\":\"%s\"", verifier);
	return (run(IMSG_STORE_DEVICE_POLL, now, "{\"deviceCode\":\"%s\","
	    "\"clientId\":\"%s\"%s,\"refresh\":true}", d->device, client, v));
}

static void
test_device(void)
{
	struct dev	 d, e;
	json_t		*r, *cfg;
	char		*code, *rt;
	size_t		 deleted;

	policy(0, 0, 0, 0);
	is_int(dev_create(&d, T0, "[\"openid\",\"email\",\"offline_access\"]",
	    CHALLENGE), 0, "device request made");
	r = run(IMSG_STORE_DEVICE_CREATE, T0, "{\"clientId\":\"app\","
	    "\"scopes\":[\"openid\"],\"redirectUri\":\"" DEVREDIR "\"}");
	ok(json_integer_value(json_object_get(r, "expiresIn")) ==
	    STORE_DEVICE_LIFETIME && json_integer_value(json_object_get(r,
	    "interval")) == STORE_DEVICE_INTERVAL,
	    "Dex's 300 s and 5 s by default");
	ok(strcmp(rstr(r, "userCode"), d.user) != 0 &&
	    strcmp(rstr(r, "deviceCode"), d.device) != 0,
	    "a second request: other codes");
	json_decref(r);
	r = run(IMSG_STORE_DEVICE_GET, T0, "{\"userCode\":\"%s\"}", d.user);
	ok(is_ok(r) && strcmp(rstr(json_object_get(r, "device"), "clientId"),
	    "app") == 0 && json_array_size(json_object_get(json_object_get(r,
	    "device"), "scopes")) == 3, "device get: client and scopes");
	json_decref(r);
	want_err(run(IMSG_STORE_DEVICE_GET, T0, "{\"userCode\":\"BCDF-GHJK\"}"),
	    "invalid_request", "Invalid or expired user code.",
	    "device get: unknown user code");

	/* Polling: Dex's first poll is free, then the interval rules. */
	want_err(dev_poll(&d, T0, "app", NULL), "authorization_pending", "",
	    "first poll: pending");
	want_err(dev_poll(&d, T0, "app", NULL), "slow_down", "",
	    "second poll in the same second: slow_down");
	want_err(dev_poll(&d, T0 + 9, "app", NULL), "slow_down", "",
	    "after 9 s with the interval at 10: slow_down");
	want_err(dev_poll(&d, T0 + 23, "app", NULL), "slow_down", "",
	    "after 14 s with the interval at 15: slow_down");
	want_err(dev_poll(&d, T0 + 43, "app", NULL), "authorization_pending",
	    "", "after 20 s with the interval at 20: pending again");
	want_err(dev_poll(&d, T0 + 48, "app", NULL), "authorization_pending",
	    "", "the interval is back at 5");
	want_err(dev_poll(&d, T0 + 49, "other", NULL), "invalid_grant",
	    "Invalid Device code.", "another client's device code");
	want_err(dev_poll(&d, T0 + 60, "app", NULL), "authorization_pending",
	    "", "... changed nothing");

	/* A code of another login (its nonce) does not finish it. */
	code = dev_login_code(T0 + 61, "app", DEVREDIR,
	    "AAAAAAAAAAAAAAAAAAAAAA", d.user);
	want_err(run(IMSG_STORE_DEVICE_COMPLETE, T0 + 61, "{\"userCode\":"
	    "\"%s\",\"code\":\"%s\"}", d.user, code), "invalid_grant",
	    "Invalid or expired auth code.", "a code with another nonce");
	want_err(redeem(code, T0 + 61, "app", DEVREDIR, NULL, 0),
	    "invalid_grant", "Invalid or expired code parameter.",
	    "... is spent");
	free(code);
	code = dev_login_code(T0 + 61, "other", DEVREDIR, d.nonce, d.user);
	want_err(run(IMSG_STORE_DEVICE_COMPLETE, T0 + 61, "{\"userCode\":"
	    "\"%s\",\"code\":\"%s\"}", d.user, code), "invalid_grant",
	    "Invalid or expired auth code.", "a code of another client");
	free(code);
	code = dev_login_code(T0 + 61, "app", "https://app/cb", d.nonce,
	    d.user);
	want_err(run(IMSG_STORE_DEVICE_COMPLETE, T0 + 61, "{\"userCode\":"
	    "\"%s\",\"code\":\"%s\"}", d.user, code), "invalid_grant",
	    "Invalid or expired auth code.", "a code for another redirect");
	free(code);
	want_err(dev_poll(&d, T0 + 70, "app", NULL), "authorization_pending",
	    "", "still pending");

	code = dev_login_code(T0 + 71, "app", DEVREDIR, d.nonce, d.user);
	r = run(IMSG_STORE_DEVICE_COMPLETE, T0 + 71, "{\"userCode\":\"%s\","
	    "\"code\":\"%s\"}", d.user, code);
	ok(is_ok(r) && strcmp(rstr(r, "clientId"), "app") == 0,
	    "the login's code completes the request");
	json_decref(r);
	want_err(run(IMSG_STORE_DEVICE_COMPLETE, T0 + 71, "{\"userCode\":"
	    "\"%s\",\"code\":\"%s\"}", d.user, code), "invalid_request",
	    "Invalid or expired user code.", "not twice");
	free(code);
	want_err(run(IMSG_STORE_DEVICE_GET, T0 + 72, "{\"userCode\":\"%s\"}",
	    d.user), "invalid_request", "Invalid or expired user code.",
	    "the user code is done with");

	/* Collected once, with PKCE; the record holds no token. */
	want_err(dev_poll(&d, T0 + 72, "app", NULL), "invalid_grant",
	    "Expecting parameter code_verifier in PKCE flow.",
	    "complete, no verifier");
	want_err(dev_poll(&d, T0 + 72, "app", VERIFIER "x"), "invalid_grant",
	    "Invalid code_verifier.", "complete, a wrong verifier");
	r = dev_poll(&d, T0 + 72, "app", VERIFIER);
	ok(is_ok(r) && strlen(rstr(r, "refreshToken")) == STORE_TOKEN_LEN,
	    "complete: the grant and a refresh token");
	ok(strcmp(rstr(json_object_get(json_object_get(r, "grant"),
	    "identity"), "userId"), "dora") == 0 &&
	    strcmp(rstr(json_object_get(r, "grant"), "clientId"), "app") == 0,
	    "the grant is the login's");
	ok(json_object_get(json_object_get(r, "grant"), "nonce") == NULL,
	    "the binding nonce is not in the grant");
	rt = strdup(rstr(r, "refreshToken"));
	json_decref(r);
	ok(active(rt, T0 + 73), "its refresh token is live");
	want_err(dev_poll(&d, T0 + 73, "app", VERIFIER), "invalid_grant",
	    "Invalid Device code.", "a used device code");
	ok(!active(rt, T0 + 73), "... revoked the refresh token it gave");
	free(rt);

	/* Denial. */
	is_int(dev_create(&e, T0, "[\"openid\"]", ""), 0, "another request");
	ok(is_ok(r = run(IMSG_STORE_DEVICE_DENY, T0 + 1, "{\"userCode\":"
	    "\"%s\"}", e.user)), "denied");
	json_decref(r);
	want_err(dev_poll(&e, T0 + 2, "app", NULL), "access_denied",
	    "The authorization request was denied.", "poll: access_denied");
	want_err(run(IMSG_STORE_DEVICE_DENY, T0 + 2, "{\"userCode\":\"%s\"}",
	    e.user), "invalid_request", "Invalid or expired user code.",
	    "denied once only");

	/* Expiry, a configured lifetime, and GC. */
	cfg = json_pack("{s:I, s:[], s:{s:b, s:I, s:I, s:I}, s:I}",
	    "authRequests", (json_int_t)3600, "refreshConnectors",
	    "refresh", "disableRotation", 0, "reuseInterval", (json_int_t)0,
	    "validIfNotUsedFor", (json_int_t)0, "absoluteLifetime",
	    (json_int_t)0, "deviceRequests", (json_int_t)60);
	store_policy_free(&pol);
	is_int(store_policy_parse(cfg, &pol), 0, "policy with deviceRequests");
	is_int((int)pol.sp_device_lifetime, 60, "deviceRequests read");
	json_object_set_new(cfg, "deviceRequests", json_integer(-1));
	is_int(store_policy_parse(cfg, &pol), -1, "negative refused");
	json_decref(cfg);
	policy(0, 0, 0, 0);
	pol.sp_device_lifetime = 60;
	is_int(dev_create(&e, T0, "[\"openid\"]", ""), 0, "a 60 s request");
	want_err(dev_poll(&e, T0 + 59, "app", NULL), "authorization_pending",
	    "", "59 s: pending");
	want_err(dev_poll(&e, T0 + 60, "app", NULL), "expired_token", "",
	    "60 s: expired_token");
	want_err(run(IMSG_STORE_DEVICE_GET, T0 + 60, "{\"userCode\":\"%s\"}",
	    e.user), "invalid_request", "Invalid or expired user code.",
	    "60 s: the user code is gone");
	deleted = 0;
	is_int(db_gc(db, T0 + 60 + STORE_DEVICE_KEEP, 0, &deleted), DB_OK,
	    "gc");
	want_err(dev_poll(&e, T0 + 60, "app", NULL), "invalid_grant",
	    "Invalid Device code.", "collected after STORE_DEVICE_KEEP");
	pol.sp_device_lifetime = 0;
}

/* One failed request in a batch aborts only its own writes. */
static void
test_batch(void)
{
	struct store_op	 ops[3];
	char		 buf[1024];
	int		 i, rc;

	policy(0, 0, 0, 0);
	snprintf(buf, sizeof(buf), "{\"authreq\":{\"id\":\"CCCCCCCCCCCCCCC"
	    "CCCCCCC\",\"clientId\":\"app\",\"redirectUri\":\"\",\"scopes\":"
	    "[],\"responseTypes\":[\"code\"],\"expiry\":%llu,\"hmacKey\":\""
	    HMACKEY "\"}}", (unsigned long long)T0 + 100);
	ops[0].so_type = ops[1].so_type = IMSG_STORE_AUTHREQ_PUT;
	ops[0].so_req = json_loads(buf, 0, NULL);
	ops[1].so_req = json_loads(buf, 0, NULL);
	ops[2].so_type = IMSG_STORE_AUTHREQ_GET;
	ops[2].so_req = json_loads("{\"id\":\"CCCCCCCCCCCCCCCCCCCCCC\"}", 0,
	    NULL);
	rc = store_batch(db, &pol, T0, ops, 3);
	is_int(rc, DB_OK, "batch committed");
	ok(is_ok(ops[0].so_reply), "batch: first put");
	ok(!is_ok(ops[1].so_reply) && strcmp(rstr(ops[1].so_reply, "error"),
	    "server_error") == 0, "batch: the duplicate fails alone");
	ok(is_ok(ops[2].so_reply), "batch: a read sees the earlier write");
	for (i = 0; i < 3; i++) {
		json_decref(ops[i].so_req);
		json_decref(ops[i].so_reply);
	}
	want_ok(run(IMSG_STORE_AUTHREQ_GET, T0, "{\"id\":\"CCCCCCCCCCCCCCCCCC"
	    "CCCC\"}"), "the batch is durable");
}

/* A full map: every reply of the batch is server_error, none crashes. */
static void
test_full(void)
{
	struct db_config	 dc;
	struct db		*small, *save = db;
	char			 dir[128], big[3001];
	json_t			*r;
	int			 i, full = 0;

	snprintf(dir, sizeof(dir), "%s/full", topdir);
	if (mkdir(dir, 0700) == -1)
		return;
	memset(&dc, 0, sizeof(dc));
	dc.dc_mapsize = DB_MAPSIZE_MIN * 4;
	dc.dc_nosync = 1;
	dc.dc_kinds = DB_KINDS_STORAGE;
	if ((small = db_open(dir, &dc)) == NULL) {
		ok(0, "small env");
		return;
	}
	db = small;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 200 && !full; i++) {
		r = run(IMSG_STORE_AUTHREQ_PUT, T0, "{\"authreq\":{\"id\":"
		    "\"A%021d\",\"clientId\":\"app\",\"redirectUri\":\"\","
		    "\"scopes\":[],\"responseTypes\":[\"code\"],\"state\":"
		    "\"%s\",\"expiry\":%llu,\"hmacKey\":\"" HMACKEY "\"}}", i,
		    big, (unsigned long long)T0 + 100);
		if (!is_ok(r) && strcmp(rstr(r, "error_description"),
		    "Storage is full.") == 0)
			full = 1;
		json_decref(r);
	}
	ok(full, "a full map answers server_error \"Storage is full.\"");
	db = save;
	db_close(small);
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/*
 * REFRESH_ROTATE on a synced env: batches of 1 (one fsync per request)
 * against batches of 8, 32 and 128, as the storage process does.
 */
static void
bench(void)
{
	static const size_t	 sizes[] = { 1, 8, 32, 128 };
	struct db_config	 dc;
	struct db		*save = db;
	struct store_op		*ops;
	json_t			*r;
	char			 dir[128], **toks;
	const size_t		 n = 1024;
	size_t			 i, j, s, k;
	double			 t;

	snprintf(dir, sizeof(dir), "%s/bench", topdir);
	if (mkdir(dir, 0700) == -1)
		return;
	memset(&dc, 0, sizeof(dc));
	dc.dc_kinds = DB_KINDS_STORAGE;
	if ((db = db_open(dir, &dc)) == NULL)
		return;
	policy(0, 0, 0, 0);
	toks = calloc(n, sizeof(*toks));
	ops = calloc(n, sizeof(*ops));
	for (i = 0; i < n; i++)
		toks[i] = issue(T0, "bench", "app");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		t = now_s();
		for (i = 0; i < n; i += sizes[s]) {
			k = sizes[s] < n - i ? sizes[s] : n - i;
			for (j = 0; j < k; j++) {
				ops[j].so_type = IMSG_STORE_REFRESH_ROTATE;
				ops[j].so_req = json_pack("{s:s, s:s}",
				    "refreshToken", toks[i + j],
				    "clientId", "app");
			}
			store_batch(db, &pol, T0 + 1 + s, ops, k);
			for (j = 0; j < k; j++) {
				r = ops[j].so_reply;
				free(toks[i + j]);
				toks[i + j] = strdup(rstr(r, "refreshToken"));
				json_decref(r);
				json_decref(ops[j].so_req);
			}
		}
		t = now_s() - t;
		diag("bench: REFRESH_ROTATE, batches of %3zu: %6.0f req/s "
		    "(%zu requests, %.3f s, synced, %s)", sizes[s], n / t, n,
		    t, topdir);
	}
	for (i = 0; i < n; i++)
		free(toks[i]);
	free(toks);
	free(ops);
	db_close(db);
	db = save;
}

static int
rmtree_cb(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", topdir);
	return (system(cmd));
}

int
main(void)
{
	struct db_config	 dc;
	char			 dir[128];

	log_init(1, LOG_DAEMON);
	snprintf(topdir, sizeof(topdir), "/var/tmp/t_store.XXXXXX");
	if (mkdtemp(topdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	snprintf(dir, sizeof(dir), "%s/main", topdir);
	mkdir(dir, 0700);
	memset(&dc, 0, sizeof(dc));
	dc.dc_kinds = DB_KINDS_STORAGE;
	dc.dc_nosync = 1;
	db = db_open(dir, &dc);
	ok(db != NULL, "env");
	if (db == NULL)
		return (tap_done());

	test_validate();
	test_authreq();
	test_redeem();
	test_pkce();
	test_rotate();
	test_local_refresh();
	test_reidentify();
	test_introspect();
	test_sessions();
	test_revocation();
	test_browser();
	test_session_end();
	test_batch();
	test_gc();
	test_user_code();
	test_device();
	test_full();
	if (getenv("T_STORE_BENCH") != NULL)
		bench();

	db_close(db);
	store_policy_free(&pol);
	(void)rmtree_cb();
	return (tap_done());
}
