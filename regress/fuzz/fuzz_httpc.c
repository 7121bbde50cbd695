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
 * libFuzzer target for the response parser of the outbound HTTP client
 * (httpc.c), as an upstream identity provider's bytes would reach it.
 *
 * The first input byte picks the request kind (HEAD or not) and a body
 * limit, the second seeds the split points; the rest is the response.
 * It is parsed twice: whole, then cut into random pieces the way reads
 * from a socket arrive, with the unconsumed rest passed again as
 * httpc.c does.  Both runs must agree on the outcome and the response,
 * since a parser whose answer depends on how the bytes were split could
 * be made to read one response two ways.  Whatever is accepted must
 * hold together: a final status, the body within its limit and NUL
 * terminated, header names tokens, values without CR or LF.  The URL
 * parser and the form encoder get the same bytes.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"

#define FORM_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789-_.~"
#define B64_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789+/="

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct outcome {
	int		 rc;
	int		 status;
	int		 keepalive;
	size_t		 nheaders;
	size_t		 bodylen;
	char		*body;
	char		*hdrs;		/* names and values, joined */
	size_t		 hdrslen;
};

static uint32_t
next(uint32_t *s)
{
	/* xorshift32: a reproducible sequence from the seed byte. */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return (*s);
}

static void
check(const struct httpc_parser *p, int head, size_t max)
{
	const struct httpc_response	*r = &p->resp;
	size_t				 i;
	const char			*c;

	if (r->status < 200 || r->status > 599)
		abort();
	if (r->version != 10 && r->version != 11)
		abort();
	if (r->body == NULL || r->bodylen > max || r->body[r->bodylen] != '\0')
		abort();
	if ((head || r->status == 204 || r->status == 304) && r->bodylen != 0)
		abort();
	if (r->nheaders > HTTPC_HEADERS_MAX)
		abort();
	for (i = 0; i < r->nheaders; i++) {
		if (r->headers[i].key[0] == '\0')
			abort();
		for (c = r->headers[i].key; *c != '\0'; c++)
			if (strchr(" \t\r\n:", *c) != NULL)
				abort();
		if (strpbrk(r->headers[i].value, "\r\n") != NULL)
			abort();
	}
	if (httpc_header(r, "transfer-encoding") != NULL &&
	    httpc_header(r, "content-length") != NULL)
		abort();
}

static void
outcome_free(struct outcome *o)
{
	free(o->body);
	free(o->hdrs);
}

/* Parse data whole (seed 0) or in random pieces of 1 to 64 bytes. */
static void
parse(const uint8_t *data, size_t size, int head, size_t max, uint32_t seed,
    struct outcome *o)
{
	struct httpc_parser	 p;
	char			*acc;
	size_t			 have = 0, pos = 0, used, step, i, off;
	uint32_t		 s = seed | 1;
	int			 rc = HTTPC_PARSE_MORE;

	memset(o, 0, sizeof(*o));
	if ((acc = malloc(size + 1)) == NULL)
		abort();
	httpc_parser_init(&p, head, max);
	while (pos < size) {
		step = size - pos;
		if (seed != 0 && step > 1)
			step = 1 + next(&s) % (step < 64 ? step : 64);
		memcpy(acc + have, data + pos, step);
		have += step;
		pos += step;
		rc = httpc_parser_feed(&p, acc, have, &used);
		if (used > have)
			abort();
		memmove(acc, acc + used, have - used);
		have -= used;
		if (rc != HTTPC_PARSE_MORE)
			break;
	}
	if (rc == HTTPC_PARSE_MORE)
		rc = httpc_parser_eof(&p);
	o->rc = rc;
	if (rc == HTTPC_PARSE_ERROR && p.error == NULL)
		abort();
	if (rc == HTTPC_PARSE_DONE) {
		check(&p, head, max);
		o->status = p.resp.status;
		o->keepalive = p.keepalive;
		o->nheaders = p.resp.nheaders;
		o->bodylen = p.resp.bodylen;
		if ((o->body = malloc(o->bodylen + 1)) == NULL)
			abort();
		memcpy(o->body, p.resp.body, o->bodylen + 1);
		for (i = 0; i < o->nheaders; i++)
			o->hdrslen += strlen(p.resp.headers[i].key) +
			    strlen(p.resp.headers[i].value) + 2;
		if ((o->hdrs = malloc(o->hdrslen + 1)) == NULL)
			abort();
		for (i = 0, off = 0; i < o->nheaders; i++) {
			strcpy(o->hdrs + off, p.resp.headers[i].key);
			off += strlen(p.resp.headers[i].key) + 1;
			strcpy(o->hdrs + off, p.resp.headers[i].value);
			off += strlen(p.resp.headers[i].value) + 1;
		}
	}
	httpc_parser_free(&p);
	free(acc);
}

static void
other_parsers(const uint8_t *data, size_t size)
{
	struct httpc_url	 u;
	struct httpc_form	 f;
	char			*s, *b;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (httpc_parse_url(s, &u) == 0) {
		if (u.port == 0 || u.host[0] == '\0' || u.path[0] != '/' ||
		    strpbrk(u.path, " \r\n#") != NULL ||
		    strlen(u.host) > HTTPC_HOST_MAX)
			abort();
	}
	/* Encoded, nothing but unreserved bytes, escapes and separators. */
	memset(&f, 0, sizeof(f));
	if (httpc_form_add(&f, s, s) == 0 && (f.len != strlen(f.buf) ||
	    strspn(f.buf, FORM_CHARS "%+=&") != f.len))
		abort();
	httpc_form_free(&f);
	if ((b = httpc_basic_auth(s, s)) != NULL) {
		if (strncmp(b, "Authorization: Basic ", 21) != 0 ||
		    strspn(b + 21, B64_CHARS) != strlen(b + 21))
			abort();
		free(b);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome	 whole, split;
	size_t		 max;
	int		 head;

	if (size < 2)
		return (0);
	head = data[0] & 1;
	max = (data[0] & 2) ? 64 : HTTPC_BODY_MAX;
	parse(data + 2, size - 2, head, max, 0, &whole);
	parse(data + 2, size - 2, head, max, data[1] + 1, &split);
	if (whole.rc != split.rc)
		abort();
	if (whole.rc == HTTPC_PARSE_DONE &&
	    (whole.status != split.status ||
	    whole.keepalive != split.keepalive ||
	    whole.nheaders != split.nheaders ||
	    whole.bodylen != split.bodylen ||
	    memcmp(whole.body, split.body, whole.bodylen) != 0 ||
	    whole.hdrslen != split.hdrslen ||
	    memcmp(whole.hdrs, split.hdrs, whole.hdrslen) != 0))
		abort();
	outcome_free(&whole);
	outcome_free(&split);
	other_parsers(data + 2, size - 2);
	return (0);
}
