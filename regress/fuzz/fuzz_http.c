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
 * libFuzzer target for the HTTP/1.1 request parser.  The input is
 * parsed as a stream of pipelined requests, the way the server engine
 * feeds it, and every prefix of the first request is tried too so that
 * the "need more bytes" path sees every cut point.  Whatever the parser
 * accepts must hold together: used within the input, strings
 * terminated, the path free of NUL, the body of the announced length.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static void
check(const struct http_request *req, size_t used, size_t len)
{
	size_t	i;

	if (used == 0 || used > len)
		abort();
	if (req->bodylen > HTTP_MAX_BODY || req->nhdrs > HTTP_MAX_HEADERS)
		abort();
	if (req->body[req->bodylen] != '\0')
		abort();
	if (req->path[0] != '/' && strcmp(req->path, "*") != 0)
		abort();
	if (strlen(req->target) > HTTP_MAX_REQLINE)
		abort();
	if (req->version != 10 && req->version != 11)
		abort();
	if (req->version == 11 && req->host == NULL)
		abort();
	for (i = 0; i < req->nhdrs; i++) {
		if (req->hdrs[i].name[0] == '\0' ||
		    strpbrk(req->hdrs[i].name, ": \t\r\n") != NULL ||
		    strpbrk(req->hdrs[i].value, "\r\n") != NULL)
			abort();
	}
	if (http_header(req, "transfer-encoding") != NULL)
		abort();
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request	 req;
	const char			*p = (const char *)data;
	size_t				 off = 0, used, i, first = 0;
	int				 rc, n = 0;

	while (off < size && n++ < 200) {
		rc = http_request_parse(&req, p + off, size - off, &used);
		if (rc != HTTP_PARSE_OK)
			break;
		check(&req, used, size - off);
		if (off == 0)
			first = used;
		off += used;
	}

	/* Every cut of an accepted request must ask for more bytes. */
	if (first > 0) {
		for (i = 0; i < first; i++) {
			rc = http_request_parse(&req, p, i, &used);
			if (rc != HTTP_PARSE_MORE)
				abort();
		}
		rc = http_request_parse(&req, p, first, &used);
		if (rc != HTTP_PARSE_OK || used != first)
			abort();
	}
	return (0);
}
