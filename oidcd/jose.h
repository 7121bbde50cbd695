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
 * JOSE primitives: base64url, compact JWS sign/parse/verify, public JWK
 * export and import, private key (de)serialisation, the Dex `sub'
 * encoding and the at_hash/c_hash helper.  Self-contained (libcrypto and
 * jansson only) so that unit testers and fuzz targets can use it alone.
 */

#ifndef JOSE_H
#define JOSE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

/* Limits on everything that comes from outside. */
#define JOSE_B64_MAX_IN		(1024 * 1024)	/* encoded input, any decoder */
#define JOSE_JWS_MAX_LEN	16384		/* whole compact JWS */
#define JOSE_JWS_MAX_HEADER	2048		/* decoded protected header */
#define JOSE_JWS_MAX_SIG	1024		/* signature bytes (RSA 8192) */
#define JOSE_JSON_MAX_LEN	(256 * 1024)	/* jose_json_object() input */
#define JOSE_KID_MAX		256		/* a kid seen in a JWS or JWK */
#define JOSE_TYP_MAX		32		/* a typ we sign with */
#define JOSE_TYP_JWT		"JWT"
#define JOSE_TYP_LOGOUT		"logout+jwt"	/* Back-Channel Logout 2.4 */
#define JOSE_JWK_MAX_LEN	16384		/* one JWK, compact JSON */
#define JOSE_JWKS_MAX_KEYS	32		/* keys in one JWKS */
#define JOSE_JWKS_MAX_LEN	(JOSE_JWKS_MAX_KEYS * JOSE_JWK_MAX_LEN)
#define JOSE_RSA_MIN_BITS	2048
#define JOSE_RSA_MAX_BITS	8192
#define JOSE_RSA_MAX_E_LEN	4		/* bytes of the exponent */
#define JOSE_RSA_GEN_BITS	2048		/* Dex's local signer */
#define JOSE_PRIVKEY_MAX_LEN	8192		/* PKCS#8 DER of a stored key */
#define JOSE_SUB_MAX_FIELD	1024		/* user_id, conn_id in a sub */

/* A generated kid: 20 random bytes in lowercase hex, as Dex. */
#define JOSE_KID_RAND_BYTES	20
#define JOSE_KID_LEN		(2 * JOSE_KID_RAND_BYTES)

/* Unpadded base64url length of n bytes. */
#define JOSE_B64URL_LEN(n)	(((n) / 3) * 4 + (((n) % 3) * 4 + 2) / 3)

/*
 * Signature algorithms.  HS* and "none" exist only so that they can be
 * named and refused: no function here signs or verifies with them.
 */
enum jose_alg {
	JOSE_ALG_UNKNOWN = 0,
	JOSE_ALG_RS256,
	JOSE_ALG_RS384,
	JOSE_ALG_RS512,
	JOSE_ALG_PS256,
	JOSE_ALG_PS384,
	JOSE_ALG_PS512,
	JOSE_ALG_ES256,
	JOSE_ALG_ES384,
	JOSE_ALG_ES512,
	JOSE_ALG_EDDSA,
	JOSE_ALG_HS256,		/* refused */
	JOSE_ALG_HS384,		/* refused */
	JOSE_ALG_HS512,		/* refused */
	JOSE_ALG_NONE		/* refused */
};

/* A parsed compact JWS; every member is owned by the struct. */
struct jose_jws {
	enum jose_alg	 alg;
	char		*kid;		/* NULL when absent */
	char		*typ;		/* NULL when absent */
	json_t		*header;	/* the protected header object */
	uint8_t		*payload;	/* decoded, NUL-terminated */
	size_t		 payload_len;
	char		*signing_input;	/* "b64(header).b64(payload)" */
	size_t		 signing_input_len;
	uint8_t		*sig;
	size_t		 sig_len;
};

/* One verification key of a JWKS. */
struct jose_jwk {
	char		*kid;		/* NULL when absent */
	enum jose_alg	 alg;
	EVP_PKEY	*pkey;
};

struct jose_jwks {
	struct jose_jwk	 keys[JOSE_JWKS_MAX_KEYS];
	size_t		 nkeys;
	size_t		 nskipped;	/* unusable keys that were left out */
};

/* Algorithms. */
const char	*jose_alg_name(enum jose_alg);
enum jose_alg	 jose_alg_from_name(const char *);
int		 jose_alg_usable(enum jose_alg);

/* base64url without padding (strict) and standard base64 (padded). */
char		*jose_b64url_encode(const void *, size_t);
int		 jose_b64url_decode(const char *, size_t, uint8_t **,
		    size_t *);
int		 jose_b64_decode(const char *, size_t, uint8_t **, size_t *);

/* Keys. */
EVP_PKEY	*jose_key_generate(enum jose_alg);
EVP_PKEY	*jose_key_generate_bits(enum jose_alg, int);
int		 jose_key_check(EVP_PKEY *, enum jose_alg);
int		 jose_kid_generate(char *, size_t);
uint8_t		*jose_privkey_to_der(EVP_PKEY *, size_t *);
EVP_PKEY	*jose_privkey_from_der(const uint8_t *, size_t);

/* JWK and JWKS. */
json_t		*jose_jwk_public(EVP_PKEY *, enum jose_alg, const char *);
char		*jose_jwks_serialize(json_t *, size_t *);
EVP_PKEY	*jose_jwk_import(json_t *, enum jose_alg *);
int		 jose_jwks_parse(const char *, size_t, struct jose_jwks *);
void		 jose_jwks_free(struct jose_jwks *);
const struct jose_jwk *
		 jose_jwks_find(const struct jose_jwks *, const char *);

/* JWS. */
char		*jose_jws_sign(EVP_PKEY *, enum jose_alg, const char *,
		    const char *, size_t);
/* The same with another JWS "typ" (at most JOSE_TYP_MAX bytes). */
char		*jose_jws_sign_typ(EVP_PKEY *, enum jose_alg, const char *,
		    const char *, const char *, size_t);
int		 jose_jws_parse(const char *, size_t, struct jose_jws *);
int		 jose_jws_verify(const struct jose_jws *, EVP_PKEY *,
		    enum jose_alg);
void		 jose_jws_free(struct jose_jws *);
json_t		*jose_json_object(const void *, size_t);

/* OpenID Connect and Dex helpers. */
char		*jose_half_hash(enum jose_alg, const char *, size_t);
/* HMAC-SHA256 into 32 bytes, the MAC fetched once; 0 or -1. */
int		 jose_hmac_sha256(const void *, size_t, const void *, size_t,
		    uint8_t *);
/* EVP_Digest() with the digest fetched once; 0 or -1. */
int		 jose_digest(const EVP_MD *, const void *, size_t, uint8_t *,
		    unsigned int *);
char		*jose_dex_subject(const char *, const char *);
int		 jose_dex_subject_decode(const char *, char **, char **);

#endif /* JOSE_H */
