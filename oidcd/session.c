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
 * Browser sessions, the frontend's pure part (session.h).  The flow
 * glue is in oidc.c; the records in store.c.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "oidcd.h"
#include "jose.h"
#include "session.h"

/*
 * A space-separated set of prompt values into *flags (0 when s is
 * empty).  -1 for an unknown value, a repeated one, or none with any
 * other: Dex master refuses those with invalid_request.
 */
int
session_prompt_parse(const char *s, int *flags)
{
	static const struct {
		const char	*name;
		int		 flag;
	} values[] = {
		{ "none",		SESSION_PROMPT_NONE },
		{ "login",		SESSION_PROMPT_LOGIN },
		{ "consent",		SESSION_PROMPT_CONSENT },
		{ "select_account",	SESSION_PROMPT_SELECT },
	};
	size_t	 i, n;

	*flags = 0;
	if (strlen(s) > SESSION_PROMPT_MAX)
		return (-1);
	for (;;) {
		s += strspn(s, " ");
		if (*s == '\0')
			break;
		n = strcspn(s, " ");
		for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
			if (strlen(values[i].name) == n &&
			    strncmp(values[i].name, s, n) == 0)
				break;
		if (i == sizeof(values) / sizeof(values[0]) ||
		    (*flags & values[i].flag))
			return (-1);
		*flags |= values[i].flag;
		s += n;
	}
	if ((*flags & SESSION_PROMPT_NONE) && *flags != SESSION_PROMPT_NONE)
		return (-1);
	return (0);
}

/* max_age: decimal seconds, 0 .. SESSION_MAX_AGE_MAX; -1 if not. */
int
session_max_age_parse(const char *s, int64_t *out)
{
	int64_t	 v = 0;
	size_t	 i, n = strlen(s);

	if (n == 0 || n > 19)
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
		if (v > SESSION_MAX_AGE_MAX)
			return (-1);
	}
	*out = v;
	return (0);
}

/*
 * The value of cookie name in a Cookie header into out, when it has
 * the shape of ours (base64url of SESSION_COOKIE_LEN): 0, else -1.
 */
int
session_cookie_find(const char *hdr, const char *name, char *out,
    size_t outlen)
{
	const char	*p = hdr, *v;
	size_t		 len = strlen(name), n, i;

	if (hdr == NULL || outlen < SESSION_COOKIE_LEN + 1)
		return (-1);
	while (*p != '\0') {
		p += strspn(p, " \t;");
		if (strncmp(p, name, len) == 0 && p[len] == '=') {
			v = p + len + 1;
			n = strcspn(v, "; \t");
			if (n != SESSION_COOKIE_LEN)
				goto next;
			for (i = 0; i < n; i++)
				if (!((v[i] >= 'A' && v[i] <= 'Z') ||
				    (v[i] >= 'a' && v[i] <= 'z') ||
				    (v[i] >= '0' && v[i] <= '9') ||
				    v[i] == '-' || v[i] == '_'))
					goto next;
			memcpy(out, v, n);
			out[n] = '\0';
			return (0);
		}
 next:
		p += strcspn(p, ";");
	}
	return (-1);
}

/* A new cookie value in *cookie; returns its hash, for storage. */
char *
session_cookie_make(char **cookie)
{
	uint8_t	 raw[SESSION_COOKIE_BYTES];

	arc4random_buf(raw, sizeof(raw));
	if ((*cookie = jose_b64url_encode(raw, sizeof(raw))) == NULL)
		fatalx("%s: encode", __func__);
	explicit_bzero(raw, sizeof(raw));
	return (session_cookie_hash(*cookie));
}

/* base64url(SHA-256(cookie)): all that storage ever sees of it. */
char *
session_cookie_hash(const char *cookie)
{
	uint8_t		 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		*s;

	if (jose_digest(EVP_sha256(), cookie, strlen(cookie), md,
	    &mdlen) == -1 || mdlen != 32)
		fatalx("%s: jose_digest", __func__);
	if ((s = jose_b64url_encode(md, mdlen)) == NULL)
		fatalx("%s: encode", __func__);
	return (s);
}

/*
 * The Set-Cookie value: only for the issuer's paths, never to scripts,
 * sent on top-level navigations from the client (Lax: the redirect to
 * /auth) but not on cross-site subrequests; Secure on HTTPS.
 */
char *
session_set_cookie(const char *name, const char *value, const char *path,
    int secure, int64_t maxage)
{
	char	*s;

	if (asprintf(&s, "%s=%s; Path=%s; Max-Age=%lld; HttpOnly; "
	    "SameSite=Lax%s", name, value, path, (long long)maxage,
	    secure ? "; Secure" : "") == -1)
		fatal("%s: asprintf", __func__);
	return (s);
}
