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
 * The user code parser of the device flow (store_user_code_parse()) on
 * what a user may type at /device: an accepted code is XXXX-XXXX of
 * Dex's letters, parses to itself, and is accepted in lower case too.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oidcd.h"
#include "store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 in[STORE_USER_CODE_INPUT_MAX * 2 + 1];
	char	 out[STORE_USER_CODE_LEN + 1], again[STORE_USER_CODE_LEN + 1];
	size_t	 i;

	if (size >= sizeof(in))
		return (0);
	memcpy(in, data, size);
	in[size] = '\0';
	memset(out, 'x', sizeof(out));
	if (store_user_code_parse(in, out) == -1)
		return (0);
	if (strlen(in) > STORE_USER_CODE_INPUT_MAX ||
	    strlen(out) != STORE_USER_CODE_LEN || out[4] != '-')
		abort();
	for (i = 0; i < STORE_USER_CODE_LEN; i++)
		if (i != 4 && strchr(STORE_USER_CODE_CHARS, out[i]) == NULL)
			abort();
	if (store_user_code_parse(out, again) == -1 ||
	    strcmp(out, again) != 0)
		abort();
	for (i = 0; i < STORE_USER_CODE_LEN; i++)
		if (out[i] != '-')
			out[i] += 'a' - 'A';
	if (store_user_code_parse(out, again) == -1)
		abort();
	return (0);
}
