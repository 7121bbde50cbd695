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
 * Unit tests for oauth2.c against Dex's behaviour: its
 * TestParseAuthorizationRequest, TestValidRedirectURI, TestGetSubject,
 * TestAccessTokenHash and TestGetAudience cases, and the exact bodies
 * and redirects of dex.md §1 and §4.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http.h"
#include "jose.h"
#include "oauth2.h"
#include "tap.h"

/* sha256sum of "secret", "p@ss word" and "peersecret". */
#define H_SECRET	"2bb80d537b1da3e38bd30361aa855686" \
			"bde0eacd7162fef6a25fe97bf527a25b"
#define H_PASSWORD	"a4ed1d3988597831f27038b39106a64a" \
			"e6f2524116f457b4a4917b58fae46a54"
#define H_PEER		"f17b2bdf24b756ce7b4e61ade2af95d1" \
			"586304648dc5e796d9d32885b7c1b9b8"

static const char *conf_fmt =
    "{\"issuer\":\"https://id.example/dex\",\"issuerPath\":\"/dex\","
    "\"clients\":["
    "{\"id\":\"foo\",\"name\":\"Foo\",\"public\":false,"
    "\"redirectURIs\":[\"https://example.com/foo\","
    "\"https://example.com/q?x=1\"],\"trustedPeers\":[],\"grantTypes\":[],"
    "\"secretHash\":\"" H_SECRET "\"},"
    "{\"id\":\"bar\",\"name\":\"Bar\",\"public\":false,"
    "\"redirectURIs\":[\"https://example.com/bar\"],"
    "\"trustedPeers\":[\"foo\"],\"grantTypes\":[],"
    "\"secretHash\":\"" H_PEER "\"},"
    "{\"id\":\"cli\",\"name\":\"CLI\",\"public\":true,"
    "\"redirectURIs\":[],\"trustedPeers\":[],\"grantTypes\":[]},"
    "{\"id\":\"spa\",\"name\":\"SPA\",\"public\":true,"
    "\"redirectURIs\":[\"https://spa.example/cb\"],\"trustedPeers\":[],"
    "\"grantTypes\":[]},"
    "{\"id\":\"a b\",\"name\":\"Spaced\",\"public\":false,"
    "\"redirectURIs\":[\"https://example.com/ab\"],\"trustedPeers\":[],"
    "\"grantTypes\":[\"authorization_code\"],"
    "\"secretHash\":\"" H_PASSWORD "\"},"
    "{\"id\":\"imp\",\"name\":\"Implicit\",\"public\":false,"
    "\"redirectURIs\":[\"https://example.com/imp\"],\"trustedPeers\":[],"
    "\"grantTypes\":[\"implicit\"],\"secretHash\":\"" H_SECRET "\"},"
    "{\"id\":\"cc\",\"name\":\"Robot\",\"public\":false,"
    "\"redirectURIs\":[\"https://example.com/cc\"],\"trustedPeers\":[],"
    "\"grantTypes\":[\"client_credentials\"],"
    "\"clientCredentialsClaims\":{\"groups\":[\"robots\",\"deployers\"]},"
    "\"secretHash\":\"" H_SECRET "\"},"
    "{\"id\":\"dev\",\"name\":\"Device\",\"public\":true,"
    "\"redirectURIs\":[],\"trustedPeers\":[],\"grantTypes\":"
    "[\"urn:ietf:params:oauth:grant-type:device_code\"]}],"
    "\"connectors\":[{\"id\":\"mock\",\"name\":\"Mock\",\"type\":\"mock\"},"
    "{\"id\":\"mock2\",\"name\":\"Mock 2\",\"type\":\"mock\"},"
    "{\"id\":\"local\",\"name\":\"Email\",\"type\":\"local\"}],"
    "\"responseTypes\":%s,\"pkceMethods\":%s,\"pkceEnforce\":%s,"
    "\"grantMask\":%s,\"passwordConnector\":%s,\"skipApproval\":false,"
    "\"alwaysShowLogin\":false,\"idTokens\":3600,\"authRequests\":600,"
    "\"signingAlgs\":[\"RS256\"]}";

static struct oauth2_conf *
mkconf(const char *rts, const char *pkce, const char *enforce,
    const char *gmask, const char *pwconn)
{
	struct oauth2_conf	*conf;
	json_t			*j;
	json_error_t		 je;
	char			 buf[8192], err[256];

	(void)snprintf(buf, sizeof(buf), conf_fmt, rts, pkce, enforce, gmask,
	    pwconn);
	if ((j = json_loads(buf, 0, &je)) == NULL) {
		printf("# fixture: %s\n", je.text);
		exit(1);
	}
	conf = oauth2_conf_new(j, err, sizeof(err));
	json_decref(j);
	if (conf == NULL) {
		printf("# conf: %s\n", err);
		exit(1);
	}
	return (conf);
}

static struct oauth2_conf	*c_all, *c_code, *c_pkce, *c_s256, *c_combo;
static struct oauth2_conf	*c_pw, *c_cc;

static int
params(struct http_params *pp, const char *q)
{
	http_params_init(pp);
	return (http_params_parse(pp, q, strlen(q)));
}

struct authcase {
	const char	*name;
	struct oauth2_conf **conf;
	const char	*path;		/* path connector */
	const char	*query;
	int		 outcome;
	int		 status;
	const char	*error;		/* for redirects */
	const char	*location;	/* exact, when given */
	const char	*desc;		/* exact, when given */
};

#define NORMAL	"client_id=foo&redirect_uri=https%3A%2F%2Fexample.com%2Ffoo"
#define BAR	"client_id=bar&redirect_uri=https%3A%2F%2Fexample.com%2Fbar"
#define OK	OAUTH2_AUTHREQ_OK
#define DISP	OAUTH2_AUTHREQ_DISPLAY
#define REDIR	OAUTH2_AUTHREQ_REDIRECT

static const struct authcase authcases[] = {
	/* Dex's TestParseAuthorizationRequest */
	{ "normal request", &c_code, NULL, NORMAL
	    "&response_type=code&scope=openid+email+profile", OK, 200 },
	{ "invalid client id", &c_code, NULL,
	    "client_id=nope&redirect_uri=https%3A%2F%2Fexample.com%2Ffoo"
	    "&response_type=code&scope=openid", DISP, 404, NULL, NULL,
	    "Invalid client_id (\"nope\")." },
	{ "invalid redirect uri", &c_code, NULL,
	    "client_id=bar&redirect_uri=https%3A%2F%2Fexample.com%2Ffoo"
	    "&response_type=code&scope=openid", DISP, 400, NULL, NULL,
	    "Unregistered redirect_uri (\"https://example.com/foo\")." },
	{ "implicit flow", &c_all, NULL, BAR
	    "&response_type=code+id_token&scope=openid+email+profile", OK,
	    200 },
	{ "unsupported response type", &c_code, NULL, BAR
	    "&response_type=code+id_token&scope=openid+email+profile&state=s",
	    REDIR, 303, "unsupported_response_type",
	    "https://example.com/bar#error=unsupported_response_type"
	    "&error_description=Unsupported%20response%20type%20%22id_token%22"
	    "&state=s" },
	{ "only token response type", &c_all, NULL, BAR
	    "&response_type=token&scope=openid&nonce=n", REDIR, 303,
	    "invalid_request", NULL,
	    "Response type 'token' must be provided with type 'id_token' "
	    "and/or 'code'" },
	{ "choose connector_id", &c_all, NULL, BAR
	    "&connector_id=mock&response_type=code+id_token&scope=openid",
	    OK, 200 },
	{ "choose second connector_id", &c_all, NULL, BAR
	    "&connector_id=mock2&response_type=code+id_token&scope=openid",
	    OK, 200 },
	{ "choose invalid connector_id", &c_all, NULL, BAR
	    "&connector_id=bogus&response_type=code&scope=openid&state=x",
	    REDIR, 303, "invalid_request",
	    "https://example.com/bar?error=invalid_request"
	    "&error_description=Invalid%20ConnectorID&state=x" },
	{ "PKCE plain", &c_code, NULL, BAR "&response_type=code"
	    "&code_challenge=123&code_challenge_method=plain&scope=openid",
	    OK, 200 },
	{ "PKCE default plain", &c_code, NULL, BAR "&response_type=code"
	    "&code_challenge=123&scope=openid", OK, 200 },
	{ "PKCE S256", &c_code, NULL, BAR "&response_type=code"
	    "&code_challenge=123&code_challenge_method=S256&scope=openid",
	    OK, 200 },
	{ "PKCE invalid method", &c_code, NULL, BAR "&response_type=code"
	    "&code_challenge=123&code_challenge_method=invalid_method"
	    "&scope=openid", REDIR, 303, "invalid_request", NULL,
	    "Unsupported PKCE challenge method (\"invalid_method\")." },
	{ "No response type", &c_code, NULL, BAR
	    "&code_challenge=123&code_challenge_method=plain&scope=openid",
	    REDIR, 303, "invalid_request", NULL, "No response_type provided" },
	{ "PKCE enforced, no challenge", &c_pkce, NULL, BAR
	    "&response_type=code&scope=openid", REDIR, 303,
	    "invalid_request" },
	{ "PKCE enforced, challenge", &c_pkce, NULL, BAR
	    "&response_type=code&scope=openid&code_challenge=123"
	    "&code_challenge_method=S256", OK, 200 },
	{ "PKCE only S256, plain rejected", &c_s256, NULL, BAR
	    "&response_type=code&scope=openid&code_challenge=123"
	    "&code_challenge_method=plain", REDIR, 303, "invalid_request" },
	{ "PKCE only S256, S256 accepted", &c_s256, NULL, BAR
	    "&response_type=code&scope=openid&code_challenge=123"
	    "&code_challenge_method=S256", OK, 200 },
	{ "PKCE only S256, no PKCE at all", &c_s256, NULL, BAR
	    "&response_type=code&scope=openid", OK, 200 },
	/* request and request_uri */
	{ "request param", &c_code, NULL, BAR "&response_type=code"
	    "&scope=openid&request=eyJ", REDIR, 303, "request_not_supported",
	    NULL, "Server does not support request parameter." },
	{ "request_uri param", &c_code, NULL, BAR "&response_type=code"
	    "&scope=openid&request_uri=https%3A%2F%2Fx", REDIR, 303,
	    "request_uri_not_supported" },
	{ "empty request param ignored", &c_code, NULL, BAR
	    "&response_type=code&scope=openid&request=", OK, 200 },
	/* scopes */
	{ "openid missing", &c_code, NULL, BAR "&response_type=code"
	    "&scope=email&state=st", REDIR, 303, "invalid_scope",
	    "https://example.com/bar?error=invalid_scope&error_description="
	    "Missing%20required%20scope%28s%29%20%5B%22openid%22%5D."
	    "&state=st" },
	{ "unknown scopes", &c_code, NULL, BAR "&response_type=code"
	    "&scope=openid+foo+bar", REDIR, 303, "invalid_scope", NULL,
	    "Unrecognized scope(s) [\"foo\" \"bar\"]" },
	{ "extra whitespace tolerated", &c_code, NULL, BAR
	    "&response_type=code&scope=+openid%09%09email++", OK, 200 },
	{ "all known scopes", &c_code, NULL, BAR "&response_type=code"
	    "&scope=openid+email+profile+groups+offline_access+federated%3Aid",
	    OK, 200 },
	{ "audience of a peer that trusts us", &c_code, NULL, NORMAL
	    "&response_type=code&scope=openid+audience%3Aserver%3Aclient_id"
	    "%3Abar", OK, 200 },
	{ "audience of ourselves", &c_code, NULL, BAR "&response_type=code"
	    "&scope=openid+audience%3Aserver%3Aclient_id%3Abar", OK, 200 },
	{ "audience of a peer that does not", &c_code, NULL, BAR
	    "&response_type=code&scope=openid+audience%3Aserver%3Aclient_id"
	    "%3Afoo", REDIR, 303, "invalid_scope", NULL,
	    "Client can't request scope(s) "
	    "[\"audience:server:client_id:foo\"]" },
	{ "audience of an unknown client", &c_code, NULL, BAR
	    "&response_type=code&scope=openid+audience%3Aserver%3Aclient_id"
	    "%3Anope", REDIR, 303, "invalid_scope" },
	{ "unknown before untrusted", &c_code, NULL, BAR
	    "&response_type=code&scope=openid+audience%3Aserver%3Aclient_id"
	    "%3Afoo+zzz", REDIR, 303, "invalid_scope", NULL,
	    "Unrecognized scope(s) [\"zzz\"]" },
	/* response types */
	{ "unknown response type", &c_all, NULL, BAR
	    "&response_type=code+foo&scope=openid", REDIR, 303,
	    "invalid_request", NULL, "Invalid response type \"foo\"" },
	{ "id_token needs a nonce", &c_all, NULL, BAR
	    "&response_type=id_token&scope=openid&state=s", REDIR, 303,
	    "invalid_request",
	    "https://example.com/bar#error=invalid_request&error_description="
	    "Response%20type%20%27token%27%20requires%20a%20%27nonce%27%20"
	    "value.&state=s" },
	{ "id_token with a nonce", &c_all, NULL, BAR
	    "&response_type=id_token&scope=openid&nonce=n", OK, 200 },
	{ "id_token token with a nonce", &c_all, NULL, BAR
	    "&response_type=id_token+token&scope=openid&nonce=n", OK, 200 },
	{ "code token, no nonce needed", &c_all, NULL, BAR
	    "&response_type=code+token&scope=openid", OK, 200 },
	{ "combination configured as such", &c_combo, NULL, BAR
	    "&response_type=id_token+code&scope=openid", OK, 200 },
	{ "but not its parts", &c_combo, NULL, BAR
	    "&response_type=id_token&scope=openid&nonce=n", REDIR, 303,
	    "unsupported_response_type" },
	{ "token with oob", &c_all, NULL, "client_id=cli&redirect_uri=urn%3A"
	    "ietf%3Awg%3Aoauth%3A2.0%3Aoob&response_type=code+token"
	    "&scope=openid", DISP, 400, NULL, NULL,
	    "Cannot use response type 'token' with redirect_uri "
	    "'urn:ietf:wg:oauth:2.0:oob'." },
	{ "code with oob", &c_all, NULL, "client_id=cli&redirect_uri=urn%3A"
	    "ietf%3Awg%3Aoauth%3A2.0%3Aoob&response_type=code&scope=openid",
	    OK, 200 },
	/* public clients */
	{ "public loopback", &c_code, NULL, "client_id=cli&redirect_uri="
	    "http%3A%2F%2F127.0.0.1%3A49152%2Fcb&response_type=code"
	    "&scope=openid", OK, 200 },
	{ "public non-loopback", &c_code, NULL, "client_id=cli&redirect_uri="
	    "http%3A%2F%2Fevil.example%2Fcb&response_type=code&scope=openid",
	    DISP, 400 },
	{ "public with URIs, loopback", &c_code, NULL, "client_id=spa"
	    "&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F"
	    "&response_type=code&scope=openid", DISP, 400 },
	/* limits */
	{ "state too long", &c_code, NULL, BAR "&response_type=code"
	    "&scope=openid&state=@STATE@", REDIR, 303, "invalid_request" },
	/* /auth/{connector} */
	{ "path connector", &c_code, "mock2", BAR "&response_type=code"
	    "&scope=openid", OK, 200 },
	{ "unknown path connector", &c_code, "nope", BAR
	    "&response_type=code&scope=openid", DISP, 400, NULL, NULL,
	    "Requested resource does not exist" },
	{ "path and connector_id differ", &c_code, "mock", BAR
	    "&connector_id=mock2&response_type=code&scope=openid", DISP, 400,
	    NULL, NULL, "Bad connector ID" },
	{ "query keeps its query", &c_code, NULL, "client_id=foo"
	    "&redirect_uri=https%3A%2F%2Fexample.com%2Fq%3Fx%3D1"
	    "&response_type=token+code&scope=openid+bogus&state=a%20b",
	    REDIR, 303, "invalid_scope",
	    "https://example.com/q?x=1#error=invalid_scope&error_description="
	    "Unrecognized%20scope%28s%29%20%5B%22bogus%22%5D&state=a%20b" },
	/* the client's own grantTypes */
	{ "grantTypes [authorization_code]: code", &c_all, NULL,
	    "client_id=a+b&redirect_uri=https%3A%2F%2Fexample.com%2Fab"
	    "&response_type=code&scope=openid", OK, 200 },
	{ "grantTypes [authorization_code]: hybrid refused", &c_all, NULL,
	    "client_id=a+b&redirect_uri=https%3A%2F%2Fexample.com%2Fab"
	    "&response_type=code+id_token&scope=openid&nonce=n", REDIR, 303,
	    "unauthorized_client", NULL,
	    "Client is not allowed to use this response type." },
	{ "grantTypes [implicit]: id_token token", &c_all, NULL,
	    "client_id=imp&redirect_uri=https%3A%2F%2Fexample.com%2Fimp"
	    "&response_type=id_token+token&scope=openid&nonce=n", OK, 200 },
	{ "grantTypes [implicit]: code refused", &c_all, NULL,
	    "client_id=imp&redirect_uri=https%3A%2F%2Fexample.com%2Fimp"
	    "&response_type=code&scope=openid", REDIR, 303,
	    "unauthorized_client" },
	{ "grantTypes [client_credentials]: /auth refused", &c_code, NULL,
	    "client_id=cc&redirect_uri=https%3A%2F%2Fexample.com%2Fcc"
	    "&response_type=code&scope=openid&state=s", REDIR, 303,
	    "unauthorized_client",
	    "https://example.com/cc?error=unauthorized_client"
	    "&error_description=Client%20is%20not%20allowed%20to%20use%20this"
	    "%20response%20type.&state=s" },
	{ "grantTypes [device_code]: the device flow's code", &c_code, NULL,
	    "client_id=dev&redirect_uri=%2Fdevice%2Fcallback"
	    "&response_type=code&scope=openid", OK, 200 },
	{ "code flow error in the query", &c_code, NULL, "client_id=foo"
	    "&redirect_uri=https%3A%2F%2Fexample.com%2Fq%3Fx%3D1"
	    "&response_type=code&scope=openid+bogus",
	    REDIR, 303, "invalid_scope",
	    "https://example.com/q?x=1&error=invalid_scope&error_description="
	    "Unrecognized%20scope%28s%29%20%5B%22bogus%22%5D&state=" },
};

static void
test_authreq_table(void)
{
	const struct authcase		*tc;
	struct oauth2_authreq_result	 r;
	struct http_params		 pp;
	char				*q, *longstate;
	size_t				 i;

	if ((longstate = malloc(OAUTH2_STATE_MAX + 2)) == NULL)
		exit(1);
	memset(longstate, 'a', OAUTH2_STATE_MAX + 1);
	longstate[OAUTH2_STATE_MAX + 1] = '\0';
	for (i = 0; i < sizeof(authcases) / sizeof(authcases[0]); i++) {
		tc = &authcases[i];
		if ((q = strdup(tc->query)) == NULL)
			exit(1);
		if (strstr(q, "@STATE@") != NULL) {
			free(q);
			if (asprintf(&q, "%.*s%s%s", (int)(strstr(tc->query,
			    "@STATE@") - tc->query), tc->query, longstate,
			    strstr(tc->query, "@STATE@") + 7) == -1)
				exit(1);
		}
		if (params(&pp, q) != HTTP_PARAMS_OK) {
			ok(0, "%s: params", tc->name);
			free(q);
			continue;
		}
		oauth2_authreq_parse(*tc->conf, &pp, tc->path, &r);
		is_int(r.outcome, tc->outcome, "%s: outcome", tc->name);
		is_int(r.status, tc->status, "%s: status", tc->name);
		if (tc->outcome == REDIR) {
			if (tc->error != NULL)
				is_str(oauth2_error_name(r.error), tc->error,
				    "%s: error", tc->name);
			ok(r.redirect != NULL && strncmp(r.redirect,
			    "https://example.com/", 20) == 0,
			    "%s: back to the client", tc->name);
		}
		if (tc->location != NULL)
			is_str(r.redirect, tc->location, "%s: location",
			    tc->name);
		if (tc->desc != NULL)
			is_str(r.description, tc->desc, "%s: description",
			    tc->name);
		if (tc->outcome == OK)
			ok(r.authreq != NULL, "%s: authreq", tc->name);
		else
			ok(r.authreq == NULL, "%s: no authreq", tc->name);
		oauth2_authreq_result_free(&r);
		http_params_free(&pp);
		free(q);
	}
	free(longstate);
}

/* The authreq record: exactly the fields oidcd.h lists, right values. */
static void
test_authreq_record(void)
{
	struct oauth2_authreq_result	 r;
	struct http_params		 pp;
	char				*s;

	params(&pp, NORMAL "&response_type=code+code&scope=openid++email"
	    "&state=st&nonce=nn&code_challenge=ch&approval_prompt=force");
	oauth2_authreq_parse(c_code, &pp, "mock", &r);
	s = r.authreq != NULL ? json_dumps(r.authreq, JSON_COMPACT) : NULL;
	is_str(s, "{\"clientId\":\"foo\","
	    "\"redirectUri\":\"https://example.com/foo\","
	    "\"scopes\":[\"openid\",\"email\"],\"responseTypes\":[\"code\"],"
	    "\"state\":\"st\",\"nonce\":\"nn\",\"codeChallenge\":\"ch\","
	    "\"codeChallengeMethod\":\"plain\",\"connectorId\":\"mock\","
	    "\"forceApproval\":true}", "authreq record");
	ok(oauth2_authreq_fragment(r.authreq) == 0, "code: query");
	free(s);
	oauth2_authreq_result_free(&r);
	http_params_free(&pp);

	/* Dex rewrites a public client's /device/callback. */
	params(&pp, "client_id=cli&redirect_uri=%2Fdevice%2Fcallback"
	    "&response_type=code&scope=openid");
	oauth2_authreq_parse(c_code, &pp, NULL, &r);
	is_str(r.authreq != NULL ? json_string_value(json_object_get(
	    r.authreq, "redirectUri")) : NULL, "/dex/device/callback",
	    "device callback under the issuer path");
	is_str(r.authreq != NULL ? json_string_value(json_object_get(
	    r.authreq, "connectorId")) : NULL, "", "no connector at /auth");
	ok(r.authreq != NULL && json_is_false(json_object_get(r.authreq,
	    "forceApproval")), "no forced approval");
	oauth2_authreq_result_free(&r);
	http_params_free(&pp);

	params(&pp, BAR "&response_type=id_token+token&scope=openid&nonce=n");
	oauth2_authreq_parse(c_all, &pp, NULL, &r);
	ok(r.authreq != NULL && oauth2_authreq_fragment(r.authreq) == 1,
	    "implicit: fragment");
	oauth2_authreq_result_free(&r);
	http_params_free(&pp);
}

/* Dex's TestValidRedirectURI, plus our loopback parsing corners. */
static void
test_redirect_uri(void)
{
	static const struct {
		const char	*uri;
		int		 public;
		int		 registered;	/* foo.com/bar registered */
		int		 want;
	} t[] = {
		{ "http://foo.com/bar", 0, 1, 1 },
		{ "http://foo.com/bar/baz", 0, 1, 0 },
		{ "urn:ietf:wg:oauth:2.0:oob", 1, 0, 1 },
		{ "/device/callback", 1, 0, 1 },
		{ "http://localhost:8080/", 1, 0, 1 },
		{ "http://localhost:991/bar", 1, 0, 1 },
		{ "http://localhost", 1, 0, 1 },
		{ "http://127.0.0.1:8080/", 1, 0, 1 },
		{ "http://127.0.0.1:991/bar", 1, 0, 1 },
		{ "http://127.0.0.1", 1, 0, 1 },
		{ "http://foo.com/bar", 1, 1, 1 },
		{ "http://foo.com/bar/baz", 1, 1, 0 },
		{ "urn:ietf:wg:oauth:2.0:oob", 1, 1, 0 },
		{ "/device/callback", 1, 1, 0 },
		{ "http://localhost:8080/", 1, 1, 0 },
		{ "http://localhost:991/bar", 1, 1, 0 },
		{ "http://localhost", 1, 1, 0 },
		{ "http://foo.com/bar", 1, 0, 0 },
		{ "http://localhost.localhost:8080/", 1, 0, 0 },
		/* not public: nothing special */
		{ "http://localhost:8080/", 0, 0, 0 },
		{ "urn:ietf:wg:oauth:2.0:oob", 0, 0, 0 },
		/* our corners */
		{ "http://127.1.2.3:1/x?y#z", 1, 0, 1 },
		{ "http://[::1]:8080/cb", 1, 0, 1 },
		{ "http://[::ffff:127.0.0.1]:80/", 1, 0, 1 },
		{ "http://[::1]/cb", 1, 0, 0 },	/* Go: no port after [] */
		{ "http://[::2]:80/", 1, 0, 0 },
		{ "http://localhost:/cb", 1, 0, 1 },
		{ "http://localhost:80a/", 1, 0, 0 },
		{ "https://localhost:8080/", 1, 0, 0 },
		{ "HTTP://localhost/", 1, 0, 1 },
		{ "http://LOCALHOST/", 1, 0, 0 },
		{ "http://128.0.0.1/", 1, 0, 0 },
		{ "http://10.0.0.1/", 1, 0, 0 },
		{ "http://evil.example@localhost/", 1, 0, 0 },
		{ "http://localhost@evil.example/", 1, 0, 0 },
		{ "http://evil.example\\@localhost/", 1, 0, 0 },
		{ "http://localhost/a\r\nX: y", 1, 0, 0 },
		{ "http://localhost.", 1, 0, 0 },
		{ "http://0x7f.1/", 1, 0, 0 },
		{ "http:localhost", 1, 0, 0 },
		{ "", 1, 0, 0 },
	};
	struct oauth2_client	 c;
	char			*reg[] = { "http://foo.com/bar" };
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.public = t[i].public;
		c.redirect_uris = reg;
		c.nredirect_uris = t[i].registered;
		is_int(oauth2_redirect_uri_valid(&c, t[i].uri), t[i].want,
		    "redirect %s public=%d registered=%d",
		    strpbrk(t[i].uri, "\r\n") ? "(CR LF)" : t[i].uri,
		    t[i].public, t[i].registered);
	}
}

static void
test_redirect_build(void)
{
	struct http_kv	 kv[3] = {
		{ "code", "a b/c~d_e.f-g" },
		{ "skip", NULL },
		{ "state", "\xc3\xa9&=?#+" }
	};
	char		*s;

	s = oauth2_redirect("https://c.example/cb", 0, kv, 3);
	is_str(s, "https://c.example/cb?code=a%20b%2Fc~d_e.f-g"
	    "&state=%C3%A9%26%3D%3F%23%2B", "query, encoding");
	free(s);
	s = oauth2_redirect("https://c.example/cb?x=1", 0, kv, 1);
	is_str(s, "https://c.example/cb?x=1&code=a%20b%2Fc~d_e.f-g",
	    "existing query");
	free(s);
	s = oauth2_redirect("https://c.example/cb?", 0, kv, 1);
	is_str(s, "https://c.example/cb?code=a%20b%2Fc~d_e.f-g",
	    "empty query");
	free(s);
	s = oauth2_redirect("https://c.example/cb?x=1#frag", 0, kv, 1);
	is_str(s, "https://c.example/cb?x=1&code=a%20b%2Fc~d_e.f-g#frag",
	    "query before the fragment");
	free(s);
	s = oauth2_redirect("https://c.example/cb?x=1#old", 1, kv, 1);
	is_str(s, "https://c.example/cb?x=1#code=a%20b%2Fc~d_e.f-g",
	    "fragment replaces");
	free(s);
	ok(oauth2_redirect("https://c.example/cb\r\nSet-Cookie: x", 0, kv,
	    1) == NULL, "CR LF refused");
	ok(oauth2_redirect("https://c.example/\x7f", 0, kv, 1) == NULL,
	    "DEL refused");

	s = oauth2_code_redirect("https://c.example/cb", 0, "C0DE", "st",
	    NULL, NULL, 0);
	is_str(s, "https://c.example/cb?code=C0DE&state=st", "code response");
	free(s);
	s = oauth2_code_redirect("https://c.example/cb", 0, "C0DE", NULL,
	    NULL, NULL, 0);
	is_str(s, "https://c.example/cb?code=C0DE&state=",
	    "code response, empty state as Dex");
	free(s);
	s = oauth2_code_redirect("https://c.example/cb", 1, NULL, "st",
	    "AT", "ID", 3599);
	is_str(s, "https://c.example/cb#access_token=AT&expires_in=3599"
	    "&id_token=ID&state=st&token_type=bearer", "implicit response");
	free(s);
	s = oauth2_code_redirect("https://c.example/cb", 1, "C0DE", "st",
	    NULL, "ID", 3599);
	is_str(s, "https://c.example/cb#code=C0DE&id_token=ID&state=st",
	    "hybrid response: no expires_in");
	free(s);
}

static struct http_request *
mkreq(const char *authz)
{
	static struct http_request	 req;

	memset(&req, 0, sizeof(req));
	if (authz != NULL) {
		req.hdrs[0].name = "authorization";
		req.hdrs[0].value = authz;
		req.nhdrs = 1;
	}
	return (&req);
}

static char *
b64(const char *s)
{
	static char	 out[512];
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		 n = strlen(s), i, o = 0;
	uint32_t	 v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return (out);
}

static void
test_client_auth(void)
{
	static const struct {
		const char	*name;
		const char	*basic;		/* "id:secret" or NULL */
		const char	*form;
		enum oauth2_error want;
		const char	*client;
		const char	*desc;
	} t[] = {
		{ "post", NULL, "client_id=foo&client_secret=secret",
		    OAUTH2_OK, "foo" },
		{ "post, wrong secret", NULL,
		    "client_id=foo&client_secret=secreT", OAUTH2_INVALID_CLIENT,
		    NULL, "Invalid client credentials." },
		{ "post, no secret", NULL, "client_id=foo",
		    OAUTH2_INVALID_CLIENT },
		{ "unknown client", NULL, "client_id=zz&client_secret=secret",
		    OAUTH2_INVALID_CLIENT, NULL,
		    "Invalid client credentials." },
		{ "no client", NULL, "", OAUTH2_INVALID_CLIENT },
		{ "basic", "foo:secret", "", OAUTH2_OK, "foo" },
		{ "basic wins over the form", "foo:secret",
		    "client_id=bar&client_secret=peersecret", OAUTH2_OK,
		    "foo" },
		{ "basic wrong, form right", "foo:nope",
		    "client_id=foo&client_secret=secret",
		    OAUTH2_INVALID_CLIENT },
		{ "basic URL-escaped", "a+b:p%40ss+word", "", OAUTH2_OK,
		    "a b" },
		{ "basic escaped id", "a%20b:p%40ss%20word", "", OAUTH2_OK,
		    "a b" },
		{ "basic bad escape in id", "a%2:x", "",
		    OAUTH2_INVALID_REQUEST, NULL,
		    "client_id improperly encoded" },
		{ "basic bad escape in secret", "foo:%zz", "",
		    OAUTH2_INVALID_REQUEST, NULL,
		    "client_secret improperly encoded" },
		{ "basic %00", "foo:sec%00ret", "", OAUTH2_INVALID_REQUEST },
		{ "public, no secret", NULL, "client_id=cli", OAUTH2_OK,
		    "cli" },
		{ "public, empty secret", "cli:", "", OAUTH2_OK, "cli" },
		{ "public, a secret it does not have", NULL,
		    "client_id=cli&client_secret=x", OAUTH2_INVALID_CLIENT },
		{ "secret with a colon", "foo:secret:", "",
		    OAUTH2_INVALID_CLIENT },
	};
	const struct oauth2_client	*c;
	struct http_params		 pp;
	const char			*desc;
	char				 hdr[600];
	size_t				 i;
	enum oauth2_error		 e;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		params(&pp, t[i].form);
		if (t[i].basic != NULL)
			(void)snprintf(hdr, sizeof(hdr), "Basic %s",
			    b64(t[i].basic));
		e = oauth2_client_auth(c_code, mkreq(t[i].basic ? hdr : NULL),
		    &pp, &c, &desc);
		is_str(oauth2_error_name(e), oauth2_error_name(t[i].want),
		    "client auth: %s", t[i].name);
		if (t[i].client != NULL)
			is_str(c != NULL ? c->id : NULL, t[i].client,
			    "client auth: %s: client", t[i].name);
		else
			ok(c == NULL, "client auth: %s: no client",
			    t[i].name);
		if (t[i].desc != NULL)
			is_str(desc, t[i].desc, "client auth: %s: text",
			    t[i].name);
		http_params_free(&pp);
	}

	/* A malformed Basic header is ignored, as Go's BasicAuth(). */
	params(&pp, "client_id=foo&client_secret=secret");
	e = oauth2_client_auth(c_code, mkreq("Basic !!!"), &pp, &c, &desc);
	is_int(e, OAUTH2_OK, "bad base64: the form is used");
	e = oauth2_client_auth(c_code, mkreq("bAsIc Zm9vOnNlY3JldA=="), NULL,
	    &c, &desc);
	is_int(e, OAUTH2_OK, "Basic in any case");
	http_params_free(&pp);

	ok(oauth2_secret_check(oauth2_client_find(c_code, "foo"), "secret",
	    6), "secret compare");
	ok(!oauth2_secret_check(oauth2_client_find(c_code, "foo"), "secret",
	    5), "secret compare, prefix");
	ok(!oauth2_secret_check(oauth2_client_find(c_code, "foo"), "", 0),
	    "secret compare, empty");
	ok(oauth2_secret_check(oauth2_client_find(c_code, "cli"), "", 0),
	    "no secret: empty passes");
}

static void
test_token_request(void)
{
	static const struct {
		const char	*name;
		struct oauth2_conf **conf;
		const char	*form;
		enum oauth2_error want;
		int		 status;
		enum oauth2_grant grant;
		const char	*desc;
	} t[] = {
		{ "authcode", &c_code, "grant_type=authorization_code&code=c"
		    "&redirect_uri=https%3A%2F%2Fexample.com%2Ffoo"
		    "&client_id=foo&client_secret=secret", OAUTH2_OK, 0,
		    OAUTH2_GRANT_AUTHCODE },
		{ "authcode, no code", &c_code, "grant_type=authorization_code"
		    "&redirect_uri=x&client_id=foo&client_secret=secret",
		    OAUTH2_INVALID_REQUEST, 400, OAUTH2_GRANT_AUTHCODE,
		    "Required param: code." },
		{ "authcode, no redirect_uri", &c_code,
		    "grant_type=authorization_code&code=c"
		    "&client_id=foo&client_secret=secret",
		    OAUTH2_INVALID_REQUEST, 400, OAUTH2_GRANT_AUTHCODE },
		{ "client auth before params", &c_code,
		    "grant_type=authorization_code&client_id=foo",
		    OAUTH2_INVALID_CLIENT, 401, OAUTH2_GRANT_AUTHCODE,
		    "Invalid client credentials." },
		{ "grant type before client auth", &c_code,
		    "grant_type=client_credentials", OAUTH2_UNSUPPORTED_GRANT_TYPE,
		    400, OAUTH2_GRANT_NONE },
		{ "no grant type", &c_code, "client_id=foo&client_secret=secret",
		    OAUTH2_UNSUPPORTED_GRANT_TYPE, 400, OAUTH2_GRANT_NONE },
		{ "password without passwordConnector", &c_code,
		    "grant_type=password&username=u&password=p&scope=openid"
		    "&client_id=foo&client_secret=secret",
		    OAUTH2_UNSUPPORTED_GRANT_TYPE, 400, OAUTH2_GRANT_NONE },
		{ "refresh", &c_code, "grant_type=refresh_token"
		    "&refresh_token=rt&client_id=cli", OAUTH2_OK, 0,
		    OAUTH2_GRANT_REFRESH },
		{ "refresh, no token", &c_code, "grant_type=refresh_token"
		    "&client_id=cli", OAUTH2_INVALID_REQUEST, 400,
		    OAUTH2_GRANT_REFRESH,
		    "No refresh token is found in request." },
		{ "refresh filtered by grantMask", &c_pw,
		    "grant_type=refresh_token&refresh_token=rt&client_id=cli",
		    OAUTH2_UNSUPPORTED_GRANT_TYPE, 400, OAUTH2_GRANT_NONE },
		{ "client grantTypes", &c_code, "grant_type=refresh_token"
		    "&refresh_token=rt&client_id=a+b&client_secret=p%40ss+word",
		    OAUTH2_UNAUTHORIZED_CLIENT, 400, OAUTH2_GRANT_REFRESH },
		{ "password", &c_pw, "grant_type=password&username=u"
		    "&password=p&scope=openid+email&nonce=n&client_id=foo"
		    "&client_secret=secret", OAUTH2_OK, 0,
		    OAUTH2_GRANT_PASSWORD },
		{ "password, no openid", &c_pw, "grant_type=password"
		    "&username=u&password=p&scope=email&client_id=foo"
		    "&client_secret=secret", OAUTH2_INVALID_REQUEST, 400,
		    OAUTH2_GRANT_PASSWORD,
		    "Missing required scope(s) [\"openid\"]." },
		{ "password, unknown scope", &c_pw, "grant_type=password"
		    "&username=u&password=p&scope=openid+x&client_id=foo"
		    "&client_secret=secret", OAUTH2_INVALID_REQUEST, 400,
		    OAUTH2_GRANT_PASSWORD, "Unrecognized scope(s) [\"x\"]" },
		{ "password, untrusted audience", &c_pw, "grant_type=password"
		    "&username=u&password=p&scope=openid+audience%3Aserver"
		    "%3Aclient_id%3Aspa&client_id=foo&client_secret=secret",
		    OAUTH2_INVALID_REQUEST, 400, OAUTH2_GRANT_PASSWORD,
		    "Client can't request scope(s) "
		    "[\"audience:server:client_id:spa\"]" },
		{ "password, empty password", &c_pw, "grant_type=password"
		    "&username=u&scope=openid&client_id=foo"
		    "&client_secret=secret", OAUTH2_ACCESS_DENIED, 401,
		    OAUTH2_GRANT_PASSWORD, "Invalid username or password" },
		/* client_credentials (Dex master) */
		{ "cc", &c_cc, "grant_type=client_credentials"
		    "&scope=openid+groups&client_id=cc&client_secret=secret",
		    OAUTH2_OK, 0, OAUTH2_GRANT_CLIENT_CREDENTIALS },
		{ "cc, a client without grantTypes", &c_cc,
		    "grant_type=client_credentials&client_id=foo"
		    "&client_secret=secret", OAUTH2_OK, 0,
		    OAUTH2_GRANT_CLIENT_CREDENTIALS },
		{ "cc, not in oauth2.grantTypes", &c_code,
		    "grant_type=client_credentials&client_id=cc"
		    "&client_secret=secret", OAUTH2_UNSUPPORTED_GRANT_TYPE, 400,
		    OAUTH2_GRANT_NONE },
		{ "cc, wrong secret", &c_cc, "grant_type=client_credentials"
		    "&client_id=cc&client_secret=secreT",
		    OAUTH2_INVALID_CLIENT, 401,
		    OAUTH2_GRANT_CLIENT_CREDENTIALS,
		    "Invalid client credentials." },
		{ "cc, public client", &c_cc, "grant_type=client_credentials"
		    "&client_id=cli", OAUTH2_UNAUTHORIZED_CLIENT, 400,
		    OAUTH2_GRANT_CLIENT_CREDENTIALS,
		    "Public clients cannot use client_credentials grant." },
		{ "cc, public client, bad scope", &c_cc,
		    "grant_type=client_credentials&client_id=cli&scope=x",
		    OAUTH2_UNAUTHORIZED_CLIENT, 400,
		    OAUTH2_GRANT_CLIENT_CREDENTIALS },
		{ "cc, grantTypes omit it", &c_cc,
		    "grant_type=client_credentials&client_id=a+b"
		    "&client_secret=p%40ss+word", OAUTH2_UNAUTHORIZED_CLIENT,
		    400, OAUTH2_GRANT_CLIENT_CREDENTIALS },
		{ "cc-only client, refresh grant", &c_cc,
		    "grant_type=refresh_token&refresh_token=rt&client_id=cc"
		    "&client_secret=secret", OAUTH2_UNAUTHORIZED_CLIENT, 400,
		    OAUTH2_GRANT_REFRESH },
		{ "cc, offline_access", &c_cc, "grant_type=client_credentials"
		    "&scope=openid+offline_access&client_id=cc"
		    "&client_secret=secret", OAUTH2_INVALID_SCOPE, 400,
		    OAUTH2_GRANT_CLIENT_CREDENTIALS,
		    "client_credentials grant does not support offline_access "
		    "scope." },
		{ "cc, federated:id", &c_cc, "grant_type=client_credentials"
		    "&scope=federated%3Aid&client_id=cc&client_secret=secret",
		    OAUTH2_INVALID_SCOPE, 400, OAUTH2_GRANT_CLIENT_CREDENTIALS,
		    "client_credentials grant does not support federated:id "
		    "scope." },
		{ "cc, refused before unknown", &c_cc,
		    "grant_type=client_credentials&scope=zz+offline_access"
		    "&client_id=cc&client_secret=secret", OAUTH2_INVALID_SCOPE,
		    400, OAUTH2_GRANT_CLIENT_CREDENTIALS,
		    "client_credentials grant does not support offline_access "
		    "scope." },
		{ "cc, unknown scope", &c_cc, "grant_type=client_credentials"
		    "&scope=groups+zz&client_id=cc&client_secret=secret",
		    OAUTH2_INVALID_SCOPE, 400, OAUTH2_GRANT_CLIENT_CREDENTIALS,
		    "Unrecognized scope(s) [\"zz\"]" },
		{ "cc, untrusted audience", &c_cc,
		    "grant_type=client_credentials&scope=audience%3Aserver"
		    "%3Aclient_id%3Aspa&client_id=foo&client_secret=secret",
		    OAUTH2_INVALID_SCOPE, 400, OAUTH2_GRANT_CLIENT_CREDENTIALS,
		    "Client can't request scope(s) "
		    "[\"audience:server:client_id:spa\"]" },
		{ "cc, nonce not UTF-8", &c_cc, "grant_type=client_credentials"
		    "&nonce=%FFn&client_id=cc&client_secret=secret",
		    OAUTH2_INVALID_REQUEST, 400,
		    OAUTH2_GRANT_CLIENT_CREDENTIALS,
		    "Invalid nonce: not UTF-8." },
		{ "cc, trusted audience", &c_cc,
		    "grant_type=client_credentials&scope=audience%3Aserver"
		    "%3Aclient_id%3Abar&client_id=foo&client_secret=secret",
		    OAUTH2_OK, 0, OAUTH2_GRANT_CLIENT_CREDENTIALS },
	};
	struct oauth2_token_request	 tr;
	struct http_params		 pp;
	size_t				 i;
	int				 rv;
	json_t				*j;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		params(&pp, t[i].form);
		rv = oauth2_token_request(*t[i].conf, mkreq(NULL), &pp, &tr);
		is_int(rv, t[i].want == OAUTH2_OK ? 0 : -1, "token: %s",
		    t[i].name);
		is_str(oauth2_error_name(tr.error),
		    oauth2_error_name(t[i].want), "token: %s: error",
		    t[i].name);
		is_int(tr.status, t[i].status, "token: %s: status", t[i].name);
		is_int(tr.grant, t[i].grant, "token: %s: grant", t[i].name);
		if (t[i].desc != NULL)
			is_str(tr.description, t[i].desc, "token: %s: text",
			    t[i].name);
		oauth2_token_request_free(&tr);
		http_params_free(&pp);
	}

	params(&pp, "grant_type=authorization_code&code=c0de"
	    "&redirect_uri=https%3A%2F%2Fexample.com%2Ffoo&code_verifier=v"
	    "&client_id=foo&client_secret=secret");
	oauth2_token_request(c_code, mkreq(NULL), &pp, &tr);
	is_str(tr.code, "c0de", "authcode: code");
	is_str(tr.redirect_uri, "https://example.com/foo",
	    "authcode: redirect_uri");
	is_str(tr.code_verifier, "v", "authcode: verifier");
	oauth2_token_request_free(&tr);
	http_params_free(&pp);

	params(&pp, "grant_type=refresh_token&refresh_token=rt"
	    "&scope=+openid++email+&client_id=cli");
	oauth2_token_request(c_code, mkreq(NULL), &pp, &tr);
	j = json_pack("[ss]", "openid", "email");
	ok(json_equal(tr.scopes, j), "refresh: narrowed scopes");
	json_decref(j);
	oauth2_token_request_free(&tr);
	http_params_free(&pp);
	params(&pp, "grant_type=refresh_token&refresh_token=rt&scope=+"
	    "&client_id=cli");
	oauth2_token_request(c_code, mkreq(NULL), &pp, &tr);
	ok(tr.scopes == NULL, "refresh: blank scope keeps the original");
	oauth2_token_request_free(&tr);
	http_params_free(&pp);

	params(&pp, "grant_type=password&username=jane%40example.com"
	    "&password=pw&scope=openid&client_id=foo&client_secret=secret");
	oauth2_token_request(c_pw, mkreq(NULL), &pp, &tr);
	is_str(tr.username, "jane@example.com", "password: username");
	is_str(tr.nonce, "", "password: no nonce");
	oauth2_token_request_free(&tr);
	http_params_free(&pp);

	params(&pp, "grant_type=client_credentials&scope=+openid++groups"
	    "&nonce=n1&client_id=cc&client_secret=secret");
	oauth2_token_request(c_cc, mkreq(NULL), &pp, &tr);
	j = json_pack("[ss]", "openid", "groups");
	ok(json_equal(tr.scopes, j), "cc: scopes");
	json_decref(j);
	is_str(tr.nonce, "n1", "cc: nonce");
	is_str(tr.client != NULL ? tr.client->id : NULL, "cc", "cc: client");
	oauth2_token_request_free(&tr);
	http_params_free(&pp);
	params(&pp, "grant_type=client_credentials&client_id=cc"
	    "&client_secret=secret");
	oauth2_token_request(c_cc, mkreq(NULL), &pp, &tr);
	ok(json_is_array(tr.scopes) && json_array_size(tr.scopes) == 0,
	    "cc: no scope, an empty list");
	oauth2_token_request_free(&tr);
	http_params_free(&pp);
	{
		char	 q[OAUTH2_NONCE_MAX + 128];

		(void)snprintf(q, sizeof(q), "grant_type=client_credentials"
		    "&client_id=cc&client_secret=secret&nonce=%0*d",
		    OAUTH2_NONCE_MAX + 1, 0);
		params(&pp, q);
		is_int(oauth2_token_request(c_cc, mkreq(NULL), &pp, &tr), -1,
		    "cc: nonce too long");
		is_str(oauth2_error_name(tr.error), "invalid_request",
		    "cc: nonce too long: invalid_request");
		ok(tr.scopes == NULL, "cc: no scopes left on failure");
		oauth2_token_request_free(&tr);
		http_params_free(&pp);
	}
}

/* client_credentials: the client is the user (Dex master's claims). */
static void
test_client_grant(void)
{
	const struct oauth2_client	*cc;
	json_t				*sc, *g, *o;
	char				*s;

	cc = oauth2_client_find(c_cc, "cc");
	sc = json_pack("[ssss]", "openid", "profile", "groups", "email");
	g = oauth2_client_grant(cc, sc, "n1");
	o = g != NULL ? oauth2_access_token_claims(c_cc, g, "cc",
	    1700000000, JOSE_ALG_RS256, "jti-cc") : NULL;
	ok(o != NULL, "cc: access token claims");
	is_str(json_string_value(json_object_get(o, "sub")), "CgJjYw",
	    "cc: sub is Dex's (client id, \"\")");
	is_str(json_string_value(json_object_get(o, "aud")), "cc",
	    "cc: aud the client");
	is_str(json_string_value(json_object_get(o, "name")), "Robot",
	    "cc: name the client's");
	is_str(json_string_value(json_object_get(o, "preferred_username")),
	    "Robot", "cc: preferred_username the client's");
	s = o != NULL ? json_dumps(json_object_get(o, "groups"),
	    JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	is_str(s, "[\"robots\",\"deployers\"]",
	    "cc: groups from clientCredentialsClaims");
	free(s);
	ok(json_is_false(json_object_get(o, "email_verified")) &&
	    json_object_get(o, "email") == NULL,
	    "cc: email scope, no email, email_verified false");
	is_str(json_string_value(json_object_get(o, "nonce")), "n1",
	    "cc: nonce");
	ok(json_object_get(o, "federated_claims") == NULL &&
	    json_object_get(o, "c_hash") == NULL, "cc: nothing else");
	json_decref(o);
	json_decref(g);
	json_decref(sc);

	sc = json_pack("[s]", "openid");
	g = oauth2_client_grant(cc, sc, NULL);
	o = g != NULL ? oauth2_id_token_claims(c_cc, g, "cc", 1700000000,
	    "AT", NULL, JOSE_ALG_RS256, NULL) : NULL;
	ok(o != NULL && json_object_get(o, "groups") == NULL &&
	    json_object_get(o, "name") == NULL &&
	    json_object_get(o, "nonce") == NULL &&
	    json_is_string(json_object_get(o, "at_hash")),
	    "cc: openid alone, no groups, no name");
	json_decref(o);
	json_decref(g);
	g = oauth2_client_grant(oauth2_client_find(c_cc, "foo"), sc, "");
	o = g != NULL ? oauth2_id_token_claims(c_cc, g, "foo", 1700000000,
	    NULL, NULL, JOSE_ALG_RS256, NULL) : NULL;
	is_str(o != NULL ? json_string_value(json_object_get(o, "sub")) :
	    NULL, "CgNmb28", "cc: sub of foo");
	json_decref(o);
	json_decref(g);
	ok(oauth2_client_grant(NULL, sc, "") == NULL, "cc: no client");
	json_decref(sc);
}

/* /token/revoke requests and whose a token is. */
static void
test_revoke_request(void)
{
	struct oauth2_revoke_request	 rr;
	struct http_params		 pp;
	json_t				*c;
	char				 hdr[128];

	params(&pp, "token=abc&token_type_hint=refresh_token&client_id=foo"
	    "&client_secret=secret");
	is_int(oauth2_revoke_request(c_code, mkreq(NULL), &pp, &rr), 0,
	    "revoke: ok");
	is_str(rr.token, "abc", "revoke: token");
	is_str(rr.hint, "refresh_token", "revoke: hint");
	is_str(rr.client != NULL ? rr.client->id : NULL, "foo",
	    "revoke: client");
	http_params_free(&pp);

	params(&pp, "token=abc");
	(void)snprintf(hdr, sizeof(hdr), "Basic %s", b64("cli:"));
	is_int(oauth2_revoke_request(c_code, mkreq(hdr), &pp, &rr), 0,
	    "revoke: a public client with Basic");
	is_str(rr.hint, "", "revoke: no hint");
	http_params_free(&pp);

	params(&pp, "token=abc&client_id=foo&client_secret=nope");
	is_int(oauth2_revoke_request(c_code, mkreq(NULL), &pp, &rr), -1,
	    "revoke: wrong secret");
	is_str(oauth2_error_name(rr.error), "invalid_client",
	    "revoke: wrong secret: invalid_client");
	is_int(rr.status, 401, "revoke: wrong secret: 401");
	ok(rr.client == NULL, "revoke: wrong secret: no client");
	http_params_free(&pp);

	params(&pp, "client_id=foo&client_secret=secret");
	is_int(oauth2_revoke_request(c_code, mkreq(NULL), &pp, &rr), -1,
	    "revoke: no token");
	is_str(oauth2_error_name(rr.error), "invalid_request",
	    "revoke: no token: invalid_request");
	is_int(rr.status, 400, "revoke: no token: 400");
	is_str(rr.description, "Required param: token.",
	    "revoke: no token: text");
	http_params_free(&pp);

	params(&pp, "token=");
	(void)snprintf(hdr, sizeof(hdr), "Basic %s", b64("foo:secret"));
	is_int(oauth2_revoke_request(c_code, mkreq(hdr), &pp, &rr), -1,
	    "revoke: empty token");
	http_params_free(&pp);

	c = json_pack("{s:s}", "aud", "foo");
	is_str(oauth2_token_client(c), "foo", "token client: aud");
	json_decref(c);
	c = json_pack("{s:[ss], s:s}", "aud", "bar", "foo", "azp", "foo");
	is_str(oauth2_token_client(c), "foo", "token client: azp");
	json_decref(c);
	c = json_pack("{s:[ss]}", "aud", "bar", "foo");
	ok(oauth2_token_client(c) == NULL, "token client: neither");
	json_decref(c);
}

static json_t *
mkgrant(const char *user, const char *conn, const char *scopes)
{
	json_t	*g;

	g = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:b, s:[ss], "
	    "s:s}, s:s, s:I}",
	    "clientId", "foo", "scopes", scopes, "nonce", "n0",
	    "identity", "userId", user, "username", "Jane Doe",
	    "preferredUsername", "jane", "email", "jane@example.com",
	    "emailVerified", 1, "groups", "admins", "devs",
	    "connectorId", conn, "connectorId", conn, "authTime",
	    (json_int_t)1700000000);
	/* scopes as an array */
	json_object_set_new(g, "scopes", json_loads(scopes, 0, NULL));
	return (g);
}

static void
test_claims(void)
{
	static const struct {
		const char	*user, *conn, *sub;
	} subs[] = {
		{ "foo", "bar", "CgNmb28SA2Jhcg" },
		{ "1", "test", "CgExEgR0ZXN0" },
		{ "08a8684b-db88-4b73-90a9-3cd1661f5466", "local",
		    "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs" },
		{ "0-385-28089-0", "mock", "Cg0wLTM4NS0yODA4OS0wEgRtb2Nr" },
	};
	json_t	*g, *o;
	char	*s;
	size_t	 i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		g = mkgrant(subs[i].user, subs[i].conn, "[\"openid\"]");
		o = oauth2_id_token_claims(c_code, g, "foo", 1700000000, NULL,
		    NULL, JOSE_ALG_RS256, NULL);
		is_str(o != NULL ? json_string_value(json_object_get(o,
		    "sub")) : NULL, subs[i].sub, "sub (%s, %s)",
		    subs[i].user, subs[i].conn);
		json_decref(o);
		json_decref(g);
	}

	/* Member order and values, every scope. */
	g = mkgrant("foo", "bar", "[\"openid\",\"email\",\"profile\","
	    "\"groups\",\"federated:id\",\"offline_access\"]");
	o = oauth2_id_token_claims(c_code, g, "foo", 1700000000,
	    "ya29.CjHSA1l5WUn8xZ6HanHFzzdHdbXm-14rxnC7JHch9eFIsZkQEGoWzaYG4o7k"
	    "5f6BnPLj", "ya29.CjHSA1l5WUn8xZ6HanHFzzdHdbXm-14rxnC7JHch9eFIsZkQ"
	    "EGoWzaYG4o7k5f6BnPLj", JOSE_ALG_RS256, NULL);
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	is_str(s, "{\"iss\":\"https://id.example/dex\",\"sub\":\"CgNmb28SA2Jhcg\","
	    "\"aud\":\"foo\",\"exp\":1700003600,\"iat\":1700000000,"
	    "\"nonce\":\"n0\",\"at_hash\":\"piwt8oCH-K2D9pXlaS1Y-w\","
	    "\"c_hash\":\"piwt8oCH-K2D9pXlaS1Y-w\","
	    "\"email\":\"jane@example.com\",\"email_verified\":true,"
	    "\"groups\":[\"admins\",\"devs\"],\"name\":\"Jane Doe\","
	    "\"preferred_username\":\"jane\",\"federated_claims\":"
	    "{\"connector_id\":\"bar\",\"user_id\":\"foo\"}}",
	    "ID token claims, Dex's order, at_hash vector");
	free(s);
	json_decref(o);
	json_decref(g);

	/* A browser session's grant: auth_time and sid after nonce. */
	g = mkgrant("foo", "bar", "[\"openid\"]");
	json_object_set_new(g, "sid", json_string("c2lkc2lkc2lkc2lkc2lkcw"));
	o = oauth2_id_token_claims(c_code, g, "foo", 1700000100, NULL, NULL,
	    JOSE_ALG_RS256, NULL);
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	is_str(s, "{\"iss\":\"https://id.example/dex\",\"sub\":\"CgNmb28SA2Jhcg\","
	    "\"aud\":\"foo\",\"exp\":1700003700,\"iat\":1700000100,"
	    "\"nonce\":\"n0\",\"auth_time\":1700000000,"
	    "\"sid\":\"c2lkc2lkc2lkc2lkc2lkcw\"}",
	    "session grant: auth_time (the login's) and sid");
	free(s);
	json_decref(o);
	json_decref(g);

	/* Dex's TestGetAudience: [aa bb client-id] with azp. */
	g = mkgrant("u", "c", "[\"openid\",\"audience:server:client_id:bar\","
	    "\"ascope\"]");
	o = oauth2_id_token_claims(c_code, g, "foo", 1700000000, NULL, NULL,
	    JOSE_ALG_RS256, "jti-1");
	s = o != NULL ? json_dumps(json_object_get(o, "aud"), JSON_COMPACT |
	    JSON_ENCODE_ANY) : NULL;
	is_str(s, "[\"bar\",\"foo\"]", "aud: peer, then the requester");
	is_str(o != NULL ? json_string_value(json_object_get(o, "azp")) :
	    NULL, "foo", "azp: the requester");
	is_str(o != NULL ? json_string_value(json_object_get(o, "jti")) :
	    NULL, "jti-1", "jti when given");
	ok(o != NULL && json_object_get(o, "email") == NULL &&
	    json_object_get(o, "name") == NULL &&
	    json_object_get(o, "at_hash") == NULL, "no scope, no claims");
	free(s);
	json_decref(o);
	json_decref(g);

	/* Ourselves as the audience: a string, and azp (Dex). */
	g = mkgrant("u", "c", "[\"openid\",\"audience:server:client_id:bar\"]");
	o = oauth2_id_token_claims(c_code, g, "bar", 1700000000, NULL, NULL,
	    JOSE_ALG_RS256, NULL);
	ok(o != NULL && json_is_string(json_object_get(o, "aud")) &&
	    json_is_string(json_object_get(o, "azp")),
	    "self audience: string aud with azp");
	json_decref(o);
	/* Trust withdrawn since: no token. */
	o = oauth2_id_token_claims(c_code, g, "spa", 1700000000, NULL, NULL,
	    JOSE_ALG_RS256, NULL);
	ok(o == NULL, "untrusted audience: no claims");
	json_decref(g);

	/* email_verified false is still there; empty email left out. */
	g = json_pack("{s:[ss], s:s, s:{s:s, s:s}}", "scopes", "openid",
	    "email", "connectorId", "c", "identity", "userId", "u",
	    "connectorId", "c");
	o = oauth2_id_token_claims(c_code, g, "foo", 1, NULL, NULL,
	    JOSE_ALG_ES256, NULL);
	ok(o != NULL && json_is_false(json_object_get(o, "email_verified")) &&
	    json_object_get(o, "email") == NULL &&
	    json_object_get(o, "nonce") == NULL,
	    "email_verified false, no email, no nonce");
	json_decref(o);

	o = oauth2_access_token_claims(c_code, g, "foo", 1, JOSE_ALG_RS256,
	    "jti-2");
	ok(o != NULL && json_is_string(json_object_get(o, "at_hash")) &&
	    json_object_get(o, "c_hash") == NULL &&
	    strcmp(json_string_value(json_object_get(o, "jti")), "jti-2") ==
	    0, "access token: random at_hash, jti");
	json_decref(o);
	json_decref(g);
}

static void
test_bodies(void)
{
	char	*s;
	json_t	*a, *d;

	s = oauth2_token_response("AT", "ID", "RT", 3600);
	is_str(s, "{\"access_token\":\"AT\",\"token_type\":\"bearer\","
	    "\"expires_in\":3600,\"refresh_token\":\"RT\","
	    "\"id_token\":\"ID\"}", "token response, Dex's order");
	free(s);
	s = oauth2_token_response("AT", "ID", NULL, 3600);
	is_str(s, "{\"access_token\":\"AT\",\"token_type\":\"bearer\","
	    "\"expires_in\":3600,\"id_token\":\"ID\"}",
	    "token response without refresh token");
	free(s);
	s = oauth2_error_json("invalid_client", "Invalid client credentials.");
	is_str(s, "{\"error\":\"invalid_client\","
	    "\"error_description\":\"Invalid client credentials.\"}",
	    "error body");
	free(s);
	s = oauth2_error_json("unsupported_grant_type", NULL);
	is_str(s, "{\"error\":\"unsupported_grant_type\"}",
	    "error body without description");
	free(s);
	s = oauth2_error_json("invalid_scope", "a<b>&\"\\\n\x01\xff");
	is_str(s, "{\"error\":\"invalid_scope\",\"error_description\":"
	    "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\u0001\\ufffd\"}",
	    "error body escaped as Go");
	free(s);
	is_int(oauth2_error_status(OAUTH2_INVALID_CLIENT), 401,
	    "invalid_client is 401");

	a = json_pack("[sssss]", "openid", "profile", "email",
	    "offline_access", "groups");
	d = oauth2_scope_descriptions(a);
	s = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	is_str(s, "[\"Have offline access\",\"View basic profile "
	    "information\",\"View your email address\",\"View your groups\"]",
	    "approval scope descriptions, sorted");
	free(s);
	json_decref(d);
	json_decref(a);
}

static void
test_conf(void)
{
	const struct oauth2_client	*c;
	json_t				*j;
	char				 err[128];
	char				 id[32];
	size_t				 i;
	struct oauth2_conf		*conf;

	ok(c_all->grant_mask & OAUTH2_GT_IMPLICIT, "token: implicit grant");
	ok(!(c_code->grant_mask & OAUTH2_GT_IMPLICIT), "code: no implicit");
	ok(!(c_code->grant_mask & OAUTH2_GT_PASSWORD),
	    "no passwordConnector: no password grant");
	ok(oauth2_connector_find(c_code, "local") != NULL &&
	    oauth2_connector_find(c_code, "zz") == NULL, "connector find");
	ok(!(c_code->grant_mask & OAUTH2_GT_CLIENTCREDS),
	    "client_credentials off by default");
	ok(c_cc->grant_mask & OAUTH2_GT_CLIENTCREDS,
	    "client_credentials on when grantTypes lists it");
	ok(!(c_cc->grant_mask & OAUTH2_GT_DEVICECODE),
	    "grantTypes still filters");
	c = oauth2_client_find(c_cc, "cc");
	ok(c != NULL && c->ncc_groups == 2 &&
	    strcmp(c->cc_groups[1], "deployers") == 0,
	    "clientCredentialsClaims.groups");
	ok(c != NULL && c->grant_mask == OAUTH2_GT_CLIENTCREDS,
	    "client grantTypes");
	j = json_pack("{s:s, s:[{s:s, s:b, s:[s]}]}", "issuer", "https://i",
	    "clients", "id", "x", "public", 1, "clientCredentialsClaims", "g");
	ok(oauth2_conf_new(j, err, sizeof(err)) == NULL,
	    "clientCredentialsClaims not an object: refused");
	json_decref(j);
	j = json_pack("{s:s, s:[{s:s, s:b, s:{s:s}}]}", "issuer", "https://i",
	    "clients", "id", "x", "public", 1, "clientCredentialsClaims",
	    "groups", "g");
	ok(oauth2_conf_new(j, err, sizeof(err)) == NULL,
	    "clientCredentialsClaims.groups not a list: refused");
	json_decref(j);

	/* RP-initiated and back-channel logout: the client's URIs. */
	j = json_pack("{s:s, s:[{s:s, s:b, s:[s,s], s:s}, {s:s, s:b}]}",
	    "issuer", "https://i", "clients", "id", "lo", "public", 1,
	    "postLogoutRedirectURIs", "https://a/out", "https://b/out",
	    "backchannelLogoutURI", "https://a/bc", "id", "plain", "public", 1);
	conf = oauth2_conf_new(j, err, sizeof(err));
	c = conf != NULL ? oauth2_client_find(conf, "lo") : NULL;
	ok(c != NULL && c->npost_logout_uris == 2 &&
	    strcmp(c->post_logout_uris[1], "https://b/out") == 0 &&
	    c->backchannel_uri != NULL &&
	    strcmp(c->backchannel_uri, "https://a/bc") == 0,
	    "postLogoutRedirectURIs and backchannelLogoutURI");
	c = conf != NULL ? oauth2_client_find(conf, "plain") : NULL;
	ok(c != NULL && c->npost_logout_uris == 0 &&
	    c->backchannel_uri == NULL, "a client without logout URIs");
	oauth2_conf_free(conf);
	json_decref(j);
	j = json_pack("{s:s, s:[{s:s, s:b, s:s}]}", "issuer", "https://i",
	    "clients", "id", "x", "public", 1, "postLogoutRedirectURIs",
	    "https://a/out");
	ok(oauth2_conf_new(j, err, sizeof(err)) == NULL,
	    "postLogoutRedirectURIs not a list: refused");
	json_decref(j);

	/* 1024 clients, found by bsearch. */
	j = json_pack("{s:s, s:[]}", "issuer", "https://i", "clients");
	for (i = 0; i < 1024; i++) {
		(void)snprintf(id, sizeof(id), "c%04zu", 1023 - i);
		json_array_append_new(json_object_get(j, "clients"),
		    json_pack("{s:s, s:b}", "id", id, "public", 1));
	}
	conf = oauth2_conf_new(j, err, sizeof(err));
	ok(conf != NULL && conf->nclients == 1024, "1024 clients");
	c = conf != NULL ? oauth2_client_find(conf, "c0777") : NULL;
	is_str(c != NULL ? c->id : NULL, "c0777", "client find");
	ok(conf != NULL && oauth2_client_find(conf, "c1024") == NULL,
	    "client find: absent");
	oauth2_conf_free(conf);
	json_array_append_new(json_object_get(j, "clients"),
	    json_pack("{s:s, s:b}", "id", "c0001", "public", 1));
	ok(oauth2_conf_new(j, err, sizeof(err)) == NULL, "duplicate client");
	json_decref(j);

	j = json_pack("{s:s, s:[{s:s, s:b}]}", "issuer", "https://i",
	    "clients", "id", "conf", "public", 0);
	ok(oauth2_conf_new(j, err, sizeof(err)) == NULL,
	    "confidential client without secret refused");
	json_decref(j);
	j = json_pack("{s:s, s:[s]}", "issuer", "https://i", "responseTypes",
	    "code bogus");
	ok(oauth2_conf_new(j, err, sizeof(err)) == NULL,
	    "bad responseTypes refused");
	json_decref(j);
}

/* The device flow: /device/code, its redirect URI, the device_code grant. */
static void
test_device(void)
{
	static const char *dconf =
	    "{\"issuer\":\"https://id.example/dex/\",\"issuerPath\":\"/dex\","
	    "\"clients\":["
	    "{\"id\":\"tv\",\"name\":\"TV\",\"public\":false,"
	    "\"redirectURIs\":[\"https://id.example/dex/device/callback\"],"
	    "\"trustedPeers\":[],\"grantTypes\":[],"
	    "\"secretHash\":\"" H_SECRET "\"},"
	    "{\"id\":\"dexlike\",\"name\":\"D\",\"public\":false,"
	    "\"redirectURIs\":[\"/device/callback\"],\"trustedPeers\":[],"
	    "\"grantTypes\":[],\"secretHash\":\"" H_SECRET "\"},"
	    "{\"id\":\"nodev\",\"name\":\"N\",\"public\":false,"
	    "\"redirectURIs\":[\"/device/callback\"],\"trustedPeers\":[],"
	    "\"grantTypes\":[\"authorization_code\"],"
	    "\"secretHash\":\"" H_SECRET "\"},"
	    "{\"id\":\"cli\",\"name\":\"CLI\",\"public\":true,"
	    "\"redirectURIs\":[],\"trustedPeers\":[],\"grantTypes\":[]}],"
	    "\"connectors\":[],\"responseTypes\":[\"code\"],"
	    "\"pkceMethods\":[\"S256\"],\"grantMask\":0}";
	static const struct {
		const char	*name;
		struct oauth2_conf **conf;
		const char	*form;
		enum oauth2_error want;
		int		 status;
		const char	*scopes;	/* compact JSON, when OK */
		const char	*method;	/* when OK */
		const char	*desc;
	} t[] = {
		{ "public client, Dex's default scope", &c_code,
		    "client_id=cli", OAUTH2_OK, 0, "[\"openid\"]", "" },
		{ "scopes, repeated once", &c_code, "client_id=cli&scope=openid"
		    "+email+openid+offline_access", OAUTH2_OK, 0,
		    "[\"openid\",\"email\",\"offline_access\"]", "" },
		{ "PKCE S256", &c_code, "client_id=cli&code_challenge=abc"
		    "&code_challenge_method=S256", OAUTH2_OK, 0,
		    "[\"openid\"]", "S256" },
		{ "PKCE, plain by default", &c_code,
		    "client_id=cli&code_challenge=abc", OAUTH2_OK, 0,
		    "[\"openid\"]", "plain" },
		{ "a method without a challenge binds nothing", &c_code,
		    "client_id=cli&code_challenge_method=S256", OAUTH2_OK, 0,
		    "[\"openid\"]", "" },
		{ "unknown client", &c_code, "client_id=nope",
		    OAUTH2_INVALID_CLIENT, 401, NULL, NULL,
		    "Invalid client credentials." },
		{ "confidential, no secret", &c_code, "client_id=foo",
		    OAUTH2_INVALID_CLIENT, 401 },
		{ "confidential without /device/callback", &c_code,
		    "client_id=foo&client_secret=secret",
		    OAUTH2_UNAUTHORIZED_CLIENT, 400, NULL, NULL,
		    "Client has no /device/callback redirect URI." },
		{ "public with other redirect URIs", &c_code, "client_id=spa",
		    OAUTH2_UNAUTHORIZED_CLIENT, 400 },
		{ "openid missing", &c_code, "client_id=cli&scope=email",
		    OAUTH2_INVALID_SCOPE, 400, NULL, NULL,
		    "Missing required scope(s) [\"openid\"]." },
		{ "unknown scope", &c_code, "client_id=cli&scope=openid+x",
		    OAUTH2_INVALID_SCOPE, 400 },
		{ "unknown PKCE method", &c_code, "client_id=cli"
		    "&code_challenge=abc&code_challenge_method=S512",
		    OAUTH2_INVALID_REQUEST, 400, NULL, NULL,
		    "Unsupported PKCE challenge method (\"S512\")." },
		{ "plain not allowed", &c_s256,
		    "client_id=cli&code_challenge=abc",
		    OAUTH2_INVALID_REQUEST, 400 },
		{ "PKCE enforced", &c_pkce, "client_id=cli",
		    OAUTH2_INVALID_REQUEST, 400 },
	};
	struct oauth2_device_request	 dr;
	struct oauth2_token_request	 tr;
	struct oauth2_conf		*dc;
	struct http_params		 pp;
	json_t				*j;
	char				 err[256], hdr[128], *s;
	size_t				 i;
	int				 rv;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		params(&pp, t[i].form);
		rv = oauth2_device_request(*t[i].conf, mkreq(NULL), &pp, &dr);
		is_str(rv == 0 ? "ok" : oauth2_error_name(dr.error),
		    t[i].want == OAUTH2_OK ? "ok" :
		    oauth2_error_name(t[i].want), "device request: %s",
		    t[i].name);
		if (rv == -1)
			is_int(dr.status, t[i].status, "device request: %s: "
			    "status", t[i].name);
		if (rv == -1 && t[i].desc != NULL)
			is_str(dr.description, t[i].desc,
			    "device request: %s: text", t[i].name);
		if (rv == 0) {
			s = json_dumps(dr.scopes, JSON_COMPACT);
			is_str(s, t[i].scopes, "device request: %s: scopes",
			    t[i].name);
			free(s);
			is_str(dr.code_challenge_method, t[i].method,
			    "device request: %s: PKCE method", t[i].name);
		}
		oauth2_device_request_free(&dr);
		http_params_free(&pp);
	}

	j = json_loads(dconf, 0, NULL);
	dc = j != NULL ? oauth2_conf_new(j, err, sizeof(err)) : NULL;
	json_decref(j);
	if (!ok(dc != NULL, "device fixture"))
		return;
	params(&pp, "");
	(void)snprintf(hdr, sizeof(hdr), "Basic %s", b64("tv:secret"));
	rv = oauth2_device_request(dc, mkreq(hdr), &pp, &dr);
	ok(rv == 0 && strcmp(dr.client->id, "tv") == 0,
	    "device request: Basic auth");
	oauth2_device_request_free(&dr);
	(void)snprintf(hdr, sizeof(hdr), "Basic %s", b64("nodev:secret"));
	rv = oauth2_device_request(dc, mkreq(hdr), &pp, &dr);
	ok(rv == -1 && dr.error == OAUTH2_UNAUTHORIZED_CLIENT,
	    "device request: the client's grantTypes omit the grant");
	oauth2_device_request_free(&dr);
	http_params_free(&pp);

#define DEVURI(conf, id, stored)	oauth2_device_redirect_uri((conf), \
	oauth2_client_find((conf), (id)), (stored))
	s = DEVURI(dc, "tv", 0);
	is_str(s, "https://id.example/dex/device/callback",
	    "device redirect: the registered absolute URI");
	free(s);
	s = DEVURI(dc, "tv", 1);
	is_str(s, "https://id.example/dex/device/callback",
	    "device redirect: stored as it is");
	free(s);
	s = DEVURI(dc, "dexlike", 0);
	is_str(s, "/device/callback", "device redirect: Dex's literal");
	free(s);
	s = DEVURI(dc, "dexlike", 1);
	is_str(s, "/dex/device/callback",
	    "device redirect: stored under the issuer path");
	free(s);
	s = DEVURI(dc, "cli", 1);
	is_str(s, "/dex/device/callback", "device redirect: public client");
	free(s);
	ok(DEVURI(c_code, "foo", 0) == NULL, "device redirect: none");
	ok(DEVURI(c_code, "spa", 0) == NULL,
	    "device redirect: none for a public client with its own URIs");
#undef DEVURI

	/* The login stores Dex's literal under the issuer path. */
	params(&pp, "client_id=dexlike&redirect_uri=%2Fdevice%2Fcallback"
	    "&response_type=code&scope=openid&state=BCDF-GHJK");
	{
		struct oauth2_authreq_result	 r;

		oauth2_authreq_parse(dc, &pp, NULL, &r);
		is_str(r.authreq != NULL ? json_string_value(json_object_get(
		    r.authreq, "redirectUri")) : NULL, "/dex/device/callback",
		    "a confidential client's /device/callback, under the "
		    "issuer path");
		oauth2_authreq_result_free(&r);
	}
	http_params_free(&pp);

	/* The device_code grant at /token. */
	params(&pp, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
	    "device_code&device_code=dc&code_verifier=v&client_id=cli");
	rv = oauth2_token_request(c_code, mkreq(NULL), &pp, &tr);
	ok(rv == 0 && tr.grant == OAUTH2_GRANT_DEVICE_CODE &&
	    strcmp(tr.device_code, "dc") == 0 &&
	    strcmp(tr.code_verifier, "v") == 0 &&
	    strcmp(tr.client->id, "cli") == 0, "device_code grant parsed");
	oauth2_token_request_free(&tr);
	http_params_free(&pp);
	params(&pp, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
	    "device_code&client_id=cli");
	rv = oauth2_token_request(c_code, mkreq(NULL), &pp, &tr);
	ok(rv == -1 && tr.error == OAUTH2_INVALID_REQUEST &&
	    strcmp(tr.description, "No device code received") == 0,
	    "device_code grant: no device_code");
	oauth2_token_request_free(&tr);
	http_params_free(&pp);
	params(&pp, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
	    "device_code&device_code=dc&client_id=foo&client_secret=nope");
	rv = oauth2_token_request(c_code, mkreq(NULL), &pp, &tr);
	ok(rv == -1 && tr.error == OAUTH2_INVALID_CLIENT && tr.status == 401,
	    "device_code grant: a wrong secret is invalid_client");
	oauth2_token_request_free(&tr);
	http_params_free(&pp);
	params(&pp, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
	    "device_code&device_code=dc&client_id=cli");
	rv = oauth2_token_request(c_pw, mkreq(NULL), &pp, &tr);
	ok(rv == -1 && tr.error == OAUTH2_UNSUPPORTED_GRANT_TYPE,
	    "device_code grant: off when grantTypes omit it");
	oauth2_token_request_free(&tr);
	http_params_free(&pp);
	oauth2_conf_free(dc);
}

int
main(void)
{
	c_all = mkconf("[\"code\",\"token\",\"id_token\"]", "[]", "false",
	    "0", "null");
	c_code = mkconf("[\"code\"]", "[\"S256\",\"plain\"]", "false", "0",
	    "null");
	c_pkce = mkconf("[\"code\"]", "[\"S256\",\"plain\"]", "true", "0",
	    "null");
	c_s256 = mkconf("[\"code\"]", "[\"S256\"]", "false", "0", "null");
	c_combo = mkconf("[\"code\",\"code id_token\"]", "[]", "false", "0",
	    "null");
	/* password and authorization_code only */
	c_pw = mkconf("[\"code\"]", "[]", "false", "5", "\"local\"");
	/* authorization_code, refresh_token and client_credentials */
	c_cc = mkconf("[\"code\"]", "[]", "false", "73", "null");

	test_conf();
	test_authreq_table();
	test_authreq_record();
	test_redirect_uri();
	test_redirect_build();
	test_client_auth();
	test_token_request();
	test_claims();
	test_client_grant();
	test_revoke_request();
	test_bodies();
	test_device();

	oauth2_conf_free(c_all);
	oauth2_conf_free(c_code);
	oauth2_conf_free(c_pkce);
	oauth2_conf_free(c_s256);
	oauth2_conf_free(c_combo);
	oauth2_conf_free(c_pw);
	oauth2_conf_free(c_cc);
	return (tap_done());
}
