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
 * Upstream connectors: Dex's oidc connector (connector/oidc/oidc.go and
 * go-oidc's verifier) and oauth connector (connector/oauth/oauth.go),
 * as pure functions.  Where Dex is weak we are stricter without
 * changing what a working config means: a nonce and PKCE are always
 * sent and checked, the ID token's iat, nbf, azp and at_hash are
 * checked, the JWK's alg binds the token's, and the redirectURI is
 * checked at load rather than at every login.
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http.h"
#include "jose.h"
#include "upstream.h"

#define nitems(_a)	(sizeof((_a)) / sizeof((_a)[0]))

/* Dex's defaults (dex.md 3.1, 3.2). */
#define DEX_PROMPT_DEFAULT	"consent"
#define DEX_USERNAME_KEY	"name"
#define OAUTH_USERID_KEY	"id"
#define OAUTH_USERNAME_KEY	"user_name"

/* Hosts whose token endpoints refuse Basic auth (Dex issue #859). */
static const char *const no_basic_domains[] = {
	"okta.com",
	"oktapreview.com"
};

struct kv {
	const char	*k;
	const char	*v;
};

/* A growing list of strings, each from malloc(). */
struct strv {
	char		**v;
	size_t		  n;
};

static int	 fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 show(char *, size_t, const char *);
static int	 warn_add(struct upstream_conf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static const json_t *cfg_get(const json_t *, const char *);
static int	 cfg_str(const json_t *, const char *, const char *, char **,
		    int *, char *, size_t);
static int	 cfg_bool(const json_t *, const char *, const char *, int *,
		    int *, char *, size_t);
static int	 cfg_strv(const json_t *, const char *, const char *,
		    struct strv *, char *, size_t);
static int	 cfg_obj(const json_t *, const char *, const char *,
		    const json_t **, char *, size_t);
static int	 url_check(const char *);
static int	 url_host_is(const char *, const char *);
static int	 strv_add(struct strv *, const char *, size_t);
static void	 strv_free(struct strv *);
static char	*str_join(char *const *, size_t, const char *);
static char	*qescape(const char *);
static char	*form_encode(struct kv *, size_t);
static int	 json_depth_ok(const json_t *, int);
static int	 load_oidc(struct upstream_conf *, const json_t *, char *,
		    size_t);
static int	 load_oauth(struct upstream_conf *, const json_t *, char *,
		    size_t);
static int	 load_claimmods(struct upstream_conf *, const json_t *,
		    char *, size_t);
static int	 client_auth(const struct upstream_conf *, int, struct kv *,
		    size_t *, char **, char *, size_t);
static char	*random_b64(size_t);
static void	 go_float(double, char *, size_t);

/*
 * Helpers
 */

static int
fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (errbuf != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/*
 * Text from the upstream, fit to quote in a message: printable ASCII
 * without quotes or backslashes (RFC 6749's error_description set),
 * cut at UPSTREAM_SHOW_MAX.
 */
static void
show(char *dst, size_t dstsz, const char *src)
{
	size_t	i, o = 0, max;

	if (dstsz == 0)
		return;
	max = dstsz - 1;
	if (max > UPSTREAM_SHOW_MAX)
		max = UPSTREAM_SHOW_MAX;
	for (i = 0; src != NULL && src[i] != '\0' && o < max; i++) {
		if (src[i] < 0x20 || src[i] > 0x7e || src[i] == '"' ||
		    src[i] == '\\')
			dst[o++] = '?';
		else
			dst[o++] = src[i];
	}
	if (src != NULL && src[i] != '\0' && o >= 3 && max >= 3)
		memcpy(dst + o - 3, "...", 3);
	dst[o] = '\0';
}

static int
warn_add(struct upstream_conf *uc, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	if (uc->uc_nwarnings >= UPSTREAM_WARN_MAX)
		return (0);
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1)
		return (-1);
	uc->uc_warnings[uc->uc_nwarnings++] = s;
	return (0);
}

void
upstream_warnings_clear(struct upstream_conf *uc)
{
	size_t	i;

	for (i = 0; i < uc->uc_nwarnings; i++)
		free(uc->uc_warnings[i]);
	uc->uc_nwarnings = 0;
}

/*
 * A key of a config object as encoding/json finds it: names match
 * case-insensitively, the last match wins, and null leaves the field
 * as it was (so it does not count).
 */
static const json_t *
cfg_get(const json_t *obj, const char *key)
{
	const char	*k;
	const json_t	*v, *found = NULL;

	if (!json_is_object(obj))
		return (NULL);
	json_object_foreach((json_t *)(uintptr_t)obj, k, v)
		if (strcasecmp(k, key) == 0 && !json_is_null(v))
			found = v;
	return (found);
}

/* A string member; *present (if given) says whether it was there. */
static int
cfg_str(const json_t *obj, const char *where, const char *key, char **out,
    int *present, char *errbuf, size_t errlen)
{
	const json_t	*v;

	*out = NULL;
	if (present != NULL)
		*present = 0;
	if ((v = cfg_get(obj, key)) == NULL)
		return (0);
	if (!json_is_string(v))
		return (fail(errbuf, errlen, "%s%s: expected a string",
		    where, key));
	if (json_string_length(v) > UPSTREAM_CONF_STR_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return (fail(errbuf, errlen, "%s%s: too long", where, key));
	if ((*out = strdup(json_string_value(v))) == NULL)
		return (fail(errbuf, errlen, "out of memory"));
	if (present != NULL)
		*present = 1;
	return (0);
}

static int
cfg_bool(const json_t *obj, const char *where, const char *key, int *out,
    int *present, char *errbuf, size_t errlen)
{
	const json_t	*v;

	if (present != NULL)
		*present = 0;
	if ((v = cfg_get(obj, key)) == NULL)
		return (0);
	if (!json_is_boolean(v))
		return (fail(errbuf, errlen, "%s%s: expected a boolean",
		    where, key));
	*out = json_is_true(v);
	if (present != NULL)
		*present = 1;
	return (0);
}

static int
cfg_strv(const json_t *obj, const char *where, const char *key,
    struct strv *sv, char *errbuf, size_t errlen)
{
	const json_t	*v, *e;
	size_t		 i;

	if ((v = cfg_get(obj, key)) == NULL)
		return (0);
	if (!json_is_array(v))
		return (fail(errbuf, errlen, "%s%s: expected a list of "
		    "strings", where, key));
	if (json_array_size(v) > UPSTREAM_CONF_LIST_MAX)
		return (fail(errbuf, errlen, "%s%s: more than %d entries",
		    where, key, UPSTREAM_CONF_LIST_MAX));
	json_array_foreach(v, i, e) {
		/* encoding/json: a null in a []string is "" */
		if (json_is_null(e)) {
			if (strv_add(sv, "", 0) == -1)
				return (fail(errbuf, errlen, "out of memory"));
			continue;
		}
		if (!json_is_string(e))
			return (fail(errbuf, errlen, "%s%s: expected a list "
			    "of strings", where, key));
		if (json_string_length(e) > UPSTREAM_CONF_STR_MAX)
			return (fail(errbuf, errlen, "%s%s: entry too long",
			    where, key));
		if (strv_add(sv, json_string_value(e),
		    json_string_length(e)) == -1)
			return (fail(errbuf, errlen, "out of memory"));
	}
	return (0);
}

static int
cfg_obj(const json_t *obj, const char *where, const char *key,
    const json_t **out, char *errbuf, size_t errlen)
{
	const json_t	*v;

	*out = NULL;
	if ((v = cfg_get(obj, key)) == NULL)
		return (0);
	if (!json_is_object(v))
		return (fail(errbuf, errlen, "%s%s: expected a mapping",
		    where, key));
	*out = v;
	return (0);
}

/*
 * An endpoint: an absolute http or https URL with a host, printable
 * ASCII, no user info, no fragment, within UPSTREAM_URL_MAX.
 */
static int
url_check(const char *u)
{
	const char	*p, *host;
	size_t		 i, len = strlen(u);

	if (len == 0 || len > UPSTREAM_URL_MAX)
		return (-1);
	for (i = 0; i < len; i++)
		if (u[i] <= 0x20 || u[i] >= 0x7f || u[i] == '#')
			return (-1);
	if (strncasecmp(u, "https://", 8) == 0)
		host = u + 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		host = u + 7;
	else
		return (-1);
	for (p = host; *p != '\0' && *p != '/' && *p != '?'; p++)
		if (*p == '@')
			return (-1);
	if (p == host || *host == ':')
		return (-1);
	return (0);
}

/*
 * Whether the URL's host (with its port, as Go's url.URL.Host has it)
 * is domain or a subdomain of it.
 */
static int
url_host_is(const char *u, const char *domain)
{
	const char	*h, *e;
	size_t		 hl, dl = strlen(domain);

	if ((h = strstr(u, "://")) == NULL)
		return (0);
	h += 3;
	for (e = h; *e != '\0' && *e != '/' && *e != '?' && *e != '#'; e++)
		;
	hl = e - h;
	if (hl == dl && strncmp(h, domain, dl) == 0)
		return (1);
	return (hl > dl + 1 && h[hl - dl - 1] == '.' &&
	    strncmp(h + hl - dl, domain, dl) == 0);
}

static int
strv_add(struct strv *sv, const char *s, size_t len)
{
	char	**v;

	if ((v = reallocarray(sv->v, sv->n + 1, sizeof(*v))) == NULL)
		return (-1);
	sv->v = v;
	if ((v[sv->n] = strndup(s, len)) == NULL)
		return (-1);
	sv->n++;
	return (0);
}

static void
strv_free(struct strv *sv)
{
	size_t	i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

static char *
str_join(char *const *v, size_t n, const char *sep)
{
	char	*s, *o;
	size_t	 i, len = 1, sl = strlen(sep);

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + (i ? sl : 0);
	if ((s = o = malloc(len)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (i) {
			memcpy(o, sep, sl);
			o += sl;
		}
		memcpy(o, v[i], strlen(v[i]));
		o += strlen(v[i]);
	}
	*o = '\0';
	return (s);
}

/* Go's url.QueryEscape: unreserved kept, space as '+', rest %XX. */
static char *
qescape(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			*out, *o;

	if ((out = malloc(3 * strlen(s) + 1)) == NULL)
		return (NULL);
	for (p = (const unsigned char *)s, o = out; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' ||
		    *p == '~')
			*o++ = *p;
		else if (*p == ' ')
			*o++ = '+';
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xf];
		}
	}
	*o = '\0';
	return (out);
}

static int
kv_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k));
}

/*
 * Go's url.Values.Encode(): sorted by name, both sides escaped.  The
 * result may hold secrets: callers freezero() it.
 */
static char *
form_encode(struct kv *kv, size_t n)
{
	char	*out = NULL, *k = NULL, *v = NULL, *o;
	size_t	 i, len = 1;

	qsort(kv, n, sizeof(*kv), kv_cmp);
	for (i = 0; i < n; i++)
		len += 3 * (strlen(kv[i].k) + strlen(kv[i].v)) + 2;
	if ((out = o = malloc(len)) == NULL)
		return (NULL);
	*o = '\0';
	for (i = 0; i < n; i++) {
		if ((k = qescape(kv[i].k)) == NULL ||
		    (v = qescape(kv[i].v)) == NULL) {
			free(k);
			freezero(out, len);
			return (NULL);
		}
		o += snprintf(o, len - (o - out), "%s%s=%s", i ? "&" : "",
		    k, v);
		free(k);
		freezero(v, strlen(v));
		k = v = NULL;
	}
	return (out);
}

/* No JSON from outside nests deeper than max. */
static int
json_depth_ok(const json_t *j, int max)
{
	const char	*k;
	const json_t	*v;
	size_t		 i;

	if (!json_is_object(j) && !json_is_array(j))
		return (1);
	if (max <= 0)
		return (0);
	if (json_is_object(j)) {
		json_object_foreach((json_t *)(uintptr_t)j, k, v)
			if (!json_depth_ok(v, max - 1))
				return (0);
	} else {
		json_array_foreach(j, i, v)
			if (!json_depth_ok(v, max - 1))
				return (0);
	}
	return (1);
}

static char *
random_b64(size_t nbytes)
{
	uint8_t	 buf[64];
	char	*s;

	if (nbytes > sizeof(buf))
		return (NULL);
	arc4random_buf(buf, nbytes);
	s = jose_b64url_encode(buf, nbytes);
	explicit_bzero(buf, sizeof(buf));
	return (s);
}

/*
 * fmt.Sprintf("%v", float64) as Go prints it: the shortest digits that
 * read back the same, in %e form when the exponent is below -4 or at
 * least 6 (Go's %g with shortest precision), else plain.  Dex's oauth
 * connector makes user ids from numbers this way, so 12345678 becomes
 * "1.2345678e+07"; ids must stay what Dex made them.
 */
static void
go_float(double v, char *out, size_t outsz)
{
	char		 e[64], d[32];
	const char	*s;
	int		 p, exp, nd = 0, dp, i, neg;
	size_t		 o = 0;

	if (v == 0) {
		(void)snprintf(out, outsz, "%s", signbit(v) ? "-0" : "0");
		return;
	}
	for (p = 1; p <= 17; p++) {
		(void)snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	s = e;
	neg = (*s == '-');
	if (neg)
		s++;
	for (; *s != '\0' && *s != 'e' && nd < (int)sizeof(d) - 1; s++)
		if (isdigit((unsigned char)*s))
			d[nd++] = *s;
	exp = (*s == 'e') ? atoi(s + 1) : 0;
	while (nd > 1 && d[nd - 1] == '0')
		nd--;
	dp = exp + 1;

#define PUT(c)	do { if (o + 1 < outsz) out[o++] = (c); } while (0)
	if (neg)
		PUT('-');
	if (exp < -4 || exp >= 6) {
		PUT(d[0]);
		if (nd > 1) {
			PUT('.');
			for (i = 1; i < nd; i++)
				PUT(d[i]);
		}
		PUT('e');
		PUT(exp < 0 ? '-' : '+');
		if (exp < 0)
			exp = -exp;
		if (exp >= 100)
			PUT('0' + exp / 100);
		PUT('0' + (exp / 10) % 10);
		PUT('0' + exp % 10);
	} else if (dp <= 0) {
		PUT('0');
		PUT('.');
		for (i = 0; i < -dp; i++)
			PUT('0');
		for (i = 0; i < nd; i++)
			PUT(d[i]);
	} else {
		for (i = 0; i < dp; i++)
			PUT(i < nd ? d[i] : '0');
		if (dp < nd) {
			PUT('.');
			for (i = dp; i < nd; i++)
				PUT(d[i]);
		}
	}
#undef PUT
	if (outsz > 0)
		out[o] = '\0';
}

/*
 * Config
 */

int
upstream_config_load(const json_t *cfg, const char *type, const char *id,
    const char *issuer, struct upstream_conf **ucp, char *errbuf,
    size_t errlen)
{
	struct upstream_conf	*uc;
	char			*cb = NULL, *ru = NULL;
	size_t			 il;
	int			 r;

	*ucp = NULL;
	if (id == NULL || *id == '\0' || issuer == NULL)
		return (fail(errbuf, errlen, "connector without an id or "
		    "issuer"));
	if (!json_is_object(cfg))
		return (fail(errbuf, errlen, "config: expected a mapping"));
	if ((uc = calloc(1, sizeof(*uc))) == NULL ||
	    (uc->uc_id = strdup(id)) == NULL) {
		upstream_conf_free(uc);
		return (fail(errbuf, errlen, "out of memory"));
	}

	if (strcmp(type, "oidc") == 0) {
		uc->uc_type = UPSTREAM_OIDC;
		r = load_oidc(uc, cfg, errbuf, errlen);
	} else if (strcmp(type, "oauth") == 0) {
		uc->uc_type = UPSTREAM_OAUTH;
		r = load_oauth(uc, cfg, errbuf, errlen);
	} else
		r = fail(errbuf, errlen, "unsupported connector type \"%s\"",
		    type);
	if (r == -1)
		goto bad;

	/*
	 * Dex hands every connector <issuer>/callback (path.Join, so one
	 * slash) and LoginURL fails at each login when redirectURI is
	 * anything else.  Say so once, now.
	 */
	il = strlen(issuer);
	while (il > 0 && issuer[il - 1] == '/')
		il--;
	if (asprintf(&cb, "%.*s/callback", (int)il, issuer) == -1) {
		cb = NULL;
		r = fail(errbuf, errlen, "out of memory");
		goto bad;
	}
	if (cfg_str(cfg, "config.", "redirectURI", &ru, NULL, errbuf,
	    errlen) == -1)
		goto bad;
	if (ru == NULL || strcmp(ru, cb) != 0) {
		r = fail(errbuf, errlen, "config.redirectURI must be \"%s\" "
		    "(our issuer + /callback), not \"%s\"", cb,
		    ru == NULL ? "" : ru);
		goto bad;
	}
	free(ru);
	uc->uc_redirect_uri = cb;
	*ucp = uc;
	return (0);
 bad:
	free(cb);
	free(ru);
	upstream_conf_free(uc);
	return (-1);
}

static int
load_oidc(struct upstream_conf *uc, const json_t *cfg, char *errbuf,
    size_t errlen)
{
	static const char	 w[] = "config.";
	const json_t		*pdo, *cm;
	struct strv		 sv = { NULL, 0 };
	char			*s = NULL;
	size_t			 i;
	int			 present, b, r = -1;

	uc->uc_refresh = 1;
	uc->uc_auth = UPSTREAM_AUTH_BASIC;
	uc->uc_pkce = UPSTREAM_PKCE_AUTO;

	/* Removed from the oidc connector in v2.37; Open fails. */
	if (cfg_strv(cfg, w, "hostedDomains", &sv, errbuf, errlen) == -1)
		goto done;
	if (sv.n > 0) {
		fail(errbuf, errlen, "config.hostedDomains: no longer "
		    "supported by the oidc connector; switch to the google "
		    "connector");
		goto done;
	}
	strv_free(&sv);

	if (cfg_str(cfg, w, "issuer", &uc->uc_issuer, NULL, errbuf,
	    errlen) == -1)
		goto done;
	if (uc->uc_issuer == NULL || *uc->uc_issuer == '\0') {
		fail(errbuf, errlen, "config.issuer: required");
		goto done;
	}
	if (url_check(uc->uc_issuer) == -1) {
		fail(errbuf, errlen, "config.issuer: not an absolute http(s) "
		    "URL");
		goto done;
	}
	/* go-oidc: the issuer without one trailing slash. */
	i = strlen(uc->uc_issuer);
	if (i > 0 && uc->uc_issuer[i - 1] == '/')
		i--;
	if (asprintf(&uc->uc_discovery_url,
	    "%.*s/.well-known/openid-configuration", (int)i,
	    uc->uc_issuer) == -1) {
		uc->uc_discovery_url = NULL;
		fail(errbuf, errlen, "out of memory");
		goto done;
	}
	if (cfg_str(cfg, w, "issuerAlias", &uc->uc_issuer_alias, NULL, errbuf,
	    errlen) == -1)
		goto done;
	if (uc->uc_issuer_alias != NULL && *uc->uc_issuer_alias == '\0') {
		free(uc->uc_issuer_alias);
		uc->uc_issuer_alias = NULL;
	}

	if (cfg_str(cfg, w, "clientID", &uc->uc_client_id, NULL, errbuf,
	    errlen) == -1 ||
	    cfg_str(cfg, w, "clientSecret", &uc->uc_client_secret, NULL,
	    errbuf, errlen) == -1)
		goto done;
	if (uc->uc_client_id == NULL || *uc->uc_client_id == '\0') {
		fail(errbuf, errlen, "config.clientID: required");
		goto done;
	}

	/* openid first, always; scopes replace Dex's default. */
	if (cfg_strv(cfg, w, "scopes", &sv, errbuf, errlen) == -1)
		goto done;
	if (sv.n == 0 && (strv_add(&sv, "profile", 7) == -1 ||
	    strv_add(&sv, "email", 5) == -1)) {
		fail(errbuf, errlen, "out of memory");
		goto done;
	}
	if ((uc->uc_scopes = calloc(sv.n + 1, sizeof(char *))) == NULL ||
	    (uc->uc_scopes[0] = strdup("openid")) == NULL) {
		fail(errbuf, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < sv.n; i++)
		uc->uc_scopes[i + 1] = sv.v[i];
	uc->uc_nscopes = sv.n + 1;
	free(sv.v);
	sv.v = NULL;
	sv.n = 0;
	for (i = 0; i < uc->uc_nscopes; i++)
		if (strcmp(uc->uc_scopes[i], "email") == 0)
			uc->uc_has_email_scope = 1;

	if (cfg_bool(cfg, w, "basicAuthUnsupported", &b, &present, errbuf,
	    errlen) == -1)
		goto done;
	if (present)
		uc->uc_auth = b ? UPSTREAM_AUTH_BODY : UPSTREAM_AUTH_BASIC;
	else
		for (i = 0; i < nitems(no_basic_domains); i++)
			if (url_host_is(uc->uc_issuer, no_basic_domains[i]))
				uc->uc_auth = UPSTREAM_AUTH_BODY;

	if (cfg_obj(cfg, w, "providerDiscoveryOverrides", &pdo, errbuf,
	    errlen) == -1)
		goto done;
	if (pdo != NULL) {
		static const struct {
			const char	*key;
			size_t		 off;
		} pk[] = {
		    { "tokenURL", offsetof(struct upstream_conf,
			uc_pdo_token) },
		    { "authURL", offsetof(struct upstream_conf,
			uc_pdo_auth) },
		    { "jwksURL", offsetof(struct upstream_conf,
			uc_pdo_jwks) },
		    { "userInfoURL", offsetof(struct upstream_conf,
			uc_pdo_userinfo) },
		    { "endSessionURL", offsetof(struct upstream_conf,
			uc_pdo_end_session) }
		};
		char	**dst;
		int	  any = 0;

		for (i = 0; i < nitems(pk); i++) {
			dst = (char **)((char *)uc + pk[i].off);
			if (cfg_str(pdo, "config.providerDiscoveryOverrides.",
			    pk[i].key, dst, NULL, errbuf, errlen) == -1)
				goto done;
			if (*dst != NULL && **dst == '\0') {
				free(*dst);
				*dst = NULL;
			}
			if (*dst == NULL)
				continue;
			if (url_check(*dst) == -1) {
				fail(errbuf, errlen, "config."
				    "providerDiscoveryOverrides.%s: not an "
				    "absolute http(s) URL", pk[i].key);
				goto done;
			}
			any = 1;
		}
		if (any && warn_add(uc, "overrides for connector \"%s\" are "
		    "set, this can be a vulnerability when not properly "
		    "configured", uc->uc_id) == -1) {
			fail(errbuf, errlen, "out of memory");
			goto done;
		}
	}

	if (cfg_bool(cfg, w, "insecureSkipVerify",
	    &uc->uc_insecure_skip_verify, NULL, errbuf, errlen) == -1 ||
	    cfg_bool(cfg, w, "insecureSkipEmailVerified",
	    &uc->uc_skip_email_verified, NULL, errbuf, errlen) == -1 ||
	    cfg_bool(cfg, w, "insecureEnableGroups", &uc->uc_enable_groups,
	    NULL, errbuf, errlen) == -1 ||
	    cfg_bool(cfg, w, "getUserInfo", &uc->uc_get_userinfo, NULL,
	    errbuf, errlen) == -1 ||
	    cfg_bool(cfg, w, "overrideClaimMapping",
	    &uc->uc_override_claim_mapping, NULL, errbuf, errlen) == -1)
		goto done;

	if (cfg_strv(cfg, w, "allowedGroups", &sv, errbuf, errlen) == -1)
		goto done;
	uc->uc_allowed_groups = sv.v;
	uc->uc_nallowed_groups = sv.n;
	sv.v = NULL;
	sv.n = 0;
	if (uc->uc_nallowed_groups > 0 && !uc->uc_enable_groups &&
	    warn_add(uc, "connector \"%s\": allowedGroups has no effect "
	    "without insecureEnableGroups", uc->uc_id) == -1) {
		fail(errbuf, errlen, "out of memory");
		goto done;
	}

	if (cfg_strv(cfg, w, "acrValues", &sv, errbuf, errlen) == -1)
		goto done;
	if (sv.n > 0 && (uc->uc_acr_values = str_join(sv.v, sv.n,
	    " ")) == NULL) {
		fail(errbuf, errlen, "out of memory");
		goto done;
	}
	strv_free(&sv);

	if (cfg_str(cfg, w, "userIDKey", &uc->uc_user_id_key, NULL, errbuf,
	    errlen) == -1 ||
	    cfg_str(cfg, w, "userNameKey", &uc->uc_user_name_key, NULL,
	    errbuf, errlen) == -1)
		goto done;
	if (uc->uc_user_id_key != NULL && *uc->uc_user_id_key == '\0') {
		free(uc->uc_user_id_key);
		uc->uc_user_id_key = NULL;
	}
	if (uc->uc_user_name_key == NULL || *uc->uc_user_name_key == '\0') {
		free(uc->uc_user_name_key);
		if ((uc->uc_user_name_key = strdup(DEX_USERNAME_KEY)) ==
		    NULL) {
			fail(errbuf, errlen, "out of memory");
			goto done;
		}
	}

	/* A *string in Dex: set to "" it sends an empty prompt. */
	if (cfg_str(cfg, w, "promptType", &uc->uc_prompt, &present, errbuf,
	    errlen) == -1)
		goto done;
	if (!present && (uc->uc_prompt = strdup(DEX_PROMPT_DEFAULT)) ==
	    NULL) {
		fail(errbuf, errlen, "out of memory");
		goto done;
	}

	if (cfg_str(cfg, w, "pkceChallenge", &s, NULL, errbuf, errlen) == -1)
		goto done;
	if (s == NULL || *s == '\0')
		uc->uc_pkce = UPSTREAM_PKCE_AUTO;
	else if (strcmp(s, "S256") == 0)
		uc->uc_pkce = UPSTREAM_PKCE_S256;
	else if (strcmp(s, "plain") == 0)
		uc->uc_pkce = UPSTREAM_PKCE_PLAIN;
	else {
		fail(errbuf, errlen, "config.pkceChallenge: unsupported "
		    "method (S256, plain or empty)");
		goto done;
	}

	if (cfg_obj(cfg, w, "claimMapping", &cm, errbuf, errlen) == -1)
		goto done;
	if (cm != NULL) {
		if (cfg_str(cm, "config.claimMapping.", "preferred_username",
		    &uc->uc_cm_preferred_username, NULL, errbuf,
		    errlen) == -1 ||
		    cfg_str(cm, "config.claimMapping.", "email",
		    &uc->uc_cm_email, NULL, errbuf, errlen) == -1 ||
		    cfg_str(cm, "config.claimMapping.", "groups",
		    &uc->uc_cm_groups, NULL, errbuf, errlen) == -1)
			goto done;
	}
	/* Dex tests these keys against "": empty is unset. */
	if (uc->uc_cm_preferred_username != NULL &&
	    *uc->uc_cm_preferred_username == '\0') {
		free(uc->uc_cm_preferred_username);
		uc->uc_cm_preferred_username = NULL;
	}
	if (uc->uc_cm_email != NULL && *uc->uc_cm_email == '\0') {
		free(uc->uc_cm_email);
		uc->uc_cm_email = NULL;
	}
	if (uc->uc_cm_groups != NULL && *uc->uc_cm_groups == '\0') {
		free(uc->uc_cm_groups);
		uc->uc_cm_groups = NULL;
	}

	if (load_claimmods(uc, cfg, errbuf, errlen) == -1)
		goto done;
	r = 0;
 done:
	free(s);
	strv_free(&sv);
	return (r);
}

static int
load_claimmods(struct upstream_conf *uc, const json_t *cfg, char *errbuf,
    size_t errlen)
{
	static const char	 w[] = "config.claimModifications.";
	const json_t		*cmod, *ngs, *ng, *fg, *mg;
	struct upstream_newgroup *n;
	struct strv		 sv = { NULL, 0 };
	char			*re = NULL;
	size_t			 i;
	int			 rc;

	if (uc->uc_group_prefix == NULL &&
	    (uc->uc_group_prefix = strdup("")) == NULL)
		return (fail(errbuf, errlen, "out of memory"));
	if (uc->uc_group_suffix == NULL &&
	    (uc->uc_group_suffix = strdup("")) == NULL)
		return (fail(errbuf, errlen, "out of memory"));
	if (cfg_obj(cfg, "config.", "claimModifications", &cmod, errbuf,
	    errlen) == -1)
		return (-1);
	if (cmod == NULL)
		return (0);

	if ((ngs = cfg_get(cmod, "newGroupFromClaims")) != NULL) {
		if (!json_is_array(ngs))
			return (fail(errbuf, errlen, "%snewGroupFromClaims: "
			    "expected a list", w));
		if (json_array_size(ngs) > UPSTREAM_CONF_LIST_MAX)
			return (fail(errbuf, errlen, "%snewGroupFromClaims: "
			    "more than %d entries", w,
			    UPSTREAM_CONF_LIST_MAX));
		if (json_array_size(ngs) > 0 &&
		    (uc->uc_newgroups = calloc(json_array_size(ngs),
		    sizeof(*uc->uc_newgroups))) == NULL)
			return (fail(errbuf, errlen, "out of memory"));
		json_array_foreach(ngs, i, ng) {
			if (!json_is_object(ng))
				return (fail(errbuf, errlen,
				    "%snewGroupFromClaims[%zu]: expected a "
				    "mapping", w, i));
			n = &uc->uc_newgroups[uc->uc_nnewgroups++];
			if (cfg_strv(ng, "config.claimModifications."
			    "newGroupFromClaims[].", "claims", &sv, errbuf,
			    errlen) == -1) {
				strv_free(&sv);
				return (-1);
			}
			n->ng_claims = sv.v;
			n->ng_nclaims = sv.n;
			sv.v = NULL;
			sv.n = 0;
			if (cfg_str(ng, "config.claimModifications."
			    "newGroupFromClaims[].", "delimiter",
			    &n->ng_delimiter, NULL, errbuf, errlen) == -1 ||
			    cfg_str(ng, "config.claimModifications."
			    "newGroupFromClaims[].", "prefix", &n->ng_prefix,
			    NULL, errbuf, errlen) == -1 ||
			    cfg_bool(ng, "config.claimModifications."
			    "newGroupFromClaims[].", "clearDelimiter",
			    &n->ng_clear_delimiter, NULL, errbuf,
			    errlen) == -1)
				return (-1);
			if ((n->ng_delimiter == NULL &&
			    (n->ng_delimiter = strdup("")) == NULL) ||
			    (n->ng_prefix == NULL &&
			    (n->ng_prefix = strdup("")) == NULL))
				return (fail(errbuf, errlen, "out of memory"));
		}
	}

	if (cfg_obj(cmod, w, "filterGroupClaims", &fg, errbuf, errlen) == -1)
		return (-1);
	if (fg != NULL && cfg_str(fg, "config.claimModifications."
	    "filterGroupClaims.", "groupsFilter", &re, NULL, errbuf,
	    errlen) == -1)
		return (-1);
	if (re != NULL && *re != '\0') {
		/*
		 * Dex compiles with Go's regexp (RE2 syntax); POSIX ERE
		 * reads the common subset the same.  Like Dex, a bad one
		 * is a warning and no filter.
		 */
		if ((rc = regcomp(&uc->uc_groups_filter, re,
		    REG_EXTENDED | REG_NOSUB)) == 0)
			uc->uc_have_groups_filter = 1;
		else if (warn_add(uc, "connector \"%s\": ignoring invalid "
		    "groupsFilter regex", uc->uc_id) == -1) {
			free(re);
			return (fail(errbuf, errlen, "out of memory"));
		}
	}
	free(re);

	if (cfg_obj(cmod, w, "modifyGroupNames", &mg, errbuf, errlen) == -1)
		return (-1);
	if (mg != NULL) {
		free(uc->uc_group_prefix);
		free(uc->uc_group_suffix);
		uc->uc_group_prefix = uc->uc_group_suffix = NULL;
		if (cfg_str(mg, "config.claimModifications.modifyGroupNames.",
		    "prefix", &uc->uc_group_prefix, NULL, errbuf,
		    errlen) == -1 ||
		    cfg_str(mg, "config.claimModifications.modifyGroupNames.",
		    "suffix", &uc->uc_group_suffix, NULL, errbuf,
		    errlen) == -1)
			return (-1);
		if ((uc->uc_group_prefix == NULL &&
		    (uc->uc_group_prefix = strdup("")) == NULL) ||
		    (uc->uc_group_suffix == NULL &&
		    (uc->uc_group_suffix = strdup("")) == NULL))
			return (fail(errbuf, errlen, "out of memory"));
	}
	return (0);
}

static int
load_oauth(struct upstream_conf *uc, const json_t *cfg, char *errbuf,
    size_t errlen)
{
	static const char	 w[] = "config.";
	static const struct {
		const char	*key;
		size_t		 off;
	} urls[] = {
	    { "authorizationURL", offsetof(struct upstream_conf,
		uc_auth_url) },
	    { "tokenURL", offsetof(struct upstream_conf, uc_token_url) },
	    { "userInfoURL", offsetof(struct upstream_conf,
		uc_userinfo_url) }
	};
	static const struct {
		const char	*key;
		const char	*def;
		size_t		 off;
	} keys[] = {
	    { "userNameKey", OAUTH_USERNAME_KEY,
		offsetof(struct upstream_conf, uc_oa_user_name_key) },
	    { "preferredUsernameKey", "preferred_username",
		offsetof(struct upstream_conf,
		uc_oa_preferred_username_key) },
	    { "groupsKey", "groups",
		offsetof(struct upstream_conf, uc_oa_groups_key) },
	    { "emailKey", "email",
		offsetof(struct upstream_conf, uc_oa_email_key) },
	    { "emailVerifiedKey", "email_verified",
		offsetof(struct upstream_conf, uc_oa_email_verified_key) }
	};
	const json_t	*cm;
	struct strv	 sv = { NULL, 0 };
	char		**dst;
	size_t		 i;

	/* Dex's oauth connector has no RefreshConnector. */
	uc->uc_refresh = 0;
	/* golang.org/x/oauth2 AuthStyleAutoDetect */
	uc->uc_auth = UPSTREAM_AUTH_AUTO;
	uc->uc_pkce = UPSTREAM_PKCE_S256;
	uc->uc_discovered = 1;

	if (cfg_str(cfg, w, "clientID", &uc->uc_client_id, NULL, errbuf,
	    errlen) == -1 ||
	    cfg_str(cfg, w, "clientSecret", &uc->uc_client_secret, NULL,
	    errbuf, errlen) == -1)
		return (-1);
	if (uc->uc_client_id == NULL &&
	    (uc->uc_client_id = strdup("")) == NULL)
		return (fail(errbuf, errlen, "out of memory"));

	/*
	 * Dex starts without them and fails at the first login; an
	 * oauth connector cannot work without all three.
	 */
	for (i = 0; i < nitems(urls); i++) {
		dst = (char **)((char *)uc + urls[i].off);
		if (cfg_str(cfg, w, urls[i].key, dst, NULL, errbuf,
		    errlen) == -1)
			return (-1);
		if (*dst == NULL || **dst == '\0')
			return (fail(errbuf, errlen, "config.%s: required",
			    urls[i].key));
		if (url_check(*dst) == -1)
			return (fail(errbuf, errlen, "config.%s: not an "
			    "absolute http(s) URL", urls[i].key));
	}

	/* No default and no openid: the scopes go up as they are. */
	if (cfg_strv(cfg, w, "scopes", &sv, errbuf, errlen) == -1) {
		strv_free(&sv);
		return (-1);
	}
	uc->uc_scopes = sv.v;
	uc->uc_nscopes = sv.n;
	for (i = 0; i < uc->uc_nscopes; i++)
		if (strcmp(uc->uc_scopes[i], "email") == 0)
			uc->uc_has_email_scope = 1;

	if (cfg_bool(cfg, w, "insecureSkipVerify",
	    &uc->uc_insecure_skip_verify, NULL, errbuf, errlen) == -1)
		return (-1);

	if (cfg_str(cfg, w, "userIDKey", &uc->uc_oa_user_id_key, NULL,
	    errbuf, errlen) == -1)
		return (-1);
	if (uc->uc_oa_user_id_key == NULL || *uc->uc_oa_user_id_key == '\0') {
		free(uc->uc_oa_user_id_key);
		if ((uc->uc_oa_user_id_key = strdup(OAUTH_USERID_KEY)) ==
		    NULL)
			return (fail(errbuf, errlen, "out of memory"));
	}
	if (cfg_obj(cfg, w, "claimMapping", &cm, errbuf, errlen) == -1)
		return (-1);
	for (i = 0; i < nitems(keys); i++) {
		dst = (char **)((char *)uc + keys[i].off);
		if (cm != NULL && cfg_str(cm, "config.claimMapping.",
		    keys[i].key, dst, NULL, errbuf, errlen) == -1)
			return (-1);
		if (*dst == NULL || **dst == '\0') {
			free(*dst);
			if ((*dst = strdup(keys[i].def)) == NULL)
				return (fail(errbuf, errlen,
				    "out of memory"));
		}
	}
	if ((uc->uc_group_prefix = strdup("")) == NULL ||
	    (uc->uc_group_suffix = strdup("")) == NULL)
		return (fail(errbuf, errlen, "out of memory"));
	return (0);
}

void
upstream_set_seal_key(struct upstream_conf *uc, const uint8_t *key)
{
	memcpy(uc->uc_seal_key, key, UPSTREAM_SEAL_KEY_LEN);
	uc->uc_have_seal_key = 1;
}

void
upstream_conf_free(struct upstream_conf *uc)
{
	size_t	i, j;

	if (uc == NULL)
		return;
	free(uc->uc_id);
	free(uc->uc_issuer);
	free(uc->uc_issuer_alias);
	free(uc->uc_discovery_url);
	free(uc->uc_client_id);
	if (uc->uc_client_secret != NULL)
		freezero(uc->uc_client_secret, strlen(uc->uc_client_secret));
	free(uc->uc_redirect_uri);
	for (i = 0; i < uc->uc_nscopes; i++)
		free(uc->uc_scopes[i]);
	free(uc->uc_scopes);
	free(uc->uc_auth_url);
	free(uc->uc_token_url);
	free(uc->uc_jwks_url);
	free(uc->uc_userinfo_url);
	free(uc->uc_end_session_url);
	free(uc->uc_pdo_auth);
	free(uc->uc_pdo_token);
	free(uc->uc_pdo_jwks);
	free(uc->uc_pdo_userinfo);
	free(uc->uc_pdo_end_session);
	for (i = 0; i < uc->uc_nallowed_groups; i++)
		free(uc->uc_allowed_groups[i]);
	free(uc->uc_allowed_groups);
	free(uc->uc_acr_values);
	free(uc->uc_user_id_key);
	free(uc->uc_user_name_key);
	free(uc->uc_prompt);
	free(uc->uc_cm_preferred_username);
	free(uc->uc_cm_email);
	free(uc->uc_cm_groups);
	for (i = 0; i < uc->uc_nnewgroups; i++) {
		for (j = 0; j < uc->uc_newgroups[i].ng_nclaims; j++)
			free(uc->uc_newgroups[i].ng_claims[j]);
		free(uc->uc_newgroups[i].ng_claims);
		free(uc->uc_newgroups[i].ng_delimiter);
		free(uc->uc_newgroups[i].ng_prefix);
	}
	free(uc->uc_newgroups);
	if (uc->uc_have_groups_filter)
		regfree(&uc->uc_groups_filter);
	free(uc->uc_group_prefix);
	free(uc->uc_group_suffix);
	free(uc->uc_oa_user_id_key);
	free(uc->uc_oa_user_name_key);
	free(uc->uc_oa_preferred_username_key);
	free(uc->uc_oa_groups_key);
	free(uc->uc_oa_email_key);
	free(uc->uc_oa_email_verified_key);
	upstream_warnings_clear(uc);
	freezero(uc, sizeof(*uc));
}

/*
 * Discovery
 */

/* A string member of a document from outside; absent is NULL. */
static int
doc_str(const json_t *doc, const char *what, const char *key,
    const char **out, char *errbuf, size_t errlen)
{
	const json_t	*v;

	*out = NULL;
	if ((v = json_object_get(doc, key)) == NULL || json_is_null(v))
		return (0);
	if (!json_is_string(v) || strlen(json_string_value(v)) !=
	    json_string_length(v))
		return (fail(errbuf, errlen, "%s: %s is not a string", what,
		    key));
	*out = json_string_value(v);
	return (0);
}

/* Replace *dst by a copy of src (NULL clears). */
static int
set_str(char **dst, const char *src)
{
	char	*s = NULL;

	if (src != NULL && (s = strdup(src)) == NULL)
		return (-1);
	free(*dst);
	*dst = s;
	return (0);
}

int
upstream_discovery_parse(struct upstream_conf *uc, const char *body,
    size_t len, char *errbuf, size_t errlen)
{
	static const char	 what[] = "discovery";
	json_t			*doc = NULL, *v, *e;
	const char		*iss, *auth, *token, *jwks, *ui, *es, *s;
	char			 a[UPSTREAM_SHOW_MAX + 1];
	char			 b[UPSTREAM_SHOW_MAX + 1];
	enum jose_alg		 algs[UPSTREAM_ALGS_MAX], alg;
	size_t			 nalgs = 0, i, j;
	int			 pkce = 0, r = -1;

	if (uc->uc_type != UPSTREAM_OIDC)
		return (fail(errbuf, errlen, "discovery is for oidc "
		    "connectors"));
	if (len > UPSTREAM_DISCOVERY_MAX)
		return (fail(errbuf, errlen, "discovery document larger "
		    "than %d bytes", UPSTREAM_DISCOVERY_MAX));
	if ((doc = json_loadb(body, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(doc)) {
		fail(errbuf, errlen, "discovery document is not a JSON "
		    "object");
		goto done;
	}
	if (!json_depth_ok(doc, UPSTREAM_JSON_DEPTH)) {
		fail(errbuf, errlen, "discovery document nests too deep");
		goto done;
	}

	if (doc_str(doc, what, "issuer", &iss, errbuf, errlen) == -1 ||
	    doc_str(doc, what, "authorization_endpoint", &auth, errbuf,
	    errlen) == -1 ||
	    doc_str(doc, what, "token_endpoint", &token, errbuf,
	    errlen) == -1 ||
	    doc_str(doc, what, "jwks_uri", &jwks, errbuf, errlen) == -1 ||
	    doc_str(doc, what, "userinfo_endpoint", &ui, errbuf,
	    errlen) == -1 ||
	    doc_str(doc, what, "end_session_endpoint", &es, errbuf,
	    errlen) == -1)
		goto done;

	/* OpenID Connect Discovery 4.3: exactly the issuer we asked. */
	if (iss == NULL || (strcmp(iss, uc->uc_issuer) != 0 &&
	    (uc->uc_issuer_alias == NULL ||
	    strcmp(iss, uc->uc_issuer_alias) != 0))) {
		show(a, sizeof(a), uc->uc_issuer_alias != NULL ?
		    uc->uc_issuer_alias : uc->uc_issuer);
		show(b, sizeof(b), iss);
		fail(errbuf, errlen, "issuer did not match the issuer "
		    "returned by provider, expected \"%s\" got \"%s\"", a, b);
		goto done;
	}

	if (uc->uc_pdo_auth != NULL)
		auth = uc->uc_pdo_auth;
	if (uc->uc_pdo_token != NULL)
		token = uc->uc_pdo_token;
	if (uc->uc_pdo_jwks != NULL)
		jwks = uc->uc_pdo_jwks;
	if (uc->uc_pdo_userinfo != NULL)
		ui = uc->uc_pdo_userinfo;
	if (uc->uc_pdo_end_session != NULL)
		es = uc->uc_pdo_end_session;
	if (auth == NULL || url_check(auth) == -1) {
		fail(errbuf, errlen, "discovery: authorization_endpoint "
		    "missing or not an absolute http(s) URL");
		goto done;
	}
	if (token == NULL || url_check(token) == -1) {
		fail(errbuf, errlen, "discovery: token_endpoint missing or "
		    "not an absolute http(s) URL");
		goto done;
	}
	if (jwks == NULL || url_check(jwks) == -1) {
		fail(errbuf, errlen, "discovery: jwks_uri missing or not an "
		    "absolute http(s) URL");
		goto done;
	}
	if (ui != NULL && url_check(ui) == -1) {
		if (uc->uc_get_userinfo) {
			fail(errbuf, errlen, "discovery: userinfo_endpoint "
			    "is not an absolute http(s) URL");
			goto done;
		}
		ui = NULL;
	}
	if (ui == NULL && uc->uc_get_userinfo) {
		fail(errbuf, errlen, "getUserInfo is set but the upstream "
		    "has no userinfo_endpoint");
		goto done;
	}
	/* Not needed to log in: an odd one is left out. */
	if (es != NULL && url_check(es) == -1)
		es = NULL;

	if ((v = json_object_get(doc,
	    "id_token_signing_alg_values_supported")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_array(v) ||
		    json_array_size(v) > UPSTREAM_ALGS_MAX) {
			fail(errbuf, errlen, "discovery: bad "
			    "id_token_signing_alg_values_supported");
			goto done;
		}
		json_array_foreach(v, i, e) {
			if (!json_is_string(e)) {
				fail(errbuf, errlen, "discovery: bad "
				    "id_token_signing_alg_values_supported");
				goto done;
			}
			alg = jose_alg_from_name(json_string_value(e));
			if (!jose_alg_usable(alg))
				continue;
			for (j = 0; j < nalgs; j++)
				if (algs[j] == alg)
					break;
			if (j == nalgs)
				algs[nalgs++] = alg;
		}
		/*
		 * go-oidc drops what it cannot verify; with nothing left
		 * it would still try.  We accept any usable alg then.
		 */
		if (nalgs == 0 && json_array_size(v) > 0 &&
		    warn_add(uc, "connector \"%s\": the upstream signs ID "
		    "tokens with no algorithm we verify", uc->uc_id) == -1) {
			fail(errbuf, errlen, "out of memory");
			goto done;
		}
	}

	if ((v = json_object_get(doc,
	    "code_challenge_methods_supported")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_array(v)) {
			fail(errbuf, errlen, "discovery: bad "
			    "code_challenge_methods_supported");
			goto done;
		}
		json_array_foreach(v, i, e) {
			if ((s = json_string_value(e)) == NULL)
				pkce |= UPSTREAM_PKCE_HAS_OTHER;
			else if (strcmp(s, "S256") == 0)
				pkce |= UPSTREAM_PKCE_HAS_S256;
			else if (strcmp(s, "plain") == 0)
				pkce |= UPSTREAM_PKCE_HAS_PLAIN;
			else
				pkce |= UPSTREAM_PKCE_HAS_OTHER;
		}
	}
	if (pkce != 0 && ((uc->uc_pkce == UPSTREAM_PKCE_S256 &&
	    !(pkce & UPSTREAM_PKCE_HAS_S256)) ||
	    (uc->uc_pkce == UPSTREAM_PKCE_PLAIN &&
	    !(pkce & UPSTREAM_PKCE_HAS_PLAIN))) &&
	    warn_add(uc, "connector \"%s\": the upstream does not list "
	    "pkceChallenge %s in code_challenge_methods_supported",
	    uc->uc_id, uc->uc_pkce == UPSTREAM_PKCE_S256 ? "S256" :
	    "plain") == -1) {
		fail(errbuf, errlen, "out of memory");
		goto done;
	}

	if (set_str(&uc->uc_auth_url, auth) == -1 ||
	    set_str(&uc->uc_token_url, token) == -1 ||
	    set_str(&uc->uc_jwks_url, jwks) == -1 ||
	    set_str(&uc->uc_userinfo_url, ui) == -1 ||
	    set_str(&uc->uc_end_session_url, es) == -1) {
		fail(errbuf, errlen, "out of memory");
		goto done;
	}
	memcpy(uc->uc_algs, algs, nalgs * sizeof(algs[0]));
	uc->uc_nalgs = nalgs;
	uc->uc_pkce_methods = pkce;
	uc->uc_discovered = 1;
	r = 0;
 done:
	json_decref(doc);
	return (r);
}

/*
 * JWKS
 */

/*
 * jose_jwks_parse() with one more fact kept per key: whether the JWK
 * named its alg.  A JWK without one admits every alg its key fits (an
 * RSA key RS* and PS*); with one, only that.
 */
int
upstream_jwks_parse(struct upstream_jwks *uj, const char *body, size_t len,
    int64_t now, int64_t max_age, char *errbuf, size_t errlen)
{
	json_t		*root = NULL, *keys, *jwk, *kid;
	struct jose_jwk	*k;
	EVP_PKEY	*pkey;
	enum jose_alg	 alg;
	size_t		 i, skipped = 0;

	memset(uj, 0, sizeof(*uj));
	if (len > JOSE_JWKS_MAX_LEN)
		return (fail(errbuf, errlen, "JWKS larger than %d bytes",
		    JOSE_JWKS_MAX_LEN));
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(root) ||
	    (keys = json_object_get(root, "keys")) == NULL ||
	    !json_is_array(keys)) {
		json_decref(root);
		return (fail(errbuf, errlen, "JWKS is not a JSON object "
		    "with a keys array"));
	}
	if (json_array_size(keys) > JOSE_JWKS_MAX_KEYS) {
		json_decref(root);
		return (fail(errbuf, errlen, "JWKS has more than %d keys",
		    JOSE_JWKS_MAX_KEYS));
	}
	json_array_foreach(keys, i, jwk) {
		if (json_dumpb(jwk, NULL, 0, JSON_COMPACT) >
		    JOSE_JWK_MAX_LEN) {
			upstream_jwks_free(uj);
			json_decref(root);
			return (fail(errbuf, errlen, "JWKS key larger than "
			    "%d bytes", JOSE_JWK_MAX_LEN));
		}
		kid = json_object_get(jwk, "kid");
		if (kid != NULL && (!json_is_string(kid) ||
		    json_string_length(kid) > JOSE_KID_MAX ||
		    strlen(json_string_value(kid)) !=
		    json_string_length(kid))) {
			skipped++;
			continue;
		}
		/* Encryption keys, private keys, other types: skipped. */
		if ((pkey = jose_jwk_import(jwk, &alg)) == NULL) {
			skipped++;
			continue;
		}
		k = &uj->uj_set.keys[uj->uj_set.nkeys];
		k->pkey = pkey;
		k->alg = alg;
		if (kid != NULL &&
		    (k->kid = strdup(json_string_value(kid))) == NULL) {
			EVP_PKEY_free(pkey);
			upstream_jwks_free(uj);
			json_decref(root);
			return (fail(errbuf, errlen, "out of memory"));
		}
		uj->uj_alg_given[uj->uj_set.nkeys] =
		    json_is_string(json_object_get(jwk, "alg"));
		uj->uj_set.nkeys++;
	}
	json_decref(root);
	uj->uj_set.nskipped = skipped;
	if (uj->uj_set.nkeys == 0)
		return (fail(errbuf, errlen, "JWKS has no usable signing key "
		    "(%zu skipped)", skipped));

	if (max_age < 0)
		max_age = UPSTREAM_JWKS_AGE_DEFAULT;
	if (max_age < UPSTREAM_JWKS_AGE_MIN)
		max_age = UPSTREAM_JWKS_AGE_MIN;
	if (max_age > UPSTREAM_JWKS_AGE_MAX)
		max_age = UPSTREAM_JWKS_AGE_MAX;
	uj->uj_fetched = now;
	uj->uj_expires = now + max_age;
	return (0);
}

void
upstream_jwks_free(struct upstream_jwks *uj)
{
	jose_jwks_free(&uj->uj_set);
	memset(uj, 0, sizeof(*uj));
}

/* Past the Cache-Control lifetime: fetch again before the next use. */
int
upstream_jwks_stale(const struct upstream_jwks *uj, int64_t now)
{
	return (uj->uj_set.nkeys == 0 || now >= uj->uj_expires);
}

/* An unknown kid refetches at most once per UPSTREAM_JWKS_AGE_MIN. */
int
upstream_jwks_may_refetch(const struct upstream_jwks *uj, int64_t now)
{
	return (uj->uj_fetched == 0 ||
	    now - uj->uj_fetched >= UPSTREAM_JWKS_AGE_MIN);
}

/*
 * Seconds from a Cache-Control header (RFC 9111 5.2): the smallest
 * max-age, 0 for no-store or no-cache, -1 when it says nothing.
 */
int64_t
upstream_cache_max_age(const char *cc)
{
	const char	*p, *name, *val;
	size_t		 nlen, vlen, i;
	int64_t		 best = -1, n;

	if (cc == NULL)
		return (-1);
	for (p = cc; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		name = p;
		while (*p != '\0' && *p != '=' && *p != ',' && *p != ' ' &&
		    *p != '\t')
			p++;
		nlen = p - name;
		while (*p == ' ' || *p == '\t')
			p++;
		val = NULL;
		vlen = 0;
		if (*p == '=') {
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '"') {
				val = ++p;
				while (*p != '\0' && *p != '"')
					p++;
				vlen = p - val;
				if (*p == '"')
					p++;
			} else {
				val = p;
				while (*p != '\0' && *p != ',' && *p != ' ' &&
				    *p != '\t')
					p++;
				vlen = p - val;
			}
		}
		while (*p != '\0' && *p != ',')
			p++;

		if ((nlen == 8 && strncasecmp(name, "no-store", 8) == 0) ||
		    (nlen == 8 && strncasecmp(name, "no-cache", 8) == 0))
			return (0);
		if (nlen != 7 || strncasecmp(name, "max-age", 7) != 0 ||
		    val == NULL || vlen == 0)
			continue;
		n = 0;
		for (i = 0; i < vlen; i++) {
			if (!isdigit((unsigned char)val[i]))
				break;
			if (n < INT32_MAX)
				n = n * 10 + (val[i] - '0');
		}
		if (i != vlen)
			continue;
		if (n > INT32_MAX)
			n = INT32_MAX;
		if (best == -1 || n < best)
			best = n;
	}
	return (best);
}

/*
 * Sealing: version || kind || nonce || ciphertext || tag, base64url.
 * The version, the kind and the connector id are authenticated, so a
 * blob opens only as what it was made for, for the connector that
 * made it.
 */

static int
seal_aad(EVP_CIPHER_CTX *ctx, const uint8_t *hdr, const char *connid,
    int enc)
{
	int	outl;

	if (enc)
		return (EVP_EncryptUpdate(ctx, NULL, &outl, hdr, 2) == 1 &&
		    EVP_EncryptUpdate(ctx, NULL, &outl,
		    (const uint8_t *)connid, strlen(connid)) == 1 ? 0 : -1);
	return (EVP_DecryptUpdate(ctx, NULL, &outl, hdr, 2) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &outl, (const uint8_t *)connid,
	    strlen(connid)) == 1 ? 0 : -1);
}

char *
upstream_seal(const uint8_t *key, const char *connid, int kind,
    const void *pt, size_t len)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	uint8_t		*buf = NULL, *nonce, *ct;
	size_t		 total;
	char		*out = NULL;
	int		 outl, fl;

	if (key == NULL || connid == NULL || len > UPSTREAM_SEAL_MAX_PLAIN ||
	    kind < 1 || kind > 255)
		return (NULL);
	total = 2 + UPSTREAM_SEAL_NONCE_LEN + len + UPSTREAM_SEAL_TAG_LEN;
	if ((buf = malloc(total)) == NULL)
		return (NULL);
	buf[0] = UPSTREAM_SEAL_VERSION;
	buf[1] = (uint8_t)kind;
	nonce = buf + 2;
	ct = nonce + UPSTREAM_SEAL_NONCE_LEN;
	arc4random_buf(nonce, UPSTREAM_SEAL_NONCE_LEN);

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, NULL,
	    NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN,
	    UPSTREAM_SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
	    seal_aad(ctx, buf, connid, 1) == -1)
		goto done;
	outl = 0;
	if (len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, pt,
	    (int)len) != 1)
		goto done;
	if (EVP_EncryptFinal_ex(ctx, ct + outl, &fl) != 1 ||
	    (size_t)(outl + fl) != len ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
	    UPSTREAM_SEAL_TAG_LEN, ct + len) != 1)
		goto done;
	out = jose_b64url_encode(buf, total);
 done:
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return (out);
}

/* *pt gets the plaintext and a NUL after it; freezero() it. */
int
upstream_unseal(const uint8_t *key, const char *connid, int kind,
    const char *sealed, uint8_t **pt, size_t *ptlen)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	uint8_t		*buf = NULL, *out = NULL, *ct;
	size_t		 len, clen;
	int		 outl = 0, fl, r = -1;

	*pt = NULL;
	*ptlen = 0;
	if (key == NULL || connid == NULL || sealed == NULL ||
	    strlen(sealed) > UPSTREAM_SEALED_MAX)
		return (-1);
	if (jose_b64url_decode(sealed, strlen(sealed), &buf, &len) == -1)
		return (-1);
	if (len < 2 + UPSTREAM_SEAL_NONCE_LEN + UPSTREAM_SEAL_TAG_LEN ||
	    buf[0] != UPSTREAM_SEAL_VERSION || buf[1] != (uint8_t)kind)
		goto done;
	ct = buf + 2 + UPSTREAM_SEAL_NONCE_LEN;
	clen = len - 2 - UPSTREAM_SEAL_NONCE_LEN - UPSTREAM_SEAL_TAG_LEN;
	if ((out = malloc(clen + 1)) == NULL)
		goto done;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, NULL,
	    NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN,
	    UPSTREAM_SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, buf + 2) != 1 ||
	    seal_aad(ctx, buf, connid, 0) == -1)
		goto done;
	if (clen > 0 && EVP_DecryptUpdate(ctx, out, &outl, ct,
	    (int)clen) != 1)
		goto done;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
	    UPSTREAM_SEAL_TAG_LEN, ct + clen) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + outl, &fl) != 1 ||
	    (size_t)(outl + fl) != clen)
		goto done;
	out[clen] = '\0';
	*pt = out;
	*ptlen = clen;
	out = NULL;
	r = 0;
 done:
	EVP_CIPHER_CTX_free(ctx);
	if (out != NULL)
		freezero(out, clen + 1);
	free(buf);
	return (r);
}

/*
 * Login
 */

/*
 * PKCE always (Dex sends it only when pkceChallenge is set or the
 * upstream lists a method): the configured method, else S256 unless
 * the upstream lists plain and not S256.
 */
static enum upstream_pkce
pkce_method(const struct upstream_conf *uc)
{
	if (uc->uc_pkce != UPSTREAM_PKCE_AUTO)
		return (uc->uc_pkce);
	if ((uc->uc_pkce_methods & UPSTREAM_PKCE_HAS_PLAIN) &&
	    !(uc->uc_pkce_methods & UPSTREAM_PKCE_HAS_S256))
		return (UPSTREAM_PKCE_PLAIN);
	return (UPSTREAM_PKCE_S256);
}

static char *
s256(const char *verifier)
{
	uint8_t		md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen;

	if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(),
	    NULL) != 1)
		return (NULL);
	return (jose_b64url_encode(md, mdlen));
}

int
upstream_login(const struct upstream_conf *uc, const char *state,
    int offline, char **urlp, char **conn_data, char *errbuf,
    size_t errlen)
{
	struct kv		 kv[16];
	size_t			 n = 0;
	enum upstream_pkce	 m;
	char			*nonce = NULL, *verifier = NULL, *chal = NULL;
	char			*scope = NULL, *q = NULL, *url = NULL;
	char			*pt = NULL;
	json_t			*j = NULL;
	int			 r = -1;

	*urlp = NULL;
	*conn_data = NULL;
	if (!uc->uc_discovered)
		return (fail(errbuf, errlen, "upstream endpoints not known "
		    "yet (no discovery)"));
	if (!uc->uc_have_seal_key)
		return (fail(errbuf, errlen, "no sealing key"));
	if (state == NULL || *state == '\0' ||
	    strlen(state) > UPSTREAM_STATE_MAX)
		return (fail(errbuf, errlen, "bad state"));

	m = pkce_method(uc);
	if ((verifier = random_b64(UPSTREAM_VERIFIER_BYTES)) == NULL ||
	    (uc->uc_type == UPSTREAM_OIDC &&
	    (nonce = random_b64(UPSTREAM_NONCE_BYTES)) == NULL) ||
	    (chal = (m == UPSTREAM_PKCE_S256 ? s256(verifier) :
	    strdup(verifier))) == NULL) {
		fail(errbuf, errlen, "out of memory");
		goto done;
	}

	kv[n++] = (struct kv){ "response_type", "code" };
	kv[n++] = (struct kv){ "client_id", uc->uc_client_id };
	kv[n++] = (struct kv){ "redirect_uri", uc->uc_redirect_uri };
	if (uc->uc_nscopes > 0) {
		if ((scope = str_join(uc->uc_scopes, uc->uc_nscopes,
		    " ")) == NULL) {
			fail(errbuf, errlen, "out of memory");
			goto done;
		}
		kv[n++] = (struct kv){ "scope", scope };
	}
	kv[n++] = (struct kv){ "state", state };
	if (nonce != NULL)
		kv[n++] = (struct kv){ "nonce", nonce };
	kv[n++] = (struct kv){ "code_challenge", chal };
	kv[n++] = (struct kv){ "code_challenge_method",
	    m == UPSTREAM_PKCE_S256 ? "S256" : "plain" };
	if (uc->uc_acr_values != NULL)
		kv[n++] = (struct kv){ "acr_values", uc->uc_acr_values };
	if (offline && uc->uc_type == UPSTREAM_OIDC) {
		kv[n++] = (struct kv){ "access_type", "offline" };
		kv[n++] = (struct kv){ "prompt", uc->uc_prompt };
	}
	if ((q = form_encode(kv, n)) == NULL) {
		fail(errbuf, errlen, "out of memory");
		goto done;
	}
	/* golang.org/x/oauth2 AuthCodeURL: '&' if there is a query. */
	if (asprintf(&url, "%s%c%s", uc->uc_auth_url,
	    strchr(uc->uc_auth_url, '?') != NULL ? '&' : '?', q) == -1) {
		url = NULL;
		fail(errbuf, errlen, "out of memory");
		goto done;
	}
	if (strlen(url) > UPSTREAM_URL_MAX) {
		fail(errbuf, errlen, "authorization URL longer than %d "
		    "bytes", UPSTREAM_URL_MAX);
		goto done;
	}

	if ((j = json_pack("{s:s, s:s, s:s}", "n", nonce ? nonce : "",
	    "v", verifier, "m", m == UPSTREAM_PKCE_S256 ? "S256" :
	    "plain")) == NULL ||
	    (pt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    (*conn_data = upstream_seal(uc->uc_seal_key, uc->uc_id,
	    UPSTREAM_SEAL_LOGIN, pt, strlen(pt))) == NULL) {
		fail(errbuf, errlen, "cannot seal the login state");
		goto done;
	}
	*urlp = url;
	url = NULL;
	r = 0;
 done:
	if (j != NULL) {
		/* The verifier is the secret of the code; wipe copies. */
		explicit_bzero((char *)(uintptr_t)json_string_value(
		    json_object_get(j, "v")), UPSTREAM_VERIFIER_LEN);
		json_decref(j);
	}
	if (pt != NULL)
		freezero(pt, strlen(pt));
	if (verifier != NULL)
		freezero(verifier, strlen(verifier));
	free(nonce);
	free(chal);
	free(scope);
	free(q);
	free(url);
	return (r);
}

int
upstream_login_state(const struct upstream_conf *uc, const char *conn_data,
    struct upstream_login_state *ls, char *errbuf, size_t errlen)
{
	uint8_t		*pt = NULL;
	size_t		 len;
	json_t		*j = NULL;
	const char	*n, *v, *m;
	int		 r = -1;

	memset(ls, 0, sizeof(*ls));
	if (!uc->uc_have_seal_key)
		return (fail(errbuf, errlen, "no sealing key"));
	if (conn_data == NULL || upstream_unseal(uc->uc_seal_key, uc->uc_id,
	    UPSTREAM_SEAL_LOGIN, conn_data, &pt, &len) == -1)
		return (fail(errbuf, errlen, "login state does not open "
		    "(tampered, or from another connector)"));
	if ((j = json_loadb((char *)pt, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL ||
	    (n = json_string_value(json_object_get(j, "n"))) == NULL ||
	    (v = json_string_value(json_object_get(j, "v"))) == NULL ||
	    (m = json_string_value(json_object_get(j, "m"))) == NULL ||
	    (strlen(n) != 0 && strlen(n) != UPSTREAM_NONCE_LEN) ||
	    strlen(v) != UPSTREAM_VERIFIER_LEN ||
	    (strcmp(m, "S256") != 0 && strcmp(m, "plain") != 0)) {
		fail(errbuf, errlen, "malformed login state");
		goto done;
	}
	(void)strlcpy(ls->uls_nonce, n, sizeof(ls->uls_nonce));
	(void)strlcpy(ls->uls_verifier, v, sizeof(ls->uls_verifier));
	ls->uls_method = strcmp(m, "S256") == 0 ? UPSTREAM_PKCE_S256 :
	    UPSTREAM_PKCE_PLAIN;
	r = 0;
 done:
	if (j != NULL && (v = json_string_value(json_object_get(j,
	    "v"))) != NULL)
		explicit_bzero((char *)(uintptr_t)v, strlen(v));
	json_decref(j);
	freezero(pt, len + 1);
	return (r);
}

/*
 * Token endpoint
 */

/*
 * Client authentication, as golang.org/x/oauth2 does it: in the form
 * (client_id, and client_secret unless empty), or Basic with both
 * sides form-encoded first (RFC 6749 2.3.1).
 */
static int
client_auth(const struct upstream_conf *uc, int retry, struct kv *kv,
    size_t *n, char **authz, char *errbuf, size_t errlen)
{
	enum upstream_auth	 a = uc->uc_auth;
	char			*id = NULL, *sec = NULL, *pair = NULL;
	char			*b64 = NULL;
	size_t			 plen, blen;

	*authz = NULL;
	if (retry && a != UPSTREAM_AUTH_AUTO)
		return (fail(errbuf, errlen, "no other client "
		    "authentication to try"));
	if (a == UPSTREAM_AUTH_AUTO)
		a = retry ? UPSTREAM_AUTH_BODY : UPSTREAM_AUTH_BASIC;
	if (a == UPSTREAM_AUTH_BODY) {
		if (*uc->uc_client_id != '\0')
			kv[(*n)++] = (struct kv){ "client_id",
			    uc->uc_client_id };
		if (uc->uc_client_secret != NULL &&
		    *uc->uc_client_secret != '\0')
			kv[(*n)++] = (struct kv){ "client_secret",
			    uc->uc_client_secret };
		return (0);
	}
	if ((id = qescape(uc->uc_client_id)) == NULL ||
	    (sec = qescape(uc->uc_client_secret != NULL ?
	    uc->uc_client_secret : "")) == NULL ||
	    asprintf(&pair, "%s:%s", id, sec) == -1) {
		pair = NULL;
		goto fail;
	}
	plen = strlen(pair);
	blen = 4 * ((plen + 2) / 3);
	if ((b64 = malloc(6 + blen + 1)) == NULL)
		goto fail;
	memcpy(b64, "Basic ", 6);
	if (EVP_EncodeBlock((unsigned char *)b64 + 6,
	    (const unsigned char *)pair, (int)plen) != (int)blen)
		goto fail;
	*authz = b64;
	b64 = NULL;
	free(id);
	freezero(sec, strlen(sec));
	freezero(pair, plen);
	return (0);
 fail:
	free(id);
	if (sec != NULL)
		freezero(sec, strlen(sec));
	if (pair != NULL)
		freezero(pair, strlen(pair));
	free(b64);
	return (fail(errbuf, errlen, "out of memory"));
}

static int
token_post(const struct upstream_conf *uc, struct kv *kv, size_t n,
    int retry, struct upstream_request *req, char *errbuf, size_t errlen)
{
	memset(req, 0, sizeof(*req));
	if (client_auth(uc, retry, kv, &n, &req->ur_authorization, errbuf,
	    errlen) == -1)
		return (-1);
	if ((req->ur_url = strdup(uc->uc_token_url)) == NULL ||
	    (req->ur_body = form_encode(kv, n)) == NULL) {
		upstream_request_free(req);
		return (fail(errbuf, errlen, "out of memory"));
	}
	req->ur_bodylen = strlen(req->ur_body);
	return (0);
}

int
upstream_token_request(const struct upstream_conf *uc, const char *code,
    const struct upstream_login_state *ls, int retry,
    struct upstream_request *req, char *errbuf, size_t errlen)
{
	struct kv	kv[8];
	size_t		n = 0;

	memset(req, 0, sizeof(*req));
	if (!uc->uc_discovered)
		return (fail(errbuf, errlen, "upstream endpoints not known "
		    "yet (no discovery)"));
	if (code == NULL || *code == '\0')
		return (fail(errbuf, errlen, "no code from the upstream"));
	if (strlen(code) > UPSTREAM_CODE_MAX)
		return (fail(errbuf, errlen, "code from the upstream longer "
		    "than %d bytes", UPSTREAM_CODE_MAX));
	kv[n++] = (struct kv){ "grant_type", "authorization_code" };
	kv[n++] = (struct kv){ "code", code };
	kv[n++] = (struct kv){ "redirect_uri", uc->uc_redirect_uri };
	if (ls != NULL && ls->uls_verifier[0] != '\0')
		kv[n++] = (struct kv){ "code_verifier", ls->uls_verifier };
	return (token_post(uc, kv, n, retry, req, errbuf, errlen));
}

/*
 * Dex's Refresh: a refresh_token grant with the stored token and no
 * scope, as golang.org/x/oauth2's TokenSource sends it.
 */
int
upstream_refresh_request(const struct upstream_conf *uc,
    const char *conn_data, int retry, struct upstream_request *req,
    char *errbuf, size_t errlen)
{
	struct kv	 kv[8];
	size_t		 n = 0, len = 0;
	uint8_t		*rt = NULL;
	int		 r;

	memset(req, 0, sizeof(*req));
	if (!uc->uc_refresh)
		return (fail(errbuf, errlen, "connector type cannot "
		    "refresh"));
	if (!uc->uc_discovered)
		return (fail(errbuf, errlen, "upstream endpoints not known "
		    "yet (no discovery)"));
	if (!uc->uc_have_seal_key)
		return (fail(errbuf, errlen, "no sealing key"));
	if (conn_data == NULL || *conn_data == '\0')
		return (fail(errbuf, errlen, "no upstream refresh token "
		    "(the upstream did not issue one at login)"));
	if (upstream_unseal(uc->uc_seal_key, uc->uc_id,
	    UPSTREAM_SEAL_REFRESH, conn_data, &rt, &len) == -1)
		return (fail(errbuf, errlen, "upstream refresh token does "
		    "not open (tampered, or from another connector)"));
	if (len == 0 || strlen((char *)rt) != len) {
		freezero(rt, len + 1);
		return (fail(errbuf, errlen, "no upstream refresh token "
		    "(the upstream did not issue one at login)"));
	}
	kv[n++] = (struct kv){ "grant_type", "refresh_token" };
	kv[n++] = (struct kv){ "refresh_token", (char *)rt };
	r = token_post(uc, kv, n, retry, req, errbuf, errlen);
	freezero(rt, len + 1);
	return (r);
}

void
upstream_request_free(struct upstream_request *req)
{
	free(req->ur_url);
	if (req->ur_body != NULL)
		freezero(req->ur_body, req->ur_bodylen);
	if (req->ur_authorization != NULL)
		freezero(req->ur_authorization,
		    strlen(req->ur_authorization));
	memset(req, 0, sizeof(*req));
}

static void
secret_free(char **s)
{
	if (*s != NULL)
		freezero(*s, strlen(*s));
	*s = NULL;
}

void
upstream_tokens_free(struct upstream_tokens *t)
{
	secret_free(&t->ut_access_token);
	free(t->ut_token_type);
	secret_free(&t->ut_refresh_token);
	secret_free(&t->ut_id_token);
	free(t->ut_scope);
	free(t->ut_error);
	free(t->ut_error_description);
	memset(t, 0, sizeof(*t));
	t->ut_expires_in = -1;
}

/* The media type of a Content-Type, lowercase, without parameters. */
static int
ctype_is(const char *ct, const char *want)
{
	size_t	n = strlen(want);

	if (ct == NULL)
		return (0);
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return (0);
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return (*ct == '\0' || *ct == ';');
}

/* A member of the answer, from JSON or from a form. */
struct answer {
	json_t			*a_json;
	struct http_params	 a_form;
	int			 a_is_form;
};

/* -1: there but not a string; 0: *out set or NULL if absent. */
static int
answer_str(const struct answer *a, const char *key, const char **out)
{
	json_t	*v;

	*out = NULL;
	if (a->a_is_form) {
		*out = http_param(&a->a_form, key);
		return (0);
	}
	if ((v = json_object_get(a->a_json, key)) == NULL || json_is_null(v))
		return (0);
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return (-1);
	*out = json_string_value(v);
	return (0);
}

static int
dup_max(char **dst, const char *src, size_t max)
{
	if (src == NULL)
		return (0);
	if (strlen(src) > max)
		return (-1);
	if ((*dst = strdup(src)) == NULL)
		return (-1);
	return (0);
}

int
upstream_token_response(const struct upstream_conf *uc, int status,
    const char *content_type, const char *body, size_t len,
    struct upstream_tokens *t, char *errbuf, size_t errlen)
{
	struct answer	 a;
	const char	*at, *tt, *rt, *it, *sc, *er, *ed;
	char		 se[UPSTREAM_SHOW_MAX + 1], sd[UPSTREAM_SHOW_MAX + 1];
	json_t		*v;
	int		 ok2xx = status >= 200 && status <= 299, r = -1;
	long long	 n;
	char		*ep;

	memset(t, 0, sizeof(*t));
	t->ut_expires_in = -1;
	memset(&a, 0, sizeof(a));
	http_params_init(&a.a_form);
	if (len > UPSTREAM_TOKEN_RESP_MAX)
		return (fail(errbuf, errlen, "token response larger than "
		    "%d bytes", UPSTREAM_TOKEN_RESP_MAX));

	/* golang.org/x/oauth2 reads these two as a form (GitHub). */
	if (ctype_is(content_type, "application/x-www-form-urlencoded") ||
	    ctype_is(content_type, "text/plain")) {
		a.a_is_form = 1;
		if (http_params_parse(&a.a_form, body, len) != HTTP_PARAMS_OK) {
			if (!ok2xx)
				fail(errbuf, errlen, "token endpoint "
				    "answered HTTP %d", status);
			else
				fail(errbuf, errlen, "malformed token "
				    "response");
			goto done;
		}
	} else if ((a.a_json = json_loadb(body, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(a.a_json) ||
	    !json_depth_ok(a.a_json, UPSTREAM_JSON_DEPTH)) {
		if (!ok2xx)
			fail(errbuf, errlen, "token endpoint answered HTTP %d",
			    status);
		else
			fail(errbuf, errlen, "malformed token response");
		goto done;
	}

	if (answer_str(&a, "error", &er) == -1 ||
	    answer_str(&a, "error_description", &ed) == -1) {
		er = ed = NULL;
		if (ok2xx) {
			fail(errbuf, errlen, "malformed token response");
			goto done;
		}
	}
	if (!ok2xx || (er != NULL && *er != '\0')) {
		if (er == NULL || *er == '\0') {
			fail(errbuf, errlen, "token endpoint answered HTTP %d",
			    status);
			goto done;
		}
		if (dup_max(&t->ut_error, er, UPSTREAM_SHOW_MAX) == -1 ||
		    dup_max(&t->ut_error_description, ed,
		    UPSTREAM_TEXT_MAX) == -1) {
			free(t->ut_error);
			t->ut_error = NULL;
		}
		show(se, sizeof(se), er);
		show(sd, sizeof(sd), ed);
		if (ed != NULL && *ed != '\0')
			fail(errbuf, errlen, "token endpoint: %s: %s", se, sd);
		else
			fail(errbuf, errlen, "token endpoint: %s", se);
		goto done;
	}

	if (answer_str(&a, "access_token", &at) == -1 ||
	    answer_str(&a, "token_type", &tt) == -1 ||
	    answer_str(&a, "refresh_token", &rt) == -1 ||
	    answer_str(&a, "scope", &sc) == -1) {
		fail(errbuf, errlen, "malformed token response");
		goto done;
	}
	/* Dex reads a non-string id_token as none (token.Extra). */
	if (answer_str(&a, "id_token", &it) == -1)
		it = NULL;
	if (at == NULL || *at == '\0') {
		fail(errbuf, errlen, "server response missing access_token");
		goto done;
	}
	if (dup_max(&t->ut_access_token, at, UPSTREAM_TOKEN_MAX) == -1 ||
	    dup_max(&t->ut_id_token, it, UPSTREAM_TOKEN_MAX) == -1 ||
	    (rt != NULL && *rt != '\0' &&
	    dup_max(&t->ut_refresh_token, rt, UPSTREAM_REFRESH_MAX) == -1) ||
	    dup_max(&t->ut_token_type, tt, UPSTREAM_SHOW_MAX) == -1 ||
	    dup_max(&t->ut_scope, sc, UPSTREAM_TEXT_MAX) == -1) {
		fail(errbuf, errlen, "token response: a token is too long");
		goto done;
	}

	/* expires_in: a number, or a string holding one. */
	if (a.a_is_form) {
		if ((ep = (char *)(uintptr_t)http_param(&a.a_form,
		    "expires_in")) != NULL && *ep != '\0') {
			errno = 0;
			n = strtoll(ep, &ep, 10);
			if (*ep == '\0' && errno == 0 && n >= 0)
				t->ut_expires_in = n;
		}
	} else if ((v = json_object_get(a.a_json, "expires_in")) != NULL) {
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			t->ut_expires_in = json_integer_value(v);
		else if (json_is_real(v) && json_real_value(v) >= 0 &&
		    json_real_value(v) < 1e15)
			t->ut_expires_in = (int64_t)json_real_value(v);
		else if (json_is_string(v)) {
			errno = 0;
			n = strtoll(json_string_value(v), &ep, 10);
			if (*ep == '\0' && ep != json_string_value(v) &&
			    errno == 0 && n >= 0)
				t->ut_expires_in = n;
		}
	}
	r = 0;
 done:
	if (r == -1) {
		/* Keep the upstream's error code for the caller. */
		er = t->ut_error;
		ed = t->ut_error_description;
		t->ut_error = t->ut_error_description = NULL;
		upstream_tokens_free(t);
		t->ut_error = (char *)(uintptr_t)er;
		t->ut_error_description = (char *)(uintptr_t)ed;
	}
	if (a.a_form.buf != NULL)
		explicit_bzero(a.a_form.buf, a.a_form.bufsz);
	http_params_free(&a.a_form);
	if (a.a_json != NULL) {
		if ((v = json_object_get(a.a_json, "access_token")) != NULL &&
		    json_is_string(v))
			explicit_bzero((char *)(uintptr_t)json_string_value(v),
			    json_string_length(v));
		if ((v = json_object_get(a.a_json, "refresh_token")) !=
		    NULL && json_is_string(v))
			explicit_bzero((char *)(uintptr_t)json_string_value(v),
			    json_string_length(v));
		json_decref(a.a_json);
	}
	return (r);
}

/*
 * ID token
 */

/* Say why a token that jose_jws_parse() refused is no good. */
static int
jws_refusal(const char *tok, char *errbuf, size_t errlen)
{
	const char	*dot, *alg;
	uint8_t		*h = NULL;
	size_t		 hlen;
	json_t		*hdr = NULL;
	char		 sa[UPSTREAM_SHOW_MAX + 1];

	if ((dot = strchr(tok, '.')) == NULL ||
	    jose_b64url_decode(tok, dot - tok, &h, &hlen) == -1 ||
	    hlen > JOSE_JWS_MAX_HEADER ||
	    (hdr = jose_json_object(h, hlen)) == NULL ||
	    (alg = json_string_value(json_object_get(hdr, "alg"))) == NULL) {
		free(h);
		json_decref(hdr);
		return (fail(errbuf, errlen, "malformed ID token"));
	}
	show(sa, sizeof(sa), alg);
	if (strcmp(alg, "none") == 0)
		fail(errbuf, errlen, "ID token is unsigned (alg none): "
		    "refused");
	else if (strncmp(alg, "HS", 2) == 0)
		fail(errbuf, errlen, "ID token alg %s (a shared secret) is "
		    "refused", sa);
	else if (jose_alg_from_name(alg) == JOSE_ALG_UNKNOWN)
		fail(errbuf, errlen, "ID token alg %s is not supported", sa);
	else
		fail(errbuf, errlen, "malformed ID token");
	free(h);
	json_decref(hdr);
	return (-1);
}

/* May key i of the set verify alg? */
static int
key_fits(const struct upstream_jwks *uj, size_t i, enum jose_alg alg)
{
	const struct jose_jwk	*k = &uj->uj_set.keys[i];

	if (uj->uj_alg_given[i])
		return (k->alg == alg);
	return (jose_key_check(k->pkey, alg) == 0);
}

static int
num_claim(const json_t *claims, const char *key, double *out, int *present)
{
	json_t	*v;

	*present = 0;
	if ((v = json_object_get(claims, key)) == NULL)
		return (0);
	if (!json_is_number(v))
		return (-1);
	*out = json_number_value(v);
	*present = 1;
	return (0);
}

int
upstream_id_token_verify(const struct upstream_conf *uc,
    const struct upstream_jwks *uj, const char *tok,
    const char *expected_nonce, const char *access_token,
    int skip_client_id_check, int64_t now, json_t **claimsp,
    int *need_jwks_refresh, char *errbuf, size_t errlen)
{
	struct jose_jws	 jws;
	json_t		*claims = NULL, *aud, *v;
	const char	*iss, *s, *nonce, *ath;
	char		 sa[UPSTREAM_SHOW_MAX + 1], *h = NULL;
	double		 exp, iat, nbf;
	size_t		 i, naud = 0, tried = 0;
	int		 present, found = 0, good = 0, r = -1;

	*claimsp = NULL;
	*need_jwks_refresh = 0;
	memset(&jws, 0, sizeof(jws));
	if (tok == NULL || *tok == '\0')
		return (fail(errbuf, errlen, "no ID token"));
	if (strlen(tok) > JOSE_JWS_MAX_LEN)
		return (fail(errbuf, errlen, "ID token longer than %d bytes",
		    JOSE_JWS_MAX_LEN));
	if (jose_jws_parse(tok, strlen(tok), &jws) == -1)
		return (jws_refusal(tok, errbuf, errlen));

	if (jws.alg == JOSE_ALG_NONE) {
		fail(errbuf, errlen, "ID token is unsigned (alg none): "
		    "refused");
		goto done;
	}
	if (!jose_alg_usable(jws.alg)) {
		fail(errbuf, errlen, "ID token alg %s (a shared secret) is "
		    "refused", jose_alg_name(jws.alg));
		goto done;
	}
	if (uc->uc_nalgs > 0) {
		for (i = 0; i < uc->uc_nalgs; i++)
			if (uc->uc_algs[i] == jws.alg)
				break;
		if (i == uc->uc_nalgs) {
			fail(errbuf, errlen, "ID token alg %s is not in the "
			    "upstream's id_token_signing_alg_values_supported",
			    jose_alg_name(jws.alg));
			goto done;
		}
	}

	/*
	 * The key: by kid, else (like go-oidc) every key that fits the
	 * alg.  A kid we do not know means new keys upstream.
	 */
	if (uj == NULL || uj->uj_set.nkeys == 0) {
		*need_jwks_refresh = 1;
		fail(errbuf, errlen, "no upstream keys");
		goto done;
	}
	for (i = 0; i < uj->uj_set.nkeys; i++) {
		if (jws.kid != NULL) {
			if (uj->uj_set.keys[i].kid == NULL ||
			    strcmp(uj->uj_set.keys[i].kid, jws.kid) != 0)
				continue;
			found = 1;
			if (!key_fits(uj, i, jws.alg)) {
				show(sa, sizeof(sa), jws.kid);
				if (uj->uj_alg_given[i])
					fail(errbuf, errlen, "ID token alg %s "
					    "does not match the alg %s of key "
					    "\"%s\"", jose_alg_name(jws.alg),
					    jose_alg_name(
					    uj->uj_set.keys[i].alg), sa);
				else
					fail(errbuf, errlen, "ID token alg %s "
					    "does not fit key \"%s\"",
					    jose_alg_name(jws.alg), sa);
				goto done;
			}
		} else if (!key_fits(uj, i, jws.alg))
			continue;
		tried++;
		if (jose_jws_verify(&jws, uj->uj_set.keys[i].pkey,
		    jws.alg) == 0) {
			good = 1;
			break;
		}
		if (jws.kid != NULL)
			break;
	}
	if (jws.kid != NULL && !found) {
		*need_jwks_refresh = 1;
		show(sa, sizeof(sa), jws.kid);
		fail(errbuf, errlen, "no upstream key with kid \"%s\"", sa);
		goto done;
	}
	if (tried == 0) {
		*need_jwks_refresh = 1;
		fail(errbuf, errlen, "no upstream key for alg %s",
		    jose_alg_name(jws.alg));
		goto done;
	}
	if (!good) {
		fail(errbuf, errlen, "ID token signature does not verify");
		goto done;
	}

	if ((claims = jose_json_object(jws.payload, jws.payload_len)) ==
	    NULL) {
		fail(errbuf, errlen, "ID token payload is not a JSON object");
		goto done;
	}
	if (!json_depth_ok(claims, UPSTREAM_JSON_DEPTH)) {
		fail(errbuf, errlen, "ID token claims nest too deep");
		goto done;
	}

	iss = json_string_value(json_object_get(claims, "iss"));
	if (iss == NULL || (strcmp(iss, uc->uc_issuer) != 0 &&
	    (uc->uc_issuer_alias == NULL ||
	    strcmp(iss, uc->uc_issuer_alias) != 0))) {
		show(sa, sizeof(sa), iss);
		fail(errbuf, errlen, "ID token issued by a different "
		    "provider: \"%s\"", sa);
		goto done;
	}

	/* aud: a string or an array of strings. */
	aud = json_object_get(claims, "aud");
	if (json_is_string(aud)) {
		naud = 1;
		found = strcmp(json_string_value(aud), uc->uc_client_id) == 0;
	} else if (json_is_array(aud) && json_array_size(aud) > 0) {
		found = 0;
		json_array_foreach(aud, i, v) {
			if ((s = json_string_value(v)) == NULL) {
				fail(errbuf, errlen, "ID token aud is "
				    "malformed");
				goto done;
			}
			if (strcmp(s, uc->uc_client_id) == 0)
				found = 1;
		}
		naud = json_array_size(aud);
	} else if (aud != NULL || !skip_client_id_check) {
		fail(errbuf, errlen, "ID token has no valid aud");
		goto done;
	}
	if (!skip_client_id_check) {
		if (!found) {
			fail(errbuf, errlen, "ID token is not for us: aud "
			    "lacks our client id");
			goto done;
		}
		if ((v = json_object_get(claims, "azp")) != NULL &&
		    naud > 1 && (!json_is_string(v) ||
		    strcmp(json_string_value(v), uc->uc_client_id) != 0)) {
			fail(errbuf, errlen, "ID token azp is not our client "
			    "id");
			goto done;
		}
	}

	if (num_claim(claims, "exp", &exp, &present) == -1 || !present) {
		fail(errbuf, errlen, "ID token has no valid exp");
		goto done;
	}
	if (exp + UPSTREAM_LEEWAY <= (double)now) {
		fail(errbuf, errlen, "ID token is expired");
		goto done;
	}
	if (num_claim(claims, "iat", &iat, &present) == -1) {
		fail(errbuf, errlen, "ID token iat is not a number");
		goto done;
	}
	if (present && iat > (double)now + UPSTREAM_LEEWAY) {
		fail(errbuf, errlen, "ID token issued in the future (iat)");
		goto done;
	}
	if (num_claim(claims, "nbf", &nbf, &present) == -1) {
		fail(errbuf, errlen, "ID token nbf is not a number");
		goto done;
	}
	if (present && nbf > (double)now + UPSTREAM_LEEWAY) {
		fail(errbuf, errlen, "ID token not valid yet (nbf)");
		goto done;
	}

	if (expected_nonce != NULL && *expected_nonce != '\0') {
		nonce = json_string_value(json_object_get(claims, "nonce"));
		if (nonce == NULL) {
			fail(errbuf, errlen, "ID token has no nonce");
			goto done;
		}
		if (strlen(nonce) != strlen(expected_nonce) ||
		    CRYPTO_memcmp(nonce, expected_nonce, strlen(nonce)) != 0) {
			fail(errbuf, errlen, "ID token nonce does not match");
			goto done;
		}
	}

	if ((v = json_object_get(claims, "at_hash")) != NULL &&
	    access_token != NULL) {
		if ((ath = json_string_value(v)) == NULL ||
		    (h = jose_half_hash(jws.alg, access_token,
		    strlen(access_token))) == NULL ||
		    strlen(h) != strlen(ath) ||
		    CRYPTO_memcmp(h, ath, strlen(h)) != 0) {
			fail(errbuf, errlen, "ID token at_hash does not match "
			    "the access token");
			goto done;
		}
	}
	*claimsp = claims;
	claims = NULL;
	r = 0;
 done:
	free(h);
	json_decref(claims);
	jose_jws_free(&jws);
	return (r);
}

/*
 * Userinfo
 */

int
upstream_userinfo_request(const struct upstream_conf *uc,
    const char *access_token, struct upstream_request *req, char *errbuf,
    size_t errlen)
{
	memset(req, 0, sizeof(*req));
	if (uc->uc_userinfo_url == NULL)
		return (fail(errbuf, errlen, "the upstream has no userinfo "
		    "endpoint"));
	if (access_token == NULL || *access_token == '\0')
		return (fail(errbuf, errlen, "no access token for "
		    "userinfo"));
	if (strlen(access_token) > UPSTREAM_TOKEN_MAX)
		return (fail(errbuf, errlen, "access token longer than %d "
		    "bytes", UPSTREAM_TOKEN_MAX));
	/* RFC 6750: always Bearer, whatever token_type said. */
	if ((req->ur_url = strdup(uc->uc_userinfo_url)) == NULL ||
	    asprintf(&req->ur_authorization, "Bearer %s",
	    access_token) == -1) {
		req->ur_authorization = NULL;
		upstream_request_free(req);
		return (fail(errbuf, errlen, "out of memory"));
	}
	return (0);
}

int
upstream_userinfo_parse(const struct upstream_conf *uc, int status,
    const char *content_type, const char *body, size_t len, json_t **out,
    char *errbuf, size_t errlen)
{
	json_t	*j;

	*out = NULL;
	if (status != 200)
		return (fail(errbuf, errlen, "userinfo endpoint answered "
		    "HTTP %d", status));
	if (len > UPSTREAM_USERINFO_MAX)
		return (fail(errbuf, errlen, "userinfo larger than %d bytes",
		    UPSTREAM_USERINFO_MAX));
	if (ctype_is(content_type, "application/jwt"))
		return (fail(errbuf, errlen, "signed userinfo "
		    "(application/jwt) is not supported"));
	if ((j = json_loadb(body, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(j)) {
		json_decref(j);
		return (fail(errbuf, errlen, "userinfo is not a JSON "
		    "object"));
	}
	if (!json_depth_ok(j, UPSTREAM_JSON_DEPTH)) {
		json_decref(j);
		return (fail(errbuf, errlen, "userinfo nests too deep"));
	}
	*out = j;
	return (0);
}

/*
 * Identity
 */

/* A claim as Go's claims[key].(string): NULL unless a string. */
static const char *
claim_str(const json_t *claims, const char *key)
{
	const json_t	*v;

	if ((v = json_object_get(claims, key)) == NULL || !json_is_string(v))
		return (NULL);
	return (json_string_value(v));
}

static int
group_add(struct strv *g, const char *s, char *errbuf, size_t errlen)
{
	if (g->n >= UPSTREAM_GROUPS_MAX)
		return (fail(errbuf, errlen, "more than %d groups",
		    UPSTREAM_GROUPS_MAX));
	if (strlen(s) > UPSTREAM_GROUP_MAX)
		return (fail(errbuf, errlen, "a group name is longer than %d "
		    "bytes", UPSTREAM_GROUP_MAX));
	if (strv_add(g, s, strlen(s)) == -1)
		return (fail(errbuf, errlen, "out of memory"));
	return (0);
}

/* The identity record, with the limits of storage. */
static int
identity_build(const struct upstream_conf *uc, const char *userid,
    const char *username, const char *pu, const char *email, int ev,
    const struct strv *groups, const char *refresh_token, json_t **out,
    char *errbuf, size_t errlen)
{
	json_t	*id = NULL, *ga = NULL, *s;
	char	*sealed = NULL;
	size_t	 i;

	*out = NULL;
	if (*userid == '\0')
		return (fail(errbuf, errlen, "empty user id"));
	if (strlen(userid) > UPSTREAM_USERID_MAX)
		return (fail(errbuf, errlen, "user id longer than %d bytes",
		    UPSTREAM_USERID_MAX));
	if (strlen(username) > UPSTREAM_TEXT_MAX ||
	    strlen(pu) > UPSTREAM_TEXT_MAX || strlen(email) > UPSTREAM_TEXT_MAX)
		return (fail(errbuf, errlen, "a name or email is longer than "
		    "%d bytes", UPSTREAM_TEXT_MAX));
	if (refresh_token != NULL && *refresh_token != '\0') {
		if (!uc->uc_have_seal_key)
			return (fail(errbuf, errlen, "no sealing key"));
		if (strlen(refresh_token) > UPSTREAM_REFRESH_MAX)
			return (fail(errbuf, errlen, "upstream refresh token "
			    "longer than %d bytes", UPSTREAM_REFRESH_MAX));
		if ((sealed = upstream_seal(uc->uc_seal_key, uc->uc_id,
		    UPSTREAM_SEAL_REFRESH, refresh_token,
		    strlen(refresh_token))) == NULL)
			return (fail(errbuf, errlen, "cannot seal the "
			    "upstream refresh token"));
	}
	if ((ga = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < groups->n; i++)
		if ((s = json_string(groups->v[i])) == NULL ||
		    json_array_append_new(ga, s) == -1)
			goto nomem;
	if ((id = json_pack("{s:s, s:s, s:s, s:s, s:b, s:O, s:s}",
	    "userId", userid, "username", username,
	    "preferredUsername", pu, "email", email, "emailVerified", ev,
	    "groups", ga, "connectorId", uc->uc_id)) == NULL)
		goto nomem;
	if (sealed != NULL && json_object_set_new(id, "connectorData",
	    json_string(sealed)) == -1)
		goto nomem;
	json_decref(ga);
	free(sealed);
	*out = id;
	return (0);
 nomem:
	json_decref(ga);
	json_decref(id);
	free(sealed);
	return (fail(errbuf, errlen, "out of memory"));
}

/* groupsFilter: Go's MatchString, a search anywhere in the name. */
static int
group_wanted(const struct upstream_conf *uc, const char *g)
{
	if (!uc->uc_have_groups_filter)
		return (1);
	return (regexec(&uc->uc_groups_filter, g, 0, NULL, 0) == 0);
}

/* Dex's groups rules, step 8 of createIdentity (dex.md 3.1). */
static int
oidc_groups(const struct upstream_conf *uc, const json_t *claims,
    struct strv *groups, char *errbuf, size_t errlen)
{
	const char	*gk = "groups", *s;
	const json_t	*vs, *v;
	struct strv	 keep = { NULL, 0 };
	size_t		 i, j;
	int		 found;

	vs = json_object_get(claims, gk);
	found = json_is_array(vs);
	if ((!found || uc->uc_override_claim_mapping) &&
	    uc->uc_cm_groups != NULL) {
		gk = uc->uc_cm_groups;
		vs = json_object_get(claims, gk);
		found = json_is_array(vs);
	}
	/* A single group as a plain string. */
	if ((s = claim_str(claims, gk)) != NULL &&
	    group_add(groups, s, errbuf, errlen) == -1)
		return (-1);
	if (found) {
		json_array_foreach(vs, i, v) {
			if (json_is_string(v))
				s = json_string_value(v);
			else if (json_is_object(v)) {
				/* {"name": ...}; no string name: skipped */
				if ((s = claim_str(v, "name")) == NULL)
					continue;
			} else {
				char	sk[UPSTREAM_SHOW_MAX + 1];

				show(sk, sizeof(sk), gk);
				return (fail(errbuf, errlen, "malformed "
				    "\"%s\" claim", sk));
			}
			if (!group_wanted(uc, s))
				continue;
			if (group_add(groups, s, errbuf, errlen) == -1)
				return (-1);
		}
	}
	if (uc->uc_nallowed_groups == 0)
		return (0);
	/* pkg/groups Filter: the user's groups that are allowed, in order. */
	for (i = 0; i < groups->n; i++) {
		for (j = 0; j < uc->uc_nallowed_groups; j++)
			if (strcmp(groups->v[i], uc->uc_allowed_groups[j]) == 0)
				break;
		if (j == uc->uc_nallowed_groups)
			continue;
		if (strv_add(&keep, groups->v[i], strlen(groups->v[i])) == -1) {
			strv_free(&keep);
			return (fail(errbuf, errlen, "out of memory"));
		}
	}
	strv_free(groups);
	*groups = keep;
	if (groups->n == 0) {
		fail(errbuf, errlen, "%s", UPSTREAM_ERR_GROUPS);
		return (UPSTREAM_DENIED);
	}
	return (0);
}

/* Step 9: modifyGroupNames, then newGroupFromClaims. */
static int
oidc_group_mods(const struct upstream_conf *uc, const json_t *claims,
    struct strv *groups, char *errbuf, size_t errlen)
{
	const struct upstream_newgroup	*ng;
	struct strv			 seg = { NULL, 0 };
	const char			*v;
	char				*s, *p, *o, *joined;
	size_t				 i, j, dl;
	int				 r = -1;

	if (*uc->uc_group_prefix != '\0' || *uc->uc_group_suffix != '\0') {
		for (i = 0; i < groups->n; i++) {
			if (asprintf(&s, "%s%s%s", uc->uc_group_prefix,
			    groups->v[i], uc->uc_group_suffix) == -1)
				return (fail(errbuf, errlen, "out of memory"));
			if (strlen(s) > UPSTREAM_GROUP_MAX) {
				free(s);
				return (fail(errbuf, errlen, "a group name is "
				    "longer than %d bytes",
				    UPSTREAM_GROUP_MAX));
			}
			free(groups->v[i]);
			groups->v[i] = s;
		}
	}
	for (i = 0; i < uc->uc_nnewgroups; i++) {
		ng = &uc->uc_newgroups[i];
		dl = strlen(ng->ng_delimiter);
		if (strv_add(&seg, ng->ng_prefix, strlen(ng->ng_prefix)) == -1)
			goto nomem;
		for (j = 0; j < ng->ng_nclaims; j++) {
			/* Only string claims; the others make no sense. */
			if ((v = claim_str(claims, ng->ng_claims[j])) == NULL)
				continue;
			if (strv_add(&seg, v, strlen(v)) == -1)
				goto nomem;
			if (!ng->ng_clear_delimiter || dl == 0)
				continue;
			/* strings.ReplaceAll(value, delimiter, "") */
			for (p = o = seg.v[seg.n - 1]; *p != '\0';) {
				if (strncmp(p, ng->ng_delimiter, dl) == 0)
					p += dl;
				else
					*o++ = *p++;
			}
			*o = '\0';
		}
		if (seg.n > 1) {
			if ((joined = str_join(seg.v, seg.n,
			    ng->ng_delimiter)) == NULL)
				goto nomem;
			if (group_add(groups, joined, errbuf, errlen) == -1) {
				free(joined);
				goto done;
			}
			free(joined);
		}
		strv_free(&seg);
	}
	r = 0;
	goto done;
 nomem:
	fail(errbuf, errlen, "out of memory");
 done:
	strv_free(&seg);
	return (r);
}

static int
oidc_identity(const struct upstream_conf *uc,
    const struct upstream_id_input *in, json_t **out, char *errbuf,
    size_t errlen)
{
	json_t		*claims = NULL, *ui = NULL, *v;
	struct strv	 groups = { NULL, 0 };
	const char	*sub, *name, *pu, *email, *ekey, *isub, *usub;
	const char	*uid;
	char		 sk[UPSTREAM_SHOW_MAX + 1];
	int		 ev, found, r = -1, gr;

	/* Step 1: where the claims come from. */
	if (in->ui_id_claims != NULL) {
		if (!json_is_object(in->ui_id_claims) ||
		    (claims = json_deep_copy(in->ui_id_claims)) == NULL)
			return (fail(errbuf, errlen, "bad ID token claims"));
	} else {
		switch (in->ui_caller) {
		case UPSTREAM_EXCHANGE_ACCESS:
			if (!uc->uc_get_userinfo)
				return (fail(errbuf, errlen, "getUserInfo is "
				    "required for access token exchange"));
			break;
		case UPSTREAM_REFRESH:
			/* A refresh answer need not carry an ID token. */
			break;
		case UPSTREAM_EXCHANGE_ID:
			return (fail(errbuf, errlen, "no verified subject "
			    "token"));
		default:
			return (fail(errbuf, errlen, "no id_token in token "
			    "response"));
		}
		if ((claims = json_object()) == NULL)
			return (fail(errbuf, errlen, "out of memory"));
	}

	/*
	 * Step 2: userinfo is decoded into the same map; its members win.
	 * OpenID Connect Core 5.3.2 also wants the same sub, which Dex
	 * does not check.
	 */
	if (uc->uc_get_userinfo) {
		if (!json_is_object(in->ui_userinfo)) {
			fail(errbuf, errlen, "getUserInfo is set but there is "
			    "no userinfo");
			goto done;
		}
		isub = claim_str(claims, "sub");
		usub = claim_str(in->ui_userinfo, "sub");
		if (isub != NULL && usub != NULL && strcmp(isub, usub) != 0) {
			fail(errbuf, errlen, "userinfo sub does not match the "
			    "ID token's");
			goto done;
		}
		if ((ui = json_deep_copy(in->ui_userinfo)) == NULL ||
		    json_object_update(claims, ui) == -1) {
			fail(errbuf, errlen, "out of memory");
			goto done;
		}
	}

	/* Steps 3 and 4: sub and the user name are required. */
	if ((sub = claim_str(claims, "sub")) == NULL) {
		fail(errbuf, errlen, "missing \"sub\" claim");
		goto done;
	}
	if ((name = claim_str(claims, uc->uc_user_name_key)) == NULL) {
		show(sk, sizeof(sk), uc->uc_user_name_key);
		fail(errbuf, errlen, "missing \"%s\" claim", sk);
		goto done;
	}

	/* Step 5 */
	pu = claim_str(claims, "preferred_username");
	if ((pu == NULL || uc->uc_override_claim_mapping) &&
	    uc->uc_cm_preferred_username != NULL)
		pu = claim_str(claims, uc->uc_cm_preferred_username);

	/* Step 6 */
	ekey = "email";
	email = claim_str(claims, ekey);
	if ((email == NULL || uc->uc_override_claim_mapping) &&
	    uc->uc_cm_email != NULL) {
		ekey = uc->uc_cm_email;
		email = claim_str(claims, ekey);
	}
	if (email == NULL && uc->uc_has_email_scope) {
		show(sk, sizeof(sk), ekey);
		fail(errbuf, errlen, "missing email claim, not found \"%s\" "
		    "key", sk);
		goto done;
	}

	/* Step 7: a bool, or what the config says about its absence. */
	v = json_object_get(claims, "email_verified");
	found = json_is_boolean(v);
	ev = found ? json_is_true(v) : 0;
	if (!found) {
		if (uc->uc_skip_email_verified)
			ev = 1;
		else if (uc->uc_has_email_scope) {
			fail(errbuf, errlen, "missing \"email_verified\" "
			    "claim");
			goto done;
		}
	}

	/* Steps 8 and 9 */
	if (uc->uc_enable_groups &&
	    (gr = oidc_groups(uc, claims, &groups, errbuf, errlen)) != 0) {
		r = gr;
		goto done;
	}
	if (oidc_group_mods(uc, claims, &groups, errbuf, errlen) == -1)
		goto done;

	/* Step 11: userIDKey replaces sub and must be a string. */
	uid = sub;
	if (uc->uc_user_id_key != NULL &&
	    (uid = claim_str(claims, uc->uc_user_id_key)) == NULL) {
		show(sk, sizeof(sk), uc->uc_user_id_key);
		fail(errbuf, errlen, "not found %s claim", sk);
		goto done;
	}

	/* Step 10: the refresh token, sealed, as connectorData. */
	r = identity_build(uc, uid, name, pu ? pu : "", email ? email : "",
	    ev, &groups, in->ui_refresh_token, out, errbuf, errlen);
 done:
	strv_free(&groups);
	json_decref(ui);
	json_decref(claims);
	return (r);
}

/* addGroupsFromMap: strings and {"name": string}; the rest ignored. */
static int
oauth_groups_from(const struct upstream_conf *uc, const json_t *m,
    struct strv *groups, char *errbuf, size_t errlen)
{
	const json_t	*vs, *v;
	const char	*s;
	size_t		 i, j;

	if (!json_is_array(vs = json_object_get(m, uc->uc_oa_groups_key)))
		return (0);
	json_array_foreach(vs, i, v) {
		if ((s = json_string_value(v)) == NULL &&
		    (!json_is_object(v) || (s = claim_str(v, "name")) == NULL))
			continue;
		/* Dex collects into a map: each group once. */
		for (j = 0; j < groups->n; j++)
			if (strcmp(groups->v[j], s) == 0)
				break;
		if (j == groups->n && group_add(groups, s, errbuf,
		    errlen) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Dex's oauth HandleCallback: everything from userinfo; groups only
 * when asked for, from userinfo and from the payload of the access
 * token if it is a JWT (read, not verified, as Dex does: it came from
 * the token endpoint itself).
 */
static int
oauth_identity(const struct upstream_conf *uc,
    const struct upstream_id_input *in, json_t **out, char *errbuf,
    size_t errlen)
{
	const json_t	*ui = in->ui_userinfo, *idv, *v;
	struct strv	 groups = { NULL, 0 };
	const char	*uid, *d1, *d2, *at = in->ui_access_token;
	char		 num[64], sk[UPSTREAM_SHOW_MAX + 1];
	uint8_t		*pl = NULL;
	size_t		 pllen;
	json_t		*atc;
	int		 r = -1, gr;

	if (!json_is_object(ui))
		return (fail(errbuf, errlen, "OAuth connector: no userinfo"));
	show(sk, sizeof(sk), uc->uc_oa_user_id_key);
	if ((idv = json_object_get(ui, uc->uc_oa_user_id_key)) == NULL)
		return (fail(errbuf, errlen, "OAuth Connector: not found %s "
		    "claim", sk));
	if (json_is_string(idv))
		uid = json_string_value(idv);
	else if (json_is_number(idv)) {
		/* encoding/json made it a float64, then %v. */
		go_float(json_number_value(idv), num, sizeof(num));
		uid = num;
	} else
		return (fail(errbuf, errlen, "OAuth Connector: %s claim "
		    "should be string or number", sk));

	if (in->ui_groups) {
		if (oauth_groups_from(uc, ui, &groups, errbuf, errlen) == -1)
			goto done;
		if (at != NULL && (d1 = strchr(at, '.')) != NULL) {
			d1++;
			if ((d2 = strchr(d1, '.')) == NULL)
				d2 = d1 + strlen(d1);
			if (jose_b64url_decode(d1, d2 - d1, &pl,
			    &pllen) == 0 && (atc = jose_json_object(pl,
			    pllen)) != NULL) {
				gr = json_depth_ok(atc, UPSTREAM_JSON_DEPTH) ?
				    oauth_groups_from(uc, atc, &groups,
				    errbuf, errlen) : 0;
				json_decref(atc);
				if (gr == -1)
					goto done;
			}
		}
	}

	v = json_object_get(ui, uc->uc_oa_email_verified_key);
	/* No refresh in Dex's oauth connector: no connectorData. */
	r = identity_build(uc, uid,
	    claim_str(ui, uc->uc_oa_user_name_key) ?
	    claim_str(ui, uc->uc_oa_user_name_key) : "",
	    claim_str(ui, uc->uc_oa_preferred_username_key) ?
	    claim_str(ui, uc->uc_oa_preferred_username_key) : "",
	    claim_str(ui, uc->uc_oa_email_key) ?
	    claim_str(ui, uc->uc_oa_email_key) : "",
	    json_is_true(v), &groups, NULL, out, errbuf, errlen);
 done:
	if (pl != NULL)
		freezero(pl, pllen);
	strv_free(&groups);
	return (r);
}

int
upstream_identity(const struct upstream_conf *uc,
    const struct upstream_id_input *in, json_t **out, char *errbuf,
    size_t errlen)
{
	*out = NULL;
	if (uc->uc_type == UPSTREAM_OAUTH)
		return (oauth_identity(uc, in, out, errbuf, errlen));
	return (oidc_identity(uc, in, out, errbuf, errlen));
}

/*
 * After a refresh: the upstream must still speak of the same user
 * (Dex does not check), and when it sent no new refresh token the old
 * one stays, as golang.org/x/oauth2 keeps it.
 */
int
upstream_refresh_merge(const json_t *old, json_t *new, char *errbuf,
    size_t errlen)
{
	const char	*ou, *nu, *cd;

	ou = claim_str(old, "userId");
	nu = claim_str(new, "userId");
	if (ou == NULL || nu == NULL || strcmp(ou, nu) != 0)
		return (fail(errbuf, errlen, "user id changed"));
	if (json_object_get(new, "connectorData") == NULL &&
	    (cd = claim_str(old, "connectorData")) != NULL &&
	    json_object_set_new(new, "connectorData", json_string(cd)) == -1)
		return (fail(errbuf, errlen, "out of memory"));
	return (0);
}
