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
 * JOSE with libcrypto.  Only the EVP subset that LibreSSL also has is
 * used: key material goes in and out through SubjectPublicKeyInfo and
 * PKCS#8 DER (i2d_PUBKEY/d2i_PUBKEY, EVP_PKCS82PKEY), never through the
 * RSA/EC_KEY accessors that OpenSSL 3 deprecates.  The few DER
 * structures involved (SPKI for RSA and named-curve EC, ECDSA-Sig-Value)
 * are read and written by the small DER helpers below.
 *
 * Everything that arrives from outside is parsed strictly: base64url
 * without padding or stray characters, a JWS header that may not point
 * at keys of its own, JSON without duplicate members.
 */

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#if !defined(LIBRESSL_VERSION_NUMBER) && OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/params.h>
#endif

#include "jose.h"
#include "log.h"

enum jose_kty {
	KTY_NONE = 0,
	KTY_RSA,
	KTY_EC,
	KTY_OKP,
	KTY_OCT
};

enum jose_curve_id {
	CURVE_NONE = 0,
	CURVE_P256,
	CURVE_P384,
	CURVE_P521
};

struct jose_curve {
	enum jose_curve_id	 id;
	const char		*crv;
	size_t			 len;	/* bytes of a coordinate */
	const uint8_t		*oid;
	size_t			 oidlen;
};

struct jose_alginfo {
	enum jose_alg		 alg;
	const char		*name;
	enum jose_kty		 kty;
	int			 pss;
	int			 hashbits;
	enum jose_curve_id	 curve;
};

/* DER contents of the object identifiers we meet. */
static const uint8_t oid_rsa[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01
};
static const uint8_t oid_ecpub[] = {
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01
};
static const uint8_t oid_p256[] = {
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const uint8_t oid_p384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x2b, 0x81, 0x04, 0x00, 0x23 };

static const struct jose_curve curves[] = {
	{ CURVE_P256, "P-256", 32, oid_p256, sizeof(oid_p256) },
	{ CURVE_P384, "P-384", 48, oid_p384, sizeof(oid_p384) },
	{ CURVE_P521, "P-521", 66, oid_p521, sizeof(oid_p521) }
};

static const struct jose_alginfo algs[] = {
	{ JOSE_ALG_RS256, "RS256", KTY_RSA, 0, 256, CURVE_NONE },
	{ JOSE_ALG_RS384, "RS384", KTY_RSA, 0, 384, CURVE_NONE },
	{ JOSE_ALG_RS512, "RS512", KTY_RSA, 0, 512, CURVE_NONE },
	{ JOSE_ALG_PS256, "PS256", KTY_RSA, 1, 256, CURVE_NONE },
	{ JOSE_ALG_PS384, "PS384", KTY_RSA, 1, 384, CURVE_NONE },
	{ JOSE_ALG_PS512, "PS512", KTY_RSA, 1, 512, CURVE_NONE },
	{ JOSE_ALG_ES256, "ES256", KTY_EC, 0, 256, CURVE_P256 },
	{ JOSE_ALG_ES384, "ES384", KTY_EC, 0, 384, CURVE_P384 },
	{ JOSE_ALG_ES512, "ES512", KTY_EC, 0, 512, CURVE_P521 },
	/* OpenID Connect hashes at_hash with SHA-512 for Ed25519. */
	{ JOSE_ALG_EDDSA, "EdDSA", KTY_OKP, 0, 512, CURVE_NONE },
	{ JOSE_ALG_HS256, "HS256", KTY_OCT, 0, 256, CURVE_NONE },
	{ JOSE_ALG_HS384, "HS384", KTY_OCT, 0, 384, CURVE_NONE },
	{ JOSE_ALG_HS512, "HS512", KTY_OCT, 0, 512, CURVE_NONE },
	{ JOSE_ALG_NONE, "none", KTY_NONE, 0, 0, CURVE_NONE }
};

#define nitems(_a)	(sizeof((_a)) / sizeof((_a)[0]))

/* Members of a JWK that only a private or symmetric key has. */
static const char *const jwk_private[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k"
};

/*
 * Protected header members that would make us fetch or trust a key the
 * token names itself, or change how the payload is read.
 */
static const char *const jws_refused[] = {
	"crit", "jku", "x5u", "jwk", "x5c", "zip", "b64"
};

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Algorithms
 */

static const struct jose_alginfo *
alg_info(enum jose_alg alg)
{
	size_t	 i;

	for (i = 0; i < nitems(algs); i++)
		if (algs[i].alg == alg)
			return (&algs[i]);
	return (NULL);
}

static const struct jose_curve *
curve_info(enum jose_curve_id id)
{
	size_t	 i;

	for (i = 0; i < nitems(curves); i++)
		if (curves[i].id == id)
			return (&curves[i]);
	return (NULL);
}

static const EVP_MD *
alg_md(const struct jose_alginfo *ai)
{
	switch (ai->hashbits) {
	case 256:
		return (EVP_sha256());
	case 384:
		return (EVP_sha384());
	case 512:
		return (EVP_sha512());
	}
	return (NULL);
}

const char *
jose_alg_name(enum jose_alg alg)
{
	const struct jose_alginfo	*ai;

	if ((ai = alg_info(alg)) == NULL)
		return (NULL);
	return (ai->name);
}

/* Names are case-sensitive (RFC 7515 4.1.1). */
enum jose_alg
jose_alg_from_name(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return (JOSE_ALG_UNKNOWN);
	for (i = 0; i < nitems(algs); i++)
		if (strcmp(algs[i].name, name) == 0)
			return (algs[i].alg);
	return (JOSE_ALG_UNKNOWN);
}

/* Whether we would ever sign or verify with alg. */
int
jose_alg_usable(enum jose_alg alg)
{
	const struct jose_alginfo	*ai;

	if ((ai = alg_info(alg)) == NULL)
		return (0);
	return (ai->kty == KTY_RSA || ai->kty == KTY_EC ||
	    ai->kty == KTY_OKP);
}

/*
 * base64
 */

static size_t
b64_encode_into(char *dst, const uint8_t *src, size_t len,
    const char *chars, int pad)
{
	size_t		 i, o = 0;
	uint32_t	 v;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 |
		    src[i + 2];
		dst[o++] = chars[(v >> 18) & 0x3f];
		dst[o++] = chars[(v >> 12) & 0x3f];
		dst[o++] = chars[(v >> 6) & 0x3f];
		dst[o++] = chars[v & 0x3f];
	}
	if (len - i == 1) {
		v = (uint32_t)src[i] << 16;
		dst[o++] = chars[(v >> 18) & 0x3f];
		dst[o++] = chars[(v >> 12) & 0x3f];
		if (pad) {
			dst[o++] = '=';
			dst[o++] = '=';
		}
	} else if (len - i == 2) {
		v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
		dst[o++] = chars[(v >> 18) & 0x3f];
		dst[o++] = chars[(v >> 12) & 0x3f];
		dst[o++] = chars[(v >> 6) & 0x3f];
		if (pad)
			dst[o++] = '=';
	}
	return (o);
}

char *
jose_b64url_encode(const void *src, size_t len)
{
	char	*dst;
	size_t	 o;

	if (len > JOSE_B64_MAX_IN)
		return (NULL);
	if ((dst = malloc(JOSE_B64URL_LEN(len) + 1)) == NULL)
		return (NULL);
	o = b64_encode_into(dst, src, len, b64url_chars, 0);
	dst[o] = '\0';
	return (dst);
}

static int
b64_value(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == (url ? '-' : '+'))
		return (62);
	if (c == (url ? '_' : '/'))
		return (63);
	return (-1);
}

/*
 * Decode len characters with no padding.  A lone trailing character
 * and non-zero unused bits are errors, so that every byte string has
 * exactly one accepted encoding.  The output is NUL-terminated for the
 * callers that treat it as text; the NUL is not counted.
 */
static int
b64_decode_core(const char *in, size_t len, int url, uint8_t **outp,
    size_t *outlenp)
{
	uint8_t		*out;
	size_t		 i, o = 0;
	uint32_t	 acc = 0;
	int		 v, n = 0;

	*outp = NULL;
	*outlenp = 0;
	if (len > JOSE_B64_MAX_IN || len % 4 == 1)
		return (-1);
	if ((out = malloc(len / 4 * 3 + 3)) == NULL)
		return (-1);
	for (i = 0; i < len; i++) {
		if ((v = b64_value((unsigned char)in[i], url)) == -1)
			goto fail;
		acc = acc << 6 | (uint32_t)v;
		if (++n == 4) {
			out[o++] = (acc >> 16) & 0xff;
			out[o++] = (acc >> 8) & 0xff;
			out[o++] = acc & 0xff;
			acc = 0;
			n = 0;
		}
	}
	if (n == 2) {
		if (acc & 0x0f)
			goto fail;
		out[o++] = (acc >> 4) & 0xff;
	} else if (n == 3) {
		if (acc & 0x03)
			goto fail;
		out[o++] = (acc >> 10) & 0xff;
		out[o++] = (acc >> 2) & 0xff;
	}
	out[o] = '\0';
	*outp = out;
	*outlenp = o;
	return (0);
 fail:
	freezero(out, len / 4 * 3 + 3);
	return (-1);
}

int
jose_b64url_decode(const char *in, size_t len, uint8_t **outp,
    size_t *outlenp)
{
	return (b64_decode_core(in, len, 1, outp, outlenp));
}

/* Standard alphabet, padding required (as Go's StdEncoding). */
int
jose_b64_decode(const char *in, size_t len, uint8_t **outp,
    size_t *outlenp)
{
	size_t	 pad = 0;

	*outp = NULL;
	*outlenp = 0;
	if (len % 4 != 0)
		return (-1);
	if (len > 0 && in[len - 1] == '=')
		pad++;
	if (len > 1 && in[len - 2] == '=')
		pad++;
	return (b64_decode_core(in, len - pad, 0, outp, outlenp));
}

/*
 * A minimal DER reader and writer for SPKI and ECDSA-Sig-Value.  Lengths
 * up to 65535 in minimal form; that is more than any key we accept.
 */

struct der {
	const uint8_t	*p;
	size_t		 len;
};

#define DER_INTEGER	0x02
#define DER_BITSTRING	0x03
#define DER_NULL	0x05
#define DER_OID		0x06
#define DER_SEQUENCE	0x30

static int
der_get(struct der *d, uint8_t tag, struct der *val)
{
	size_t	 len, hdr;

	if (d->len < 2 || d->p[0] != tag)
		return (-1);
	if (d->p[1] < 0x80) {
		len = d->p[1];
		hdr = 2;
	} else if (d->p[1] == 0x81) {
		if (d->len < 3 || d->p[2] < 0x80)
			return (-1);
		len = d->p[2];
		hdr = 3;
	} else if (d->p[1] == 0x82) {
		if (d->len < 4 || d->p[2] == 0)
			return (-1);
		len = (size_t)d->p[2] << 8 | d->p[3];
		hdr = 4;
	} else
		return (-1);
	if (d->len - hdr < len)
		return (-1);
	val->p = d->p + hdr;
	val->len = len;
	d->p += hdr + len;
	d->len -= hdr + len;
	return (0);
}

/* A positive INTEGER's magnitude, leading zeros removed. */
static int
der_get_uint(struct der *d, struct der *val)
{
	if (der_get(d, DER_INTEGER, val) == -1 || val->len == 0)
		return (-1);
	if (val->p[0] & 0x80)
		return (-1);
	while (val->len > 0 && val->p[0] == 0) {
		val->p++;
		val->len--;
	}
	return (0);
}

static int
der_oid_is(const struct der *oid, const uint8_t *want, size_t wantlen)
{
	return (oid->len == wantlen && memcmp(oid->p, want, wantlen) == 0);
}

struct derbuf {
	uint8_t		*p;
	size_t		 len;
	size_t		 cap;
};

static size_t
der_tlv_len(size_t len)
{
	if (len < 0x80)
		return (2 + len);
	if (len < 0x100)
		return (3 + len);
	return (4 + len);
}

static int
der_put_hdr(struct derbuf *b, uint8_t tag, size_t len)
{
	if (len > 0xffff || b->cap - b->len < der_tlv_len(len) - len)
		return (-1);
	b->p[b->len++] = tag;
	if (len < 0x80)
		b->p[b->len++] = len;
	else if (len < 0x100) {
		b->p[b->len++] = 0x81;
		b->p[b->len++] = len;
	} else {
		b->p[b->len++] = 0x82;
		b->p[b->len++] = len >> 8;
		b->p[b->len++] = len & 0xff;
	}
	return (0);
}

static int
der_put(struct derbuf *b, const void *p, size_t len)
{
	if (b->cap - b->len < len)
		return (-1);
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return (0);
}

/* Strip leading zero bytes of a big-endian magnitude. */
static void
mag_strip(const uint8_t **p, size_t *len)
{
	while (*len > 0 && **p == 0) {
		(*p)++;
		(*len)--;
	}
}

/* Content length of the INTEGER encoding of an unsigned magnitude. */
static size_t
der_uint_len(const uint8_t *p, size_t len)
{
	mag_strip(&p, &len);
	if (len == 0)
		return (1);
	return (len + ((p[0] & 0x80) ? 1 : 0));
}

static int
der_put_uint(struct derbuf *b, const uint8_t *p, size_t len)
{
	static const uint8_t	 zero = 0;
	size_t			 clen;

	clen = der_uint_len(p, len);
	mag_strip(&p, &len);
	if (der_put_hdr(b, DER_INTEGER, clen) == -1)
		return (-1);
	if (clen != len && der_put(b, &zero, 1) == -1)
		return (-1);
	return (der_put(b, p, len));
}

/*
 * SubjectPublicKeyInfo for an RSA public key (n, e) or a named-curve EC
 * point, handed to d2i_PUBKEY() so that libcrypto does the key checks.
 */
static EVP_PKEY *
spki_to_pkey(const uint8_t *der, size_t len)
{
	const uint8_t	*p = der;
	EVP_PKEY	*pkey;

	if (len > LONG_MAX)
		return (NULL);
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey != NULL && p != der + len) {
		EVP_PKEY_free(pkey);
		return (NULL);
	}
	return (pkey);
}

static EVP_PKEY *
rsa_from_ne(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen)
{
	static const uint8_t	 algid_null[] = { DER_NULL, 0x00 };
	uint8_t			 buf[JOSE_RSA_MAX_BITS / 8 + 64];
	struct derbuf		 b = { buf, 0, sizeof(buf) };
	size_t			 rsapub, bitstr, algid, spki;

	rsapub = der_tlv_len(der_uint_len(n, nlen)) +
	    der_tlv_len(der_uint_len(e, elen));
	bitstr = 1 + der_tlv_len(rsapub);
	algid = der_tlv_len(sizeof(oid_rsa)) + sizeof(algid_null);
	spki = der_tlv_len(algid) + der_tlv_len(bitstr);

	if (der_put_hdr(&b, DER_SEQUENCE, spki) == -1 ||
	    der_put_hdr(&b, DER_SEQUENCE, algid) == -1 ||
	    der_put_hdr(&b, DER_OID, sizeof(oid_rsa)) == -1 ||
	    der_put(&b, oid_rsa, sizeof(oid_rsa)) == -1 ||
	    der_put(&b, algid_null, sizeof(algid_null)) == -1 ||
	    der_put_hdr(&b, DER_BITSTRING, bitstr) == -1 ||
	    der_put(&b, "", 1) == -1 ||
	    der_put_hdr(&b, DER_SEQUENCE, rsapub) == -1 ||
	    der_put_uint(&b, n, nlen) == -1 ||
	    der_put_uint(&b, e, elen) == -1)
		return (NULL);
	return (spki_to_pkey(buf, b.len));
}

static EVP_PKEY *
ec_from_xy(const struct jose_curve *c, const uint8_t *x, const uint8_t *y)
{
	uint8_t		 buf[256];
	struct derbuf	 b = { buf, 0, sizeof(buf) };
	size_t		 algid, bitstr, spki;
	/* No unused bits in the BIT STRING; an uncompressed point. */
	uint8_t		 hdr[2] = { 0x00, 0x04 };

	algid = der_tlv_len(sizeof(oid_ecpub)) + der_tlv_len(c->oidlen);
	bitstr = 2 + 2 * c->len;
	spki = der_tlv_len(algid) + der_tlv_len(bitstr);

	if (der_put_hdr(&b, DER_SEQUENCE, spki) == -1 ||
	    der_put_hdr(&b, DER_SEQUENCE, algid) == -1 ||
	    der_put_hdr(&b, DER_OID, sizeof(oid_ecpub)) == -1 ||
	    der_put(&b, oid_ecpub, sizeof(oid_ecpub)) == -1 ||
	    der_put_hdr(&b, DER_OID, c->oidlen) == -1 ||
	    der_put(&b, c->oid, c->oidlen) == -1 ||
	    der_put_hdr(&b, DER_BITSTRING, bitstr) == -1 ||
	    der_put(&b, hdr, sizeof(hdr)) == -1 ||
	    der_put(&b, x, c->len) == -1 ||
	    der_put(&b, y, c->len) == -1)
		return (NULL);
	return (spki_to_pkey(buf, b.len));
}

/*
 * What we know of a public key from its SPKI: the type, for RSA the
 * modulus and exponent, for EC the named curve and the point.  The
 * pointers refer into *derp, which the caller frees.
 */
struct pubinfo {
	enum jose_kty		 kty;
	const struct jose_curve	*curve;
	struct der		 n, e;		/* RSA */
	const uint8_t		*x, *y;		/* EC */
	uint8_t			 raw[32];	/* Ed25519 */
	int			 bits;
};

static int
pubinfo_get(EVP_PKEY *pkey, struct pubinfo *pi, uint8_t **derp)
{
	struct der	 d, spki, algid, oid, param, bits, rsapub;
	uint8_t		*der = NULL;
	size_t		 i, rawlen;
	int		 len;

	memset(pi, 0, sizeof(*pi));
	*derp = NULL;
	switch (EVP_PKEY_id(pkey)) {
	case EVP_PKEY_ED25519:
		rawlen = sizeof(pi->raw);
		if (EVP_PKEY_get_raw_public_key(pkey, pi->raw, &rawlen) != 1 ||
		    rawlen != sizeof(pi->raw))
			return (-1);
		pi->kty = KTY_OKP;
		pi->bits = 256;
		return (0);
	case EVP_PKEY_RSA:
	case EVP_PKEY_EC:
		break;
	default:
		return (-1);
	}

	if ((len = i2d_PUBKEY(pkey, &der)) <= 0)
		return (-1);
	*derp = der;
	d.p = der;
	d.len = (size_t)len;
	if (der_get(&d, DER_SEQUENCE, &spki) == -1 || d.len != 0 ||
	    der_get(&spki, DER_SEQUENCE, &algid) == -1 ||
	    der_get(&spki, DER_BITSTRING, &bits) == -1 || spki.len != 0 ||
	    der_get(&algid, DER_OID, &oid) == -1 ||
	    bits.len < 1 || bits.p[0] != 0)
		return (-1);
	bits.p++;
	bits.len--;

	if (der_oid_is(&oid, oid_rsa, sizeof(oid_rsa))) {
		if (der_get(&bits, DER_SEQUENCE, &rsapub) == -1 ||
		    bits.len != 0 ||
		    der_get_uint(&rsapub, &pi->n) == -1 ||
		    der_get_uint(&rsapub, &pi->e) == -1 ||
		    rsapub.len != 0 || pi->n.len == 0 || pi->e.len == 0)
			return (-1);
		pi->kty = KTY_RSA;
		pi->bits = EVP_PKEY_bits(pkey);
		return (0);
	}
	if (der_oid_is(&oid, oid_ecpub, sizeof(oid_ecpub))) {
		/* Named curves only: explicit parameters are refused. */
		if (der_get(&algid, DER_OID, &param) == -1)
			return (-1);
		for (i = 0; i < nitems(curves); i++)
			if (der_oid_is(&param, curves[i].oid,
			    curves[i].oidlen))
				pi->curve = &curves[i];
		if (pi->curve == NULL ||
		    bits.len != 1 + 2 * pi->curve->len || bits.p[0] != 0x04)
			return (-1);
		pi->x = bits.p + 1;
		pi->y = bits.p + 1 + pi->curve->len;
		pi->kty = KTY_EC;
		pi->bits = EVP_PKEY_bits(pkey);
		return (0);
	}
	return (-1);
}

/*
 * The named curve of an EC key.  This runs on every signature and every
 * verification, and OpenSSL 3's i2d_PUBKEY() costs more than an ECDSA
 * signature (about 60us against 20us), so ask for the group name where
 * that exists and read the SPKI only elsewhere.
 */
static enum jose_curve_id
ec_curve(EVP_PKEY *pkey)
{
#if !defined(LIBRESSL_VERSION_NUMBER) && OPENSSL_VERSION_NUMBER >= 0x30000000L
	char	 name[32];
	size_t	 len;

	if (EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len) != 1)
		return (CURVE_NONE);
	/* OpenSSL's names for the curves: X9.62 for P-256, SEC for others. */
	if (strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0)
		return (CURVE_P256);
	if (strcmp(name, "secp384r1") == 0 || strcmp(name, "P-384") == 0)
		return (CURVE_P384);
	if (strcmp(name, "secp521r1") == 0 || strcmp(name, "P-521") == 0)
		return (CURVE_P521);
	return (CURVE_NONE);
#else
	struct pubinfo		 pi;
	uint8_t			*der;
	enum jose_curve_id	 id = CURVE_NONE;

	if (pubinfo_get(pkey, &pi, &der) == 0 && pi.kty == KTY_EC)
		id = pi.curve->id;
	OPENSSL_free(der);
	return (id);
#endif
}

/* Does pkey fit alg (type, curve, RSA size)?  0 if so, -1 if not. */
int
jose_key_check(EVP_PKEY *pkey, enum jose_alg alg)
{
	const struct jose_alginfo	*ai;
	int				 bits;

	if (pkey == NULL || !jose_alg_usable(alg) ||
	    (ai = alg_info(alg)) == NULL)
		return (-1);
	switch (ai->kty) {
	case KTY_RSA:
		/* Cheap: this runs on every signature. */
		if (EVP_PKEY_id(pkey) != EVP_PKEY_RSA)
			return (-1);
		bits = EVP_PKEY_bits(pkey);
		if (bits < JOSE_RSA_MIN_BITS || bits > JOSE_RSA_MAX_BITS)
			return (-1);
		return (0);
	case KTY_OKP:
		return (EVP_PKEY_id(pkey) == EVP_PKEY_ED25519 ? 0 : -1);
	case KTY_EC:
		if (EVP_PKEY_id(pkey) != EVP_PKEY_EC ||
		    ec_curve(pkey) != ai->curve)
			return (-1);
		return (0);
	default:
		return (-1);
	}
}

/*
 * Key generation and storage
 */

EVP_PKEY *
jose_key_generate_bits(enum jose_alg alg, int rsabits)
{
	const struct jose_alginfo	*ai;
	EVP_PKEY_CTX			*ctx = NULL;
	EVP_PKEY			*pkey = NULL;
	int				 nid;

	if (!jose_alg_usable(alg) || (ai = alg_info(alg)) == NULL)
		return (NULL);
	switch (ai->kty) {
	case KTY_RSA:
		if (rsabits < JOSE_RSA_MIN_BITS || rsabits > JOSE_RSA_MAX_BITS)
			return (NULL);
		/* The default public exponent is 65537. */
		if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL)) == NULL ||
		    EVP_PKEY_keygen_init(ctx) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, rsabits) <= 0)
			goto done;
		break;
	case KTY_EC:
		switch (ai->curve) {
		case CURVE_P256:
			nid = NID_X9_62_prime256v1;
			break;
		case CURVE_P384:
			nid = NID_secp384r1;
			break;
		default:
			nid = NID_secp521r1;
			break;
		}
		if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL)) == NULL ||
		    EVP_PKEY_keygen_init(ctx) <= 0 ||
		    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, nid) <= 0 ||
		    EVP_PKEY_CTX_set_ec_param_enc(ctx,
		    OPENSSL_EC_NAMED_CURVE) <= 0)
			goto done;
		break;
	case KTY_OKP:
		if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519,
		    NULL)) == NULL || EVP_PKEY_keygen_init(ctx) <= 0)
			goto done;
		break;
	default:
		return (NULL);
	}
	if (EVP_PKEY_keygen(ctx, &pkey) <= 0)
		pkey = NULL;
 done:
	EVP_PKEY_CTX_free(ctx);
	return (pkey);
}

EVP_PKEY *
jose_key_generate(enum jose_alg alg)
{
	return (jose_key_generate_bits(alg, JOSE_RSA_GEN_BITS));
}

/* Dex's kid: 20 random bytes in lowercase hex.  buf holds 41 bytes. */
int
jose_kid_generate(char *buf, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 rnd[JOSE_KID_RAND_BYTES];
	size_t			 i;

	if (len < JOSE_KID_LEN + 1 || RAND_bytes(rnd, sizeof(rnd)) != 1)
		return (-1);
	for (i = 0; i < sizeof(rnd); i++) {
		buf[2 * i] = hex[rnd[i] >> 4];
		buf[2 * i + 1] = hex[rnd[i] & 0x0f];
	}
	buf[JOSE_KID_LEN] = '\0';
	return (0);
}

/*
 * PKCS#8 DER of a private key, in memory from malloc() so that the
 * caller can freezero() it.
 */
uint8_t *
jose_privkey_to_der(EVP_PKEY *pkey, size_t *lenp)
{
	PKCS8_PRIV_KEY_INFO	*p8;
	uint8_t			*der = NULL, *p;
	int			 len;

	*lenp = 0;
	if ((p8 = EVP_PKEY2PKCS8(pkey)) == NULL)
		return (NULL);
	if ((len = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL)) <= 0 ||
	    len > JOSE_PRIVKEY_MAX_LEN || (der = malloc(len)) == NULL)
		goto done;
	p = der;
	if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != len) {
		freezero(der, len);
		der = NULL;
		goto done;
	}
	*lenp = (size_t)len;
 done:
	PKCS8_PRIV_KEY_INFO_free(p8);
	return (der);
}

EVP_PKEY *
jose_privkey_from_der(const uint8_t *der, size_t len)
{
	PKCS8_PRIV_KEY_INFO	*p8;
	EVP_PKEY		*pkey = NULL;
	const uint8_t		*p = der;

	if (len == 0 || len > JOSE_PRIVKEY_MAX_LEN)
		return (NULL);
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len)) == NULL)
		return (NULL);
	if (p == der + len)
		pkey = EVP_PKCS82PKEY(p8);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (pkey != NULL && EVP_PKEY_id(pkey) != EVP_PKEY_RSA &&
	    EVP_PKEY_id(pkey) != EVP_PKEY_EC &&
	    EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return (pkey);
}

/*
 * JWK
 */

static int
json_set_b64(json_t *obj, const char *key, const uint8_t *p, size_t len)
{
	char	*s;
	int	 ret;

	if ((s = jose_b64url_encode(p, len)) == NULL)
		return (-1);
	ret = json_object_set_new(obj, key, json_string(s));
	free(s);
	return (ret);
}

/*
 * The public JWK of pkey with go-jose's member order, which is what
 * Dex publishes: use, kty, kid, crv, alg, then the key material.
 */
json_t *
jose_jwk_public(EVP_PKEY *pkey, enum jose_alg alg, const char *kid)
{
	struct pubinfo	 pi;
	json_t		*jwk = NULL;
	uint8_t		*der = NULL;
	int		 err = 0;

	if (jose_key_check(pkey, alg) == -1 ||
	    pubinfo_get(pkey, &pi, &der) == -1)
		goto fail;
	if ((jwk = json_object()) == NULL)
		goto fail;
	err |= json_object_set_new(jwk, "use", json_string("sig"));
	switch (pi.kty) {
	case KTY_RSA:
		err |= json_object_set_new(jwk, "kty", json_string("RSA"));
		break;
	case KTY_EC:
		err |= json_object_set_new(jwk, "kty", json_string("EC"));
		break;
	default:
		err |= json_object_set_new(jwk, "kty", json_string("OKP"));
		break;
	}
	if (kid != NULL)
		err |= json_object_set_new(jwk, "kid", json_string(kid));
	if (pi.kty == KTY_EC)
		err |= json_object_set_new(jwk, "crv",
		    json_string(pi.curve->crv));
	else if (pi.kty == KTY_OKP)
		err |= json_object_set_new(jwk, "crv", json_string("Ed25519"));
	err |= json_object_set_new(jwk, "alg",
	    json_string(jose_alg_name(alg)));
	switch (pi.kty) {
	case KTY_RSA:
		err |= json_set_b64(jwk, "n", pi.n.p, pi.n.len);
		err |= json_set_b64(jwk, "e", pi.e.p, pi.e.len);
		break;
	case KTY_EC:
		err |= json_set_b64(jwk, "x", pi.x, pi.curve->len);
		err |= json_set_b64(jwk, "y", pi.y, pi.curve->len);
		break;
	default:
		err |= json_set_b64(jwk, "x", pi.raw, sizeof(pi.raw));
		break;
	}
	if (err)
		goto fail;
	OPENSSL_free(der);
	return (jwk);
 fail:
	json_decref(jwk);
	OPENSSL_free(der);
	return (NULL);
}

/*
 * {"keys":[...]} laid out as Go's json.MarshalIndent(v, "", "  "), which
 * is what Dex serves at /keys.  keys is an array of JWK objects.
 */
char *
jose_jwks_serialize(json_t *keys, size_t *lenp)
{
	json_t	*set;
	char	*s = NULL;

	*lenp = 0;
	if (!json_is_array(keys))
		return (NULL);
	if ((set = json_object()) == NULL)
		return (NULL);
	if (json_object_set(set, "keys", keys) == 0)
		s = json_dumps(set, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(set);
	if (s != NULL)
		*lenp = strlen(s);
	return (s);
}

/* Decode the base64url string member key of obj, of at most max bytes. */
static int
jwk_get_b64(json_t *obj, const char *key, size_t max, uint8_t **out,
    size_t *outlen)
{
	json_t	*v;

	*out = NULL;
	*outlen = 0;
	if ((v = json_object_get(obj, key)) == NULL || !json_is_string(v))
		return (-1);
	if (json_string_length(v) > JOSE_B64URL_LEN(max))
		return (-1);
	if (jose_b64url_decode(json_string_value(v), json_string_length(v),
	    out, outlen) == -1)
		return (-1);
	return (0);
}

static EVP_PKEY *
jwk_import_rsa(json_t *jwk)
{
	uint8_t		*n = NULL, *e = NULL;
	const uint8_t	*np, *ep;
	size_t		 nlen, elen;
	EVP_PKEY	*pkey = NULL;
	int		 bits;

	/* A zero byte ahead of the modulus is tolerated, as most do. */
	if (jwk_get_b64(jwk, "n", JOSE_RSA_MAX_BITS / 8 + 1, &n,
	    &nlen) == -1 ||
	    jwk_get_b64(jwk, "e", JOSE_RSA_MAX_E_LEN, &e, &elen) == -1)
		goto done;
	np = n;
	ep = e;
	mag_strip(&np, &nlen);
	mag_strip(&ep, &elen);
	/* The exponent must be odd and at least 3; the modulus odd. */
	if (elen == 0 || nlen == 0 || (ep[elen - 1] & 1) == 0 ||
	    (elen == 1 && ep[0] < 3) || (np[nlen - 1] & 1) == 0)
		goto done;
	if ((pkey = rsa_from_ne(np, nlen, ep, elen)) == NULL)
		goto done;
	bits = EVP_PKEY_bits(pkey);
	if (bits < JOSE_RSA_MIN_BITS || bits > JOSE_RSA_MAX_BITS) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
 done:
	free(n);
	free(e);
	return (pkey);
}

static EVP_PKEY *
jwk_import_ec(json_t *jwk, const struct jose_curve *c)
{
	uint8_t		*x = NULL, *y = NULL;
	size_t		 xlen, ylen;
	EVP_PKEY	*pkey = NULL;

	/* RFC 7518 6.2.1.2: coordinates are always full length. */
	if (jwk_get_b64(jwk, "x", c->len, &x, &xlen) == -1 ||
	    jwk_get_b64(jwk, "y", c->len, &y, &ylen) == -1 ||
	    xlen != c->len || ylen != c->len)
		goto done;
	/* d2i_PUBKEY() refuses a point that is not on the curve. */
	pkey = ec_from_xy(c, x, y);
 done:
	free(x);
	free(y);
	return (pkey);
}

static EVP_PKEY *
jwk_import_okp(json_t *jwk)
{
	uint8_t		*x = NULL;
	size_t		 xlen;
	EVP_PKEY	*pkey = NULL;

	if (jwk_get_b64(jwk, "x", 32, &x, &xlen) == 0 && xlen == 32)
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    x, xlen);
	free(x);
	return (pkey);
}

static const char *
json_get_str(json_t *obj, const char *key, int *bad)
{
	json_t	*v;

	if ((v = json_object_get(obj, key)) == NULL)
		return (NULL);
	if (!json_is_string(v)) {
		*bad = 1;
		return (NULL);
	}
	return (json_string_value(v));
}

/*
 * A public verification key from a JWK.  Private and symmetric keys are
 * refused, as are keys for anything but signatures.  *algp is the JWK's
 * "alg" when given (it must fit the key), else the obvious one for the
 * key (RS256 for RSA, the curve's ES* for EC, EdDSA for Ed25519).
 */
EVP_PKEY *
jose_jwk_import(json_t *jwk, enum jose_alg *algp)
{
	const struct jose_alginfo	*ai = NULL;
	const struct jose_curve		*c = NULL;
	const char			*kty, *use, *crv, *alg;
	enum jose_alg			 a;
	EVP_PKEY			*pkey = NULL;
	size_t				 i;
	int				 bad = 0;

	*algp = JOSE_ALG_UNKNOWN;
	if (!json_is_object(jwk))
		return (NULL);
	for (i = 0; i < nitems(jwk_private); i++)
		if (json_object_get(jwk, jwk_private[i]) != NULL)
			return (NULL);
	kty = json_get_str(jwk, "kty", &bad);
	use = json_get_str(jwk, "use", &bad);
	crv = json_get_str(jwk, "crv", &bad);
	alg = json_get_str(jwk, "alg", &bad);
	if (bad || kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
		return (NULL);
	if (alg != NULL) {
		a = jose_alg_from_name(alg);
		if (!jose_alg_usable(a) || (ai = alg_info(a)) == NULL)
			return (NULL);
	}

	if (strcmp(kty, "RSA") == 0) {
		if (ai == NULL)
			ai = alg_info(JOSE_ALG_RS256);
		if (ai->kty != KTY_RSA)
			return (NULL);
		pkey = jwk_import_rsa(jwk);
	} else if (strcmp(kty, "EC") == 0) {
		if (crv == NULL)
			return (NULL);
		for (i = 0; i < nitems(curves); i++)
			if (strcmp(crv, curves[i].crv) == 0)
				c = &curves[i];
		if (c == NULL)
			return (NULL);
		if (ai == NULL) {
			for (i = 0; i < nitems(algs); i++)
				if (algs[i].kty == KTY_EC &&
				    algs[i].curve == c->id)
					ai = &algs[i];
		}
		if (ai == NULL || ai->kty != KTY_EC || ai->curve != c->id)
			return (NULL);
		pkey = jwk_import_ec(jwk, c);
	} else if (strcmp(kty, "OKP") == 0) {
		if (crv == NULL || strcmp(crv, "Ed25519") != 0)
			return (NULL);
		if (ai == NULL)
			ai = alg_info(JOSE_ALG_EDDSA);
		if (ai->kty != KTY_OKP)
			return (NULL);
		pkey = jwk_import_okp(jwk);
	} else
		return (NULL);

	if (pkey != NULL && jose_key_check(pkey, ai->alg) == -1) {
		EVP_PKEY_free(pkey);
		return (NULL);
	}
	if (pkey != NULL)
		*algp = ai->alg;
	return (pkey);
}

/*
 * JSON from outside: an object, no duplicate member names.  jansson
 * already refuses NUL characters in strings and bounds the nesting depth.
 */
json_t *
jose_json_object(const void *buf, size_t len)
{
	json_t		*j;
	json_error_t	 jerr;

	if (len > JOSE_JSON_MAX_LEN)
		return (NULL);
	if ((j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return (NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return (NULL);
	}
	return (j);
}

/*
 * An upstream's JWKS.  Limits are hard errors; a key we cannot use (an
 * encryption key, an unknown type) is skipped and counted, so that one
 * odd key does not stop logins.
 */
int
jose_jwks_parse(const char *buf, size_t len, struct jose_jwks *set)
{
	json_t		*root = NULL, *keys, *jwk, *v;
	json_error_t	 jerr;
	struct jose_jwk	*k;
	EVP_PKEY	*pkey;
	enum jose_alg	 alg;
	size_t		 i;

	memset(set, 0, sizeof(*set));
	if (len > JOSE_JWKS_MAX_LEN)
		return (-1);
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		return (-1);
	if (!json_is_object(root) ||
	    (keys = json_object_get(root, "keys")) == NULL ||
	    !json_is_array(keys) ||
	    json_array_size(keys) > JOSE_JWKS_MAX_KEYS)
		goto fail;
	json_array_foreach(keys, i, jwk) {
		if (json_dumpb(jwk, NULL, 0, JSON_COMPACT) > JOSE_JWK_MAX_LEN)
			goto fail;
		v = json_object_get(jwk, "kid");
		if (v != NULL && (!json_is_string(v) ||
		    json_string_length(v) > JOSE_KID_MAX)) {
			set->nskipped++;
			continue;
		}
		if ((pkey = jose_jwk_import(jwk, &alg)) == NULL) {
			set->nskipped++;
			continue;
		}
		k = &set->keys[set->nkeys];
		k->pkey = pkey;
		k->alg = alg;
		if (v != NULL &&
		    (k->kid = strdup(json_string_value(v))) == NULL) {
			EVP_PKEY_free(pkey);
			goto fail;
		}
		set->nkeys++;
	}
	json_decref(root);
	return (0);
 fail:
	json_decref(root);
	jose_jwks_free(set);
	return (-1);
}

void
jose_jwks_free(struct jose_jwks *set)
{
	size_t	 i;

	for (i = 0; i < set->nkeys; i++) {
		free(set->keys[i].kid);
		EVP_PKEY_free(set->keys[i].pkey);
	}
	memset(set, 0, sizeof(*set));
}

/*
 * The key for a token's kid.  A token without a kid matches only a set
 * with a single key, which is how IdPs with one key behave.
 */
const struct jose_jwk *
jose_jwks_find(const struct jose_jwks *set, const char *kid)
{
	size_t	 i;

	if (kid == NULL)
		return (set->nkeys == 1 ? &set->keys[0] : NULL);
	for (i = 0; i < set->nkeys; i++)
		if (set->keys[i].kid != NULL &&
		    strcmp(set->keys[i].kid, kid) == 0)
			return (&set->keys[i]);
	return (NULL);
}

/*
 * JWS
 */

/* ECDSA-Sig-Value DER to the fixed-width R || S of RFC 7518 3.4. */
static int
ecdsa_der_to_raw(const uint8_t *der, size_t derlen, size_t clen,
    uint8_t *raw)
{
	struct der	 d = { der, derlen }, seq, r, s;

	if (der_get(&d, DER_SEQUENCE, &seq) == -1 || d.len != 0 ||
	    der_get_uint(&seq, &r) == -1 || der_get_uint(&seq, &s) == -1 ||
	    seq.len != 0 || r.len > clen || s.len > clen)
		return (-1);
	memset(raw, 0, 2 * clen);
	memcpy(raw + clen - r.len, r.p, r.len);
	memcpy(raw + 2 * clen - s.len, s.p, s.len);
	return (0);
}

static int
ecdsa_raw_to_der(const uint8_t *raw, size_t clen, uint8_t *der,
    size_t dercap, size_t *derlen)
{
	struct derbuf	 b = { der, 0, dercap };
	size_t		 seq;

	seq = der_tlv_len(der_uint_len(raw, clen)) +
	    der_tlv_len(der_uint_len(raw + clen, clen));
	if (der_put_hdr(&b, DER_SEQUENCE, seq) == -1 ||
	    der_put_uint(&b, raw, clen) == -1 ||
	    der_put_uint(&b, raw + clen, clen) == -1)
		return (-1);
	*derlen = b.len;
	return (0);
}

/* Set up ctx for signing or verifying with pkey under ai. */
static int
digest_init(EVP_MD_CTX *ctx, EVP_PKEY *pkey,
    const struct jose_alginfo *ai, int sign)
{
	EVP_PKEY_CTX	*pctx = NULL;
	const EVP_MD	*md = NULL;
	int		 r;

	/* Ed25519 hashes internally: no digest is given. */
	if (ai->kty != KTY_OKP)
		md = alg_md(ai);
	if (sign)
		r = EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey);
	else
		r = EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey);
	if (r != 1)
		return (-1);
	if (ai->kty == KTY_RSA && ai->pss) {
		/* RFC 7518 3.5: MGF1 with the same hash, salt = hash size */
		if (EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0)
			return (-1);
	} else if (ai->kty == KTY_RSA) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
			return (-1);
	}
	return (0);
}

/*
 * The signing context last set up, kept to be copied: with OpenSSL 3,
 * EVP_DigestSignInit() fetches the digest and the signature method
 * each time, a few microseconds a signature in the signer's profile,
 * where a copy costs a tenth of that.  The cache holds a reference to
 * its key, so that a freed key's address reused by another key cannot
 * match.  Ed25519 contexts are not copied (one-shot only).
 */
static struct {
	EVP_PKEY	*pkey;
	enum jose_alg	 alg;
	EVP_MD_CTX	*ctx;
} sign_cache;

static void
sign_cache_clear(void)
{
	EVP_MD_CTX_free(sign_cache.ctx);
	EVP_PKEY_free(sign_cache.pkey);
	memset(&sign_cache, 0, sizeof(sign_cache));
}

/* A fresh signing context for pkey under ai, or NULL. */
static EVP_MD_CTX *
sign_ctx(EVP_PKEY *pkey, enum jose_alg alg, const struct jose_alginfo *ai)
{
	EVP_MD_CTX	*ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (NULL);
	if (ai->kty == KTY_OKP) {
		if (digest_init(ctx, pkey, ai, 1) == -1) {
			EVP_MD_CTX_free(ctx);
			return (NULL);
		}
		return (ctx);
	}
	if (sign_cache.ctx == NULL || sign_cache.pkey != pkey ||
	    sign_cache.alg != alg) {
		sign_cache_clear();
		if (digest_init(ctx, pkey, ai, 1) == -1) {
			EVP_MD_CTX_free(ctx);
			return (NULL);
		}
		if ((sign_cache.ctx = EVP_MD_CTX_new()) != NULL &&
		    EVP_MD_CTX_copy_ex(sign_cache.ctx, ctx) == 1 &&
		    EVP_PKEY_up_ref(pkey) == 1) {
			sign_cache.pkey = pkey;
			sign_cache.alg = alg;
		} else
			sign_cache_clear();
		return (ctx);
	}
	if (EVP_MD_CTX_copy_ex(ctx, sign_cache.ctx) != 1) {
		/* Set it up the long way rather than fail. */
		sign_cache_clear();
		EVP_MD_CTX_free(ctx);
		if ((ctx = EVP_MD_CTX_new()) == NULL)
			return (NULL);
		if (digest_init(ctx, pkey, ai, 1) == -1) {
			EVP_MD_CTX_free(ctx);
			return (NULL);
		}
	}
	return (ctx);
}

/*
 * The encoded protected header of the last alg and kid signed with: a
 * signer signs with one key for hours, and building the header is a
 * JSON object, a dump and an encoding each time otherwise.
 */
static struct {
	enum jose_alg	 alg;
	int		 has_kid;
	char		 kid[JOSE_KID_MAX + 1];
	char		 typ[JOSE_TYP_MAX + 1];
	char		*b64;
	size_t		 len;
} hdr_cache;

/* The base64url protected header for alg, kid and typ, or NULL. */
static const char *
jws_header(const struct jose_alginfo *ai, enum jose_alg alg,
    const char *kid, const char *typ, size_t *lenp)
{
	json_t	*hdr;
	char	*hjson = NULL, *b64 = NULL;
	int	 err = 0;

	if (hdr_cache.b64 != NULL && hdr_cache.alg == alg &&
	    strcmp(hdr_cache.typ, typ) == 0 &&
	    hdr_cache.has_kid == (kid != NULL) &&
	    (kid == NULL || strcmp(hdr_cache.kid, kid) == 0)) {
		*lenp = hdr_cache.len;
		return (hdr_cache.b64);
	}
	if ((hdr = json_object()) == NULL)
		return (NULL);
	err |= json_object_set_new(hdr, "alg", json_string(ai->name));
	if (kid != NULL)
		err |= json_object_set_new(hdr, "kid", json_string(kid));
	err |= json_object_set_new(hdr, "typ", json_string(typ));
	if (!err)
		hjson = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(hdr);
	if (hjson == NULL)
		return (NULL);
	b64 = jose_b64url_encode((const uint8_t *)hjson, strlen(hjson));
	free(hjson);
	if (b64 == NULL)
		return (NULL);
	free(hdr_cache.b64);
	hdr_cache.b64 = b64;
	hdr_cache.len = strlen(b64);
	hdr_cache.alg = alg;
	(void)strlcpy(hdr_cache.typ, typ, sizeof(hdr_cache.typ));
	hdr_cache.has_kid = kid != NULL;
	(void)strlcpy(hdr_cache.kid, kid != NULL ? kid : "",
	    sizeof(hdr_cache.kid));
	*lenp = hdr_cache.len;
	return (hdr_cache.b64);
}

/*
 * Sign payload as a compact JWS with protected header
 * {"alg":...,"kid":...,"typ":typ}; jose_jws_sign() with typ "JWT".
 * Returns a NUL-terminated string from malloc(), or NULL.
 */
char *
jose_jws_sign(EVP_PKEY *pkey, enum jose_alg alg, const char *kid,
    const char *payload, size_t payload_len)
{
	return (jose_jws_sign_typ(pkey, alg, kid, JOSE_TYP_JWT, payload,
	    payload_len));
}

char *
jose_jws_sign_typ(EVP_PKEY *pkey, enum jose_alg alg, const char *kid,
    const char *typ, const char *payload, size_t payload_len)
{
	const struct jose_alginfo	*ai;
	const struct jose_curve		*c;
	EVP_MD_CTX			*ctx = NULL;
	const char			*hdr;
	char				*out = NULL;
	uint8_t				 sig[JOSE_JWS_MAX_SIG];
	uint8_t				 raw[2 * 66];
	const uint8_t			*sigp;
	size_t				 hlen, siglen, total, o, in_len;
	size_t				 maxsig;

	if (jose_key_check(pkey, alg) == -1 || (ai = alg_info(alg)) == NULL)
		return (NULL);
	if (kid != NULL && strlen(kid) > JOSE_KID_MAX)
		return (NULL);
	if (typ == NULL || strlen(typ) > JOSE_TYP_MAX)
		return (NULL);
	if (EVP_PKEY_size(pkey) <= 0 ||
	    (size_t)EVP_PKEY_size(pkey) > sizeof(sig))
		return (NULL);
	if ((hdr = jws_header(ai, alg, kid, typ, &hlen)) == NULL)
		return (NULL);

	/* What we sign must parse again here: keep within the limit. */
	if (payload_len > JOSE_JWS_MAX_LEN)
		goto done;
	/* EVP_PKEY_size() bounds DER signatures; R || S has its own size. */
	maxsig = (size_t)EVP_PKEY_size(pkey);
	if (ai->kty == KTY_EC)
		maxsig = 2 * curve_info(ai->curve)->len;
	total = hlen + 1 + JOSE_B64URL_LEN(payload_len) +
	    1 + JOSE_B64URL_LEN(maxsig);
	if (total > JOSE_JWS_MAX_LEN || (out = malloc(total + 1)) == NULL)
		goto done;
	memcpy(out, hdr, hlen);
	o = hlen;
	out[o++] = '.';
	o += b64_encode_into(out + o, (const uint8_t *)payload, payload_len,
	    b64url_chars, 0);
	in_len = o;

	siglen = sizeof(sig);
	if ((ctx = sign_ctx(pkey, alg, ai)) == NULL ||
	    EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)out,
	    in_len) != 1)
		goto fail;
	sigp = sig;
	if (ai->kty == KTY_EC) {
		c = curve_info(ai->curve);
		if (ecdsa_der_to_raw(sig, siglen, c->len, raw) == -1)
			goto fail;
		sigp = raw;
		siglen = 2 * c->len;
	}
	if (siglen > maxsig)
		goto fail;
	out[o++] = '.';
	o += b64_encode_into(out + o, sigp, siglen, b64url_chars, 0);
	out[o] = '\0';
	goto done;
 fail:
	free(out);
	out = NULL;
 done:
	EVP_MD_CTX_free(ctx);
	return (out);
}

void
jose_jws_free(struct jose_jws *jws)
{
	free(jws->kid);
	free(jws->typ);
	json_decref(jws->header);
	free(jws->payload);
	free(jws->signing_input);
	free(jws->sig);
	memset(jws, 0, sizeof(*jws));
}

/*
 * Strict compact JWS: three base64url parts, a header object with a
 * known "alg", optional string "kid" and "typ", and none of the members
 * that would name a key or change the payload.  Nothing is verified.
 */
int
jose_jws_parse(const char *s, size_t len, struct jose_jws *jws)
{
	const char	*dot1, *dot2, *alg;
	uint8_t		*hbuf = NULL;
	size_t		 hlen, i;
	json_t		*v;
	int		 bad = 0;

	memset(jws, 0, sizeof(*jws));
	if (len == 0 || len > JOSE_JWS_MAX_LEN)
		return (-1);
	if ((dot1 = memchr(s, '.', len)) == NULL)
		return (-1);
	if ((dot2 = memchr(dot1 + 1, '.', len - (dot1 + 1 - s))) == NULL)
		return (-1);
	if (memchr(dot2 + 1, '.', len - (dot2 + 1 - s)) != NULL)
		return (-1);
	if (dot1 == s || dot2 + 1 == s + len)
		return (-1);

	if (jose_b64url_decode(s, dot1 - s, &hbuf, &hlen) == -1 ||
	    hlen > JOSE_JWS_MAX_HEADER)
		goto fail;
	if ((jws->header = jose_json_object(hbuf, hlen)) == NULL)
		goto fail;
	for (i = 0; i < nitems(jws_refused); i++)
		if (json_object_get(jws->header, jws_refused[i]) != NULL)
			goto fail;
	alg = json_get_str(jws->header, "alg", &bad);
	if (bad || alg == NULL ||
	    (jws->alg = jose_alg_from_name(alg)) == JOSE_ALG_UNKNOWN)
		goto fail;
	if ((v = json_object_get(jws->header, "kid")) != NULL) {
		if (!json_is_string(v) ||
		    json_string_length(v) > JOSE_KID_MAX ||
		    (jws->kid = strdup(json_string_value(v))) == NULL)
			goto fail;
	}
	if ((v = json_object_get(jws->header, "typ")) != NULL) {
		if (!json_is_string(v) ||
		    json_string_length(v) > JOSE_KID_MAX ||
		    (jws->typ = strdup(json_string_value(v))) == NULL)
			goto fail;
	}

	if (jose_b64url_decode(dot1 + 1, dot2 - dot1 - 1, &jws->payload,
	    &jws->payload_len) == -1)
		goto fail;
	if (jose_b64url_decode(dot2 + 1, len - (dot2 + 1 - s), &jws->sig,
	    &jws->sig_len) == -1 || jws->sig_len > JOSE_JWS_MAX_SIG)
		goto fail;
	jws->signing_input_len = dot2 - s;
	if ((jws->signing_input = strndup(s, jws->signing_input_len)) == NULL)
		goto fail;
	free(hbuf);
	return (0);
 fail:
	free(hbuf);
	jose_jws_free(jws);
	return (-1);
}

/*
 * Verify jws with pkey.  The caller says which alg it expects (from its
 * own configuration or the JWK, never from the token): a token that
 * names another alg, none or HS*, or a key that does not fit the alg, is
 * refused before any signature check.  0 when the signature is good.
 */
int
jose_jws_verify(const struct jose_jws *jws, EVP_PKEY *pkey,
    enum jose_alg expected)
{
	const struct jose_alginfo	*ai;
	const struct jose_curve		*c;
	EVP_MD_CTX			*ctx = NULL;
	uint8_t				 der[2 * 66 + 16];
	const uint8_t			*sig = jws->sig;
	size_t				 siglen = jws->sig_len;
	int				 ret = -1;

	if (!jose_alg_usable(expected) || jws->alg != expected ||
	    (ai = alg_info(expected)) == NULL) {
		log_debug("%s: alg %s refused", __func__,
		    jose_alg_name(jws->alg));
		return (-1);
	}
	if (jose_key_check(pkey, expected) == -1) {
		log_debug("%s: key does not fit %s", __func__, ai->name);
		return (-1);
	}
	switch (ai->kty) {
	case KTY_RSA:
		if (siglen != (size_t)EVP_PKEY_size(pkey))
			return (-1);
		break;
	case KTY_EC:
		c = curve_info(ai->curve);
		if (siglen != 2 * c->len ||
		    ecdsa_raw_to_der(jws->sig, c->len, der, sizeof(der),
		    &siglen) == -1)
			return (-1);
		sig = der;
		break;
	default:
		if (siglen != 64)
			return (-1);
		break;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    digest_init(ctx, pkey, ai, 0) == -1)
		goto done;
	if (EVP_DigestVerify(ctx, sig, siglen,
	    (const uint8_t *)jws->signing_input, jws->signing_input_len) == 1)
		ret = 0;
 done:
	EVP_MD_CTX_free(ctx);
	return (ret);
}

/*
 * OpenID Connect at_hash / c_hash: base64url of the left half of the
 * hash of the token, with the hash of the signing alg.
 */
/*
 * EVP_Digest() with the digest fetched once.  With OpenSSL 3 a legacy
 * EVP_MD such as EVP_sha256() is fetched from the provider again on
 * every EVP_DigestInit_ex(), a lock and a lookup that showed in the
 * token endpoint's profile; LibreSSL fetches nothing and takes the
 * EVP_MD as it is.
 */
int
jose_digest(const EVP_MD *md, const void *p, size_t len, uint8_t *out,
    unsigned int *outlen)
{
	static EVP_MD_CTX	*ctx;
	const EVP_MD		*impl = md;
#if !defined(LIBRESSL_VERSION_NUMBER) && OPENSSL_VERSION_NUMBER >= 0x30000000L
	static struct {
		int	 nid;
		EVP_MD	*md;
	}			 fetched[4];
	size_t			 i;

	for (i = 0; i < sizeof(fetched) / sizeof(fetched[0]); i++) {
		if (fetched[i].md == NULL) {
			if ((fetched[i].md = EVP_MD_fetch(NULL,
			    EVP_MD_get0_name(md), NULL)) == NULL)
				return (-1);
			fetched[i].nid = EVP_MD_get_type(md);
		}
		if (fetched[i].nid == EVP_MD_get_type(md)) {
			impl = fetched[i].md;
			break;
		}
	}
#endif
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (EVP_DigestInit_ex(ctx, impl, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, p, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, outlen) != 1)
		return (-1);
	return (0);
}

/*
 * HMAC-SHA256 with the MAC and its digest fetched once: HMAC() fetches
 * both on every call with OpenSSL 3.  0 or -1; out takes 32 bytes.
 */
int
jose_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t len, uint8_t *out)
{
#if !defined(LIBRESSL_VERSION_NUMBER) && OPENSSL_VERSION_NUMBER >= 0x30000000L
	static EVP_MAC_CTX	*ctx;
	EVP_MAC			*mac;
	OSSL_PARAM		 params[2];
	size_t			 outlen = 0;

	if (ctx == NULL) {
		if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
			return (-1);
		ctx = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
		if (ctx == NULL)
			return (-1);
		params[0] = OSSL_PARAM_construct_utf8_string("digest",
		    (char *)"SHA256", 0);
		params[1] = OSSL_PARAM_construct_end();
		if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
			EVP_MAC_CTX_free(ctx);
			ctx = NULL;
			return (-1);
		}
	}
	if (EVP_MAC_init(ctx, key, keylen, NULL) != 1 ||
	    EVP_MAC_update(ctx, msg, len) != 1 ||
	    EVP_MAC_final(ctx, out, &outlen, 32) != 1 || outlen != 32)
		return (-1);
	return (0);
#else
	unsigned int	 mdlen = 32;

	if (HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &mdlen) ==
	    NULL || mdlen != 32)
		return (-1);
	return (0);
#endif
}

char *
jose_half_hash(enum jose_alg alg, const char *token, size_t len)
{
	const struct jose_alginfo	*ai;
	uint8_t				 md[EVP_MAX_MD_SIZE];
	unsigned int			 mdlen;

	if (!jose_alg_usable(alg) || (ai = alg_info(alg)) == NULL)
		return (NULL);
	if (jose_digest(alg_md(ai), token, len, md, &mdlen) == -1)
		return (NULL);
	return (jose_b64url_encode(md, mdlen / 2));
}

/*
 * Dex's `sub': protobuf IDTokenSubject { string user_id = 1;
 * string conn_id = 2; } in base64url without padding.
 */

/* Well-formed UTF-8 without NUL, as proto3 demands of strings. */
static int
utf8_valid(const uint8_t *p, size_t len)
{
	size_t		 i = 0, n, k;
	uint32_t	 cp, min;

	while (i < len) {
		if (p[i] == 0)
			return (0);
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return (0);
		if (len - i <= n)
			return (0);
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return (0);
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		i += n + 1;
	}
	return (1);
}

static size_t
pb_put_field(uint8_t *p, uint8_t tag, const char *s, size_t len)
{
	size_t	 o = 0, v = len;

	p[o++] = tag;
	while (v >= 0x80) {
		p[o++] = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	p[o++] = v;
	memcpy(p + o, s, len);
	return (o + len);
}

char *
jose_dex_subject(const char *user_id, const char *conn_id)
{
	uint8_t	 buf[2 * (JOSE_SUB_MAX_FIELD + 4)];
	size_t	 ulen, clen, o = 0;

	ulen = strlen(user_id);
	clen = strlen(conn_id);
	if (ulen > JOSE_SUB_MAX_FIELD || clen > JOSE_SUB_MAX_FIELD ||
	    !utf8_valid((const uint8_t *)user_id, ulen) ||
	    !utf8_valid((const uint8_t *)conn_id, clen))
		return (NULL);
	/* proto3 leaves out fields that hold their default, "". */
	if (ulen > 0)
		o += pb_put_field(buf + o, 0x0a, user_id, ulen);
	if (clen > 0)
		o += pb_put_field(buf + o, 0x12, conn_id, clen);
	return (jose_b64url_encode(buf, o));
}

/*
 * The inverse, for a `sub' given back to us (Dex's gRPC API takes one).
 * Fields may come in either order; a repeated or unknown field is
 * refused since neither Dex nor oidcd writes one.
 */
int
jose_dex_subject_decode(const char *sub, char **user_id, char **conn_id)
{
	uint8_t		*buf = NULL;
	size_t		 len, i = 0, flen;
	char		*f[2] = { NULL, NULL };
	int		 shift, idx;

	*user_id = *conn_id = NULL;
	if (strlen(sub) > JOSE_B64URL_LEN(2 * (JOSE_SUB_MAX_FIELD + 4)))
		return (-1);
	if (jose_b64url_decode(sub, strlen(sub), &buf, &len) == -1)
		return (-1);
	while (i < len) {
		if (buf[i] == 0x0a)
			idx = 0;
		else if (buf[i] == 0x12)
			idx = 1;
		else
			goto fail;
		if (f[idx] != NULL)
			goto fail;
		i++;
		flen = 0;
		for (shift = 0;; shift += 7) {
			if (i >= len || shift > 14)
				goto fail;
			flen |= (size_t)(buf[i] & 0x7f) << shift;
			if ((buf[i++] & 0x80) == 0)
				break;
		}
		if (flen > JOSE_SUB_MAX_FIELD || len - i < flen ||
		    !utf8_valid(buf + i, flen))
			goto fail;
		if ((f[idx] = strndup((const char *)buf + i, flen)) == NULL)
			goto fail;
		i += flen;
	}
	if ((f[0] == NULL && (f[0] = strdup("")) == NULL) ||
	    (f[1] == NULL && (f[1] = strdup("")) == NULL))
		goto fail;
	free(buf);
	*user_id = f[0];
	*conn_id = f[1];
	return (0);
 fail:
	free(buf);
	free(f[0]);
	free(f[1]);
	return (-1);
}
