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
 * session.c's parsers on arbitrary bytes, as a Cookie header and the
 * prompt and max_age parameters arrive from a browser.  Properties: a
 * cookie found has the shape of ours and is in the header; a prompt set
 * has none alone or not at all; a max_age read is what
 * strtoll(3) reads.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oidcd.h"
#include "session.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 out[SESSION_COOKIE_LEN + 1];
	char	*s;
	int64_t	 v;
	int	 f;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (session_cookie_find(s, "dex_session", out, sizeof(out)) == 0) {
		if (strlen(out) != SESSION_COOKIE_LEN || strstr(s, out) == NULL)
			abort();
	}
	if (session_prompt_parse(s, &f) == 0) {
		if ((f & SESSION_PROMPT_NONE) && f != SESSION_PROMPT_NONE)
			abort();
		if (f & ~(SESSION_PROMPT_NONE | SESSION_PROMPT_LOGIN |
		    SESSION_PROMPT_CONSENT | SESSION_PROMPT_SELECT))
			abort();
	}
	if (session_max_age_parse(s, &v) == 0) {
		if (v < 0 || v > SESSION_MAX_AGE_MAX)
			abort();
		/* Digits only: what strtoll reads is the value. */
		if (strtoll(s, NULL, 10) != v)
			abort();
	}
	free(s);
	return (0);
}
