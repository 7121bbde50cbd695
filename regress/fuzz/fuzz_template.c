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
 * libFuzzer target for the template engine: the input is a template's
 * text, parsed into a set that holds the built-in pages and rendered
 * with data whose every string is hostile.  A render either fails
 * leaving nothing, or stays within TMPL_MAX_OUTPUT; and unless the text
 * itself says "zzz", the data's "<zzz" never reaches the page raw.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "template.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define EVIL	"<zzz\"' onx=javascript:1>"

static json_t *
data(void)
{
	static json_t	*d;

	if (d == NULL)
		d = json_pack("{s:s, s:[{s:s, s:s, s:s, s:s}, {s:s, s:s, "
		    "s:s, s:s}], s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, "
		    "s:[s, s], s:s, s:s, s:s, s:i, s:{s:s, s:i}}",
		    "ReqPath", "/dex/auth",
		    "Connectors",
		    "ID", "a", "Name", EVIL, "URL", "javascript:" EVIL,
		    "Type", "oidc",
		    "ID", "b", "Name", "B", "URL", "/dex/auth/b", "Type", EVIL,
		    "PostURL", EVIL, "BackLink", EVIL, "Username", EVIL,
		    "UsernamePrompt", EVIL, "Invalid", 1, "CSRF", EVIL,
		    "User", EVIL, "Client", EVIL, "Scopes", EVIL, "openid",
		    "AuthReqID", EVIL, "ErrType", EVIL, "ErrMsg", EVIL,
		    "N", 3, "M", "k", EVIL, "n", 2);
	return (d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	struct tmpl_set		*s;
	struct tmpl_funcs	 f = { EVIL, EVIL, NULL, "/dex/" };
	struct evbuffer		*out;
	char			 err[256];
	const char		*text = (const char *)buf, *p;
	size_t			 len;

	/* A fresh set per input: what one input adds must not leak on. */
	if ((s = tmpl_set_new()) == NULL)
		abort();
	if (tmpl_set_add(s, "f.html", text, size, err, sizeof(err)) == -1) {
		if (strncmp(err, "f.html", 6) != 0 && strstr(err, "larger") ==
		    NULL)
			abort();
		tmpl_set_free(s);
		return (0);
	}
	out = evbuffer_new();
	if (tmpl_render(s, "f.html", data(), &f, out) == -1) {
		if (evbuffer_get_length(out) != 0)
			abort();
	} else {
		len = evbuffer_get_length(out);
		if (len > TMPL_MAX_OUTPUT)
			abort();
		p = (const char *)evbuffer_pullup(out, -1);
		if (memmem(text, size, "zzz", 3) == NULL &&
		    memmem(text, size, "{{", 2) != NULL && len > 0 &&
		    memmem(p, len, "<zzz", 4) != NULL)
			abort();
	}
	evbuffer_free(out);
	tmpl_set_free(s);
	return (0);
}
