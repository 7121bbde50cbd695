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
 * Unit tests for the HTTP/1.1 request parser, the percent, query and
 * form decoders and the response writer (oidcd/http.c).
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "http.h"
#include "tap.h"

static struct http_request	req;

static int
parse(const char *s, size_t *used)
{
	size_t	u;

	return (http_request_parse(&req, s, strlen(s), used ? used : &u));
}

static int
parse_len(const char *s, size_t len)
{
	size_t	u;

	return (http_request_parse(&req, s, len, &u));
}

static void
test_valid(void)
{
	const char	*r;
	size_t		 used;
	int		 rc;

	r = "GET /a%20b/c?x=1&y=%41 HTTP/1.1\r\nHost: example.com\r\n"
	    "User-Agent:  t \t\r\nX-Empty:\r\n\r\n";
	rc = parse(r, &used);
	is_int(rc, HTTP_PARSE_OK, "simple GET parses");
	is_int(used, strlen(r), "GET uses all bytes");
	is_int(req.method, HTTP_METHOD_GET, "method GET");
	is_str(req.method_str, "GET", "method string");
	is_str(req.target, "/a%20b/c?x=1&y=%41", "raw target kept");
	is_str(req.path, "/a b/c", "path decoded");
	is_str(req.query, "x=1&y=%41", "query raw");
	is_int(req.querylen, 9, "query length");
	is_int(req.version, 11, "version 1.1");
	is_int(req.keepalive, 1, "1.1 keep-alive by default");
	is_str(req.host, "example.com", "host");
	is_str(http_header(&req, "user-agent"), "t", "header lookup "
	    "case-insensitive, OWS trimmed");
	is_str(http_header(&req, "X-EMPTY"), "", "empty header value");
	ok(http_header(&req, "Cookie") == NULL, "absent header is NULL");
	is_int(req.bodylen, 0, "no body");

	r = "POST /token HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
	    "a=1&b=2&c=3";
	is_int(parse(r, &used), HTTP_PARSE_OK, "POST with body");
	is_int(req.method, HTTP_METHOD_POST, "method POST");
	is_int(req.bodylen, 11, "body length");
	is_str(req.body, "a=1&b=2&c=3", "body copied");
	ok(req.query == NULL, "no query");
	is_int(used, strlen(r), "POST uses header and body");

	/* Incomplete input, then complete. */
	is_int(parse_len(r, strlen(r) - 1), HTTP_PARSE_MORE,
	    "body short by one byte: more");
	is_int(parse_len(r, 20), HTTP_PARSE_MORE, "half a header: more");
	is_int(parse_len(r, 0), HTTP_PARSE_MORE, "nothing: more");
	is_int(parse_len(r, 3), HTTP_PARSE_MORE, "part of method: more");

	/* Pipelined pair. */
	r = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
	    "GET /two HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	is_int(parse(r, &used), HTTP_PARSE_OK, "first pipelined request");
	is_str(req.path, "/one", "first path");
	is_int(req.keepalive, 1, "first keeps alive");
	is_int(http_request_parse(&req, r + used, strlen(r + used), &used),
	    HTTP_PARSE_OK, "second pipelined request");
	is_str(req.path, "/two", "second path");
	is_int(req.keepalive, 0, "Connection: close honoured");

	/* HTTP/1.0 */
	is_int(parse("GET / HTTP/1.0\r\n\r\n", NULL), HTTP_PARSE_OK,
	    "1.0 without Host is fine");
	is_int(req.version, 10, "version 1.0");
	is_int(req.keepalive, 0, "1.0 closes by default");
	ok(req.host == NULL, "no host");
	is_int(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	    NULL), HTTP_PARSE_OK, "1.0 keep-alive");
	is_int(req.keepalive, 1, "1.0 with Connection: keep-alive");
	is_int(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE"
	    "\r\n\r\n", NULL), HTTP_PARSE_OK, "connection list");
	is_int(req.keepalive, 0, "close found in a list");

	is_int(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", NULL),
	    HTTP_PARSE_OK, "OPTIONS *");
	is_str(req.path, "*", "asterisk path");
	is_int(parse("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", &used),
	    HTTP_PARSE_OK, "one leading empty line tolerated");
	is_int(used, 29, "leading CRLF counted as used");
	is_int(parse("HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 007"
	    "\r\n\r\n1234567", NULL), HTTP_PARSE_OK, "leading zeros in CL");
	is_int(req.bodylen, 7, "CL 007 is 7");
	is_int(parse("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n",
	    NULL), HTTP_PARSE_OK, "obs-text in a value is accepted");

	is_int(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Expect: 100-continue\r\n\r\n", NULL), HTTP_PARSE_MORE,
	    "waiting for body");
	is_int(req.expect_continue, 1, "expect_continue reported");
	is_int(req.need, 74, "total length needed reported");
	is_int(parse("GET / HTTP/1.1\r\nHost: h\r\n", NULL), HTTP_PARSE_MORE,
	    "header block incomplete");
	is_int(req.need, 0, "length not known yet");
}

struct reject {
	const char	*what;
	const char	*req;
	int		 status;
};

static const struct reject rejects[] = {
	{ "CL and TE", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nabc", 400 },
	{ "TE and CL", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400 },
	{ "TE chunked", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 411 },
	{ "TE gzip, chunked", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: gzip, Chunked\r\n\r\n", 411 },
	{ "TE gzip", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n", 501 },
	{ "duplicate CL", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400 },
	{ "CL list", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 3, 3\r\n\r\nabc", 400 },
	{ "CL with plus", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: +3\r\n\r\nabc", 400 },
	{ "CL negative", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: -3\r\n\r\nabc", 400 },
	{ "CL with inner space", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 1 2\r\n\r\nabc", 400 },
	{ "CL hex", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 0x3\r\n\r\nabc", 400 },
	{ "CL empty", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: \r\n\r\n", 400 },
	{ "CL too big", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 65537\r\n\r\n", 413 },
	{ "CL overflow", "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 99999999999999999999999999\r\n\r\n", 413 },
	{ "obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n",
	    400 },
	{ "obs-fold tab", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n",
	    400 },
	{ "first header folded", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400 },
	{ "bare CR in value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n",
	    400 },
	{ "bare CR in request line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n",
	    400 },
	{ "bare LF after request line", "GET / HTTP/1.1\nHost: h\r\n\r\n",
	    400 },
	{ "bare LF header", "GET / HTTP/1.1\r\nHost: h\n\r\n", 400 },
	{ "bare LF end", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400 },
	{ "header without colon", "GET / HTTP/1.1\r\nHost: h\r\nX-A\r\n\r\n",
	    400 },
	{ "space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400 },
	{ "tab before colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400 },
	{ "empty name", "GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n", 400 },
	{ "non-token name", "GET / HTTP/1.1\r\nHost: h\r\nX(a): x\r\n\r\n",
	    400 },
	{ "DEL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n",
	    400 },
	{ "ESC in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b\r\n\r\n",
	    400 },
	{ "duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
	    400 },
	{ "missing Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 400 },
	{ "absolute-form", "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "authority-form", "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 501 },
	{ "asterisk on GET", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "fragment", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "two spaces", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "trailing space", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400 },
	{ "no version", "GET /\r\n\r\n", 400 },
	{ "lowercase version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505 },
	{ "HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505 },
	{ "HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505 },
	{ "unknown method", "BREW / HTTP/1.1\r\nHost: h\r\n\r\n", 501 },
	{ "lowercase method", "get / HTTP/1.1\r\nHost: h\r\n\r\n", 501 },
	{ "bad method char", "G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "binary garbage", "\x16\x03\x01\x02\x00\x01", 400 },
	{ "path %00", "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "path bad escape", "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "path short escape", "GET /a%4 HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "space in target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
	{ "high byte in target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n",
	    400 },
	{ "Expect other", "GET / HTTP/1.1\r\nHost: h\r\nExpect: x\r\n\r\n",
	    417 },
	{ "too many empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n"
	    "Host: h\r\n\r\n", 400 },
};

static void
test_rejects(void)
{
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		rc = parse(rejects[i].req, NULL);
		is_int(rc, rejects[i].status, "reject %s (%s)", rejects[i].what,
		    req.error ? req.error : "no reason");
		ok(rc == HTTP_PARSE_OK || rc == HTTP_PARSE_MORE ||
		    req.error != NULL, "reason given for %s", rejects[i].what);
	}

	/* NUL anywhere. */
	is_int(parse_len("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", 34),
	    400, "NUL in header value");
	is_int(parse_len("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n", 28), 400,
	    "NUL in target");
	is_int(parse_len("GET / HTTP/1.1\r\nHo\0st: h\r\n\r\n", 28), 400,
	    "NUL in header name");
}

static void
test_limits(void)
{
	char	*big, *p;
	size_t	 i, n, used;

	/* A 100 KB request line: 414 once more than 8 KiB is seen. */
	n = 100 * 1024;
	if ((big = malloc(n + 64)) == NULL)
		exit(1);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', n);
	is_int(parse_len(big, n), 414, "100 KB request line: 414");
	is_int(parse_len(big, HTTP_MAX_REQLINE + 2), 414,
	    "request line over the limit without LF: 414");
	is_int(parse_len(big, HTTP_MAX_REQLINE), HTTP_PARSE_MORE,
	    "request line at the limit, no LF yet: more");
	/* Exactly 8192 bytes of request line is fine. */
	memcpy(big + HTTP_MAX_REQLINE - 9, " HTTP/1.1\r\nHost: h\r\n\r\n", 23);
	is_int(parse_len(big, HTTP_MAX_REQLINE + 14), HTTP_PARSE_OK,
	    "request line of exactly 8192 bytes");
	memcpy(big + HTTP_MAX_REQLINE - 8, " HTTP/1.1\r\nHost: h\r\n\r\n", 23);
	is_int(parse_len(big, HTTP_MAX_REQLINE + 15), 414,
	    "request line of 8193 bytes: 414");
	free(big);

	/* 64 headers are fine, 65 are not. */
	if ((big = malloc(HTTP_MAX_HEADERBLOCK * 2)) == NULL)
		exit(1);
	p = big;
	p += sprintf(p, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 1; i < HTTP_MAX_HEADERS; i++)
		p += sprintf(p, "X-%zu: v\r\n", i);
	p += sprintf(p, "\r\n");
	is_int(parse_len(big, p - big), HTTP_PARSE_OK, "64 headers");
	is_int(req.nhdrs, 64, "64 headers stored");
	is_str(http_header(&req, "x-63"), "v", "last header found");
	p -= 2;
	p += sprintf(p, "X-64: v\r\n\r\n");
	is_int(parse_len(big, p - big), 431, "65 headers: 431");
	is_int(parse_len(big, p - big - 2), 431,
	    "65 headers, block not yet complete: 431");

	/* A header block over 16 KiB. */
	p = big;
	p += sprintf(p, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	memset(p, 'b', HTTP_MAX_HEADERBLOCK);
	p += HTTP_MAX_HEADERBLOCK;
	is_int(parse_len(big, p - big), 431, "16 KiB header value: 431");
	free(big);

	/* Body of exactly the limit, and one more. */
	n = HTTP_MAX_BODY;
	if ((big = malloc(n + 128)) == NULL)
		exit(1);
	p = big + sprintf(big, "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: %zu\r\n\r\n", n);
	memset(p, 'x', n);
	is_int(http_request_parse(&req, big, p - big + n, &used),
	    HTTP_PARSE_OK, "body at the limit");
	is_int(req.bodylen, HTTP_MAX_BODY, "body length at the limit");
	sprintf(big, "POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: %zu\r\n\r\n", n + 1);
	is_int(parse_len(big, strlen(big)), 413, "body over the limit: 413");
	free(big);
}

static void
test_pct(void)
{
	char	out[64];
	size_t	n;

	ok(http_pct_decode(out, sizeof(out), "a%2Fb%2fc+d", 11, 0, &n) == 0,
	    "decode path");
	is_str(out, "a/b/c+d", "path keeps plus");
	is_int(n, 7, "decoded length");
	ok(http_pct_decode(out, sizeof(out), "a+b%20c", 7, 1, &n) == 0,
	    "decode form");
	is_str(out, "a b c", "form plus is space");
	ok(http_pct_decode(out, sizeof(out), "%00", 3, 1, NULL) == -1,
	    "%%00 rejected");
	ok(http_pct_decode(out, sizeof(out), "a\0b", 3, 1, NULL) == -1,
	    "literal NUL rejected");
	ok(http_pct_decode(out, sizeof(out), "%", 1, 1, NULL) == -1,
	    "lone %% rejected");
	ok(http_pct_decode(out, sizeof(out), "%a", 2, 1, NULL) == -1,
	    "short escape rejected");
	ok(http_pct_decode(out, sizeof(out), "%g0", 3, 1, NULL) == -1,
	    "non-hex escape rejected");
	ok(http_pct_decode(out, 3, "abc", 3, 1, NULL) == -1,
	    "too small destination rejected");
	ok(http_pct_decode(out, sizeof(out), "%C3%A9", 6, 1, &n) == 0 &&
	    n == 2 && (unsigned char)out[0] == 0xc3, "UTF-8 bytes decoded");
}

static void
test_params(void)
{
	struct http_params	 pp;
	char			*big;
	size_t			 i, n;
	int			 rc;
	const char		*s;

	http_params_init(&pp);
	s = "grant_type=authorization_code&code=abc%2Bdef&redirect_uri="
	    "https%3A%2F%2Fx%2Fcb&empty=&flag&&scope=openid+email";
	is_int(http_params_parse(&pp, s, strlen(s)), HTTP_PARAMS_OK,
	    "form parses");
	is_int(pp.n, 6, "six parameters");
	is_str(http_param(&pp, "grant_type"), "authorization_code",
	    "grant_type");
	is_str(http_param(&pp, "code"), "abc+def", "%%2B is plus");
	is_str(http_param(&pp, "redirect_uri"), "https://x/cb", "uri decoded");
	is_str(http_param(&pp, "empty"), "", "empty value");
	is_str(http_param(&pp, "flag"), "", "name without =");
	is_str(http_param(&pp, "scope"), "openid email", "plus is space");
	ok(http_param(&pp, "nope") == NULL, "absent parameter");
	ok(http_param(&pp, "GRANT_TYPE") == NULL, "names are case-sensitive");

	s = "a=1&b=2&a=3";
	rc = http_params_parse(&pp, s, strlen(s));
	is_int(rc, HTTP_PARAMS_EDUP, "duplicate detected");
	is_str(pp.dup, "a", "duplicate name reported");
	s = "a=1&%61=2";
	is_int(http_params_parse(&pp, s, strlen(s)), HTTP_PARAMS_EDUP,
	    "duplicate after decoding detected");
	s = "a=1&a";
	is_int(http_params_parse(&pp, s, strlen(s)), HTTP_PARAMS_EDUP,
	    "duplicate without value detected");
	s = "a=%00";
	is_int(http_params_parse(&pp, s, strlen(s)), HTTP_PARAMS_EINVAL,
	    "NUL value rejected");
	s = "a%00=1";
	is_int(http_params_parse(&pp, s, strlen(s)), HTTP_PARAMS_EINVAL,
	    "NUL name rejected");
	s = "a=%zz";
	is_int(http_params_parse(&pp, s, strlen(s)), HTTP_PARAMS_EINVAL,
	    "bad escape rejected");
	s = "a=%4";
	is_int(http_params_parse(&pp, s, strlen(s)), HTTP_PARAMS_EINVAL,
	    "truncated escape rejected");
	s = "=x&b=1";
	is_int(http_params_parse(&pp, s, strlen(s)), HTTP_PARAMS_OK,
	    "empty name skipped");
	is_int(pp.n, 1, "only b kept");
	is_int(http_params_parse(&pp, "", 0), HTTP_PARAMS_OK, "empty input");
	is_int(pp.n, 0, "no parameters");

	/* 64 parameters fine, 65 not. */
	if ((big = malloc(HTTP_MAX_PARAMSINPUT + 16)) == NULL)
		exit(1);
	n = 0;
	for (i = 0; i < HTTP_MAX_PARAMS; i++)
		n += sprintf(big + n, "%sp%zu=%zu", i ? "&" : "", i, i);
	is_int(http_params_parse(&pp, big, n), HTTP_PARAMS_OK, "64 params");
	is_str(http_param(&pp, "p63"), "63", "last of 64");
	n += sprintf(big + n, "&p64=64");
	is_int(http_params_parse(&pp, big, n), HTTP_PARAMS_EMANY,
	    "65 params rejected");

	/* Value of 8 KiB fine, one more byte not. */
	memcpy(big, "v=", 2);
	memset(big + 2, 'x', HTTP_MAX_PARAMVALUE);
	is_int(http_params_parse(&pp, big, 2 + HTTP_MAX_PARAMVALUE),
	    HTTP_PARAMS_OK, "8 KiB value");
	is_int(pp.p[0].valuelen, HTTP_MAX_PARAMVALUE, "8 KiB value length");
	memset(big + 2, 'x', HTTP_MAX_PARAMVALUE + 1);
	is_int(http_params_parse(&pp, big, 3 + HTTP_MAX_PARAMVALUE),
	    HTTP_PARAMS_EINVAL, "8 KiB + 1 value rejected");
	/* Escapes count decoded: 3 x 8192 input bytes are 8192 bytes. */
	for (i = 0; i < HTTP_MAX_PARAMVALUE; i++)
		memcpy(big + 2 + 3 * i, "%41", 3);
	is_int(http_params_parse(&pp, big, 2 + 3 * HTTP_MAX_PARAMVALUE),
	    HTTP_PARAMS_OK, "8 KiB value given as escapes");
	is_int(http_params_parse(&pp, big, HTTP_MAX_PARAMSINPUT + 1),
	    HTTP_PARAMS_EINVAL, "input over the limit rejected");
	free(big);

	/* Many one-byte pairs: the storage bound holds. */
	s = "a&b&c&d&e&f&g&h";
	is_int(http_params_parse(&pp, s, strlen(s)), HTTP_PARAMS_OK,
	    "short pairs");
	is_str(http_param(&pp, "h"), "", "last short pair");
	http_params_free(&pp);
}

static char *
drain(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		exit(1);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	return (s);
}

static void
test_response(void)
{
	struct evbuffer		*b;
	struct http_response	 r;
	struct http_kv		 kv[2], bad;
	char			*block, *s;
	size_t			 blen;

	if ((b = evbuffer_new()) == NULL)
		exit(1);
	kv[0].key = "Content-Security-Policy";
	kv[0].value = "default-src 'none'";
	kv[1].key = "X-Content-Type-Options";
	kv[1].value = "nosniff";
	ok(http_header_block(&block, &blen, kv, 2, "max-age=60") == 0,
	    "header block built");
	ok(strstr(block, "Strict-Transport-Security: max-age=60\r\n") != NULL,
	    "HSTS in block");
	ok(strstr(block, "Referrer-Policy: no-referrer\r\n") != NULL,
	    "Referrer-Policy in block");
	ok(strstr(block, "X-Content-Type-Options: nosniff\r\n") ==
	    strstr(block, "X-Content") &&
	    strstr(strstr(block, "X-Content") + 1, "X-Content") == NULL,
	    "configured header not doubled");
	ok(strstr(block, "Content-Security-Policy: default-src 'none'\r\n")
	    != NULL, "configured header in block");

	memset(&r, 0, sizeof(r));
	r.status = 200;
	r.ctype = "application/json";
	r.body = "{}";
	r.bodylen = 2;
	r.flags = HTTP_RESP_NOSTORE | HTTP_RESP_CLOSE;
	kv[0].key = "Access-Control-Allow-Origin";
	kv[0].value = "https://a";
	r.hdrs = kv;
	r.nhdrs = 1;
	ok(http_response_write(b, &r, block, blen) == 0, "response written");
	s = drain(b);
	ok(strncmp(s, "HTTP/1.1 200 OK\r\nDate: ", 23) == 0, "status line");
	ok(strstr(s, " GMT\r\n") != NULL, "date format");
	ok(strstr(s, "Content-Type: application/json\r\n") != NULL, "ctype");
	ok(strstr(s, "Content-Length: 2\r\n") != NULL, "length");
	ok(strstr(s, "Cache-Control: no-store\r\nPragma: no-cache\r\n") !=
	    NULL, "no-store");
	ok(strstr(s, "Connection: close\r\n") != NULL, "close");
	ok(strstr(s, "Access-Control-Allow-Origin: https://a\r\n") != NULL,
	    "extra header");
	ok(strstr(s, "Referrer-Policy: no-referrer\r\n") != NULL,
	    "common block included");
	blen = strlen(s);
	ok(blen > 6 && strcmp(s + blen - 6, "\r\n\r\n{}") == 0,
	    "body after empty line");
	free(s);

	r.flags = HTTP_RESP_HEAD | HTTP_RESP_KEEPALIVE;
	r.nhdrs = 0;
	ok(http_response_write(b, &r, NULL, 0) == 0, "HEAD response");
	s = drain(b);
	ok(strstr(s, "Content-Length: 2\r\n") != NULL, "HEAD keeps length");
	ok(strstr(s, "Connection: keep-alive\r\n") != NULL, "keep-alive");
	blen = strlen(s);
	ok(strcmp(s + blen - 4, "\r\n\r\n") == 0, "HEAD has no body");
	free(s);

	bad.key = "X-Evil";
	bad.value = "a\r\nSet-Cookie: x=y";
	r.hdrs = &bad;
	r.nhdrs = 1;
	ok(http_response_write(b, &r, NULL, 0) == -1,
	    "CRLF in a header value refused");
	is_int(evbuffer_get_length(b), 0, "nothing written for a bad header");
	bad.key = "X Evil";
	bad.value = "a";
	ok(http_response_write(b, &r, NULL, 0) == -1,
	    "space in a header name refused");
	ok(http_header_block(&s, &blen, &bad, 1, NULL) == -1,
	    "bad configured header refused");

	ok(http_error_write(b, 414, HTTP_RESP_CLOSE, NULL, 0) == 0,
	    "error response");
	s = drain(b);
	ok(strncmp(s, "HTTP/1.1 414 URI Too Long\r\n", 27) == 0,
	    "error status line");
	ok(strstr(s, "\r\n\r\n414 URI Too Long\n") != NULL, "error body");
	free(s);

	memset(&r, 0, sizeof(r));
	r.status = 204;
	r.body = "x";
	r.bodylen = 1;
	ok(http_response_write(b, &r, NULL, 0) == 0, "204 response");
	s = drain(b);
	ok(strstr(s, "Content-Length") == NULL, "204 has no Content-Length");
	ok(s[strlen(s) - 1] == '\n', "204 has no body");
	free(s);

	free(block);
	evbuffer_free(b);
	is_str(http_status_text(431), "Request Header Fields Too Large",
	    "status text");
}

int
main(void)
{
	http_request_init(&req);
	test_valid();
	test_rejects();
	test_limits();
	test_pct();
	test_params();
	test_response();
	http_request_free(&req);
	return (tap_done());
}
