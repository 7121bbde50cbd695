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
 * Unit tests for upstream.c: the oidc and oauth connector rules of
 * reference/dex.md 3.1 and 3.2.  Upstream ID tokens are signed here
 * with keys made for the run; login URLs and token requests are parsed
 * back and compared field by field.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "http.h"
#include "jose.h"
#include "upstream.h"
#include "tap.h"

#define ISS	"https://idp.example.com"
#define OURS	"https://dex.example.com/dex"
#define CB	OURS "/callback"
#define NOW	1700000000

static uint8_t	 seal_key[UPSTREAM_SEAL_KEY_LEN];
static char	 err[UPSTREAM_ERR_MAX];

static json_t *
js(const char *s)
{
	json_t		*j;
	json_error_t	 e;

	if ((j = json_loads(s, 0, &e)) == NULL) {
		fprintf(stderr, "bad test JSON: %s: %s\n", e.text, s);
		exit(1);
	}
	return (j);
}

/* An oidc config: the base keys, then extra (JSON text) on top. */
static struct upstream_conf *
oidc_conf(const char *extra)
{
	struct upstream_conf	*uc = NULL;
	json_t			*c, *x;

	c = js("{\"issuer\": \"" ISS "\", \"clientID\": \"cid\", "
	    "\"clientSecret\": \"sec\", \"redirectURI\": \"" CB "\"}");
	if (extra != NULL) {
		x = js(extra);
		json_object_update(c, x);
		json_decref(x);
	}
	err[0] = '\0';
	if (upstream_config_load(c, "oidc", "up", OURS, &uc, err,
	    sizeof(err)) == 0)
		upstream_set_seal_key(uc, seal_key);
	json_decref(c);
	return (uc);
}

static struct upstream_conf *
conf_raw(const char *type, const char *text, const char *id)
{
	struct upstream_conf	*uc = NULL;
	json_t			*c = js(text);

	err[0] = '\0';
	if (upstream_config_load(c, type, id, OURS, &uc, err,
	    sizeof(err)) == 0)
		upstream_set_seal_key(uc, seal_key);
	json_decref(c);
	return (uc);
}

#define DISCO	"{\"issuer\": \"" ISS "\", " \
	"\"authorization_endpoint\": \"" ISS "/auth\", " \
	"\"token_endpoint\": \"" ISS "/token\", " \
	"\"jwks_uri\": \"" ISS "/keys\", " \
	"\"userinfo_endpoint\": \"" ISS "/userinfo\"}"

static int
disco(struct upstream_conf *uc, const char *doc)
{
	err[0] = '\0';
	return (upstream_discovery_parse(uc, doc, strlen(doc), err,
	    sizeof(err)));
}

static int
has(const char *hay, const char *needle)
{
	return (hay != NULL && strstr(hay, needle) != NULL);
}

/*
 * Config
 */

static void
test_config(void)
{
	struct upstream_conf	*uc;

	uc = oidc_conf(NULL);
	ok(uc != NULL, "config: minimal oidc config loads (%s)", err);
	if (uc == NULL)
		return;
	is_int(uc->uc_nscopes, 3, "config: default scopes: three");
	is_str(uc->uc_scopes[0], "openid", "config: openid first");
	is_str(uc->uc_scopes[1], "profile", "config: then profile");
	is_str(uc->uc_scopes[2], "email", "config: then email");
	ok(uc->uc_has_email_scope, "config: email scope seen");
	is_str(uc->uc_user_name_key, "name", "config: userNameKey "
	    "defaults to name");
	ok(uc->uc_user_id_key == NULL, "config: userIDKey unset: sub");
	is_str(uc->uc_prompt, "consent", "config: promptType defaults to "
	    "consent");
	is_int(uc->uc_auth, UPSTREAM_AUTH_BASIC, "config: Basic auth by "
	    "default");
	is_int(uc->uc_pkce, UPSTREAM_PKCE_AUTO, "config: pkce auto");
	ok(uc->uc_refresh, "config: oidc refreshes");
	is_str(uc->uc_discovery_url, ISS "/.well-known/openid-configuration",
	    "config: discovery URL");
	is_str(uc->uc_redirect_uri, CB, "config: redirect URI kept");
	ok(!uc->uc_discovered, "config: oidc not discovered yet");
	is_int(uc->uc_nwarnings, 0, "config: no warnings");
	upstream_conf_free(uc);

	uc = oidc_conf("{\"scopes\": [\"groups\", \"openid\"]}");
	ok(uc != NULL && uc->uc_nscopes == 3 &&
	    strcmp(uc->uc_scopes[0], "openid") == 0 &&
	    strcmp(uc->uc_scopes[1], "groups") == 0 &&
	    strcmp(uc->uc_scopes[2], "openid") == 0 &&
	    !uc->uc_has_email_scope, "config: scopes replace the default, "
	    "openid prepended even if listed (as Dex)");
	upstream_conf_free(uc);

	uc = oidc_conf("{\"promptType\": \"\"}");
	ok(uc != NULL && strcmp(uc->uc_prompt, "") == 0,
	    "config: promptType \"\" stays empty");
	upstream_conf_free(uc);
	uc = oidc_conf("{\"promptType\": null}");
	ok(uc != NULL && strcmp(uc->uc_prompt, "consent") == 0,
	    "config: promptType null is unset: consent");
	upstream_conf_free(uc);
	uc = oidc_conf("{\"promptType\": \"login\"}");
	ok(uc != NULL && strcmp(uc->uc_prompt, "login") == 0,
	    "config: promptType login");
	upstream_conf_free(uc);

	uc = oidc_conf("{\"issuer\": \"https://dev-123.okta.com\"}");
	ok(uc != NULL && uc->uc_auth == UPSTREAM_AUTH_BODY,
	    "config: an okta.com subdomain sends credentials in the body");
	upstream_conf_free(uc);
	uc = oidc_conf("{\"issuer\": \"https://oktapreview.com/x\"}");
	ok(uc != NULL && uc->uc_auth == UPSTREAM_AUTH_BODY,
	    "config: oktapreview.com too");
	upstream_conf_free(uc);
	uc = oidc_conf("{\"issuer\": \"https://notokta.com\"}");
	ok(uc != NULL && uc->uc_auth == UPSTREAM_AUTH_BASIC,
	    "config: notokta.com is not okta");
	upstream_conf_free(uc);
	uc = oidc_conf("{\"issuer\": \"https://a.okta.com\", "
	    "\"basicAuthUnsupported\": false}");
	ok(uc != NULL && uc->uc_auth == UPSTREAM_AUTH_BASIC,
	    "config: basicAuthUnsupported false beats the okta rule");
	upstream_conf_free(uc);
	uc = oidc_conf("{\"basicAuthUnsupported\": true}");
	ok(uc != NULL && uc->uc_auth == UPSTREAM_AUTH_BODY,
	    "config: basicAuthUnsupported true");
	upstream_conf_free(uc);

	uc = oidc_conf("{\"redirectURI\": "
	    "\"https://dex.example.com/callback\"}");
	ok(uc == NULL && has(err, "\"" CB "\""), "config: a wrong "
	    "redirectURI is refused, naming the right one (%s)", err);
	uc = conf_raw("oidc", "{\"issuer\": \"" ISS "\", \"clientID\": "
	    "\"cid\"}", "up");
	ok(uc == NULL && has(err, "redirectURI"), "config: a missing "
	    "redirectURI is refused (%s)", err);
	uc = NULL;
	{
		json_t	*c = js("{\"issuer\": \"" ISS "\", \"clientID\": "
		    "\"cid\", \"redirectURI\": \"" CB "\"}");

		ok(upstream_config_load(c, "oidc", "up", OURS "/", &uc, err,
		    sizeof(err)) == 0, "config: our issuer with a trailing "
		    "slash gives the same callback");
		upstream_conf_free(uc);
		json_decref(c);
	}

	uc = oidc_conf("{\"hostedDomains\": [\"example.com\"]}");
	ok(uc == NULL && has(err, "hostedDomains"), "config: hostedDomains "
	    "refused (%s)", err);
	uc = oidc_conf("{\"hostedDomains\": []}");
	ok(uc != NULL, "config: an empty hostedDomains is fine");
	upstream_conf_free(uc);

	uc = conf_raw("oidc", "{\"ISSUER\": \"" ISS "\", \"ClientId\": "
	    "\"a\", \"clientid\": \"b\", \"RedirectURI\": \"" CB "\", "
	    "\"USERNAMEKEY\": \"nick\"}", "up");
	ok(uc != NULL && strcmp(uc->uc_client_id, "b") == 0 &&
	    strcmp(uc->uc_user_name_key, "nick") == 0,
	    "config: keys match case-insensitively, the last one wins");
	upstream_conf_free(uc);

	uc = oidc_conf("{\"scopes\": \"openid\"}");
	ok(uc == NULL && has(err, "scopes"), "config: scopes must be a "
	    "list (%s)", err);
	uc = oidc_conf("{\"insecureEnableGroups\": \"yes\"}");
	ok(uc == NULL && has(err, "insecureEnableGroups"),
	    "config: a string for a bool is refused (%s)", err);
	uc = oidc_conf("{\"pkceChallenge\": \"S512\"}");
	ok(uc == NULL && has(err, "pkceChallenge"), "config: unknown PKCE "
	    "method refused (%s)", err);
	uc = oidc_conf("{\"pkceChallenge\": \"plain\"}");
	ok(uc != NULL && uc->uc_pkce == UPSTREAM_PKCE_PLAIN,
	    "config: pkceChallenge plain");
	upstream_conf_free(uc);
	uc = oidc_conf("{\"issuer\": \"ftp://idp.example.com\"}");
	ok(uc == NULL && has(err, "issuer"), "config: non-http issuer "
	    "refused (%s)", err);
	uc = oidc_conf("{\"issuer\": \"\"}");
	ok(uc == NULL && has(err, "issuer"), "config: empty issuer "
	    "refused (%s)", err);
	uc = oidc_conf("{\"clientID\": \"\"}");
	ok(uc == NULL && has(err, "clientID"), "config: empty clientID "
	    "refused (%s)", err);

	uc = oidc_conf("{\"claimModifications\": {\"filterGroupClaims\": "
	    "{\"groupsFilter\": \"(\"}}}");
	ok(uc != NULL && !uc->uc_have_groups_filter &&
	    uc->uc_nwarnings == 1 && has(uc->uc_warnings[0], "groupsFilter"),
	    "config: an invalid groupsFilter is a warning and no filter");
	if (uc != NULL) {
		upstream_warnings_clear(uc);
		is_int(uc->uc_nwarnings, 0, "config: warnings cleared");
	}
	upstream_conf_free(uc);

	uc = oidc_conf("{\"providerDiscoveryOverrides\": {\"tokenURL\": "
	    "\"https://other.example.com/token\"}}");
	ok(uc != NULL && uc->uc_nwarnings == 1 &&
	    has(uc->uc_warnings[0], "vulnerability"),
	    "config: discovery overrides warn");
	upstream_conf_free(uc);
	uc = oidc_conf("{\"providerDiscoveryOverrides\": {\"tokenURL\": "
	    "\"/token\"}}");
	ok(uc == NULL && has(err, "tokenURL"), "config: a relative "
	    "override is refused (%s)", err);
	uc = oidc_conf("{\"allowedGroups\": [\"a\"]}");
	ok(uc != NULL && uc->uc_nwarnings == 1, "config: allowedGroups "
	    "without insecureEnableGroups warns");
	upstream_conf_free(uc);
	uc = oidc_conf("{\"acrValues\": [\"a\", \"b c\"]}");
	ok(uc != NULL && strcmp(uc->uc_acr_values, "a b c") == 0,
	    "config: acrValues space-joined");
	upstream_conf_free(uc);

	uc = conf_raw("oauth", "{\"clientID\": \"c\", \"redirectURI\": \""
	    CB "\", \"authorizationURL\": \"https://gh.example.com/auth\", "
	    "\"tokenURL\": \"https://gh.example.com/token\", "
	    "\"userInfoURL\": \"https://gh.example.com/user\"}", "gh");
	ok(uc != NULL, "config: oauth loads (%s)", err);
	if (uc != NULL) {
		ok(uc->uc_nscopes == 0 && !uc->uc_refresh &&
		    uc->uc_auth == UPSTREAM_AUTH_AUTO && uc->uc_discovered,
		    "config: oauth: no default scopes, no refresh, auth "
		    "auto-detected, endpoints known");
		ok(strcmp(uc->uc_oa_user_id_key, "id") == 0 &&
		    strcmp(uc->uc_oa_user_name_key, "user_name") == 0 &&
		    strcmp(uc->uc_oa_preferred_username_key,
		    "preferred_username") == 0 &&
		    strcmp(uc->uc_oa_groups_key, "groups") == 0 &&
		    strcmp(uc->uc_oa_email_key, "email") == 0 &&
		    strcmp(uc->uc_oa_email_verified_key,
		    "email_verified") == 0, "config: oauth key defaults");
	}
	upstream_conf_free(uc);
	uc = conf_raw("oauth", "{\"redirectURI\": \"" CB "\", "
	    "\"authorizationURL\": \"https://gh.example.com/auth\", "
	    "\"userInfoURL\": \"https://gh.example.com/user\"}", "gh");
	ok(uc == NULL && has(err, "tokenURL"), "config: oauth without "
	    "tokenURL refused (%s)", err);
	uc = conf_raw("ldap", "{}", "x");
	ok(uc == NULL && has(err, "ldap"), "config: other types refused");
	uc = conf_raw("oidc", "[]", "x");
	ok(uc == NULL, "config: a config that is not an object refused");
}

/*
 * Discovery
 */

static void
test_discovery(void)
{
	struct upstream_conf	*uc;
	char			 big[UPSTREAM_DISCOVERY_MAX + 16];

	uc = oidc_conf("{\"getUserInfo\": true}");
	ok(disco(uc, "{\"issuer\": \"" ISS "\", "
	    "\"authorization_endpoint\": \"" ISS "/auth?x=1\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/keys\", "
	    "\"userinfo_endpoint\": \"" ISS "/ui\", "
	    "\"end_session_endpoint\": \"" ISS "/logout\", "
	    "\"id_token_signing_alg_values_supported\": "
	    "[\"RS256\", \"HS256\", \"none\", \"ES256\", \"RS256\"], "
	    "\"code_challenge_methods_supported\": [\"plain\", \"S256\"]}") ==
	    0, "discovery: a good document (%s)", err);
	ok(uc->uc_discovered && strcmp(uc->uc_auth_url, ISS "/auth?x=1") ==
	    0 && strcmp(uc->uc_token_url, ISS "/token") == 0 &&
	    strcmp(uc->uc_jwks_url, ISS "/keys") == 0 &&
	    strcmp(uc->uc_userinfo_url, ISS "/ui") == 0 &&
	    strcmp(uc->uc_end_session_url, ISS "/logout") == 0,
	    "discovery: endpoints taken");
	ok(uc->uc_nalgs == 2 && uc->uc_algs[0] == JOSE_ALG_RS256 &&
	    uc->uc_algs[1] == JOSE_ALG_ES256, "discovery: only usable algs "
	    "kept, once each");
	is_int(uc->uc_pkce_methods, UPSTREAM_PKCE_HAS_S256 |
	    UPSTREAM_PKCE_HAS_PLAIN, "discovery: PKCE methods");

	ok(disco(uc, "{\"issuer\": \"" ISS "/\", "
	    "\"authorization_endpoint\": \"" ISS "/auth\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/keys\"}") == -1 &&
	    has(err, "expected \"" ISS "\" got \"" ISS "/\""),
	    "discovery: a trailing slash is another issuer (%s)", err);
	ok(disco(uc, "{\"authorization_endpoint\": \"" ISS "/auth\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/keys\"}") == -1,
	    "discovery: no issuer refused");
	ok(disco(uc, "{\"issuer\": \"" ISS "\", "
	    "\"authorization_endpoint\": \"" ISS "/auth\", "
	    "\"token_endpoint\": \"" ISS "/token\"}") == -1 &&
	    has(err, "jwks_uri"), "discovery: jwks_uri required (%s)", err);
	ok(disco(uc, "{\"issuer\": \"" ISS "\", "
	    "\"authorization_endpoint\": \"javascript:alert(1)\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/keys\"}") == -1 &&
	    has(err, "authorization_endpoint"),
	    "discovery: a non-http endpoint refused (%s)", err);
	ok(disco(uc, "{\"issuer\": \"" ISS "\", "
	    "\"authorization_endpoint\": \"" ISS "/auth\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/keys\"}") == -1 &&
	    has(err, "userinfo"), "discovery: getUserInfo needs a userinfo "
	    "endpoint (%s)", err);
	ok(disco(uc, "{\"issuer\": \"" ISS "\", \"issuer\": \"" ISS "\"}") ==
	    -1, "discovery: duplicate members refused");
	ok(disco(uc, "[1]") == -1, "discovery: not an object");
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, DISCO, strlen(DISCO));
	ok(disco(uc, big) == -1 && has(err, "larger"), "discovery: size "
	    "limit (%s)", err);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"issuerAlias\": \"https://alias.example.com\"}");
	ok(disco(uc, "{\"issuer\": \"https://alias.example.com\", "
	    "\"authorization_endpoint\": \"" ISS "/auth\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/keys\"}") == 0,
	    "discovery: the issuerAlias is accepted");
	ok(disco(uc, "{\"issuer\": \"https://evil.example.com\", "
	    "\"authorization_endpoint\": \"" ISS "/auth\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/keys\"}") == -1,
	    "discovery: with an alias, another issuer is still refused");
	upstream_conf_free(uc);

	uc = oidc_conf("{\"providerDiscoveryOverrides\": {"
	    "\"tokenURL\": \"https://t.example.com/tok\", "
	    "\"authURL\": \"https://a.example.com/au\", "
	    "\"jwksURL\": \"https://k.example.com/jw\"}, "
	    "\"pkceChallenge\": \"S256\"}");
	ok(disco(uc, "{\"issuer\": \"" ISS "\", "
	    "\"authorization_endpoint\": \"" ISS "/auth\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"code_challenge_methods_supported\": [\"plain\"]}") == 0,
	    "discovery: overrides fill in a missing jwks_uri (%s)", err);
	ok(strcmp(uc->uc_token_url, "https://t.example.com/tok") == 0 &&
	    strcmp(uc->uc_auth_url, "https://a.example.com/au") == 0 &&
	    strcmp(uc->uc_jwks_url, "https://k.example.com/jw") == 0 &&
	    uc->uc_userinfo_url == NULL, "discovery: overrides win");
	ok(uc->uc_nwarnings == 2 && has(uc->uc_warnings[1], "S256"),
	    "discovery: a configured PKCE method the upstream does not "
	    "list warns");
	upstream_conf_free(uc);
}

/*
 * JWKS and Cache-Control
 */

static void
test_cache(void)
{
	is_int(upstream_cache_max_age(NULL), -1, "cache: none");
	is_int(upstream_cache_max_age("max-age=300"), 300, "cache: max-age");
	is_int(upstream_cache_max_age("public, max-age=60, must-revalidate"),
	    60, "cache: among other directives");
	is_int(upstream_cache_max_age("MAX-AGE=\"120\""), 120,
	    "cache: case and quotes");
	is_int(upstream_cache_max_age("max-age=10, max-age=5"), 5,
	    "cache: the smallest of two");
	is_int(upstream_cache_max_age("no-store, max-age=600"), 0,
	    "cache: no-store");
	is_int(upstream_cache_max_age("max-age=12abc"), -1,
	    "cache: a bad number is ignored");
	is_int(upstream_cache_max_age("s-maxage=100"), -1,
	    "cache: s-maxage is not max-age");
	is_int(upstream_cache_max_age("max-age=99999999999999"), INT32_MAX,
	    "cache: a huge value is clamped");
}

/*
 * Sealing
 */

static void
test_seal(void)
{
	uint8_t		*pt, other[UPSTREAM_SEAL_KEY_LEN];
	size_t		 len;
	char		*s, *t;

	s = upstream_seal(seal_key, "up", UPSTREAM_SEAL_REFRESH, "secret-rt",
	    9);
	ok(s != NULL && strstr(s, "secret") == NULL, "seal: sealed");
	ok(upstream_unseal(seal_key, "up", UPSTREAM_SEAL_REFRESH, s, &pt,
	    &len) == 0 && len == 9 && memcmp(pt, "secret-rt", 9) == 0 &&
	    pt[9] == '\0', "seal: round trip");
	free(pt);
	ok(upstream_unseal(seal_key, "up2", UPSTREAM_SEAL_REFRESH, s, &pt,
	    &len) == -1 && pt == NULL, "seal: another connector id (AAD) "
	    "does not open it");
	ok(upstream_unseal(seal_key, "up", UPSTREAM_SEAL_LOGIN, s, &pt,
	    &len) == -1, "seal: another kind does not open it");
	memcpy(other, seal_key, sizeof(other));
	other[0] ^= 1;
	ok(upstream_unseal(other, "up", UPSTREAM_SEAL_REFRESH, s, &pt,
	    &len) == -1, "seal: another key does not open it");
	t = strdup(s);
	t[strlen(t) / 2] = t[strlen(t) / 2] == 'A' ? 'B' : 'A';
	ok(upstream_unseal(seal_key, "up", UPSTREAM_SEAL_REFRESH, t, &pt,
	    &len) == -1, "seal: a changed byte does not open");
	t[strlen(t) - 3] = '\0';
	ok(upstream_unseal(seal_key, "up", UPSTREAM_SEAL_REFRESH, t, &pt,
	    &len) == -1, "seal: a cut blob does not open");
	free(t);
	t = upstream_seal(seal_key, "up", UPSTREAM_SEAL_REFRESH, "secret-rt",
	    9);
	ok(t != NULL && strcmp(s, t) != 0, "seal: a fresh nonce each time");
	free(t);
	free(s);
	s = upstream_seal(seal_key, "up", UPSTREAM_SEAL_LOGIN, "", 0);
	ok(s != NULL && upstream_unseal(seal_key, "up", UPSTREAM_SEAL_LOGIN,
	    s, &pt, &len) == 0 && len == 0, "seal: empty plaintext");
	free(pt);
	free(s);
	ok(upstream_unseal(seal_key, "up", UPSTREAM_SEAL_LOGIN, "!!", &pt,
	    &len) == -1, "seal: not base64url");
}

/*
 * Login URL
 */

/* The query of url, parsed; *base gets what is before the '?'. */
static int
query(const char *url, struct http_params *pp, char *base, size_t bsz)
{
	const char	*q;

	if ((q = strchr(url, '?')) == NULL)
		return (-1);
	snprintf(base, bsz, "%.*s", (int)(q - url), url);
	http_params_init(pp);
	return (http_params_parse(pp, q + 1, strlen(q + 1)));
}

static char *
b64_s256(const char *v)
{
	uint8_t		md[32];
	unsigned int	len;

	EVP_Digest(v, strlen(v), md, &len, EVP_sha256(), NULL);
	return (jose_b64url_encode(md, len));
}

static void
test_login(void)
{
	struct upstream_conf		*uc;
	struct upstream_login_state	 ls;
	struct http_params		 pp;
	char				*url, *cd, *ch, base[256];

	uc = oidc_conf("{\"acrValues\": [\"gold\", \"silver\"]}");
	ok(upstream_login(uc, "areq1", 0, &url, &cd, err, sizeof(err)) == -1,
	    "login: refused before discovery");
	disco(uc, DISCO);
	ok(upstream_login(uc, "areq1", 0, &url, &cd, err, sizeof(err)) == 0,
	    "login: URL made (%s)", err);
	ok(query(url, &pp, base, sizeof(base)) == HTTP_PARAMS_OK,
	    "login: the query parses");
	is_str(base, ISS "/auth", "login: the authorization endpoint");
	is_str(http_param(&pp, "response_type"), "code",
	    "login: response_type");
	is_str(http_param(&pp, "client_id"), "cid", "login: client_id");
	is_str(http_param(&pp, "redirect_uri"), CB, "login: redirect_uri");
	is_str(http_param(&pp, "scope"), "openid profile email",
	    "login: scope space-joined");
	is_str(http_param(&pp, "state"), "areq1", "login: state");
	is_str(http_param(&pp, "acr_values"), "gold silver",
	    "login: acr_values");
	is_str(http_param(&pp, "code_challenge_method"), "S256",
	    "login: S256 when the upstream lists no method");
	ok(http_param(&pp, "access_type") == NULL &&
	    http_param(&pp, "prompt") == NULL,
	    "login: no access_type or prompt without offline_access");
	ok(upstream_login_state(uc, cd, &ls, err, sizeof(err)) == 0,
	    "login: the state opens (%s)", err);
	is_int(strlen(ls.uls_verifier), 43, "login: verifier of 43 chars");
	is_str(http_param(&pp, "nonce"), ls.uls_nonce,
	    "login: nonce sent is the nonce sealed");
	is_int(strlen(ls.uls_nonce), 43, "login: nonce of 43 chars");
	ch = b64_s256(ls.uls_verifier);
	is_str(http_param(&pp, "code_challenge"), ch,
	    "login: challenge is S256 of the sealed verifier");
	free(ch);
	ok(strstr(url, ls.uls_verifier) == NULL,
	    "login: the verifier is not in the URL");
	ok(strstr(cd, ls.uls_verifier) == NULL &&
	    strstr(cd, ls.uls_nonce) == NULL, "login: conn_data is sealed");
	http_params_free(&pp);
	cd[10] = cd[10] == 'x' ? 'y' : 'x';
	ok(upstream_login_state(uc, cd, &ls, err, sizeof(err)) == -1,
	    "login: tampered conn_data refused (%s)", err);
	free(url);
	free(cd);

	ok(upstream_login(uc, "areq2", 1, &url, &cd, err, sizeof(err)) == 0 &&
	    query(url, &pp, base, sizeof(base)) == HTTP_PARAMS_OK,
	    "login: offline URL");
	is_str(http_param(&pp, "access_type"), "offline",
	    "login: access_type=offline with offline_access");
	is_str(http_param(&pp, "prompt"), "consent",
	    "login: prompt=consent by default");
	http_params_free(&pp);
	free(url);
	/* Another connector with the same key cannot use this blob. */
	{
		struct upstream_conf	*u2;
		json_t			*c = js("{\"issuer\": \"" ISS "\", "
		    "\"clientID\": \"cid\", \"redirectURI\": \"" CB "\"}");

		upstream_config_load(c, "oidc", "other", OURS, &u2, err,
		    sizeof(err));
		upstream_set_seal_key(u2, seal_key);
		ok(upstream_login_state(u2, cd, &ls, err, sizeof(err)) == -1,
		    "login: state of another connector refused");
		upstream_conf_free(u2);
		json_decref(c);
	}
	free(cd);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"promptType\": \"\", \"pkceChallenge\": "
	    "\"plain\"}");
	disco(uc, "{\"issuer\": \"" ISS "\", "
	    "\"authorization_endpoint\": \"" ISS "/auth?tenant=a%20b\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/keys\"}");
	ok(upstream_login(uc, "areq3", 1, &url, &cd, err, sizeof(err)) == 0,
	    "login: endpoint with a query");
	ok(strncmp(url, ISS "/auth?tenant=a%20b&", strlen(ISS) + 19) == 0,
	    "login: the endpoint's query kept, ours after '&' (%s)", url);
	ok(query(url, &pp, base, sizeof(base)) == HTTP_PARAMS_OK,
	    "login: the whole query parses");
	is_str(http_param(&pp, "tenant"), "a b", "login: their parameter");
	ok(http_param(&pp, "prompt") != NULL &&
	    strcmp(http_param(&pp, "prompt"), "") == 0 &&
	    strstr(url, "prompt=&") != NULL,
	    "login: promptType \"\" sends an empty prompt");
	upstream_login_state(uc, cd, &ls, err, sizeof(err));
	is_str(http_param(&pp, "code_challenge_method"), "plain",
	    "login: pkceChallenge plain");
	is_str(http_param(&pp, "code_challenge"), ls.uls_verifier,
	    "login: plain challenge is the verifier");
	http_params_free(&pp);
	free(url);
	free(cd);
	upstream_conf_free(uc);

	uc = oidc_conf(NULL);
	disco(uc, "{\"issuer\": \"" ISS "\", "
	    "\"authorization_endpoint\": \"" ISS "/auth\", "
	    "\"token_endpoint\": \"" ISS "/token\", "
	    "\"jwks_uri\": \"" ISS "/keys\", "
	    "\"code_challenge_methods_supported\": [\"plain\"]}");
	upstream_login(uc, "s", 0, &url, &cd, err, sizeof(err));
	ok(strstr(url, "code_challenge_method=plain") != NULL,
	    "login: auto picks plain when the upstream lists only plain");
	free(url);
	free(cd);
	ok(upstream_login(uc, "", 0, &url, &cd, err, sizeof(err)) == -1,
	    "login: empty state refused");
	upstream_conf_free(uc);
}

/*
 * Token endpoint
 */

static void
test_token_request(void)
{
	struct upstream_conf		*uc;
	struct upstream_login_state	 ls;
	struct upstream_request		 req;
	json_t				*id;
	char				*want;
	const char			*cd;
	char				 exp[512];

	uc = conf_raw("oidc", "{\"issuer\": \"" ISS "\", \"clientID\": "
	    "\"my client\", \"clientSecret\": \"s:e+c/r \xc3\xa9\", "
	    "\"redirectURI\": \"" CB "\"}", "up");
	disco(uc, DISCO);
	memset(&ls, 0, sizeof(ls));
	strlcpy(ls.uls_verifier, "vvvv", sizeof(ls.uls_verifier));
	ok(upstream_token_request(uc, "c0de/+", &ls, 0, &req, err,
	    sizeof(err)) == 0, "token request: made (%s)", err);
	is_str(req.ur_url, ISS "/token", "token request: the token endpoint");
	is_str(req.ur_authorization,
	    "Basic bXkrY2xpZW50OnMlM0FlJTJCYyUyRnIrJUMzJUE5",
	    "token request: Basic of the form-encoded id and secret");
	is_str(req.ur_body, "code=c0de%2F%2B&code_verifier=vvvv&"
	    "grant_type=authorization_code&redirect_uri="
	    "https%3A%2F%2Fdex.example.com%2Fdex%2Fcallback",
	    "token request: the form, sorted, without credentials");
	is_int(req.ur_bodylen, strlen(req.ur_body), "token request: length");
	upstream_request_free(&req);
	ok(upstream_token_request(uc, "c", &ls, 1, &req, err,
	    sizeof(err)) == -1, "token request: no retry for oidc");
	ok(upstream_token_request(uc, "", &ls, 0, &req, err,
	    sizeof(err)) == -1, "token request: empty code refused");

	/* A refresh with the sealed token of an identity. */
	{
		struct upstream_id_input in = { 0 };
		json_t	*cl = js("{\"sub\": \"u\", \"name\": \"n\", "
		    "\"email\": \"e@x\", \"email_verified\": true}");

		in.ui_caller = UPSTREAM_LOGIN;
		in.ui_id_claims = cl;
		in.ui_refresh_token = "rt/1+";
		upstream_identity(uc, &in, &id, err, sizeof(err));
		json_decref(cl);
	}
	cd = json_string_value(json_object_get(id, "connectorData"));
	ok(upstream_refresh_request(uc, cd, 0, &req, err, sizeof(err)) == 0,
	    "refresh request: made (%s)", err);
	is_str(req.ur_body, "grant_type=refresh_token&refresh_token=rt%2F1%2B",
	    "refresh request: the form, no scope");
	ok(req.ur_authorization != NULL, "refresh request: Basic auth");
	upstream_request_free(&req);
	ok(upstream_refresh_request(uc, NULL, 0, &req, err,
	    sizeof(err)) == -1 && has(err, "no upstream refresh token"),
	    "refresh request: none stored (%s)", err);
	ok(upstream_refresh_request(uc, "AAAA", 0, &req, err,
	    sizeof(err)) == -1, "refresh request: garbage refused");
	json_decref(id);
	upstream_conf_free(uc);

	uc = conf_raw("oidc", "{\"issuer\": \"" ISS "\", \"clientID\": "
	    "\"cid\", \"clientSecret\": \"a&b=c\", \"redirectURI\": \"" CB
	    "\", \"basicAuthUnsupported\": true}", "up");
	disco(uc, DISCO);
	ok(upstream_token_request(uc, "xyz", &ls, 0, &req, err,
	    sizeof(err)) == 0 && req.ur_authorization == NULL,
	    "token request: basicAuthUnsupported: no Authorization");
	is_str(req.ur_body, "client_id=cid&client_secret=a%26b%3Dc&code=xyz&"
	    "code_verifier=vvvv&grant_type=authorization_code&redirect_uri="
	    "https%3A%2F%2Fdex.example.com%2Fdex%2Fcallback",
	    "token request: credentials in the form");
	upstream_request_free(&req);
	upstream_conf_free(uc);

	uc = conf_raw("oauth", "{\"clientID\": \"c\", \"clientSecret\": "
	    "\"s\", \"redirectURI\": \"" CB "\", \"authorizationURL\": "
	    "\"https://gh.example.com/auth\", \"tokenURL\": "
	    "\"https://gh.example.com/token\", \"userInfoURL\": "
	    "\"https://gh.example.com/user\"}", "gh");
	ok(upstream_token_request(uc, "k", &ls, 0, &req, err,
	    sizeof(err)) == 0 && req.ur_authorization != NULL &&
	    strstr(req.ur_body, "client_secret") == NULL,
	    "token request: oauth tries Basic first");
	upstream_request_free(&req);
	ok(upstream_token_request(uc, "k", &ls, 1, &req, err,
	    sizeof(err)) == 0 && req.ur_authorization == NULL &&
	    strstr(req.ur_body, "client_id=c&client_secret=s") != NULL,
	    "token request: oauth's retry puts them in the form");
	upstream_request_free(&req);
	ok(upstream_refresh_request(uc, "x", 0, &req, err,
	    sizeof(err)) == -1, "refresh request: oauth cannot refresh");
	upstream_conf_free(uc);

	/* The Basic value decodes to the escaped pair (RFC 6749 2.3.1). */
	want = "my+client:s%3Ae%2Bc%2Fr+%C3%A9";
	EVP_EncodeBlock((unsigned char *)exp, (const unsigned char *)want,
	    strlen(want));
	is_str(exp, "bXkrY2xpZW50OnMlM0FlJTJCYyUyRnIrJUMzJUE5",
	    "token request: the Basic vector is what it claims");
}

static int
tresp(int status, const char *ct, const char *body,
    struct upstream_tokens *t)
{
	err[0] = '\0';
	return (upstream_token_response(NULL, status, ct, body, strlen(body),
	    t, err, sizeof(err)));
}

static void
test_token_response(void)
{
	struct upstream_tokens	 t;
	char			*big;

	ok(tresp(200, "application/json; charset=utf-8",
	    "{\"access_token\": \"at\", \"token_type\": \"Bearer\", "
	    "\"refresh_token\": \"rt\", \"id_token\": \"a.b.c\", "
	    "\"expires_in\": 3600, \"scope\": \"openid\"}", &t) == 0,
	    "token response: good (%s)", err);
	ok(strcmp(t.ut_access_token, "at") == 0 &&
	    strcmp(t.ut_token_type, "Bearer") == 0 &&
	    strcmp(t.ut_refresh_token, "rt") == 0 &&
	    strcmp(t.ut_id_token, "a.b.c") == 0 &&
	    strcmp(t.ut_scope, "openid") == 0 && t.ut_expires_in == 3600,
	    "token response: every field");
	upstream_tokens_free(&t);
	ok(tresp(200, NULL, "{\"access_token\": \"at\", \"expires_in\": "
	    "\"60\"}", &t) == 0 && t.ut_expires_in == 60 &&
	    t.ut_id_token == NULL && t.ut_refresh_token == NULL,
	    "token response: expires_in as a string; absent tokens NULL");
	upstream_tokens_free(&t);
	ok(tresp(200, NULL, "{\"access_token\": \"at\"}", &t) == 0 &&
	    t.ut_expires_in == -1, "token response: no expires_in");
	upstream_tokens_free(&t);
	ok(tresp(400, "application/json", "{\"error\": \"invalid_grant\", "
	    "\"error_description\": \"code \\\"reused\\\"\"}", &t) == -1 &&
	    has(err, "invalid_grant") && has(err, "code ?reused?") &&
	    t.ut_error != NULL && strcmp(t.ut_error, "invalid_grant") == 0,
	    "token response: the upstream's error, quotes made safe (%s)",
	    err);
	upstream_tokens_free(&t);
	ok(tresp(200, NULL, "{\"error\": \"access_denied\"}", &t) == -1 &&
	    has(err, "access_denied"), "token response: an error in a 200");
	upstream_tokens_free(&t);
	ok(tresp(200, NULL, "{\"token_type\": \"bearer\"}", &t) == -1 &&
	    has(err, "missing access_token"),
	    "token response: no access_token (%s)", err);
	ok(tresp(200, NULL, "{\"access_token\": 5}", &t) == -1,
	    "token response: a number for access_token");
	ok(tresp(502, "text/html", "<html>bad gateway</html>", &t) == -1 &&
	    has(err, "HTTP 502"), "token response: not JSON, status told "
	    "(%s)", err);
	ok(tresp(200, NULL, "not json", &t) == -1 && has(err, "malformed"),
	    "token response: garbage");
	ok(tresp(200, "text/plain", "access_token=gh%2Ba&token_type=bearer&"
	    "scope=repo", &t) == 0 && strcmp(t.ut_access_token, "gh+a") == 0,
	    "token response: a form answer (GitHub)");
	upstream_tokens_free(&t);
	ok(tresp(400, "application/x-www-form-urlencoded",
	    "error=bad_verification_code", &t) == -1 &&
	    strcmp(t.ut_error, "bad_verification_code") == 0,
	    "token response: an error as a form");
	upstream_tokens_free(&t);
	big = malloc(UPSTREAM_TOKEN_RESP_MAX + 2);
	memset(big, ' ', UPSTREAM_TOKEN_RESP_MAX + 1);
	big[UPSTREAM_TOKEN_RESP_MAX + 1] = '\0';
	memcpy(big, "{\"access_token\": \"a\"}", 21);
	ok(tresp(200, NULL, big, &t) == -1, "token response: size limit");
	free(big);
}

/*
 * ID tokens
 */

struct tkey {
	const char	*kid;
	enum jose_alg	 alg;
	EVP_PKEY	*pkey;
	int		 drop_alg;
};

static struct tkey	keys[] = {
	{ "rs", JOSE_ALG_RS256, NULL, 0 },
	{ "ps", JOSE_ALG_PS256, NULL, 0 },
	{ "es", JOSE_ALG_ES256, NULL, 0 },
	{ "ed", JOSE_ALG_EDDSA, NULL, 0 },
	{ "rsnoalg", JOSE_ALG_RS256, NULL, 1 }
};

static struct upstream_jwks	jw;

static size_t
nitems_keys(void)
{
	return (sizeof(keys) / sizeof(keys[0]));
}

static json_t *
std_claims(void)
{
	return (json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", ISS,
	    "aud", "cid", "sub", "u1", "exp", (json_int_t)NOW + 300,
	    "iat", (json_int_t)NOW, "nonce", "n1"));
}

static char *
mktok(struct tkey *k, enum jose_alg alg, const char *kid, json_t *claims)
{
	char	*p, *t;

	p = json_dumps(claims, JSON_COMPACT);
	t = jose_jws_sign(k->pkey, alg, kid, p, strlen(p));
	free(p);
	json_decref(claims);
	return (t);
}

static int
vfy(struct upstream_conf *uc, const char *tok, const char *nonce,
    const char *at, int skip, int *need)
{
	json_t	*cl = NULL;
	int	 r;

	err[0] = '\0';
	r = upstream_id_token_verify(uc, &jw, tok, nonce, at, skip, NOW, &cl,
	    need, err, sizeof(err));
	if (r == 0 && (cl == NULL || strcmp(json_string_value(
	    json_object_get(cl, "sub")), "u1") != 0))
		r = -2;
	json_decref(cl);
	return (r);
}

/* A JWS with any header and a junk signature. */
static char *
rawtok(const char *hdr, const char *payload, const char *sig)
{
	char	*h, *p, *t;

	h = jose_b64url_encode(hdr, strlen(hdr));
	p = jose_b64url_encode(payload, strlen(payload));
	if (asprintf(&t, "%s.%s.%s", h, p, sig) == -1)
		t = NULL;
	free(h);
	free(p);
	return (t);
}

static void
test_id_token(void)
{
	struct upstream_conf	*uc;
	json_t			*set, *jwk, *cl;
	char			*body, *t, *at_hash, *p;
	uint8_t			 md[32];
	unsigned int		 mdl;
	size_t			 i;
	int			 need;

	set = json_pack("{s:[]}", "keys");
	for (i = 0; i < nitems_keys(); i++) {
		keys[i].pkey = (i == 4) ? keys[0].pkey :
		    jose_key_generate(keys[i].alg);
		jwk = jose_jwk_public(keys[i].pkey, keys[i].alg, keys[i].kid);
		if (keys[i].drop_alg)
			json_object_del(jwk, "alg");
		json_array_append_new(json_object_get(set, "keys"), jwk);
	}
	/* An HMAC key and an encryption key are skipped, not fatal. */
	json_array_append_new(json_object_get(set, "keys"), json_pack(
	    "{s:s, s:s, s:s}", "kty", "oct", "kid", "hs", "k", "c2VjcmV0"));
	body = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	ok(upstream_jwks_parse(&jw, body, strlen(body), NOW, 30, err,
	    sizeof(err)) == 0 && jw.uj_set.nkeys == 5 &&
	    jw.uj_set.nskipped == 1, "jwks: five keys, the HMAC one "
	    "skipped (%s)", err);
	free(body);
	ok(jw.uj_alg_given[0] && !jw.uj_alg_given[4],
	    "jwks: which JWKs named their alg");
	is_int(jw.uj_expires, NOW + UPSTREAM_JWKS_AGE_MIN,
	    "jwks: max-age below the floor is raised");
	ok(!upstream_jwks_stale(&jw, NOW + 59) &&
	    upstream_jwks_stale(&jw, NOW + 60), "jwks: stale after max-age");
	ok(!upstream_jwks_may_refetch(&jw, NOW + 10) &&
	    upstream_jwks_may_refetch(&jw, NOW + 60),
	    "jwks: refetch at most once a minute");
	{
		struct upstream_jwks	j2;

		ok(upstream_jwks_parse(&j2, "{\"keys\": []}", 12, NOW, -1,
		    err, sizeof(err)) == -1, "jwks: no usable key is an "
		    "error");
		ok(upstream_jwks_parse(&j2, "{\"keys\": [{\"kty\": \"RSA\", "
		    "\"n\": \"AQAB\", \"e\": \"AQAB\"}]}", 49, NOW, -1, err,
		    sizeof(err)) == -1, "jwks: a tiny RSA key is unusable");
	}

	uc = oidc_conf(NULL);
	disco(uc, DISCO);

	for (i = 0; i < 4; i++) {
		t = mktok(&keys[i], keys[i].alg, keys[i].kid, std_claims());
		is_int(vfy(uc, t, "n1", NULL, 0, &need), 0,
		    "id token: good %s token (%s)",
		    jose_alg_name(keys[i].alg), err);
		free(t);
	}

	cl = std_claims();
	json_object_set_new(cl, "iss", json_string(ISS "/"));
	t = mktok(&keys[0], JOSE_ALG_RS256, "rs", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "issued by"),
	    "id token: wrong iss (%s)", err);
	free(t);

	cl = std_claims();
	json_object_set_new(cl, "aud", json_string("other"));
	t = mktok(&keys[2], JOSE_ALG_ES256, "es", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "aud"),
	    "id token: wrong aud (%s)", err);
	ok(vfy(uc, t, NULL, NULL, 1, &need) == 0,
	    "id token: wrong aud passes with skip_client_id_check");
	free(t);

	cl = std_claims();
	json_object_set_new(cl, "aud", json_pack("[s, s]", "other", "cid"));
	json_object_set_new(cl, "azp", json_string("cid"));
	t = mktok(&keys[2], JOSE_ALG_ES256, "es", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == 0,
	    "id token: aud array with us, azp us");
	free(t);
	cl = std_claims();
	json_object_set_new(cl, "aud", json_pack("[s, s]", "other", "cid"));
	json_object_set_new(cl, "azp", json_string("other"));
	t = mktok(&keys[2], JOSE_ALG_ES256, "es", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "azp"),
	    "id token: several aud and azp not us (%s)", err);
	free(t);
	cl = std_claims();
	json_object_set_new(cl, "aud", json_pack("[s, i]", "cid", 3));
	t = mktok(&keys[2], JOSE_ALG_ES256, "es", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1,
	    "id token: a number in aud");
	free(t);

	cl = std_claims();
	json_object_set_new(cl, "exp", json_integer(NOW - 61));
	t = mktok(&keys[3], JOSE_ALG_EDDSA, "ed", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "expired"),
	    "id token: expired beyond the leeway (%s)", err);
	free(t);
	cl = std_claims();
	json_object_set_new(cl, "exp", json_integer(NOW - 30));
	t = mktok(&keys[3], JOSE_ALG_EDDSA, "ed", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == 0,
	    "id token: expired within the leeway passes");
	free(t);
	cl = std_claims();
	json_object_del(cl, "exp");
	t = mktok(&keys[3], JOSE_ALG_EDDSA, "ed", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1, "id token: no exp");
	free(t);
	cl = std_claims();
	json_object_set_new(cl, "iat", json_integer(NOW + 120));
	t = mktok(&keys[3], JOSE_ALG_EDDSA, "ed", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "iat"),
	    "id token: iat in the future (%s)", err);
	free(t);
	cl = std_claims();
	json_object_set_new(cl, "nbf", json_integer(NOW + 120));
	t = mktok(&keys[3], JOSE_ALG_EDDSA, "ed", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "nbf"),
	    "id token: nbf in the future (%s)", err);
	free(t);

	t = mktok(&keys[0], JOSE_ALG_RS256, "rs", std_claims());
	ok(vfy(uc, t, "n2", NULL, 0, &need) == -1 && has(err, "nonce"),
	    "id token: nonce mismatch (%s)", err);
	ok(vfy(uc, t, NULL, NULL, 0, &need) == 0,
	    "id token: no nonce expected (refresh)");
	/* Tampered payload: change a byte of the middle part. */
	p = strchr(t, '.') + 5;
	*p = *p == 'A' ? 'B' : 'A';
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && need == 0,
	    "id token: tampered payload refused (%s)", err);
	free(t);
	cl = std_claims();
	json_object_del(cl, "nonce");
	t = mktok(&keys[0], JOSE_ALG_RS256, "rs", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "nonce"),
	    "id token: nonce missing (%s)", err);
	free(t);

	t = rawtok("{\"alg\":\"none\"}", "{\"iss\":\"" ISS "\"}", "");
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "none"),
	    "id token: alg none, empty signature (%s)", err);
	free(t);
	t = rawtok("{\"alg\":\"none\"}", "{\"iss\":\"" ISS "\"}", "c2ln");
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "none"),
	    "id token: alg none with a signature (%s)", err);
	free(t);
	t = rawtok("{\"alg\":\"HS256\",\"kid\":\"rs\"}",
	    "{\"iss\":\"" ISS "\"}", "c2lnbmF0dXJl");
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "HS256"),
	    "id token: HS256 refused (%s)", err);
	free(t);
	t = rawtok("{\"alg\":\"XY99\"}", "{}", "c2ln");
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && has(err, "XY99"),
	    "id token: unknown alg named (%s)", err);
	free(t);

	/* The RS256 JWK signs a PS256 token: the alg is not its own. */
	t = mktok(&keys[0], JOSE_ALG_PS256, "rs", std_claims());
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 &&
	    has(err, "does not match"), "id token: alg/key mismatch (%s)",
	    err);
	free(t);
	t = mktok(&keys[4], JOSE_ALG_PS256, "rsnoalg", std_claims());
	ok(vfy(uc, t, "n1", NULL, 0, &need) == 0,
	    "id token: a JWK without alg admits PS256 for its RSA key");
	free(t);
	t = mktok(&keys[2], JOSE_ALG_ES256, "rs", std_claims());
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1,
	    "id token: an EC token under an RSA kid");
	free(t);

	t = mktok(&keys[0], JOSE_ALG_RS256, "new-key", std_claims());
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && need == 1,
	    "id token: unknown kid asks for a JWKS refresh (%s)", err);
	free(t);
	t = mktok(&keys[0], JOSE_ALG_RS256, "es", std_claims());
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 && need == 0,
	    "id token: known kid, bad signature: no refresh");
	free(t);
	t = mktok(&keys[3], JOSE_ALG_EDDSA, NULL, std_claims());
	ok(vfy(uc, t, "n1", NULL, 0, &need) == 0,
	    "id token: no kid: the key that fits");
	free(t);

	/* at_hash: left half of SHA-256 of the access token. */
	EVP_Digest("access-1", 8, md, &mdl, EVP_sha256(), NULL);
	at_hash = jose_b64url_encode(md, 16);
	cl = std_claims();
	json_object_set_new(cl, "at_hash", json_string(at_hash));
	t = mktok(&keys[0], JOSE_ALG_RS256, "rs", cl);
	ok(vfy(uc, t, "n1", "access-1", 0, &need) == 0,
	    "id token: at_hash good (%s)", err);
	ok(vfy(uc, t, "n1", "access-2", 0, &need) == -1 &&
	    has(err, "at_hash"), "id token: at_hash bad (%s)", err);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == 0,
	    "id token: at_hash not checked without an access token");
	free(t);
	free(at_hash);

	/* Discovery lists RS256 only: an ES256 token is refused. */
	uc->uc_algs[0] = JOSE_ALG_RS256;
	uc->uc_nalgs = 1;
	t = mktok(&keys[2], JOSE_ALG_ES256, "es", std_claims());
	ok(vfy(uc, t, "n1", NULL, 0, &need) == -1 &&
	    has(err, "signing_alg_values"), "id token: alg not in "
	    "discovery's list (%s)", err);
	free(t);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"issuerAlias\": \"https://alias.example.com\"}");
	cl = std_claims();
	json_object_set_new(cl, "iss", json_string(
	    "https://alias.example.com"));
	t = mktok(&keys[0], JOSE_ALG_RS256, "rs", cl);
	ok(vfy(uc, t, "n1", NULL, 0, &need) == 0,
	    "id token: iss may be the alias");
	free(t);
	upstream_conf_free(uc);
}

/*
 * Identity
 */

static int
ident(struct upstream_conf *uc, enum upstream_caller caller,
    const char *claims, const char *userinfo, const char *rt, json_t **id)
{
	struct upstream_id_input	 in;
	json_t				*c = NULL, *u = NULL;
	int				 r;

	memset(&in, 0, sizeof(in));
	in.ui_caller = caller;
	if (claims != NULL)
		c = js(claims);
	if (userinfo != NULL)
		u = js(userinfo);
	in.ui_id_claims = c;
	in.ui_userinfo = u;
	in.ui_refresh_token = rt;
	err[0] = '\0';
	*id = NULL;
	r = upstream_identity(uc, &in, id, err, sizeof(err));
	json_decref(c);
	json_decref(u);
	return (r);
}

static const char *
fs(const json_t *id, const char *k)
{
	return (json_string_value(json_object_get(id, k)));
}

/* The groups of an identity joined with ',' (static buffer). */
static const char *
groups(const json_t *id)
{
	static char	 buf[1024];
	json_t		*v;
	size_t		 i;

	buf[0] = '\0';
	json_array_foreach(json_object_get(id, "groups"), i, v) {
		if (i)
			strlcat(buf, ",", sizeof(buf));
		strlcat(buf, json_string_value(v), sizeof(buf));
	}
	return (buf);
}

#define STD	"\"sub\": \"u1\", \"name\": \"Jane\", \"email\": " \
	"\"j@example.com\", \"email_verified\": true"

static void
test_identity(void)
{
	struct upstream_conf	*uc;
	json_t			*id, *old;
	uint8_t			*pt;
	size_t			 len;

	uc = oidc_conf(NULL);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"preferred_username\": "
	    "\"jd\", \"groups\": [\"g\"]}", NULL, NULL, &id) == 0,
	    "identity: standard claims (%s)", err);
	ok(id != NULL && strcmp(fs(id, "userId"), "u1") == 0 &&
	    strcmp(fs(id, "username"), "Jane") == 0 &&
	    strcmp(fs(id, "preferredUsername"), "jd") == 0 &&
	    strcmp(fs(id, "email"), "j@example.com") == 0 &&
	    json_is_true(json_object_get(id, "emailVerified")) &&
	    strcmp(fs(id, "connectorId"), "up") == 0,
	    "identity: every field mapped");
	ok(json_array_size(json_object_get(id, "groups")) == 0,
	    "identity: groups ignored without insecureEnableGroups");
	ok(json_object_get(id, "connectorData") == NULL,
	    "identity: no connectorData without a refresh token");
	json_decref(id);

	ok(ident(uc, UPSTREAM_LOGIN, "{" STD "}", NULL, "up-rt", &id) == 0 &&
	    fs(id, "connectorData") != NULL &&
	    strstr(fs(id, "connectorData"), "up-rt") == NULL,
	    "identity: the refresh token is sealed in connectorData");
	ok(upstream_unseal(seal_key, "up", UPSTREAM_SEAL_REFRESH,
	    fs(id, "connectorData"), &pt, &len) == 0 && len == 5 &&
	    memcmp(pt, "up-rt", 5) == 0, "identity: and unseals to it");
	free(pt);
	old = id;

	ok(ident(uc, UPSTREAM_REFRESH, "{" STD "}", NULL, NULL, &id) == 0,
	    "identity: refresh without a new refresh token");
	ok(upstream_refresh_merge(old, id, err, sizeof(err)) == 0 &&
	    strcmp(fs(id, "connectorData"), fs(old, "connectorData")) == 0,
	    "refresh merge: the old refresh token is kept");
	json_decref(id);
	ok(ident(uc, UPSTREAM_REFRESH, "{\"sub\": \"u2\", \"name\": \"J\", "
	    "\"email\": \"e\", \"email_verified\": true}", NULL, NULL,
	    &id) == 0, "identity: refresh with another sub maps");
	ok(upstream_refresh_merge(old, id, err, sizeof(err)) == -1 &&
	    has(err, "user id changed"), "refresh merge: user id changed "
	    "(%s)", err);
	json_decref(id);
	json_decref(old);

	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": \"u1\", \"email\": \"e\", "
	    "\"email_verified\": true}", NULL, NULL, &id) == -1 &&
	    strcmp(err, "missing \"name\" claim") == 0,
	    "identity: missing name is Dex's error (%s)", err);
	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": 5, \"name\": \"n\", "
	    "\"email\": \"e\", \"email_verified\": true}", NULL, NULL,
	    &id) == -1 && strcmp(err, "missing \"sub\" claim") == 0,
	    "identity: a non-string sub (%s)", err);
	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": \"u1\", \"name\": \"n\", "
	    "\"email_verified\": true}", NULL, NULL, &id) == -1 &&
	    has(err, "missing email claim"),
	    "identity: email missing with the email scope (%s)", err);
	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": \"u1\", \"name\": \"n\", "
	    "\"email\": \"e\"}", NULL, NULL, &id) == -1 &&
	    has(err, "email_verified"), "identity: email_verified missing "
	    "with the email scope (%s)", err);
	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": \"u1\", \"name\": \"n\", "
	    "\"email\": \"e\", \"email_verified\": \"true\"}", NULL, NULL,
	    &id) == -1, "identity: a string email_verified counts as "
	    "missing");
	ok(ident(uc, UPSTREAM_LOGIN, NULL, NULL, NULL, &id) == -1 &&
	    has(err, "no id_token"), "identity: login without an ID token "
	    "(%s)", err);
	ok(ident(uc, UPSTREAM_REFRESH, NULL, NULL, NULL, &id) == -1 &&
	    has(err, "sub"), "identity: refresh without ID token or "
	    "userinfo lacks sub (%s)", err);
	ok(ident(uc, UPSTREAM_EXCHANGE_ACCESS, NULL, "{" STD "}", NULL,
	    &id) == -1 && has(err, "getUserInfo is required"),
	    "identity: access token exchange needs getUserInfo (%s)", err);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"scopes\": [\"profile\"]}");
	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": \"u1\", \"name\": \"n\"}",
	    NULL, NULL, &id) == 0 && strcmp(fs(id, "email"), "") == 0 &&
	    json_is_false(json_object_get(id, "emailVerified")),
	    "identity: without the email scope, no email is fine and "
	    "unverified");
	json_decref(id);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"insecureSkipEmailVerified\": true}");
	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": \"u1\", \"name\": \"n\", "
	    "\"email\": \"e\"}", NULL, NULL, &id) == 0 &&
	    json_is_true(json_object_get(id, "emailVerified")),
	    "identity: insecureSkipEmailVerified makes it verified");
	json_decref(id);
	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": \"u1\", \"name\": \"n\", "
	    "\"email\": \"e\", \"email_verified\": false}", NULL, NULL,
	    &id) == 0 && json_is_false(json_object_get(id, "emailVerified")),
	    "identity: but an explicit false stays false");
	json_decref(id);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"userNameKey\": \"preferred_username\", "
	    "\"claimMapping\": {\"email\": \"mail\", \"preferred_username\": "
	    "\"nick\"}}");
	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": \"u1\", "
	    "\"preferred_username\": \"pu\", \"nick\": \"nk\", \"mail\": "
	    "\"m@x\", \"email_verified\": true}", NULL, NULL, &id) == 0 &&
	    strcmp(fs(id, "username"), "pu") == 0 &&
	    strcmp(fs(id, "email"), "m@x") == 0 &&
	    strcmp(fs(id, "preferredUsername"), "pu") == 0,
	    "identity: userNameKey; claimMapping only when the standard "
	    "claim is missing");
	json_decref(id);
	ok(ident(uc, UPSTREAM_LOGIN, "{\"sub\": \"u1\", "
	    "\"preferred_username\": \"pu\", \"mail\": 7, "
	    "\"email_verified\": true}", NULL, NULL, &id) == -1 &&
	    has(err, "\"mail\""), "identity: the mapped email key named in "
	    "the error (%s)", err);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"overrideClaimMapping\": true, \"claimMapping\": "
	    "{\"email\": \"mail\", \"preferred_username\": \"nick\"}}");
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"preferred_username\": "
	    "\"pu\", \"nick\": \"nk\", \"mail\": \"m@x\"}", NULL, NULL,
	    &id) == 0 && strcmp(fs(id, "email"), "m@x") == 0 &&
	    strcmp(fs(id, "preferredUsername"), "nk") == 0,
	    "identity: overrideClaimMapping: the mapping wins");
	json_decref(id);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"insecureEnableGroups\": true}");
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"groups\": [\"a\", "
	    "{\"name\": \"b\"}, {\"id\": 1}, \"c\"]}", NULL, NULL,
	    &id) == 0 && strcmp(groups(id), "a,b,c") == 0,
	    "identity: groups: strings and {name}; no name skipped (%s)",
	    groups(id));
	json_decref(id);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"groups\": \"solo\"}", NULL,
	    NULL, &id) == 0 && strcmp(groups(id), "solo") == 0,
	    "identity: a string is one group");
	json_decref(id);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"groups\": [\"a\", 3]}",
	    NULL, NULL, &id) == -1 && strcmp(err,
	    "malformed \"groups\" claim") == 0,
	    "identity: a number among groups (%s)", err);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD "}", NULL, NULL, &id) == 0 &&
	    json_array_size(json_object_get(id, "groups")) == 0,
	    "identity: no groups claim, no groups");
	json_decref(id);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"insecureEnableGroups\": true, \"claimMapping\": "
	    "{\"groups\": \"roles\"}, \"allowedGroups\": [\"admin\", "
	    "\"ops\"]}");
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"roles\": [\"dev\", "
	    "\"ops\", \"admin\"]}", NULL, NULL, &id) == 0 &&
	    strcmp(groups(id), "ops,admin") == 0,
	    "identity: mapped groups key; allowedGroups keeps the "
	    "intersection in the user's order");
	json_decref(id);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"roles\": [\"dev\"]}", NULL,
	    NULL, &id) == UPSTREAM_DENIED && strcmp(err,
	    UPSTREAM_ERR_GROUPS) == 0 && id == NULL,
	    "identity: not in allowedGroups is UPSTREAM_DENIED (%s)", err);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD "}", NULL, NULL, &id) ==
	    UPSTREAM_DENIED, "identity: no groups at all is denied too");
	upstream_conf_free(uc);

	uc = oidc_conf("{\"insecureEnableGroups\": true, "
	    "\"claimModifications\": {\"filterGroupClaims\": "
	    "{\"groupsFilter\": \"^dev-\"}, \"modifyGroupNames\": "
	    "{\"prefix\": \"up:\", \"suffix\": \"!\"}, "
	    "\"newGroupFromClaims\": [{\"claims\": [\"org\", \"num\", "
	    "\"team\"], \"delimiter\": \"/\", \"clearDelimiter\": true, "
	    "\"prefix\": \"x\"}, {\"claims\": [\"absent\"], \"prefix\": "
	    "\"never\"}]}}");
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"groups\": [\"dev-a\", "
	    "\"ops\", {\"name\": \"dev-b\"}], \"org\": \"a/b//c\", \"num\": "
	    "5, \"team\": \"t1\"}", NULL, NULL, &id) == 0,
	    "identity: claim modifications (%s)", err);
	is_str(groups(id), "up:dev-a!,up:dev-b!,x/abc/t1",
	    "identity: filter, prefix/suffix, then a new group from "
	    "claims with the delimiter cleared and non-strings skipped");
	json_decref(id);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"groups\": \"ops\"}", NULL,
	    NULL, &id) == 0 && strcmp(groups(id), "up:ops!") == 0,
	    "identity: a single-string group is not filtered (as Dex)");
	json_decref(id);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"insecureEnableGroups\": true, "
	    "\"claimModifications\": {\"filterGroupClaims\": "
	    "{\"groupsFilter\": \"[\"}}}");
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"groups\": [\"a\", "
	    "\"b\"]}", NULL, NULL, &id) == 0 &&
	    strcmp(groups(id), "a,b") == 0,
	    "identity: an invalid filter filters nothing");
	json_decref(id);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"userIDKey\": \"uid\"}");
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"uid\": \"U-9\"}", NULL,
	    NULL, &id) == 0 && strcmp(fs(id, "userId"), "U-9") == 0,
	    "identity: userIDKey replaces sub");
	json_decref(id);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"uid\": 9}", NULL, NULL,
	    &id) == -1 && has(err, "uid"),
	    "identity: a non-string userIDKey claim (%s)", err);
	upstream_conf_free(uc);

	uc = oidc_conf("{\"getUserInfo\": true}");
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD ", \"only_id\": \"x\"}",
	    "{\"sub\": \"u1\", \"name\": \"Jane From Userinfo\"}", NULL,
	    &id) == 0 && strcmp(fs(id, "username"),
	    "Jane From Userinfo") == 0 &&
	    strcmp(fs(id, "email"), "j@example.com") == 0,
	    "identity: getUserInfo: userinfo wins, ID token claims stay");
	json_decref(id);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD "}", "{\"sub\": \"u2\"}", NULL,
	    &id) == -1 && has(err, "sub"),
	    "identity: userinfo of another sub refused (%s)", err);
	ok(ident(uc, UPSTREAM_REFRESH, NULL, "{" STD "}", NULL, &id) == 0,
	    "identity: refresh without ID token works from userinfo");
	json_decref(id);
	ok(ident(uc, UPSTREAM_EXCHANGE_ACCESS, NULL, "{" STD "}", NULL,
	    &id) == 0, "identity: access token exchange with getUserInfo");
	json_decref(id);
	ok(ident(uc, UPSTREAM_LOGIN, "{" STD "}", NULL, NULL, &id) == -1,
	    "identity: getUserInfo without userinfo given");
	upstream_conf_free(uc);
}

static int
oa(struct upstream_conf *uc, const char *ui, const char *at, int grp,
    json_t **id)
{
	struct upstream_id_input	 in;
	json_t				*u = js(ui);
	int				 r;

	memset(&in, 0, sizeof(in));
	in.ui_caller = UPSTREAM_LOGIN;
	in.ui_userinfo = u;
	in.ui_access_token = at;
	in.ui_groups = grp;
	err[0] = '\0';
	r = upstream_identity(uc, &in, id, err, sizeof(err));
	json_decref(u);
	return (r);
}

static void
test_oauth(void)
{
	struct upstream_conf	*uc;
	json_t			*id;
	char			*p, *at;
	static const struct {
		const char	*num;
		const char	*want;
	} nums[] = {
		{ "42", "42" },
		{ "123456", "123456" },
		{ "1234567", "1.234567e+06" },
		{ "12345678", "1.2345678e+07" },
		{ "1e21", "1e+21" },
		{ "0.5", "0.5" },
		{ "0.0001", "0.0001" },
		{ "0.00001", "1e-05" },
		{ "-42", "-42" },
		{ "1.5e300", "1.5e+300" }
	};
	size_t			 i;
	char			 ui[128];

	uc = conf_raw("oauth", "{\"clientID\": \"c\", \"redirectURI\": \""
	    CB "\", \"authorizationURL\": \"https://gh.example.com/auth\", "
	    "\"tokenURL\": \"https://gh.example.com/token\", "
	    "\"userInfoURL\": \"https://gh.example.com/user\", "
	    "\"scopes\": [\"read:user\"]}", "gh");
	ok(oa(uc, "{\"id\": \"abc\", \"user_name\": \"u\", "
	    "\"preferred_username\": \"p\", \"email\": \"e@x\", "
	    "\"email_verified\": true, \"groups\": [\"a\", {\"name\": "
	    "\"b\"}, 3, \"a\"]}", NULL, 1, &id) == 0,
	    "oauth: userinfo maps (%s)", err);
	ok(strcmp(fs(id, "userId"), "abc") == 0 &&
	    strcmp(fs(id, "username"), "u") == 0 &&
	    strcmp(fs(id, "preferredUsername"), "p") == 0 &&
	    strcmp(fs(id, "email"), "e@x") == 0 &&
	    json_is_true(json_object_get(id, "emailVerified")) &&
	    strcmp(fs(id, "connectorId"), "gh") == 0 &&
	    json_object_get(id, "connectorData") == NULL,
	    "oauth: every field, no connectorData");
	is_str(groups(id), "a,b", "oauth: groups from userinfo, once each, "
	    "others ignored");
	json_decref(id);
	ok(oa(uc, "{\"id\": \"abc\", \"groups\": [\"a\"]}", NULL, 0,
	    &id) == 0 && json_array_size(json_object_get(id, "groups")) == 0 &&
	    json_is_false(json_object_get(id, "emailVerified")) &&
	    strcmp(fs(id, "username"), "") == 0,
	    "oauth: no groups unless asked; missing claims empty");
	json_decref(id);

	p = jose_b64url_encode("{\"groups\":[\"c\",\"a\"]}", 20);
	if (asprintf(&at, "hdr.%s.sig", p) == -1)
		at = NULL;
	ok(oa(uc, "{\"id\": \"abc\", \"groups\": [\"a\"]}", at, 1,
	    &id) == 0 && strcmp(groups(id), "a,c") == 0,
	    "oauth: groups from the access token's payload too (%s)",
	    groups(id));
	json_decref(id);
	free(at);
	free(p);
	ok(oa(uc, "{\"id\": \"abc\"}", "opaque-token", 1, &id) == 0,
	    "oauth: an opaque access token is fine");
	json_decref(id);

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(ui, sizeof(ui), "{\"id\": %s}", nums[i].num);
		if (oa(uc, ui, NULL, 0, &id) == 0)
			is_str(fs(id, "userId"), nums[i].want,
			    "oauth: numeric id %s as Go's %%v", nums[i].num);
		else
			ok(0, "oauth: numeric id %s (%s)", nums[i].num, err);
		json_decref(id);
	}
	ok(oa(uc, "{\"id\": true}", NULL, 0, &id) == -1 &&
	    has(err, "string or number"), "oauth: a bool id (%s)", err);
	ok(oa(uc, "{\"login\": \"x\"}", NULL, 0, &id) == -1 &&
	    has(err, "not found id claim"), "oauth: no id (%s)", err);
	ok(oa(uc, "{\"id\": \"\"}", NULL, 0, &id) == -1,
	    "oauth: an empty id is refused (storage needs one)");
	upstream_conf_free(uc);

	uc = conf_raw("oauth", "{\"redirectURI\": \"" CB "\", "
	    "\"authorizationURL\": \"https://gh.example.com/auth\", "
	    "\"tokenURL\": \"https://gh.example.com/token\", "
	    "\"userInfoURL\": \"https://gh.example.com/user\", "
	    "\"userIDKey\": \"sub\", \"claimMapping\": {\"userNameKey\": "
	    "\"login\", \"groupsKey\": \"teams\", \"emailVerifiedKey\": "
	    "\"verified\"}}", "gh");
	ok(oa(uc, "{\"sub\": \"s\", \"login\": \"l\", \"teams\": [\"t\"], "
	    "\"verified\": true}", NULL, 1, &id) == 0 &&
	    strcmp(fs(id, "userId"), "s") == 0 &&
	    strcmp(fs(id, "username"), "l") == 0 &&
	    strcmp(groups(id), "t") == 0 &&
	    json_is_true(json_object_get(id, "emailVerified")),
	    "oauth: configured keys");
	json_decref(id);
	{
		char	*url, *cd;

		ok(upstream_login(uc, "st", 1, &url, &cd, err,
		    sizeof(err)) == 0 && strstr(url, "nonce=") == NULL &&
		    strstr(url, "code_challenge_method=S256") != NULL &&
		    strstr(url, "prompt=") == NULL &&
		    strstr(url, "scope=") == NULL,
		    "oauth: login URL: PKCE, no nonce, no prompt, no scope");
		free(url);
		free(cd);
	}
	upstream_conf_free(uc);
}

int
main(void)
{
	arc4random_buf(seal_key, sizeof(seal_key));
	test_config();
	test_discovery();
	test_cache();
	test_seal();
	test_login();
	test_token_request();
	test_token_response();
	test_id_token();
	test_identity();
	test_oauth();
	upstream_jwks_free(&jw);
	EVP_PKEY_free(keys[0].pkey);
	EVP_PKEY_free(keys[1].pkey);
	EVP_PKEY_free(keys[2].pkey);
	EVP_PKEY_free(keys[3].pkey);
	return (tap_done());
}
