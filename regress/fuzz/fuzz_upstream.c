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
 * upstream.c on what an upstream IdP may send.  The first byte picks
 * the path: 0 a discovery document, 1 a token response (the second
 * byte gives status and content type), 2 claims mapped to an identity
 * (oidc with every rule on, and oauth), 3 an ID token verified against
 * a key of this run (it must never verify), 4 claims signed with that
 * key and verified, then mapped, 5 a JWKS, a Cache-Control header and
 * sealed blobs, 6 a connector config (the second byte picks the type).
 * Properties checked on the way: an identity has a user id and bounded
 * groups, nothing verifies or unseals without our keys.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "jose.h"
#include "upstream.h"

#define ISS	"https://idp.example.com"
#define OURS	"https://dex.example.com"
#define NOW	1700000000

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct upstream_conf	*oidc, *oauth;
static struct upstream_jwks	 jw;
static EVP_PKEY			*key;
static const uint8_t		 seal_key[UPSTREAM_SEAL_KEY_LEN] = { 1 };

static void
setup(void)
{
	json_t	*c, *set;
	char	 err[UPSTREAM_ERR_MAX], *s;

	c = json_loads("{\"issuer\": \"" ISS "\", \"clientID\": \"cid\", "
	    "\"redirectURI\": \"" OURS "/callback\", "
	    "\"insecureEnableGroups\": true, \"getUserInfo\": false, "
	    "\"allowedGroups\": [\"a\", \"b\", \"x:a:b\"], "
	    "\"claimMapping\": {\"groups\": \"roles\", \"email\": \"mail\", "
	    "\"preferred_username\": \"nick\"}, "
	    "\"userIDKey\": \"uid\", "
	    "\"claimModifications\": {\"filterGroupClaims\": "
	    "{\"groupsFilter\": \"^[a-z]\"}, \"modifyGroupNames\": "
	    "{\"prefix\": \"p\", \"suffix\": \"s\"}, \"newGroupFromClaims\": "
	    "[{\"claims\": [\"org\", \"team\"], \"delimiter\": \":\", "
	    "\"clearDelimiter\": true, \"prefix\": \"x\"}]}}", 0, NULL);
	if (c == NULL || upstream_config_load(c, "oidc", "up", OURS, &oidc,
	    err, sizeof(err)) == -1)
		abort();
	json_decref(c);
	upstream_set_seal_key(oidc, seal_key);

	c = json_loads("{\"clientID\": \"c\", \"redirectURI\": \"" OURS
	    "/callback\", \"authorizationURL\": \"https://o.example/a\", "
	    "\"tokenURL\": \"https://o.example/t\", \"userInfoURL\": "
	    "\"https://o.example/u\"}", 0, NULL);
	if (c == NULL || upstream_config_load(c, "oauth", "oa", OURS, &oauth,
	    err, sizeof(err)) == -1)
		abort();
	json_decref(c);
	upstream_set_seal_key(oauth, seal_key);

	if ((key = jose_key_generate(JOSE_ALG_ES256)) == NULL)
		abort();
	set = json_pack("{s:[o]}", "keys", jose_jwk_public(key,
	    JOSE_ALG_ES256, "k1"));
	s = json_dumps(set, JSON_COMPACT);
	if (s == NULL || upstream_jwks_parse(&jw, s, strlen(s), NOW, -1, err,
	    sizeof(err)) == -1)
		abort();
	free(s);
	json_decref(set);
}

static void
check_identity(json_t *id)
{
	const char	*u = json_string_value(json_object_get(id, "userId"));

	if (u == NULL || *u == '\0' || strlen(u) > UPSTREAM_USERID_MAX ||
	    json_array_size(json_object_get(id, "groups")) >
	    UPSTREAM_GROUPS_MAX)
		abort();
}

static void
map(json_t *claims, const char *at)
{
	struct upstream_id_input	 in;
	json_t				*id;
	char				 err[UPSTREAM_ERR_MAX];

	memset(&in, 0, sizeof(in));
	in.ui_caller = UPSTREAM_LOGIN;
	in.ui_id_claims = claims;
	in.ui_refresh_token = "rt";
	if (upstream_identity(oidc, &in, &id, err, sizeof(err)) == 0) {
		check_identity(id);
		if (upstream_refresh_merge(id, id, err, sizeof(err)) != 0)
			abort();
		json_decref(id);
	}
	in.ui_id_claims = NULL;
	in.ui_userinfo = claims;
	in.ui_access_token = at;
	in.ui_groups = 1;
	if (upstream_identity(oauth, &in, &id, err, sizeof(err)) == 0) {
		check_identity(id);
		json_decref(id);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upstream_tokens		 t;
	struct upstream_login_state	 ls;
	struct upstream_jwks		 j2;
	struct upstream_conf		*uc;
	char				 err[UPSTREAM_ERR_MAX], *s, *tok;
	const char			*ct;
	json_t				*claims;
	uint8_t				*pt;
	size_t				 len;
	int				 need;

	if (oidc == NULL)
		setup();
	if (size < 2)
		return (0);
	if ((s = strndup((const char *)data + 2, size - 2)) == NULL)
		return (0);
	len = strlen(s);

	switch (data[0] % 7) {
	case 0:
		(void)upstream_discovery_parse(oidc, s, len, err,
		    sizeof(err));
		upstream_warnings_clear(oidc);
		break;
	case 1:
		ct = (data[1] & 1) ? "text/plain" : "application/json";
		if (upstream_token_response(oidc, (data[1] & 2) ? 200 : 400,
		    ct, s, len, &t, err, sizeof(err)) == 0 &&
		    t.ut_access_token == NULL)
			abort();
		upstream_tokens_free(&t);
		break;
	case 2:
		if ((claims = json_loadb(s, len, 0, NULL)) != NULL &&
		    json_is_object(claims))
			map(claims, (data[1] & 1) ? s : NULL);
		json_decref(claims);
		break;
	case 3:
		if (upstream_id_token_verify(oidc, &jw, s, NULL, NULL,
		    data[1] & 1, NOW, &claims, &need, err, sizeof(err)) == 0)
			abort();
		break;
	case 4:
		tok = jose_jws_sign(key, JOSE_ALG_ES256,
		    (data[1] & 1) ? "k1" : NULL, s, len);
		if (tok != NULL && upstream_id_token_verify(oidc, &jw, tok,
		    (data[1] & 2) ? "n" : NULL, (data[1] & 4) ? "at" : NULL,
		    data[1] & 8, NOW, &claims, &need, err,
		    sizeof(err)) == 0) {
			map(claims, NULL);
			json_decref(claims);
		}
		free(tok);
		break;
	case 5:
		(void)upstream_cache_max_age(s);
		if (upstream_jwks_parse(&j2, s, len, NOW, data[1], err,
		    sizeof(err)) == 0) {
			if (j2.uj_set.nkeys == 0 ||
			    j2.uj_set.nkeys > JOSE_JWKS_MAX_KEYS)
				abort();
			upstream_jwks_free(&j2);
		}
		if (upstream_unseal(seal_key, "up", data[1], s, &pt,
		    &len) == 0)
			abort();	/* forging needs the key */
		(void)upstream_login_state(oidc, s, &ls, err, sizeof(err));
		break;
	case 6:
		if ((claims = json_loadb(s, len, 0, NULL)) != NULL &&
		    upstream_config_load(claims, (data[1] & 1) ? "oauth" :
		    "oidc", "c", OURS, &uc, err, sizeof(err)) == 0) {
			if (uc->uc_redirect_uri == NULL ||
			    uc->uc_client_id == NULL ||
			    (uc->uc_type == UPSTREAM_OIDC &&
			    uc->uc_prompt == NULL))
				abort();
			upstream_conf_free(uc);
		}
		json_decref(claims);
		break;
	}
	free(s);
	return (0);
}
