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
 * libFuzzer target for the token endpoint's request handling: the
 * form decoder, client authentication (Basic and form) and the grant
 * parser (client_credentials with its grant and claims too), the
 * revocation request, and the authorization request validation over
 * the same parameters.  Input: an Authorization header value, a newline, then
 * the form body.  Whatever is accepted must be self-consistent: a
 * client only with a good secret, a redirect only to that client's
 * registered URI.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http.h"
#include "oauth2.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* sha256("secret") */
static const char *fuzz_conf =
    "{\"issuer\":\"https://id.example\",\"issuerPath\":\"\","
    "\"clients\":[{\"id\":\"foo\",\"name\":\"Foo\",\"public\":false,"
    "\"redirectURIs\":[\"https://example.com/cb\"],"
    "\"trustedPeers\":[\"cli\"],\"grantTypes\":[],\"secretHash\":"
    "\"2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b\"},"
    "{\"id\":\"cli\",\"name\":\"CLI\",\"public\":true,\"redirectURIs\":[],"
    "\"trustedPeers\":[],\"grantTypes\":[\"refresh_token\"]},"
    "{\"id\":\"cc\",\"name\":\"Robot\",\"public\":false,"
    "\"redirectURIs\":[\"https://example.com/cc\"],\"trustedPeers\":[],"
    "\"grantTypes\":[\"client_credentials\"],"
    "\"clientCredentialsClaims\":{\"groups\":[\"robots\"]},\"secretHash\":"
    "\"2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b\"}],"
    "\"connectors\":[{\"id\":\"local\",\"name\":\"Email\","
    "\"type\":\"local\"}],"
    "\"responseTypes\":[\"code\",\"token\",\"id_token\"],"
    "\"pkceMethods\":[\"S256\",\"plain\"],\"pkceEnforce\":false,"
    "\"grantMask\":127,\"passwordConnector\":\"local\","
    "\"idTokens\":3600,\"authRequests\":600,\"signingAlgs\":[\"RS256\"]}";

static struct oauth2_conf *
conf_get(void)
{
	static struct oauth2_conf	*conf;
	json_t				*j;
	char				 err[128];

	if (conf == NULL) {
		if ((j = json_loads(fuzz_conf, 0, NULL)) == NULL ||
		    (conf = oauth2_conf_new(j, err, sizeof(err))) == NULL)
			abort();
		json_decref(j);
	}
	return (conf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_params	 pp;
	struct oauth2_conf		*conf = conf_get();
	struct http_request		 req;
	struct oauth2_token_request	 tr;
	struct oauth2_authreq_result	 ar;
	struct oauth2_revoke_request	 rr;
	json_t				*g, *claims;
	const struct oauth2_client	*client;
	const char			*desc, *body;
	char				*hdr;
	const uint8_t			*nl;
	size_t				 hlen, i;
	enum oauth2_error		 e;
	int				 rv, found;

	if ((nl = memchr(data, '\n', size)) == NULL)
		return (0);
	hlen = nl - data;
	if ((hdr = strndup((const char *)data, hlen)) == NULL)
		return (0);
	body = (const char *)nl + 1;
	memset(&req, 0, sizeof(req));
	if (hlen > 0) {
		req.hdrs[0].name = "Authorization";
		req.hdrs[0].value = hdr;
		req.nhdrs = 1;
	}
	if (http_params_parse(&pp, body, size - hlen - 1) != HTTP_PARAMS_OK)
		goto out;

	e = oauth2_client_auth(conf, &req, &pp, &client, &desc);
	if ((e == OAUTH2_OK) != (client != NULL))
		abort();
	if (e != OAUTH2_OK && desc == NULL && e != OAUTH2_SERVER_ERROR)
		abort();

	rv = oauth2_token_request(conf, &req, &pp, &tr);
	if (rv == 0) {
		if (tr.client == NULL || tr.grant == OAUTH2_GRANT_NONE ||
		    tr.error != OAUTH2_OK)
			abort();
		if (tr.client->grant_mask != 0 &&
		    strcmp(tr.client->id, "cli") == 0 &&
		    tr.grant != OAUTH2_GRANT_REFRESH)
			abort();
		if (tr.grant == OAUTH2_GRANT_CLIENT_CREDENTIALS) {
			/* Never for a public client; always some claims. */
			if (tr.client->public || !json_is_array(tr.scopes) ||
			    (g = oauth2_client_grant(tr.client, tr.scopes,
			    tr.nonce)) == NULL)
				abort();
			claims = oauth2_access_token_claims(conf, g,
			    tr.client->id, 1700000000, JOSE_ALG_RS256, "j");
			if (claims == NULL)
				abort();
			json_decref(claims);
			json_decref(g);
		}
	} else if (tr.error == OAUTH2_OK ||
	    strlen(tr.description) >= sizeof(tr.description))
		abort();
	oauth2_token_request_free(&tr);

	if (oauth2_revoke_request(conf, &req, &pp, &rr) == 0) {
		if (rr.client == NULL || rr.token == NULL ||
		    *rr.token == '\0' || rr.hint == NULL)
			abort();
	} else if (rr.error == OAUTH2_OK ||
	    (rr.error == OAUTH2_INVALID_CLIENT && rr.client != NULL))
		abort();

	oauth2_authreq_parse(conf, &pp, NULL, &ar);
	if (ar.outcome == OAUTH2_AUTHREQ_REDIRECT) {
		/* Never an open redirect. */
		if (ar.client == NULL || ar.redirect == NULL ||
		    strchr(ar.redirect, '\r') != NULL ||
		    strchr(ar.redirect, '\n') != NULL)
			abort();
		found = 0;
		for (i = 0; i < ar.client->nredirect_uris; i++)
			if (strncmp(ar.redirect, ar.client->redirect_uris[i],
			    strlen(ar.client->redirect_uris[i])) == 0)
				found = 1;
		if (!found && !ar.client->public)
			abort();
	} else if (ar.outcome == OAUTH2_AUTHREQ_OK) {
		if (ar.authreq == NULL || ar.client == NULL)
			abort();
	} else if (ar.outcome != OAUTH2_AUTHREQ_DISPLAY)
		abort();
	oauth2_authreq_result_free(&ar);
 out:
	free(hdr);
	return (0);
}
