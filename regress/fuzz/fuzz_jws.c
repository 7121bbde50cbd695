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
 * jose.c on arbitrary bytes, as a bearer token or an upstream ID token
 * would arrive: the compact JWS parser, signature verification with our
 * own keys (which must never succeed), then the payload taken as a JWK
 * and as a JWKS.  Along the way a few properties are checked: base64url
 * has one encoding per byte string, an imported JWK exports and imports
 * again to the same algorithm, a decoded Dex `sub' encodes back.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "jose.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static EVP_PKEY	*rsa_key, *ec_key;

static void
jwk_roundtrip(json_t *jwk)
{
	EVP_PKEY	*k, *k2;
	enum jose_alg	 alg, alg2;
	json_t		*out;

	if ((k = jose_jwk_import(jwk, &alg)) == NULL)
		return;
	if (!jose_alg_usable(alg) || jose_key_check(k, alg) == -1)
		abort();
	if ((out = jose_jwk_public(k, alg, "kid")) == NULL)
		abort();
	if ((k2 = jose_jwk_import(out, &alg2)) == NULL || alg2 != alg)
		abort();
	EVP_PKEY_free(k2);
	json_decref(out);
	EVP_PKEY_free(k);
}

static void
b64_and_sub(const uint8_t *data, size_t size)
{
	uint8_t	*out;
	char	*s, *enc, *u, *c;
	size_t	 len;

	if (jose_b64url_decode((const char *)data, size, &out, &len) == 0) {
		/* Strict decoding: the input is the only encoding. */
		if ((enc = jose_b64url_encode(out, len)) == NULL ||
		    strlen(enc) != size || memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		free(out);
	}
	if (jose_b64_decode((const char *)data, size, &out, &len) == 0)
		free(out);

	if ((s = strndup((const char *)data, size)) == NULL)
		return;
	if (jose_dex_subject_decode(s, &u, &c) == 0) {
		if ((enc = jose_dex_subject(u, c)) == NULL)
			abort();
		free(u);
		free(c);
		if (jose_dex_subject_decode(enc, &u, &c) != 0)
			abort();
		free(u);
		free(c);
		free(enc);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jose_jws		 jws;
	struct jose_jwks	 set;
	json_t			*payload;

	if (rsa_key == NULL) {
		rsa_key = jose_key_generate(JOSE_ALG_RS256);
		ec_key = jose_key_generate(JOSE_ALG_ES256);
		if (rsa_key == NULL || ec_key == NULL)
			abort();
	}

	b64_and_sub(data, size);

	if (jose_jws_parse((const char *)data, size, &jws) == -1)
		return (0);
	if (jws.alg == JOSE_ALG_UNKNOWN || jws.header == NULL ||
	    jws.signing_input_len >= size ||
	    memcmp(jws.signing_input, data, jws.signing_input_len) != 0 ||
	    jws.sig_len == 0 || jws.sig_len > JOSE_JWS_MAX_SIG)
		abort();
	/* Nobody holds our private keys: no signature may verify. */
	if (jose_jws_verify(&jws, rsa_key, jws.alg) == 0 ||
	    jose_jws_verify(&jws, ec_key, jws.alg) == 0)
		abort();

	if ((payload = jose_json_object(jws.payload,
	    jws.payload_len)) != NULL) {
		jwk_roundtrip(payload);
		json_decref(payload);
	}
	if (jose_jwks_parse((const char *)jws.payload, jws.payload_len,
	    &set) == 0) {
		if (set.nkeys > JOSE_JWKS_MAX_KEYS)
			abort();
		jose_jwks_free(&set);
	}
	jose_jws_free(&jws);
	return (0);
}
