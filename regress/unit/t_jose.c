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
 * Unit tests for jose.c.  Signatures made here are also checked with
 * plain libcrypto calls that share no code with jose.c, so that a bug
 * made twice (in signing and in verifying) cannot pass unseen.  With
 * JOSE_OUT_DIR set, two tokens and their JWKS are written there for
 * regress/integration/jose-node.sh to verify with the npm `jose'.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "jose.h"
#include "tap.h"

#define PAYLOAD	"{\"iss\":\"https://issuer.example\"," \
		"\"sub\":\"CgNmb28SA2Jhcg\"," \
		"\"aud\":\"client\",\"exp\":4102444800,\"iat\":1700000000}"

static EVP_PKEY	*rsa_key, *ec_key;
static char	 rsa_kid[JOSE_KID_LEN + 1], ec_kid[JOSE_KID_LEN + 1];

/* base64url decode with libcrypto's EVP_DecodeBlock, not jose.c. */
static uint8_t *
ref_b64url_decode(const char *s, size_t len, size_t *outlen)
{
	char	*t;
	uint8_t	*out;
	size_t	 i, tlen;
	int	 n;

	tlen = (len + 3) / 4 * 4;
	if ((t = malloc(tlen + 1)) == NULL ||
	    (out = malloc(tlen / 4 * 3 + 1)) == NULL)
		abort();
	for (i = 0; i < len; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	for (; i < tlen; i++)
		t[i] = '=';
	t[tlen] = '\0';
	n = EVP_DecodeBlock(out, (uint8_t *)t, tlen);
	free(t);
	if (n < 0) {
		free(out);
		return (NULL);
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	*outlen = n - (tlen - len);
	return (out);
}

/* Encode with libcrypto's EVP_EncodeBlock, then make it base64url. */
static char *
ref_b64url_encode(const uint8_t *p, size_t len)
{
	char	*out;
	int	 n, i;

	if ((out = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		abort();
	n = EVP_EncodeBlock((uint8_t *)out, p, len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++)
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	return (out);
}

/*
 * Check a compact JWS with raw libcrypto: RS256 (PKCS#1 v1.5, SHA-256)
 * or ES256 (R || S turned into a DER ECDSA_SIG).
 */
static int
ref_verify(const char *jws, EVP_PKEY *pkey, int ec)
{
	const char	*dot2;
	uint8_t		*sig, *der = NULL;
	size_t		 siglen;
	EVP_MD_CTX	*ctx;
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	int		 derlen, ok = 0;

	if ((dot2 = strrchr(jws, '.')) == NULL)
		return (0);
	if ((sig = ref_b64url_decode(dot2 + 1, strlen(dot2 + 1),
	    &siglen)) == NULL)
		return (0);
	if (ec) {
		if (siglen != 64) {
			free(sig);
			return (0);
		}
		es = ECDSA_SIG_new();
		r = BN_bin2bn(sig, 32, NULL);
		s = BN_bin2bn(sig + 32, 32, NULL);
		if (es == NULL || r == NULL || s == NULL ||
		    ECDSA_SIG_set0(es, r, s) != 1)
			abort();
		derlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		free(sig);
		if (derlen <= 0)
			return (0);
		sig = der;
		siglen = derlen;
	}
	ctx = EVP_MD_CTX_new();
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const uint8_t *)jws,
	    dot2 - jws) == 1)
		ok = 1;
	EVP_MD_CTX_free(ctx);
	if (ec)
		OPENSSL_free(sig);
	else
		free(sig);
	return (ok);
}

static char *
enc(const char *s)
{
	return (ref_b64url_encode((const uint8_t *)s, strlen(s)));
}

/* An RSA key of any size, made without jose.c. */
static EVP_PKEY *
ref_rsa_key(int bits)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*k = NULL;

	if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
	    EVP_PKEY_keygen(ctx, &k) <= 0)
		k = NULL;
	EVP_PKEY_CTX_free(ctx);
	return (k);
}

/*
 * Sign "b64(hdr).b64(payload)" with raw libcrypto (SHA-256, PKCS#1 v1.5
 * or PSS with a 32-byte salt) whatever alg hdr names.
 */
static char *
ref_sign(const char *hdr, const char *payload, EVP_PKEY *pkey, int pss)
{
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;
	char		*h, *p, *in, *sig64, *out;
	uint8_t		 sig[1024];
	size_t		 siglen = sizeof(sig);

	h = ref_b64url_encode((const uint8_t *)hdr, strlen(hdr));
	p = ref_b64url_encode((const uint8_t *)payload, strlen(payload));
	if (asprintf(&in, "%s.%s", h, p) == -1)
		abort();
	ctx = EVP_MD_CTX_new();
	if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, pkey) != 1 ||
	    (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) <= 0)) ||
	    EVP_DigestSign(ctx, sig, &siglen, (uint8_t *)in,
	    strlen(in)) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	sig64 = ref_b64url_encode(sig, siglen);
	if (asprintf(&out, "%s.%s", in, sig64) == -1)
		abort();
	free(h);
	free(p);
	free(in);
	free(sig64);
	return (out);
}

/* Verify a PS256 token with raw libcrypto, salt length 32 exactly. */
static int
ref_verify_pss(const char *jws, EVP_PKEY *pkey)
{
	const char	*dot2 = strrchr(jws, '.');
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;
	uint8_t		*sig;
	size_t		 siglen;
	int		 r;

	sig = ref_b64url_decode(dot2 + 1, strlen(dot2 + 1), &siglen);
	ctx = EVP_MD_CTX_new();
	r = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const uint8_t *)jws,
	    dot2 - jws) == 1;
	EVP_MD_CTX_free(ctx);
	free(sig);
	return (r);
}

/* Build "b64(header).b64(payload).sig" from plain parts. */
static char *
make_jws(const char *hdr, const char *payload, const char *sig)
{
	char	*h, *p, *out;

	h = ref_b64url_encode((const uint8_t *)hdr, strlen(hdr));
	p = ref_b64url_encode((const uint8_t *)payload, strlen(payload));
	if (asprintf(&out, "%s.%s.%s", h, p, sig) == -1)
		abort();
	free(h);
	free(p);
	return (out);
}

/* Parse and verify in one go: 0 only when both succeed. */
static int
check(const char *jws, EVP_PKEY *pkey, enum jose_alg alg)
{
	struct jose_jws	 j;
	int		 r;

	if (jose_jws_parse(jws, strlen(jws), &j) == -1)
		return (-1);
	r = jose_jws_verify(&j, pkey, alg);
	jose_jws_free(&j);
	return (r);
}

/* s with control characters made visible, for test names. */
static const char *
show(const char *s)
{
	static char	 buf[256];
	size_t		 i;

	for (i = 0; s[i] != '\0' && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	buf[i] = '\0';
	return (buf);
}

static int
parses(const char *s)
{
	struct jose_jws	 j;

	if (jose_jws_parse(s, strlen(s), &j) == -1)
		return (0);
	jose_jws_free(&j);
	return (1);
}

static void
t_b64(void)
{
	static const struct {
		const char	*plain;
		const char	*enc;
	} v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" }
	};
	static const char *bad[] = {
		"Zg==", "Zm8=", "Zm9v+", "Zm9/", "Zm 9v", "Zm9v\t", "Z",
		"Zh", "Zm9", "Zm9vY", "=", "Zm9vYg=", "Zm9vYm*"
	};
	static const uint8_t bin[] = { 0xfb, 0xff, 0xbf };
	uint8_t	*out;
	size_t	 i, len;
	char	*s;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = jose_b64url_encode(v[i].plain, strlen(v[i].plain));
		is_str(s, v[i].enc, "b64url encode \"%s\"", v[i].plain);
		free(s);
		ok(jose_b64url_decode(v[i].enc, strlen(v[i].enc), &out,
		    &len) == 0 && len == strlen(v[i].plain) &&
		    memcmp(out, v[i].plain, len) == 0 && out[len] == '\0',
		    "b64url decode \"%s\"", v[i].enc);
		free(out);
	}
	s = jose_b64url_encode(bin, sizeof(bin));
	is_str(s, "-_-_", "b64url uses - and _");
	free(s);
	ok(jose_b64url_decode("-_-_", 4, &out, &len) == 0 && len == 3 &&
	    memcmp(out, bin, 3) == 0, "b64url decodes - and _");
	free(out);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(jose_b64url_decode(bad[i], strlen(bad[i]), &out,
		    &len) == -1 && out == NULL, "b64url rejects \"%s\"",
		    bad[i]);
	}
	ok(jose_b64url_decode("Zm\0v", 4, &out, &len) == -1,
	    "b64url rejects NUL");
	ok(jose_b64url_decode("Zg==", 2, &out, &len) == 0 && len == 1 &&
	    out[0] == 'f', "b64url honours the length");
	free(out);

	ok(jose_b64_decode("Zm9vYg==", 8, &out, &len) == 0 && len == 4 &&
	    memcmp(out, "foob", 4) == 0, "b64 decode padded");
	free(out);
	ok(jose_b64_decode("+/+/", 4, &out, &len) == 0 && len == 3 &&
	    memcmp(out, bin, 3) == 0, "b64 decodes + and /");
	free(out);
	ok(jose_b64_decode("Zm9vYg", 6, &out, &len) == -1,
	    "b64 requires padding");
	ok(jose_b64_decode("Zm9vYh==", 8, &out, &len) == -1,
	    "b64 rejects trailing bits");
	ok(jose_b64_decode("-_-_", 4, &out, &len) == -1,
	    "b64 rejects the url alphabet");
	ok(jose_b64_decode("Zg=a", 4, &out, &len) == -1,
	    "b64 rejects inner padding");
	ok(jose_b64_decode("Z===", 4, &out, &len) == -1,
	    "b64 rejects three pads");
}

static void
t_alg(void)
{
	is_int(jose_alg_from_name("RS256"), JOSE_ALG_RS256, "RS256 by name");
	is_int(jose_alg_from_name("EdDSA"), JOSE_ALG_EDDSA, "EdDSA by name");
	is_int(jose_alg_from_name("rs256"), JOSE_ALG_UNKNOWN,
	    "names are case-sensitive");
	is_int(jose_alg_from_name("none"), JOSE_ALG_NONE, "none is a name");
	ok(!jose_alg_usable(JOSE_ALG_NONE) &&
	    !jose_alg_usable(JOSE_ALG_HS256) &&
	    !jose_alg_usable(JOSE_ALG_UNKNOWN), "none, HS256 not usable");
	ok(jose_alg_usable(JOSE_ALG_ES512) && jose_alg_usable(JOSE_ALG_PS256),
	    "ES512, PS256 usable");
	is_str(jose_alg_name(JOSE_ALG_PS384), "PS384", "PS384 name");
	ok(jose_key_generate(JOSE_ALG_HS256) == NULL &&
	    jose_key_generate(JOSE_ALG_NONE) == NULL,
	    "no key for HS256 or none");
}

static void
t_kid(void)
{
	char	 a[JOSE_KID_LEN + 1], b[JOSE_KID_LEN + 1];
	size_t	 i;
	int	 hex = 1;

	ok(jose_kid_generate(a, sizeof(a)) == 0 &&
	    jose_kid_generate(b, sizeof(b)) == 0, "kid generated");
	for (i = 0; i < JOSE_KID_LEN; i++)
		if (!isdigit((unsigned char)a[i]) && (a[i] < 'a' || a[i] > 'f'))
			hex = 0;
	ok(strlen(a) == 40 && hex, "kid is 40 lowercase hex: %s", a);
	ok(strcmp(a, b) != 0, "kids differ");
	ok(jose_kid_generate(a, 40) == -1, "kid needs 41 bytes");
}

/* Sign with alg and a fresh key, then verify. */
/*
 * jose_jws_sign() keeps a signing context per (key, alg): signing
 * with one key under RS256, PS256, RS256 again, and alternating two
 * keys, must give tokens that verify with the right alg and key only.
 */
static void
t_sign_cache(void)
{
	static const enum jose_alg algs[] = { JOSE_ALG_RS256,
	    JOSE_ALG_PS256, JOSE_ALG_RS256, JOSE_ALG_PS384, JOSE_ALG_RS512 };
	EVP_PKEY	*k2;
	struct jose_jws	 j;
	char		*t;
	size_t		 i;
	int		 good = 0, wrong = 0, n = 0;

	k2 = jose_key_generate(JOSE_ALG_RS256);
	for (i = 0; i < 2 * sizeof(algs) / sizeof(algs[0]); i++) {
		EVP_PKEY *k = i % 2 ? k2 : rsa_key, *other = i % 2 ? rsa_key :
		    k2;
		enum jose_alg alg = algs[i % (sizeof(algs) / sizeof(algs[0]))];

		t = jose_jws_sign(k, alg, "kid", PAYLOAD, strlen(PAYLOAD));
		n++;
		memset(&j, 0, sizeof(j));
		if (t != NULL && jose_jws_parse(t, strlen(t), &j) == 0) {
			if (j.alg == alg && jose_jws_verify(&j, k, alg) == 0)
				good++;
			if (jose_jws_verify(&j, other, alg) == 0)
				wrong++;
		}
		jose_jws_free(&j);
		free(t);
	}
	is_int(good, n, "cached signing: every token verifies with its key "
	    "and alg");
	is_int(wrong, 0, "cached signing: no token verifies with the other "
	    "key");
	EVP_PKEY_free(k2);
}

static void
t_roundtrip(enum jose_alg alg)
{
	EVP_PKEY	*k;
	struct jose_jws	 j;
	char		*t;

	k = jose_key_generate(alg);
	ok(k != NULL, "%s key generated", jose_alg_name(alg));
	t = jose_jws_sign(k, alg, "kid1", PAYLOAD, strlen(PAYLOAD));
	ok(t != NULL, "%s sign", jose_alg_name(alg));
	ok(t != NULL && jose_jws_parse(t, strlen(t), &j) == 0 &&
	    j.alg == alg && j.kid != NULL && strcmp(j.kid, "kid1") == 0 &&
	    j.payload_len == strlen(PAYLOAD) &&
	    memcmp(j.payload, PAYLOAD, j.payload_len) == 0 &&
	    jose_jws_verify(&j, k, alg) == 0, "%s verify",
	    jose_alg_name(alg));
	jose_jws_free(&j);
	EVP_PKEY_free(k);
	free(t);
}

static void
t_sign(void)
{
	struct jose_jws	 j;
	EVP_PKEY	*k;
	char		*t, *hdr;
	char		 want[128];
	uint8_t		*h;
	size_t		 hlen;
	int		 i, good;

	t = jose_jws_sign(rsa_key, JOSE_ALG_RS256, rsa_kid, PAYLOAD,
	    strlen(PAYLOAD));
	ok(t != NULL, "RS256 sign");
	ok(ref_verify(t, rsa_key, 0), "RS256 token verifies with libcrypto");
	ok(check(t, rsa_key, JOSE_ALG_RS256) == 0, "RS256 token verifies");
	h = ref_b64url_decode(t, strchr(t, '.') - t, &hlen);
	hdr = strndup((char *)h, hlen);
	(void)snprintf(want, sizeof(want),
	    "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", rsa_kid);
	is_str(hdr, want, "RS256 protected header");
	free(h);
	free(hdr);
	ok(jose_jws_parse(t, strlen(t), &j) == 0 && j.sig_len == 256 &&
	    j.typ != NULL && strcmp(j.typ, "JWT") == 0 &&
	    j.signing_input_len == (size_t)(strrchr(t, '.') - t) &&
	    memcmp(j.signing_input, t, j.signing_input_len) == 0,
	    "parse keeps signing input and signature");
	jose_jws_free(&j);
	free(t);

	/* A logout token's typ, then "JWT" again: the header follows. */
	t = jose_jws_sign_typ(rsa_key, JOSE_ALG_RS256, rsa_kid,
	    JOSE_TYP_LOGOUT, PAYLOAD, strlen(PAYLOAD));
	ok(t != NULL && ref_verify(t, rsa_key, 0), "logout+jwt sign");
	ok(t != NULL && jose_jws_parse(t, strlen(t), &j) == 0 &&
	    j.typ != NULL && strcmp(j.typ, "logout+jwt") == 0,
	    "typ logout+jwt in the header");
	if (t != NULL)
		jose_jws_free(&j);
	free(t);
	t = jose_jws_sign(rsa_key, JOSE_ALG_RS256, rsa_kid, PAYLOAD,
	    strlen(PAYLOAD));
	ok(t != NULL && jose_jws_parse(t, strlen(t), &j) == 0 &&
	    j.typ != NULL && strcmp(j.typ, "JWT") == 0,
	    "typ JWT again after a logout token");
	if (t != NULL)
		jose_jws_free(&j);
	free(t);
	ok(jose_jws_sign_typ(rsa_key, JOSE_ALG_RS256, rsa_kid,
	    "a-typ-longer-than-thirty-two-bytes", "{}", 2) == NULL,
	    "an over-long typ is refused");

	t = jose_jws_sign(ec_key, JOSE_ALG_ES256, ec_kid, PAYLOAD,
	    strlen(PAYLOAD));
	ok(t != NULL, "ES256 sign");
	ok(ref_verify(t, ec_key, 1), "ES256 token verifies with libcrypto");
	ok(check(t, ec_key, JOSE_ALG_ES256) == 0, "ES256 token verifies");
	free(t);

	/*
	 * About one signature in 128 has an R or S with a leading zero
	 * byte; enough rounds go through that padding path too.
	 */
	good = 1;
	for (i = 0; i < 400 && good; i++) {
		t = jose_jws_sign(ec_key, JOSE_ALG_ES256, NULL, "{}", 2);
		if (t == NULL || !ref_verify(t, ec_key, 1) ||
		    check(t, ec_key, JOSE_ALG_ES256) != 0)
			good = 0;
		free(t);
	}
	ok(good, "400 ES256 signatures verify both ways");

	t = jose_jws_sign(ec_key, JOSE_ALG_ES256, NULL, "{}", 2);
	ok(t != NULL && jose_jws_parse(t, strlen(t), &j) == 0 &&
	    j.kid == NULL, "no kid when none given");
	jose_jws_free(&j);
	free(t);

	t_roundtrip(JOSE_ALG_RS384);
	t_roundtrip(JOSE_ALG_RS512);
	t_roundtrip(JOSE_ALG_PS256);
	t_roundtrip(JOSE_ALG_PS512);
	t_roundtrip(JOSE_ALG_ES384);
	t_roundtrip(JOSE_ALG_ES512);
	t_roundtrip(JOSE_ALG_EDDSA);

	/* PS256 signatures are randomised; RS256 ones are not. */
	t = jose_jws_sign(rsa_key, JOSE_ALG_PS256, NULL, "{}", 2);
	hdr = jose_jws_sign(rsa_key, JOSE_ALG_PS256, NULL, "{}", 2);
	ok(t != NULL && hdr != NULL && strcmp(t, hdr) != 0,
	    "PS256 signatures differ");
	ok(check(t, rsa_key, JOSE_ALG_PS256) == 0 &&
	    check(t, rsa_key, JOSE_ALG_RS256) == -1,
	    "PS256 token is not an RS256 token");
	ok(ref_verify_pss(t, rsa_key),
	    "PS256 token verifies with libcrypto, salt 32");
	free(t);
	t = ref_sign("{\"alg\":\"PS256\"}", "{}", rsa_key, 1);
	ok(check(t, rsa_key, JOSE_ALG_PS256) == 0,
	    "PS256 token from libcrypto verifies");
	free(t);
	free(hdr);

	ok(jose_jws_sign(rsa_key, JOSE_ALG_ES256, NULL, "{}", 2) == NULL,
	    "ES256 refused with an RSA key");
	ok(jose_jws_sign(ec_key, JOSE_ALG_RS256, NULL, "{}", 2) == NULL,
	    "RS256 refused with an EC key");
	ok(jose_jws_sign(ec_key, JOSE_ALG_ES384, NULL, "{}", 2) == NULL,
	    "ES384 refused with a P-256 key");
	ok(jose_jws_sign(rsa_key, JOSE_ALG_HS256, NULL, "{}", 2) == NULL &&
	    jose_jws_sign(rsa_key, JOSE_ALG_NONE, NULL, "{}", 2) == NULL,
	    "HS256 and none never sign");
	t = malloc(JOSE_JWS_MAX_LEN);
	memset(t, 'a', JOSE_JWS_MAX_LEN);
	ok(jose_jws_sign(rsa_key, JOSE_ALG_RS256, NULL, t,
	    JOSE_JWS_MAX_LEN * 3 / 4) == NULL, "oversized payload refused");
	free(t);

	/* A 1024-bit RSA key is refused everywhere. */
	k = ref_rsa_key(1024);
	ok(k != NULL && jose_key_check(k, JOSE_ALG_RS256) == -1 &&
	    jose_jws_sign(k, JOSE_ALG_RS256, NULL, "{}", 2) == NULL &&
	    jose_jwk_public(k, JOSE_ALG_RS256, NULL) == NULL,
	    "RSA 1024 refused");
	EVP_PKEY_free(k);
	ok(jose_key_generate_bits(JOSE_ALG_RS256, 1024) == NULL,
	    "no RSA 1024 generated");
}

/* Replace part n (0-2) of a compact JWS. */
static char *
replace_part(const char *jws, int n, const char *part)
{
	const char	*d1, *d2;
	char		*out;
	int		 r;

	d1 = strchr(jws, '.');
	d2 = strchr(d1 + 1, '.');
	if (n == 0)
		r = asprintf(&out, "%s%s", part, d1);
	else if (n == 1)
		r = asprintf(&out, "%.*s.%s%s", (int)(d1 - jws), jws, part,
		    d2);
	else
		r = asprintf(&out, "%.*s.%s", (int)(d2 - jws), jws, part);
	if (r == -1)
		abort();
	return (out);
}

static void
t_tamper(void)
{
	struct jose_jws	 j;
	char		*t, *x, *p, *s;
	uint8_t		*sig;
	size_t		 siglen;
	uint8_t		 mac[64];
	unsigned int	 maclen;
	uint8_t		*der = NULL;
	int		 derlen;
	EVP_PKEY	*other;

	t = jose_jws_sign(rsa_key, JOSE_ALG_RS256, rsa_kid, PAYLOAD,
	    strlen(PAYLOAD));

	/* Header: same alg, another kid. */
	p = enc("{\"alg\":\"RS256\",\"kid\":\"other\",\"typ\":\"JWT\"}");
	x = replace_part(t, 0, p);
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1,
	    "tampered header rejected");
	free(p);
	free(x);

	/* Payload: another sub. */
	p = enc("{\"sub\":\"admin\"}");
	x = replace_part(t, 1, p);
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1,
	    "tampered payload rejected");
	free(p);
	free(x);

	/* Signature: one bit flipped. */
	s = strrchr(t, '.') + 1;
	sig = ref_b64url_decode(s, strlen(s), &siglen);
	sig[siglen / 2] ^= 0x01;
	p = ref_b64url_encode(sig, siglen);
	x = replace_part(t, 2, p);
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1,
	    "tampered signature rejected");
	free(x);
	free(p);

	/* Signature: one byte short. */
	p = ref_b64url_encode(sig, siglen - 1);
	x = replace_part(t, 2, p);
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1,
	    "short signature rejected");
	free(x);
	free(p);
	free(sig);

	/* Another key's signature. */
	other = jose_key_generate(JOSE_ALG_RS256);
	x = jose_jws_sign(other, JOSE_ALG_RS256, rsa_kid, PAYLOAD,
	    strlen(PAYLOAD));
	ok(check(x, rsa_key, JOSE_ALG_RS256) == -1 &&
	    check(x, other, JOSE_ALG_RS256) == 0,
	    "signature by another key rejected");
	free(x);
	EVP_PKEY_free(other);

	/* alg none: no signature at all, or a made-up one. */
	x = make_jws("{\"alg\":\"none\"}", PAYLOAD, "");
	ok(!parses(x), "alg none with empty signature does not parse");
	free(x);
	x = make_jws("{\"alg\":\"none\"}", PAYLOAD, "AAAA");
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1 &&
	    check(x, rsa_key, JOSE_ALG_NONE) == -1, "alg none rejected");
	free(x);

	/*
	 * HS256 keyed with the public key, the classic confusion: refused
	 * whatever the caller asks for.
	 */
	derlen = i2d_PUBKEY(rsa_key, &der);
	p = make_jws("{\"alg\":\"HS256\"}", PAYLOAD, "");
	p[strlen(p) - 1] = '\0';
	HMAC(EVP_sha256(), der, derlen, (uint8_t *)p, strlen(p), mac,
	    &maclen);
	s = ref_b64url_encode(mac, maclen);
	if (asprintf(&x, "%s.%s", p, s) == -1)
		abort();
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1 &&
	    check(x, rsa_key, JOSE_ALG_HS256) == -1, "alg HS256 rejected");
	OPENSSL_free(der);
	free(p);
	free(s);
	free(x);

	/* alg and key mismatches. */
	x = jose_jws_sign(ec_key, JOSE_ALG_ES256, NULL, PAYLOAD,
	    strlen(PAYLOAD));
	ok(check(x, rsa_key, JOSE_ALG_ES256) == -1,
	    "ES256 token, RSA key: rejected");
	ok(check(x, ec_key, JOSE_ALG_RS256) == -1,
	    "ES256 token, caller expects RS256: rejected");
	other = jose_key_generate(JOSE_ALG_ES384);
	ok(check(x, other, JOSE_ALG_ES256) == -1,
	    "ES256 token, P-384 key: rejected");
	EVP_PKEY_free(other);
	free(x);
	ok(check(t, ec_key, JOSE_ALG_RS256) == -1,
	    "RS256 token, EC key: rejected");
	ok(check(t, rsa_key, JOSE_ALG_PS256) == -1,
	    "RS256 token, caller expects PS256: rejected");

	/*
	 * Good RS256 signatures under a header naming another alg: the
	 * header's alg must be the one the caller expects.
	 */
	x = ref_sign("{\"alg\":\"RS256\"}", PAYLOAD, rsa_key, 0);
	ok(check(x, rsa_key, JOSE_ALG_RS256) == 0,
	    "RS256 token from libcrypto verifies");
	free(x);
	x = ref_sign("{\"alg\":\"RS384\"}", PAYLOAD, rsa_key, 0);
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1,
	    "header RS384 over an RS256 signature: rejected");
	free(x);
	x = ref_sign("{\"alg\":\"none\"}", PAYLOAD, rsa_key, 0);
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1 &&
	    check(x, rsa_key, JOSE_ALG_NONE) == -1,
	    "header none over an RS256 signature: rejected");
	free(x);
	x = ref_sign("{\"alg\":\"HS256\"}", PAYLOAD, rsa_key, 0);
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1,
	    "header HS256 over an RS256 signature: rejected");
	free(x);

	/* The header says ES256 over an RS256 signature. */
	p = enc("{\"alg\":\"ES256\"}");
	x = replace_part(t, 0, p);
	ok(parses(x) && check(x, rsa_key, JOSE_ALG_RS256) == -1 &&
	    check(x, ec_key, JOSE_ALG_ES256) == -1,
	    "alg swapped in the header: rejected");
	free(p);
	free(x);

	ok(jose_jws_parse(t, strlen(t), &j) == 0 &&
	    jose_jws_verify(&j, NULL, JOSE_ALG_RS256) == -1,
	    "no key: rejected");
	jose_jws_free(&j);
	free(t);
}

static void
t_parse(void)
{
	static const char *badhdr[] = {
		"[]", "\"RS256\"", "{}", "{\"alg\":256}", "{\"alg\":\"RS257\"}",
		"{\"alg\":\"rs256\"}", "{\"alg\":null}",
		"{\"alg\":\"RS256\",\"alg\":\"RS256\"}",
		"{\"alg\":\"RS256\",\"kid\":1}",
		"{\"alg\":\"RS256\",\"typ\":[]}",
		"{\"alg\":\"RS256\",\"crit\":[\"exp\"]}",
		"{\"alg\":\"RS256\",\"jku\":\"https://evil/keys\"}",
		"{\"alg\":\"RS256\",\"x5u\":\"https://evil/cert\"}",
		"{\"alg\":\"RS256\",\"jwk\":{\"kty\":\"oct\",\"k\":\"AA\"}}",
		"{\"alg\":\"RS256\",\"x5c\":[\"MII\"]}",
		"{\"alg\":\"RS256\",\"zip\":\"DEF\"}",
		"{\"alg\":\"RS256\",\"b64\":false}",
		"{\"alg\":\"RS256\"", "{\"alg\":\"RS256\"} x", ""
	};
	static const char *bad[] = {
		"", ".", "..", "a.b", "a.b.c.d", "eyJhbGciOiJSUzI1NiJ9..",
		".e30.AAAA", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA.",
		"eyJhbGciOiJSUzI1NiJ9=.e30.AAAA",
		"eyJhbGciOiJSUzI1NiJ9.e30=.AAAA",
		"eyJhbGciOiJSUzI1NiJ9.e30.AAAA=",
		"eyJhbGciOiJSUzI1NiJ9.e3+.AAAA",
		"eyJhbGciOiJSUzI1NiJ9.e30.AA/A",
		"eyJhbGciOiJSUzI1NiJ9 .e30.AAAA",
		"eyJhbGciOiJSUzI1NiJ9.e30.AAAA\n",
		"eyJhbGciOiJSUzI1NiJ9.e31.AAAA"
	};
	struct jose_jws	 j;
	char		*x, *big;
	size_t		 i, n;
	char		 kid[JOSE_KID_MAX + 64];

	for (i = 0; i < sizeof(badhdr) / sizeof(badhdr[0]); i++) {
		x = make_jws(badhdr[i], "{}", "AAAA");
		ok(!parses(x), "header %s refused", badhdr[i]);
		free(x);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!parses(bad[i]), "malformed \"%s\" refused", show(bad[i]));
	ok(parses("eyJhbGciOiJSUzI1NiJ9.e30.AAAA"), "minimal JWS parses");
	ok(jose_jws_parse("eyJhbGciOiJSUzI1NiJ9.e30.AAAA!!", 29, &j) == 0,
	    "length is honoured");
	jose_jws_free(&j);
	ok(jose_jws_parse("eyJhbGciOiJSUzI1NiJ9.e30.AAAA", 25, &j) == -1,
	    "length is honoured (empty signature)");
	x = make_jws("{\"alg\":\"RS256\",\"x5t\":\"abc\",\"cty\":\"JWT\"}", "",
	    "AAAA");
	ok(parses(x), "harmless header members and empty payload parse");
	free(x);

	/* A long kid is refused, one at the limit is kept. */
	n = strlcpy(kid, "{\"alg\":\"RS256\",\"kid\":\"", sizeof(kid));
	memset(kid + n, 'k', JOSE_KID_MAX);
	memcpy(kid + n + JOSE_KID_MAX, "\"}", 3);
	x = make_jws(kid, "{}", "AAAA");
	ok(parses(x), "kid of %d bytes parses", JOSE_KID_MAX);
	free(x);
	memcpy(kid + n + JOSE_KID_MAX, "k\"}", 4);
	x = make_jws(kid, "{}", "AAAA");
	ok(!parses(x), "kid of %d bytes refused", JOSE_KID_MAX + 1);
	free(x);

	/* Whole-token limit: exactly at it parses, one more does not. */
	big = malloc(JOSE_JWS_MAX_LEN + 16);
	n = strlen("eyJhbGciOiJSUzI1NiJ9.");
	memcpy(big, "eyJhbGciOiJSUzI1NiJ9.", n);
	memset(big + n, 'A', JOSE_JWS_MAX_LEN - n - 5);
	memcpy(big + JOSE_JWS_MAX_LEN - 5, ".AAAA", 6);
	/* Neither payload length below is 1 mod 4, a base64 error. */
	ok((JOSE_JWS_MAX_LEN - n - 5) % 4 != 1 &&
	    (JOSE_JWS_MAX_LEN - n - 4) % 4 != 1, "payload lengths fit");
	ok(jose_jws_parse(big, JOSE_JWS_MAX_LEN, &j) == 0,
	    "token of %d bytes parses", JOSE_JWS_MAX_LEN);
	jose_jws_free(&j);
	memcpy(big + JOSE_JWS_MAX_LEN - 5, "A.AAAA", 7);
	ok(jose_jws_parse(big, JOSE_JWS_MAX_LEN + 1, &j) == -1,
	    "token of %d bytes refused", JOSE_JWS_MAX_LEN + 1);
	free(big);

	/* JSON payload parsing. */
	ok((j.header = jose_json_object("{\"a\":1}", 7)) != NULL,
	    "JSON object parses");
	json_decref(j.header);
	ok(jose_json_object("{\"a\":1,\"a\":2}", 13) == NULL,
	    "duplicate member refused");
	ok(jose_json_object("[1]", 3) == NULL, "array refused");
	ok(jose_json_object("{\"a\":\"\\u0000\"}", 13) == NULL,
	    "NUL in a string refused");
	ok(jose_json_object("{} {}", 5) == NULL, "trailing data refused");
}

static const char *
jwk_str(json_t *jwk, const char *k)
{
	return (json_string_value(json_object_get(jwk, k)));
}

/* Import a JWK given as text; NULL when refused. */
static EVP_PKEY *
import_text(const char *s, enum jose_alg *alg)
{
	json_t		*j;
	json_error_t	 e;
	EVP_PKEY	*k;

	if ((j = json_loads(s, 0, &e)) == NULL)
		abort();
	k = jose_jwk_import(j, alg);
	json_decref(j);
	return (k);
}

/* A JWK from jwk with member key set to val (a JSON text). */
static char *
jwk_with(json_t *jwk, const char *key, const char *val)
{
	json_t		*c;
	json_error_t	 e;
	char		*s;

	c = json_deep_copy(jwk);
	if (val == NULL)
		json_object_del(c, key);
	else
		json_object_set_new(c, key, json_loads(val, JSON_DECODE_ANY,
		    &e));
	s = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(c);
	return (s);
}

static int
import_ok(const char *s, enum jose_alg want)
{
	EVP_PKEY	*k;
	enum jose_alg	 alg;

	if ((k = import_text(s, &alg)) == NULL)
		return (0);
	EVP_PKEY_free(k);
	return (alg == want);
}

static void
t_jwk(void)
{
	json_t		*rj, *ej, *oj, *arr;
	EVP_PKEY	*k, *ed;
	enum jose_alg	 alg;
	char		*s, *t, *x, *n;
	char		 want[4096];
	size_t		 len;
	uint8_t		*b;
	size_t		 blen;

	rj = jose_jwk_public(rsa_key, JOSE_ALG_RS256, rsa_kid);
	ej = jose_jwk_public(ec_key, JOSE_ALG_ES256, ec_kid);
	ok(rj != NULL && ej != NULL, "public JWKs exported");

	s = json_dumps(rj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	(void)snprintf(want, sizeof(want), "{\"use\":\"sig\",\"kty\":\"RSA\","
	    "\"kid\":\"%s\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"AQAB\"}",
	    rsa_kid, jwk_str(rj, "n"));
	is_str(s, want, "RSA JWK members and order as Dex");
	is_int(strlen(jwk_str(rj, "n")), 342, "n is 256 bytes");
	free(s);
	s = json_dumps(ej, JSON_COMPACT | JSON_PRESERVE_ORDER);
	(void)snprintf(want, sizeof(want), "{\"use\":\"sig\",\"kty\":\"EC\","
	    "\"kid\":\"%s\",\"crv\":\"P-256\",\"alg\":\"ES256\",\"x\":\"%s\","
	    "\"y\":\"%s\"}", ec_kid, jwk_str(ej, "x"), jwk_str(ej, "y"));
	is_str(s, want, "EC JWK members and order as go-jose");
	ok(strlen(jwk_str(ej, "x")) == 43 && strlen(jwk_str(ej, "y")) == 43,
	    "EC coordinates are 32 bytes");
	free(s);
	ok(jose_jwk_public(rsa_key, JOSE_ALG_ES256, "x") == NULL,
	    "no ES256 JWK for an RSA key");

	/* Export, import, verify what the private key signed. */
	t = jose_jws_sign(rsa_key, JOSE_ALG_RS256, rsa_kid, "{}", 2);
	k = jose_jwk_import(rj, &alg);
	ok(k != NULL && alg == JOSE_ALG_RS256 &&
	    check(t, k, JOSE_ALG_RS256) == 0, "RSA JWK round trip verifies");
	EVP_PKEY_free(k);
	free(t);
	t = jose_jws_sign(ec_key, JOSE_ALG_ES256, ec_kid, "{}", 2);
	k = jose_jwk_import(ej, &alg);
	ok(k != NULL && alg == JOSE_ALG_ES256 &&
	    check(t, k, JOSE_ALG_ES256) == 0, "EC JWK round trip verifies");
	EVP_PKEY_free(k);
	free(t);

	ed = jose_key_generate(JOSE_ALG_EDDSA);
	oj = jose_jwk_public(ed, JOSE_ALG_EDDSA, "ed");
	s = json_dumps(oj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ok(strncmp(s, "{\"use\":\"sig\",\"kty\":\"OKP\",\"kid\":\"ed\","
	    "\"crv\":\"Ed25519\",\"alg\":\"EdDSA\",\"x\":\"", 67) == 0,
	    "OKP JWK members");
	free(s);
	t = jose_jws_sign(ed, JOSE_ALG_EDDSA, "ed", "{}", 2);
	k = jose_jwk_import(oj, &alg);
	ok(k != NULL && alg == JOSE_ALG_EDDSA &&
	    check(t, k, JOSE_ALG_EDDSA) == 0,
	    "Ed25519 JWK round trip verifies");
	EVP_PKEY_free(k);
	free(t);
	EVP_PKEY_free(ed);

	/* P-384 and P-521 (66-byte coordinates). */
	json_decref(oj);
	k = jose_key_generate(JOSE_ALG_ES512);
	oj = jose_jwk_public(k, JOSE_ALG_ES512, NULL);
	t = jose_jws_sign(k, JOSE_ALG_ES512, NULL, "{}", 2);
	EVP_PKEY_free(k);
	k = jose_jwk_import(oj, &alg);
	ok(k != NULL && alg == JOSE_ALG_ES512 &&
	    strlen(jwk_str(oj, "x")) == 88 &&
	    check(t, k, JOSE_ALG_ES512) == 0, "P-521 JWK round trip verifies");
	EVP_PKEY_free(k);
	free(t);
	json_decref(oj);

	/* Defaults when the JWK has no alg. */
	s = jwk_with(rj, "alg", NULL);
	ok(import_ok(s, JOSE_ALG_RS256), "RSA JWK without alg is RS256");
	free(s);
	s = jwk_with(ej, "alg", NULL);
	ok(import_ok(s, JOSE_ALG_ES256), "P-256 JWK without alg is ES256");
	free(s);
	s = jwk_with(rj, "alg", "\"PS384\"");
	ok(import_ok(s, JOSE_ALG_PS384), "RSA JWK with alg PS384");
	free(s);
	s = jwk_with(rj, "use", NULL);
	ok(import_ok(s, JOSE_ALG_RS256), "JWK without use");
	free(s);

	/* Refusals. */
	s = jwk_with(rj, "d", "\"AQAB\"");
	ok(!import_ok(s, JOSE_ALG_RS256), "RSA JWK with d refused");
	free(s);
	s = jwk_with(rj, "p", "\"AQAB\"");
	ok(!import_ok(s, JOSE_ALG_RS256), "RSA JWK with p refused");
	free(s);
	s = jwk_with(ej, "d", "\"AQAB\"");
	ok(!import_ok(s, JOSE_ALG_ES256), "EC JWK with d refused");
	free(s);
	ok(import_text("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}", &alg) == NULL,
	    "oct JWK refused");
	ok(import_text("{\"kty\":\"oct\",\"alg\":\"HS256\"}", &alg) == NULL,
	    "oct JWK without k refused");
	s = jwk_with(rj, "use", "\"enc\"");
	ok(!import_ok(s, JOSE_ALG_RS256), "use enc refused");
	free(s);
	s = jwk_with(rj, "alg", "\"HS256\"");
	ok(!import_ok(s, JOSE_ALG_HS256), "RSA JWK with alg HS256 refused");
	free(s);
	s = jwk_with(rj, "alg", "\"none\"");
	ok(!import_ok(s, JOSE_ALG_NONE), "RSA JWK with alg none refused");
	free(s);
	s = jwk_with(rj, "alg", "\"ES256\"");
	ok(!import_ok(s, JOSE_ALG_ES256), "RSA JWK with alg ES256 refused");
	free(s);
	s = jwk_with(ej, "alg", "\"ES384\"");
	ok(!import_ok(s, JOSE_ALG_ES384), "P-256 JWK with alg ES384 refused");
	free(s);
	s = jwk_with(ej, "crv", "\"P-384\"");
	ok(!import_ok(s, JOSE_ALG_ES256), "P-256 point as P-384 refused");
	free(s);
	s = jwk_with(ej, "crv", "\"secp256k1\"");
	ok(!import_ok(s, JOSE_ALG_ES256), "unknown curve refused");
	free(s);
	s = jwk_with(rj, "kty", NULL);
	ok(!import_ok(s, JOSE_ALG_RS256), "JWK without kty refused");
	free(s);
	s = jwk_with(rj, "kty", "1");
	ok(!import_ok(s, JOSE_ALG_RS256), "JWK with numeric kty refused");
	free(s);
	s = jwk_with(rj, "e", "\"AAE\"");
	ok(!import_ok(s, JOSE_ALG_RS256), "RSA e = 1 refused");
	free(s);
	s = jwk_with(rj, "e", "\"AQAA\"");
	ok(!import_ok(s, JOSE_ALG_RS256), "even RSA e refused");
	free(s);
	s = jwk_with(rj, "e", "\"AQABAAE\"");
	ok(!import_ok(s, JOSE_ALG_RS256), "5-byte RSA e refused");
	free(s);
	s = jwk_with(rj, "n", "\"AQAB\"");
	ok(!import_ok(s, JOSE_ALG_RS256), "tiny RSA n refused");
	free(s);
	s = jwk_with(rj, "n", "\"AQAB=\"");
	ok(!import_ok(s, JOSE_ALG_RS256), "padded base64 refused");
	free(s);

	/* A leading zero byte on n is tolerated. */
	jose_b64url_decode(jwk_str(rj, "n"), strlen(jwk_str(rj, "n")), &b,
	    &blen);
	b = realloc(b, blen + 1);
	memmove(b + 1, b, blen);
	b[0] = 0;
	n = jose_b64url_encode(b, blen + 1);
	if (asprintf(&x, "\"%s\"", n) == -1)
		abort();
	s = jwk_with(rj, "n", x);
	ok(import_ok(s, JOSE_ALG_RS256), "RSA n with a leading zero");
	free(s);
	free(x);
	free(n);
	/* An even modulus is no RSA modulus. */
	b[blen] &= 0xfe;
	n = jose_b64url_encode(b + 1, blen);
	if (asprintf(&x, "\"%s\"", n) == -1)
		abort();
	s = jwk_with(rj, "n", x);
	ok(!import_ok(s, JOSE_ALG_RS256), "even RSA n refused");
	free(s);
	free(x);
	free(n);
	/* A 1024-bit modulus (the top half of n) is refused. */
	b[128] |= 1;
	n = jose_b64url_encode(b + 1, 128);
	if (asprintf(&x, "\"%s\"", n) == -1)
		abort();
	s = jwk_with(rj, "n", x);
	ok(!import_ok(s, JOSE_ALG_RS256), "RSA 1024 JWK refused");
	free(s);
	free(x);
	free(n);
	free(b);

	/* EC: a point off the curve, a short coordinate. */
	jose_b64url_decode(jwk_str(ej, "y"), 43, &b, &blen);
	b[31] ^= 0x01;
	n = jose_b64url_encode(b, 32);
	if (asprintf(&x, "\"%s\"", n) == -1)
		abort();
	s = jwk_with(ej, "y", x);
	ok(!import_ok(s, JOSE_ALG_ES256), "EC point off the curve refused");
	free(s);
	free(x);
	free(n);
	n = jose_b64url_encode(b + 1, 31);
	if (asprintf(&x, "\"%s\"", n) == -1)
		abort();
	s = jwk_with(ej, "y", x);
	ok(!import_ok(s, JOSE_ALG_ES256), "31-byte coordinate refused");
	free(s);
	free(x);
	free(n);
	free(b);
	ok(import_text("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":"
	    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", &alg) == NULL,
	    "OKP X25519 refused");

	/* JWKS layout as Go's json.MarshalIndent(v, "", "  "). */
	arr = json_array();
	json_array_append(arr, rj);
	json_array_append(arr, ej);
	s = jose_jwks_serialize(arr, &len);
	(void)snprintf(want, sizeof(want),
	    "{\n"
	    "  \"keys\": [\n"
	    "    {\n"
	    "      \"use\": \"sig\",\n"
	    "      \"kty\": \"RSA\",\n"
	    "      \"kid\": \"%s\",\n"
	    "      \"alg\": \"RS256\",\n"
	    "      \"n\": \"%s\",\n"
	    "      \"e\": \"AQAB\"\n"
	    "    },\n"
	    "    {\n"
	    "      \"use\": \"sig\",\n"
	    "      \"kty\": \"EC\",\n"
	    "      \"kid\": \"%s\",\n"
	    "      \"crv\": \"P-256\",\n"
	    "      \"alg\": \"ES256\",\n"
	    "      \"x\": \"%s\",\n"
	    "      \"y\": \"%s\"\n"
	    "    }\n"
	    "  ]\n"
	    "}", rsa_kid, jwk_str(rj, "n"), ec_kid, jwk_str(ej, "x"),
	    jwk_str(ej, "y"));
	is_str(s, want, "JWKS laid out as Go's MarshalIndent");
	is_int(len, strlen(want), "JWKS length");
	free(s);
	json_decref(arr);
	arr = json_array();
	s = jose_jwks_serialize(arr, &len);
	is_str(s, "{\n  \"keys\": []\n}", "empty JWKS as Go");
	free(s);
	json_decref(arr);
	json_decref(rj);
	json_decref(ej);
}

static void
t_jwks(void)
{
	struct jose_jwks	 set;
	const struct jose_jwk	*k;
	json_t			*arr, *jwk;
	char			*s, *t, *big;
	size_t			 len, i;

	arr = json_array();
	json_array_append_new(arr, jose_jwk_public(rsa_key, JOSE_ALG_RS256,
	    rsa_kid));
	json_array_append_new(arr, jose_jwk_public(ec_key, JOSE_ALG_ES256,
	    ec_kid));
	json_array_append_new(arr, json_pack("{s:s,s:s}", "kty", "oct", "k",
	    "c2VjcmV0"));
	jwk = jose_jwk_public(rsa_key, JOSE_ALG_RS256, "enc");
	json_object_set_new(jwk, "use", json_string("enc"));
	json_array_append_new(arr, jwk);
	s = jose_jwks_serialize(arr, &len);
	ok(jose_jwks_parse(s, len, &set) == 0 && set.nkeys == 2 &&
	    set.nskipped == 2, "JWKS parsed, 2 keys kept, 2 skipped");
	free(s);
	k = jose_jwks_find(&set, ec_kid);
	t = jose_jws_sign(ec_key, JOSE_ALG_ES256, ec_kid, "{}", 2);
	ok(k != NULL && k->alg == JOSE_ALG_ES256 &&
	    check(t, k->pkey, k->alg) == 0, "JWKS key by kid verifies");
	free(t);
	ok(jose_jwks_find(&set, "nope") == NULL, "unknown kid not found");
	ok(jose_jwks_find(&set, NULL) == NULL,
	    "no kid: no key when there are two");
	jose_jwks_free(&set);

	/* More than JOSE_JWKS_MAX_KEYS keys. */
	json_array_clear(arr);
	for (i = 0; i <= JOSE_JWKS_MAX_KEYS; i++)
		json_array_append_new(arr, jose_jwk_public(ec_key,
		    JOSE_ALG_ES256, NULL));
	s = jose_jwks_serialize(arr, &len);
	ok(jose_jwks_parse(s, len, &set) == -1 && set.nkeys == 0,
	    "JWKS of %d keys refused", JOSE_JWKS_MAX_KEYS + 1);
	free(s);
	json_array_remove(arr, 0);
	s = jose_jwks_serialize(arr, &len);
	ok(jose_jwks_parse(s, len, &set) == 0 &&
	    set.nkeys == JOSE_JWKS_MAX_KEYS, "JWKS of %d keys parsed",
	    JOSE_JWKS_MAX_KEYS);
	ok(jose_jwks_find(&set, NULL) == NULL, "no kid, many keys: none");
	jose_jwks_free(&set);
	free(s);

	/* One key over JOSE_JWK_MAX_LEN. */
	json_array_clear(arr);
	big = malloc(JOSE_JWK_MAX_LEN + 1);
	memset(big, 'A', JOSE_JWK_MAX_LEN);
	big[JOSE_JWK_MAX_LEN] = '\0';
	jwk = jose_jwk_public(ec_key, JOSE_ALG_ES256, NULL);
	json_object_set_new(jwk, "x5c", json_pack("[s]", big));
	json_array_append_new(arr, jwk);
	s = jose_jwks_serialize(arr, &len);
	ok(jose_jwks_parse(s, len, &set) == -1, "oversized JWK refused");
	free(s);
	free(big);

	/* One key, no kid: found by a token without a kid. */
	json_array_clear(arr);
	json_array_append_new(arr, jose_jwk_public(ec_key, JOSE_ALG_ES256,
	    NULL));
	s = jose_jwks_serialize(arr, &len);
	ok(jose_jwks_parse(s, len, &set) == 0 && set.nkeys == 1 &&
	    jose_jwks_find(&set, NULL) == &set.keys[0] &&
	    set.keys[0].kid == NULL, "single key without kid");
	jose_jwks_free(&set);
	free(s);
	json_decref(arr);

	ok(jose_jwks_parse("[]", 2, &set) == -1, "JWKS array refused");
	ok(jose_jwks_parse("{\"keys\":{}}", 11, &set) == -1,
	    "JWKS keys object refused");
	ok(jose_jwks_parse("{\"keys\":[],\"keys\":[]}", 21, &set) == -1,
	    "JWKS duplicate keys refused");
	ok(jose_jwks_parse("{\"keys\":[]}", 11, &set) == 0 && set.nkeys == 0,
	    "empty JWKS parses");
	ok(jose_jwks_parse("{\"keys\":[1,\"a\",null]}", 21, &set) == 0 &&
	    set.nkeys == 0 && set.nskipped == 3, "non-object keys skipped");
	ok(jose_jwks_parse("{\"keys\":[]}", JOSE_JWKS_MAX_LEN + 1, &set) == -1,
	    "JWKS over the size limit refused");
}

static void
t_der(void)
{
	EVP_PKEY	*keys[3], *k;
	enum jose_alg	 algs[3] = {
		JOSE_ALG_RS256, JOSE_ALG_ES256, JOSE_ALG_EDDSA
	};
	uint8_t		*der, *x;
	size_t		 len;
	char		*t;
	int		 i;

	keys[0] = rsa_key;
	keys[1] = ec_key;
	keys[2] = jose_key_generate(JOSE_ALG_EDDSA);
	for (i = 0; i < 3; i++) {
		der = jose_privkey_to_der(keys[i], &len);
		ok(der != NULL && len > 16 && der[0] == 0x30,
		    "%s key to PKCS#8 DER (%zu bytes)",
		    jose_alg_name(algs[i]), len);
		k = jose_privkey_from_der(der, len);
		t = jose_jws_sign(k, algs[i], NULL, "{}", 2);
		ok(k != NULL && t != NULL && check(t, keys[i], algs[i]) == 0,
		    "%s key from DER signs for the original",
		    jose_alg_name(algs[i]));
		free(t);
		EVP_PKEY_free(k);
		ok(jose_privkey_from_der(der, len - 1) == NULL,
		    "truncated DER refused");
		x = malloc(len + 1);
		memcpy(x, der, len);
		x[len] = 0;
		ok(jose_privkey_from_der(x, len + 1) == NULL,
		    "DER with trailing garbage refused");
		free(x);
		freezero(der, len);
	}
	ok(jose_privkey_from_der((const uint8_t *)"\x30\x00", 2) == NULL,
	    "empty sequence refused");
	EVP_PKEY_free(keys[2]);
}

static void
t_hash_sub(void)
{
	char	*s, *u, *c;
	char	 longid[301];
	size_t	 i;
	static const struct {
		const char	*user, *conn, *sub;
	} v[] = {
		{ "foo", "bar", "CgNmb28SA2Jhcg" },
		{ "1", "test", "CgExEgR0ZXN0" },
		{ "08a8684b-db88-4b73-90a9-3cd1661f5466", "local",
		  "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYS"
		  "BWxvY2Fs" },
		{ "0-385-28089-0", "mock", "Cg0wLTM4NS0yODA4OS0wEgRtb2Nr" },
		{ "", "mock", "EgRtb2Nr" },
		{ "foo", "", "CgNmb28" },
		{ "", "", "" }
	};
	static const char *badsub[] = {
		"CgNmb28SA2Jhcg=", "CgNmb28SA2Jhc",
		"GgNmb28",		/* field 3 */
		"CgNmb28KA2Jhcg",	/* user_id twice */
		"CgRmb28",		/* length past the end */
		"CgL_bw",		/* invalid UTF-8 */
		"CgNmAG8",		/* NUL */
		"CoCAgAE",		/* varint too long */
	};

	s = jose_half_hash(JOSE_ALG_RS256, "dNZX1hEZ9wBCzNL40Upu646bdzQA", 28);
	is_str(s, "wfgvmE9VxjAudsl9lc6TqA", "at_hash of the OIDC example");
	free(s);
	s = jose_half_hash(JOSE_ALG_ES384, "x", 1);
	ok(s != NULL && strlen(s) == 32, "ES384 half hash is 24 bytes");
	free(s);
	s = jose_half_hash(JOSE_ALG_EDDSA, "x", 1);
	ok(s != NULL && strlen(s) == 43, "EdDSA half hash is 32 bytes");
	free(s);
	ok(jose_half_hash(JOSE_ALG_HS256, "x", 1) == NULL,
	    "no half hash for HS256");
	/* RFC 4231 cases 2 and 6, twice: the MAC context is reused. */
	for (i = 0; i < 2; i++) {
		static const uint8_t want2[] = { 0x5b, 0xdc, 0xc1, 0x46 },
		    want6[] = { 0x60, 0xe4, 0x31, 0x59 };
		uint8_t		 key6[131], mac[32];

		memset(key6, 0xaa, sizeof(key6));
		ok(jose_hmac_sha256("Jefe", 4, "what do ya want for nothing?",
		    28, mac) == 0 && memcmp(mac, want2, 4) == 0 &&
		    mac[31] == 0x43, "HMAC-SHA256 RFC 4231 case 2, pass %zu",
		    i);
		ok(jose_hmac_sha256(key6, sizeof(key6), "Test Using Larger "
		    "Than Block-Size Key - Hash Key First", 54, mac) == 0 &&
		    memcmp(mac, want6, 4) == 0 && mac[31] == 0x54,
		    "HMAC-SHA256 RFC 4231 case 6, pass %zu", i);
	}
	/* FIPS 180-2 "abc", each digest twice: the fetched ones are kept. */
	for (i = 0; i < 2; i++) {
		uint8_t		 md[EVP_MAX_MD_SIZE];
		unsigned int	 mdlen = 0;
		char		*b;

		ok(jose_digest(EVP_sha256(), "abc", 3, md, &mdlen) == 0 &&
		    mdlen == 32 && md[0] == 0xba && md[31] == 0xad,
		    "jose_digest SHA-256 of abc, pass %zu", i);
		ok(jose_digest(EVP_sha512(), "abc", 3, md, &mdlen) == 0 &&
		    mdlen == 64 && md[0] == 0xdd && md[63] == 0x9f,
		    "jose_digest SHA-512 of abc, pass %zu", i);
		ok(jose_digest(EVP_sha384(), "abc", 3, md, &mdlen) == 0 &&
		    mdlen == 48 && md[0] == 0xcb && md[47] == 0xa7,
		    "jose_digest SHA-384 of abc, pass %zu", i);
		b = jose_half_hash(JOSE_ALG_RS256,
		    "dNZX1hEZ9wBCzNL40Upu646bdzQA", 28);
		is_str(b, "wfgvmE9VxjAudsl9lc6TqA", "at_hash after other "
		    "digests, pass %zu", i);
		free(b);
	}

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = jose_dex_subject(v[i].user, v[i].conn);
		is_str(s, v[i].sub, "sub(\"%s\", \"%s\")", v[i].user,
		    v[i].conn);
		free(s);
		ok(jose_dex_subject_decode(v[i].sub, &u, &c) == 0 &&
		    strcmp(u, v[i].user) == 0 && strcmp(c, v[i].conn) == 0,
		    "decode %s", v[i].sub);
		free(u);
		free(c);
	}
	/* Fields in the other order decode too. */
	ok(jose_dex_subject_decode("EgNiYXIKA2Zvbw", &u, &c) == 0 &&
	    strcmp(u, "foo") == 0 && strcmp(c, "bar") == 0,
	    "decode with fields swapped");
	free(u);
	free(c);

	/* 300 bytes need a two-byte varint: 0xac 0x02. */
	memset(longid, 'a', 300);
	longid[300] = '\0';
	s = jose_dex_subject(longid, "ldap");
	ok(s != NULL && strncmp(s, "CqwCYWFh", 8) == 0,
	    "multi-byte length varint");
	ok(jose_dex_subject_decode(s, &u, &c) == 0 &&
	    strcmp(u, longid) == 0 && strcmp(c, "ldap") == 0,
	    "long sub decodes");
	free(u);
	free(c);
	free(s);
	s = jose_dex_subject("caf\xc3\xa9", "x");
	ok(s != NULL && jose_dex_subject_decode(s, &u, &c) == 0 &&
	    strcmp(u, "caf\xc3\xa9") == 0, "UTF-8 user id");
	free(u);
	free(c);
	free(s);
	ok(jose_dex_subject("\xff", "x") == NULL, "invalid UTF-8 refused");
	ok(jose_dex_subject("\xed\xa0\x80", "x") == NULL, "surrogate refused");
	ok(jose_dex_subject("\xc0\xaf", "x") == NULL, "overlong refused");

	for (i = 0; i < sizeof(badsub) / sizeof(badsub[0]); i++)
		ok(jose_dex_subject_decode(badsub[i], &u, &c) == -1 &&
		    u == NULL && c == NULL, "sub %s refused", badsub[i]);
}

static int
write_file(const char *dir, const char *name, const char *data)
{
	char	 path[1024];
	FILE	*f;
	int	 r;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return (-1);
	r = fputs(data, f) == EOF ? -1 : 0;
	if (fclose(f) == EOF)
		r = -1;
	return (r);
}

/* Tokens and JWKS for the cross-check with the npm `jose'. */
static void
t_out(const char *dir)
{
	json_t	*arr;
	char	*rs, *es, *jwks, *payload;
	size_t	 len;
	time_t	 now = time(NULL);

	if (asprintf(&payload, "{\"iss\":\"https://issuer.example\","
	    "\"sub\":\"CgNmb28SA2Jhcg\",\"aud\":\"client\",\"exp\":%lld,"
	    "\"iat\":%lld}", (long long)now + 3600, (long long)now) == -1)
		abort();
	rs = jose_jws_sign(rsa_key, JOSE_ALG_RS256, rsa_kid, payload,
	    strlen(payload));
	es = jose_jws_sign(ec_key, JOSE_ALG_ES256, ec_kid, payload,
	    strlen(payload));
	arr = json_array();
	json_array_append_new(arr, jose_jwk_public(rsa_key, JOSE_ALG_RS256,
	    rsa_kid));
	json_array_append_new(arr, jose_jwk_public(ec_key, JOSE_ALG_ES256,
	    ec_kid));
	jwks = jose_jwks_serialize(arr, &len);
	ok(rs != NULL && es != NULL && jwks != NULL &&
	    write_file(dir, "token-rs256.jwt", rs) == 0 &&
	    write_file(dir, "token-es256.jwt", es) == 0 &&
	    write_file(dir, "jwks.json", jwks) == 0,
	    "tokens and JWKS written to %s", dir);
	free(rs);
	free(es);
	free(jwks);
	free(payload);
	json_decref(arr);
}

static char *
read_file(const char *dir, const char *name, size_t *lenp)
{
	char	 path[1024];
	char	*buf;
	FILE	*f;
	size_t	 len;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	buf = calloc(1, JOSE_JWKS_MAX_LEN + 1);
	len = fread(buf, 1, JOSE_JWKS_MAX_LEN, f);
	fclose(f);
	*lenp = len;
	return (buf);
}

/* Tokens signed by the npm `jose' (jose-verify.mjs sign DIR). */
static void
t_in(const char *dir)
{
	static const struct {
		const char	*file;
		enum jose_alg	 alg;
	} v[] = {
		{ "node-rs256.jwt", JOSE_ALG_RS256 },
		{ "node-ps256.jwt", JOSE_ALG_PS256 },
		{ "node-es256.jwt", JOSE_ALG_ES256 },
		{ "node-es384.jwt", JOSE_ALG_ES384 },
		{ "node-eddsa.jwt", JOSE_ALG_EDDSA }
	};
	struct jose_jwks	 set;
	const struct jose_jwk	*k;
	struct jose_jws		 j;
	json_t			*claims;
	char			*buf;
	size_t			 len, i;
	int			 good;

	buf = read_file(dir, "node-jwks.json", &len);
	ok(buf != NULL && jose_jwks_parse(buf, len, &set) == 0 &&
	    set.nkeys == 5, "node JWKS parses with 5 keys");
	free(buf);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		good = 0;
		claims = NULL;
		buf = read_file(dir, v[i].file, &len);
		if (buf != NULL && jose_jws_parse(buf, len, &j) == 0) {
			k = jose_jwks_find(&set, j.kid);
			if (k != NULL && k->alg == v[i].alg &&
			    jose_jws_verify(&j, k->pkey, k->alg) == 0)
				claims = jose_json_object(j.payload,
				    j.payload_len);
			good = claims != NULL && json_string_value(
			    json_object_get(claims, "sub")) != NULL &&
			    strcmp(json_string_value(json_object_get(claims,
			    "sub")), "CgNmb28SA2Jhcg") == 0;
			/* The same token against another of the keys. */
			if (good) {
				k = &set.keys[(k - set.keys + 1) % set.nkeys];
				if (jose_jws_verify(&j, k->pkey,
				    v[i].alg) == 0)
					good = 0;
			}
			jose_jws_free(&j);
		}
		ok(good, "%s signed by node jose verifies (and not with "
		    "another key)", jose_alg_name(v[i].alg));
		json_decref(claims);
		free(buf);
	}
	jose_jwks_free(&set);
}

int
main(void)
{
	const char	*dir;

	rsa_key = jose_key_generate(JOSE_ALG_RS256);
	ec_key = jose_key_generate(JOSE_ALG_ES256);
	ok(rsa_key != NULL && EVP_PKEY_bits(rsa_key) == 2048,
	    "RSA 2048 key generated");
	ok(ec_key != NULL && EVP_PKEY_bits(ec_key) == 256,
	    "P-256 key generated");
	if (rsa_key == NULL || ec_key == NULL ||
	    jose_kid_generate(rsa_kid, sizeof(rsa_kid)) == -1 ||
	    jose_kid_generate(ec_kid, sizeof(ec_kid)) == -1)
		return (tap_done());

	t_b64();
	t_alg();
	t_kid();
	t_sign();
	t_sign_cache();
	t_tamper();
	t_parse();
	t_jwk();
	t_jwks();
	t_der();
	t_hash_sub();
	if ((dir = getenv("JOSE_OUT_DIR")) != NULL)
		t_out(dir);
	if ((dir = getenv("JOSE_IN_DIR")) != NULL)
		t_in(dir);

	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	return (tap_done());
}
