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
 * asset.c in the frontend: the request path as a lookup key (it comes
 * from the network, percent-decoded) and IMSG_CFG_ASSET chunk streams.
 * The input is a path line, then chunk records built from small
 * fields so that most of them are near-valid.  Checked: an accepted
 * path has no empty, dot or hidden component and no '%'; a complete
 * set is sorted, unique and whole, and finds each of its files.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asset.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char	*names[] = {
	"robots.txt", "static/a.css", "static/b/c.svg", "theme/logo.png",
	"static/../x", "static//a", "static/.h", ""
};

static void
check_path(const char *p)
{
	size_t	 i;

	if (!asset_path_ok(p))
		return;
	if (p[0] == '/' || p[0] == '.' || strstr(p, "//") != NULL ||
	    strstr(p, "/.") != NULL || strchr(p, '%') != NULL ||
	    p[strlen(p) - 1] == '/' || strlen(p) >= ASSET_PATH_MAX)
		abort();
	for (i = 0; p[i] != '\0'; i++)
		if (p[i] != '/' && strchr(ASSET_NAME_CHARS, p[i]) == NULL)
			abort();
}

static void
check_set(const struct asset_set *set)
{
	const struct asset	*a;
	size_t			 i, total = 0;

	for (i = 0; i < set->as_n; i++) {
		a = &set->as_files[i];
		if (a->a_have != a->a_len || a->a_data == NULL ||
		    (i > 0 && strcmp(set->as_files[i - 1].a_path,
		    a->a_path) >= 0) || asset_find(set, a->a_path) != a)
			abort();
		total += a->a_len;
	}
	if (total != set->as_total || total > ASSET_TOTAL_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 buf[ASSET_CHUNK];
	struct asset_set	 set, done;
	struct cfg_asset	 ca;
	const struct asset	*a;
	const uint8_t		*nl;
	char			 path[ASSET_PATH_MAX + 16];
	size_t			 plen, len;
	int			 rv;

	/* The first line: a request path, looked up in a set of one. */
	nl = memchr(data, '\n', size);
	plen = nl != NULL ? (size_t)(nl - data) : size;
	if (plen >= sizeof(path))
		plen = sizeof(path) - 1;
	memcpy(path, data, plen);
	path[plen] = '\0';
	check_path(path);
	if (nl == NULL)
		return (0);
	size -= nl + 1 - data;
	data = nl + 1;

	memset(&set, 0, sizeof(set));
	memset(&done, 0, sizeof(done));
	while (size >= 6) {
		memset(&ca, 0, sizeof(ca));
		(void)strlcpy(ca.ac_path, data[0] < 0xf0 ?
		    names[data[0] % 8] : path, sizeof(ca.ac_path));
		(void)strlcpy(ca.ac_type, data[1] & 1 ? "text/css" : "",
		    sizeof(ca.ac_type));
		(void)strlcpy(ca.ac_etag, data[1] & 2 ? "\"e\"" : "\r",
		    sizeof(ca.ac_etag));
		ca.ac_nfiles = data[1] >> 4;
		ca.ac_index = data[2] & 0xf;
		ca.ac_size = data[3] << (data[2] >> 4);
		ca.ac_offset = data[4] << (data[2] >> 4);
		len = data[5] << (data[2] >> 4);
		ca.ac_len = data[1] & 4 ? len + 1 : len;
		if (len > sizeof(buf))
			len = sizeof(buf);
		memset(buf, data[0], len);
		data += 6;
		size -= 6;
		rv = asset_recv(&set, &ca, buf, len);
		if (rv == -1)
			asset_set_free(&set);
		else if (rv == 1) {
			check_set(&set);
			asset_set_free(&done);
			done = set;
			memset(&set, 0, sizeof(set));
		}
	}
	if ((a = asset_find(&done, path)) != NULL &&
	    strcmp(a->a_path, path) != 0)
		abort();
	asset_set_free(&set);
	asset_set_free(&done);
	return (0);
}
