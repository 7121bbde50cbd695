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
 * libFuzzer target for the query and application/x-www-form-urlencoded
 * decoder, and for the percent-decoder under it.  Accepted parameters
 * must be within limits, free of NUL, unique, and each must be found
 * again by http_param().
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_params	 pp;
	static char			 out[HTTP_MAX_PARAMSINPUT + 1];
	const char			*s = (const char *)data;
	size_t				 i, j, n;

	if (http_params_parse(&pp, s, size) == HTTP_PARAMS_OK) {
		if (pp.n > HTTP_MAX_PARAMS)
			abort();
		for (i = 0; i < pp.n; i++) {
			if (pp.p[i].name[0] == '\0' ||
			    strlen(pp.p[i].name) > HTTP_MAX_PARAMVALUE ||
			    strlen(pp.p[i].value) != pp.p[i].valuelen ||
			    pp.p[i].valuelen > HTTP_MAX_PARAMVALUE)
				abort();
			if (http_param(&pp, pp.p[i].name) != pp.p[i].value)
				abort();
			for (j = 0; j < i; j++)
				if (strcmp(pp.p[i].name, pp.p[j].name) == 0)
					abort();
		}
	}

	if (size <= HTTP_MAX_PARAMSINPUT &&
	    http_pct_decode(out, sizeof(out), s, size, size & 1, &n) == 0) {
		if (n > size || strlen(out) != n)
			abort();
	}
	return (0);
}
