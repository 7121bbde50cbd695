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
 * Strict HTTP/1.1 request parsing (RFC 9112), query and form decoding,
 * and response writing.  The parser takes bytes, not sockets, so that
 * it can be fuzzed and tested alone.
 *
 * Choices, all on the strict side because every client we serve is a
 * browser or an OAuth library, never a hand-typed request:
 *  - every line must end in CRLF; a bare LF or a bare CR is a 400 (RFC
 *    9112 2.2 allows a server to accept bare LF; we do not, so that we
 *    never read a request differently from a proxy in front of us);
 *  - obs-fold, whitespace before the colon, empty or non-token field
 *    names, NUL and other CTLs (but HTAB) in values are a 400;
 *  - only origin-form targets, and "*" for OPTIONS; absolute-form and
 *    authority-form are a 400; '#' in a target is a 400;
 *  - HTTP/1.0 and HTTP/1.1 only, anything else that looks like a version
 *    is a 505;
 *  - request bodies only with one plain Content-Length; any
 *    Transfer-Encoding is refused (411 for chunked, 501 otherwise), and
 *    400 when it comes with a Content-Length, to rule out smuggling.
 */

#include <sys/types.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

#include "http.h"

struct http_hdroff {
	size_t	noff;
	size_t	nlen;
	size_t	voff;
	size_t	vlen;
};

static const struct {
	const char		*name;
	enum http_method	 method;
} http_methods[] = {
	{ "GET",	HTTP_METHOD_GET },
	{ "HEAD",	HTTP_METHOD_HEAD },
	{ "POST",	HTTP_METHOD_POST },
	{ "PUT",	HTTP_METHOD_PUT },
	{ "DELETE",	HTTP_METHOD_DELETE },
	{ "OPTIONS",	HTTP_METHOD_OPTIONS },
	{ "PATCH",	HTTP_METHOD_PATCH },
};

static const struct {
	int		 status;
	const char	*text;
} http_statuses[] = {
	{ 100, "Continue" },
	{ 200, "OK" },
	{ 201, "Created" },
	{ 204, "No Content" },
	{ 301, "Moved Permanently" },
	{ 302, "Found" },
	{ 303, "See Other" },
	{ 304, "Not Modified" },
	{ 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 408, "Request Timeout" },
	{ 409, "Conflict" },
	{ 411, "Length Required" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 417, "Expectation Failed" },
	{ 422, "Unprocessable Content" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
};

/* RFC 9110 5.6.2 tchar */
/* RFC 9110 tchar; httpc.c parses with it too. */
const unsigned char http_tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

#define IS_TCHAR(c)	(http_tchar[(unsigned char)(c)])
/* field-vchar, SP and HTAB; obs-text (0x80-0xff) is allowed. */
#define IS_FIELDCHAR(c)	((unsigned char)(c) == '\t' ||		\
			    ((unsigned char)(c) >= 0x20 &&		\
			    (unsigned char)(c) != 0x7f))

static int	http_fail(struct http_request *, int, const char *);
static int	http_hexval(int);
static int	http_token_in_list(const char *, size_t, const char *);
static int	http_name_eq(const char *, size_t, const char *);
static const char *http_date(void);

void
http_request_init(struct http_request *req)
{
	memset(req, 0, sizeof(*req));
}

void
http_request_free(struct http_request *req)
{
	free(req->buf);
	memset(req, 0, sizeof(*req));
}

static int
http_fail(struct http_request *req, int status, const char *why)
{
	req->error = why;
	return (status);
}

static int
http_name_eq(const char *name, size_t len, const char *want)
{
	return (strlen(want) == len && strncasecmp(name, want, len) == 0);
}

/* Does the comma separated list hold the token (case-insensitive)? */
static int
http_token_in_list(const char *s, size_t len, const char *tok)
{
	size_t	i = 0, start, end, toklen = strlen(tok);

	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		start = i;
		while (i < len && s[i] != ',')
			i++;
		end = i;
		while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		if (end - start == toklen &&
		    strncasecmp(s + start, tok, toklen) == 0)
			return (1);
	}
	return (0);
}

/*
 * Parse one request from buf.  HTTP_PARSE_MORE: the request is not
 * complete yet, but what is there is within limits and well formed so
 * far; when the header block is complete and the body is not, need is
 * the total length of the request and expect_continue tells whether
 * the client waits for a 100 Continue.
 * HTTP_PARSE_OK: *used bytes were one request, the strings in req point
 * into storage of its own (valid until the next parse or free).
 * Anything else is the status to answer, and the connection must close.
 */
int
http_request_parse(struct http_request *req, const char *buf, size_t len,
    size_t *used)
{
	struct http_hdroff	 h[HTTP_MAX_HEADERS];
	const char		*rl, *nl, *p, *q, *v, *ve, *end = buf + len;
	const char		*hstart, *hend, *vers, *c;
	size_t			 off = 0, nh = 0, i, n, mlen, toff, tlen;
	size_t			 hl, need, cl = 0, plen, qpos;
	int			 ncrlf = 0, version, nhost = 0, ncl = 0;
	int			 te = 0, chunked = 0, conn_close = 0;
	int			 conn_keep = 0, expect = 0, cl_big = 0;
	enum http_method	 method = HTTP_METHOD_NONE;
	char			*s;

	*used = 0;
	req->error = NULL;
	req->expect_continue = 0;
	req->need = 0;

	/* Tolerate a few empty lines before the request line. */
	while (len - off >= 2 && buf[off] == '\r' && buf[off + 1] == '\n') {
		if (++ncrlf > HTTP_MAX_LEADING_CRLF)
			return (http_fail(req, 400, "empty lines"));
		off += 2;
	}
	rl = buf + off;
	n = len - off;
	if (n > HTTP_MAX_REQLINE + 2)
		n = HTTP_MAX_REQLINE + 2;
	if ((nl = memchr(rl, '\n', n)) == NULL) {
		if (len - off > HTTP_MAX_REQLINE + 1)
			return (http_fail(req, 414, "request line too long"));
		/* Refuse garbage early rather than wait for a line end. */
		for (i = 0; i < n && IS_TCHAR(rl[i]); i++)
			;
		if (i < n && rl[i] != ' ' && !(i == 0 && rl[i] == '\r'))
			return (http_fail(req, 400, "bad method"));
		return (HTTP_PARSE_MORE);
	}
	if (nl == rl || nl[-1] != '\r')
		return (http_fail(req, 400, "bare LF in request line"));
	if ((size_t)(nl - 1 - rl) > HTTP_MAX_REQLINE)
		return (http_fail(req, 414, "request line too long"));

	/* method SP request-target SP HTTP-version */
	for (p = rl; p < nl - 1 && IS_TCHAR(*p); p++)
		;
	mlen = p - rl;
	if (mlen == 0 || *p != ' ')
		return (http_fail(req, 400, "bad method"));
	toff = mlen + 1;
	for (q = p + 1; q < nl - 1 && *q > 0x20 && *q < 0x7f; q++)
		if (*q == '#')
			return (http_fail(req, 400, "fragment in target"));
	tlen = q - (p + 1);
	if (tlen == 0 || *q != ' ')
		return (http_fail(req, 400, "bad request target"));
	vers = q + 1;
	if (nl - 1 - vers != 8 || strncmp(vers, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)vers[5]) || vers[6] != '.' ||
	    !isdigit((unsigned char)vers[7]))
		return (http_fail(req, 400, "bad version"));
	if (vers[5] == '1' && vers[7] == '1')
		version = 11;
	else if (vers[5] == '1' && vers[7] == '0')
		version = 10;
	else
		return (http_fail(req, 505, "unsupported version"));
	if (mlen <= HTTP_MAX_METHOD) {
		for (i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]);
		    i++) {
			if (strlen(http_methods[i].name) == mlen &&
			    memcmp(http_methods[i].name, rl, mlen) == 0) {
				method = http_methods[i].method;
				break;
			}
		}
	}
	if (method == HTTP_METHOD_NONE)
		return (http_fail(req, 501, "unknown method"));
	if (p[1] != '/' && !(tlen == 1 && p[1] == '*' &&
	    method == HTTP_METHOD_OPTIONS))
		return (http_fail(req, 400, "target not in origin-form"));

	/* Header fields. */
	hstart = p = nl + 1;
	for (;;) {
		n = end - p;
		need = HTTP_MAX_HEADERBLOCK - (p - hstart);
		if (n > need)
			n = need;
		if ((nl = memchr(p, '\n', n)) == NULL) {
			if ((size_t)(end - p) >= need)
				return (http_fail(req, 431,
				    "header block too large"));
			if (end > p && (*p == ' ' || *p == '\t'))
				return (http_fail(req, 400, "obs-fold"));
			return (HTTP_PARSE_MORE);
		}
		if (nl == p || nl[-1] != '\r')
			return (http_fail(req, 400, "bare LF in header"));
		if (nl - 1 == p)
			break;
		if (nh == HTTP_MAX_HEADERS)
			return (http_fail(req, 431, "too many headers"));
		if (*p == ' ' || *p == '\t')
			return (http_fail(req, 400, "obs-fold"));
		for (q = p; q < nl - 1 && IS_TCHAR(*q); q++)
			;
		if (q == p)
			return (http_fail(req, 400, "bad header name"));
		if (*q != ':') {
			if (*q == ' ' || *q == '\t')
				return (http_fail(req, 400,
				    "whitespace before colon"));
			return (http_fail(req, 400, "bad header name"));
		}
		for (v = q + 1; v < nl - 1 && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = nl - 1; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			;
		for (c = v; c < ve; c++)
			if (!IS_FIELDCHAR(*c))
				return (http_fail(req, 400,
				    "bad character in header value"));
		h[nh].noff = p - rl;
		h[nh].nlen = q - p;
		h[nh].voff = v - rl;
		h[nh].vlen = ve - v;

		if (http_name_eq(p, q - p, "host")) {
			if (++nhost > 1)
				return (http_fail(req, 400, "duplicate Host"));
		} else if (http_name_eq(p, q - p, "content-length")) {
			if (++ncl > 1)
				return (http_fail(req, 400,
				    "duplicate Content-Length"));
			if (v == ve)
				return (http_fail(req, 400,
				    "empty Content-Length"));
			for (c = v; c < ve; c++) {
				if (*c < '0' || *c > '9')
					return (http_fail(req, 400,
					    "bad Content-Length"));
				if (!cl_big)
					cl = cl * 10 + (*c - '0');
				if (cl > HTTP_MAX_BODY)
					cl_big = 1;
			}
		} else if (http_name_eq(p, q - p, "transfer-encoding")) {
			te = 1;
			if (http_token_in_list(v, ve - v, "chunked"))
				chunked = 1;
		} else if (http_name_eq(p, q - p, "connection")) {
			if (http_token_in_list(v, ve - v, "close"))
				conn_close = 1;
			if (http_token_in_list(v, ve - v, "keep-alive"))
				conn_keep = 1;
		} else if (http_name_eq(p, q - p, "expect")) {
			if (ve - v == 12 && strncasecmp(v, "100-continue",
			    12) == 0)
				expect = 1;
			else
				return (http_fail(req, 417,
				    "unsupported expectation"));
		}
		nh++;
		p = nl + 1;
	}
	hend = nl + 1;

	if (version == 11 && nhost == 0)
		return (http_fail(req, 400, "missing Host"));
	if (te && ncl)
		return (http_fail(req, 400,
		    "Transfer-Encoding with Content-Length"));
	if (te && chunked)
		return (http_fail(req, 411, "chunked request body"));
	if (te)
		return (http_fail(req, 501, "unknown transfer coding"));
	if (cl_big)
		return (http_fail(req, 413, "request body too large"));
	if ((size_t)(end - hend) < cl) {
		req->expect_continue = expect && version == 11;
		req->need = (hend - buf) + cl;
		return (HTTP_PARSE_MORE);
	}

	/*
	 * Complete: copy request line and headers, then the decoded path,
	 * then the body, into storage of our own and cut it into strings.
	 */
	hl = hend - rl;
	need = hl + 1 + tlen + 1 + cl + 1;
	if (need > req->bufsz) {
		n = (need + 4095) & ~(size_t)4095;
		if ((s = realloc(req->buf, n)) == NULL)
			return (http_fail(req, 500, "out of memory"));
		req->buf = s;
		req->bufsz = n;
	}
	s = req->buf;
	memcpy(s, rl, hl);
	s[hl] = '\0';
	s[mlen] = '\0';
	s[toff + tlen] = '\0';
	req->method = method;
	req->method_str = s;
	req->target = s + toff;
	req->version = version;
	req->nhdrs = nh;
	req->host = NULL;
	for (i = 0; i < nh; i++) {
		s[h[i].noff + h[i].nlen] = '\0';
		s[h[i].voff + h[i].vlen] = '\0';
		req->hdrs[i].name = s + h[i].noff;
		req->hdrs[i].value = s + h[i].voff;
		if (req->host == NULL && strcasecmp(req->hdrs[i].name,
		    "host") == 0)
			req->host = req->hdrs[i].value;
	}

	/* Split the target and decode the path strictly. */
	req->query = NULL;
	req->querylen = 0;
	for (qpos = 0; qpos < tlen && req->target[qpos] != '?'; qpos++)
		;
	plen = qpos;
	if (qpos < tlen) {
		req->query = req->target + qpos + 1;
		req->querylen = tlen - qpos - 1;
	}
	if (http_pct_decode(s + hl + 1, tlen + 1, req->target, plen, 0,
	    NULL) == -1)
		return (http_fail(req, 400, "bad path encoding"));
	req->path = s + hl + 1;

	memcpy(s + hl + 1 + tlen + 1, hend, cl);
	s[hl + 1 + tlen + 1 + cl] = '\0';
	req->body = s + hl + 1 + tlen + 1;
	req->bodylen = cl;

	if (version == 11)
		req->keepalive = !conn_close;
	else
		req->keepalive = conn_keep && !conn_close;

	*used = (hend - buf) + cl;
	return (HTTP_PARSE_OK);
}

/* First value of a header, by case-insensitive name, or NULL. */
const char *
http_header(const struct http_request *req, const char *name)
{
	size_t	i;

	for (i = 0; i < req->nhdrs; i++)
		if (strcasecmp(req->hdrs[i].name, name) == 0)
			return (req->hdrs[i].value);
	return (NULL);
}

const char *
http_method_name(enum http_method m)
{
	size_t	i;

	for (i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++)
		if (http_methods[i].method == m)
			return (http_methods[i].name);
	return ("UNKNOWN");
}

static int
http_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Percent-decode len bytes of src into dst (dstsz bytes, at least
 * len + 1) and NUL-terminate it.  With plus, '+' is a space (forms and
 * queries).  A malformed escape, %00 or a literal NUL fails: a decoded
 * string must never hide a NUL from the C code that reads it.
 */
int
http_pct_decode(char *dst, size_t dstsz, const char *src, size_t len,
    int plus, size_t *outlen)
{
	size_t	i, o = 0;
	int	hi, lo, c;

	if (dstsz < len + 1)
		return (-1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c == '%') {
			if (len - i < 3)
				return (-1);
			hi = http_hexval((unsigned char)src[i + 1]);
			lo = http_hexval((unsigned char)src[i + 2]);
			if (hi == -1 || lo == -1)
				return (-1);
			c = hi << 4 | lo;
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == '\0')
			return (-1);
		dst[o++] = c;
	}
	dst[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return (0);
}

void
http_params_init(struct http_params *pp)
{
	memset(pp, 0, sizeof(*pp));
}

void
http_params_free(struct http_params *pp)
{
	free(pp->buf);
	memset(pp, 0, sizeof(*pp));
}

/*
 * Decode an application/x-www-form-urlencoded body or a query string.
 * Empty pairs and pairs with an empty name are skipped.  A name given
 * twice is HTTP_PARAMS_EDUP with pp->dup set, since RFC 6749 3.1 says
 * request parameters MUST NOT be included more than once.
 */
int
http_params_parse(struct http_params *pp, const char *s, size_t len)
{
	const char	*seg, *eq, *amp, *end = s + len;
	char		*o, *name, *value;
	size_t		 need, n, vlen, i;

	pp->n = 0;
	pp->error = NULL;
	pp->dup = NULL;
	if (len > HTTP_MAX_PARAMSINPUT) {
		pp->error = "parameters too long";
		return (HTTP_PARAMS_EINVAL);
	}
	/* Each pair decodes to at most its length plus two NULs. */
	need = len + 2 * HTTP_MAX_PARAMS + 1;
	if (need > pp->bufsz) {
		if ((o = realloc(pp->buf, need)) == NULL) {
			pp->error = "out of memory";
			return (HTTP_PARAMS_EINVAL);
		}
		pp->buf = o;
		pp->bufsz = need;
	}
	o = pp->buf;

	for (seg = s; seg < end; seg = amp + 1) {
		if ((amp = memchr(seg, '&', end - seg)) == NULL)
			amp = end;
		if (amp == seg)
			continue;
		if ((eq = memchr(seg, '=', amp - seg)) == NULL)
			eq = amp;
		if (eq == seg)
			continue;
		if (pp->n == HTTP_MAX_PARAMS) {
			pp->error = "too many parameters";
			return (HTTP_PARAMS_EMANY);
		}
		name = o;
		if (http_pct_decode(name, pp->bufsz - (o - pp->buf), seg,
		    eq - seg, 1, &n) == -1) {
			pp->error = "bad encoding in parameter name";
			return (HTTP_PARAMS_EINVAL);
		}
		if (n > HTTP_MAX_PARAMVALUE) {
			pp->error = "parameter name too long";
			return (HTTP_PARAMS_EINVAL);
		}
		o += n + 1;
		value = o;
		if (eq == amp) {
			*o++ = '\0';
			vlen = 0;
		} else {
			if (http_pct_decode(value, pp->bufsz - (o - pp->buf),
			    eq + 1, amp - eq - 1, 1, &vlen) == -1) {
				pp->error = "bad encoding in parameter value";
				return (HTTP_PARAMS_EINVAL);
			}
			if (vlen > HTTP_MAX_PARAMVALUE) {
				pp->error = "parameter value too long";
				return (HTTP_PARAMS_EINVAL);
			}
			o += vlen + 1;
		}
		for (i = 0; i < pp->n; i++) {
			if (strcmp(pp->p[i].name, name) == 0) {
				pp->error = "parameter given more than once";
				pp->dup = pp->p[i].name;
				return (HTTP_PARAMS_EDUP);
			}
		}
		pp->p[pp->n].name = name;
		pp->p[pp->n].value = value;
		pp->p[pp->n].valuelen = vlen;
		pp->n++;
		if (amp == end)
			break;
	}
	return (HTTP_PARAMS_OK);
}

const char *
http_param(const struct http_params *pp, const char *name)
{
	size_t	i;

	for (i = 0; i < pp->n; i++)
		if (strcmp(pp->p[i].name, name) == 0)
			return (pp->p[i].value);
	return (NULL);
}

const char *
http_status_text(int status)
{
	size_t	i;

	for (i = 0; i < sizeof(http_statuses) / sizeof(http_statuses[0]); i++)
		if (http_statuses[i].status == status)
			return (http_statuses[i].text);
	return ("Unknown");
}

/* IMF-fixdate of now, formatted once per second. */
static const char *
http_date(void)
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				    "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr",
				    "May", "Jun", "Jul", "Aug", "Sep", "Oct",
				    "Nov", "Dec" };
	static char		 buf[32];
	static time_t		 last = -1;
	struct tm		 tm;
	time_t			 now;

	now = time(NULL);
	if (now == last)
		return (buf);
	if (gmtime_r(&now, &tm) == NULL)
		return ("Thu, 01 Jan 1970 00:00:00 GMT");
	(void)snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	last = now;
	return (buf);
}

static int
http_kv_valid(const struct http_kv *kv)
{
	const char	*p;

	if (kv->key == NULL || kv->value == NULL || kv->key[0] == '\0')
		return (0);
	for (p = kv->key; *p != '\0'; p++)
		if (!IS_TCHAR(*p))
			return (0);
	for (p = kv->value; *p != '\0'; p++)
		if (!IS_FIELDCHAR(*p))
			return (0);
	return (1);
}

static int
http_kv_has(const struct http_kv *kv, size_t n, const char *key)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcasecmp(kv[i].key, key) == 0)
			return (1);
	return (0);
}

/*
 * Build once the block of headers every response of a listener carries:
 * the fixed security headers, the configured ones (web.headers, which
 * win over the fixed ones of the same name) and HSTS if hsts is not
 * NULL.  The result is malloc()ed.
 */
int
http_header_block(char **blockp, size_t *lenp, const struct http_kv *kv,
    size_t n, const char *hsts)
{
	struct evbuffer	*b;
	size_t		 i, len;
	int		 ret = -1;

	*blockp = NULL;
	*lenp = 0;
	if (n > HTTP_MAX_EXTRA_HEADERS)
		return (-1);
	for (i = 0; i < n; i++)
		if (!http_kv_valid(&kv[i]))
			return (-1);
	if ((b = evbuffer_new()) == NULL)
		return (-1);
	if (!http_kv_has(kv, n, "X-Content-Type-Options") &&
	    evbuffer_add_printf(b, "X-Content-Type-Options: nosniff\r\n") == -1)
		goto done;
	if (!http_kv_has(kv, n, "Referrer-Policy") &&
	    evbuffer_add_printf(b, "Referrer-Policy: no-referrer\r\n") == -1)
		goto done;
	if (hsts != NULL && hsts[0] != '\0' &&
	    !http_kv_has(kv, n, "Strict-Transport-Security")) {
		for (i = 0; hsts[i] != '\0'; i++)
			if (!IS_FIELDCHAR(hsts[i]))
				goto done;
		if (evbuffer_add_printf(b, "Strict-Transport-Security: %s\r\n",
		    hsts) == -1)
			goto done;
	}
	for (i = 0; i < n; i++) {
		/* Dex sends HSTS from web.headers on TLS listeners only. */
		if (hsts == NULL &&
		    strcasecmp(kv[i].key, "Strict-Transport-Security") == 0)
			continue;
		if (kv[i].value[0] == '\0')
			continue;
		if (evbuffer_add_printf(b, "%s: %s\r\n", kv[i].key,
		    kv[i].value) == -1)
			goto done;
	}
	len = evbuffer_get_length(b);
	if ((*blockp = malloc(len + 1)) == NULL)
		goto done;
	if (evbuffer_remove(b, *blockp, len) != (int)len) {
		free(*blockp);
		*blockp = NULL;
		goto done;
	}
	(*blockp)[len] = '\0';
	*lenp = len;
	ret = 0;
 done:
	evbuffer_free(b);
	return (ret);
}

/*
 * Append a complete response to out: status line, Date, the listener's
 * common block, Content-Type, Content-Length, caching and connection
 * headers, the caller's headers (checked: no CR, LF or other CTL can
 * reach the wire) and the body.
 */
int
http_response_write(struct evbuffer *out, const struct http_response *r,
    const char *common, size_t commonlen)
{
	char	 head[256];
	size_t	 i;
	int	 n, nobody;

	if (r->status < 100 || r->status > 999)
		return (-1);
	for (i = 0; i < r->nhdrs; i++)
		if (!http_kv_valid(&r->hdrs[i]))
			return (-1);
	if (r->ctype != NULL) {
		struct http_kv	 kv = { "Content-Type", r->ctype };

		if (!http_kv_valid(&kv))
			return (-1);
	}
	nobody = r->status == 204 || r->status == 304 || r->status < 200;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nDate: %s\r\n",
	    r->status, http_status_text(r->status), http_date());
	if (n < 0 || (size_t)n >= sizeof(head))
		return (-1);
	if (evbuffer_add(out, head, n) == -1)
		return (-1);
	if (commonlen > 0 && evbuffer_add(out, common, commonlen) == -1)
		return (-1);
	if (r->ctype != NULL && evbuffer_add_printf(out,
	    "Content-Type: %s\r\n", r->ctype) == -1)
		return (-1);
	n = 0;
	head[0] = '\0';
	if (!nobody)
		n = snprintf(head, sizeof(head), "Content-Length: %zu\r\n%s%s",
		    r->bodylen,
		    (r->flags & HTTP_RESP_NOSTORE) ?
		    "Cache-Control: no-store\r\nPragma: no-cache\r\n" : "",
		    (r->flags & HTTP_RESP_CLOSE) ? "Connection: close\r\n" :
		    (r->flags & HTTP_RESP_KEEPALIVE) ?
		    "Connection: keep-alive\r\n" : "");
	else
		n = snprintf(head, sizeof(head), "%s%s",
		    (r->flags & HTTP_RESP_NOSTORE) ?
		    "Cache-Control: no-store\r\nPragma: no-cache\r\n" : "",
		    (r->flags & HTTP_RESP_CLOSE) ? "Connection: close\r\n" :
		    (r->flags & HTTP_RESP_KEEPALIVE) ?
		    "Connection: keep-alive\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return (-1);
	if (evbuffer_add(out, head, n) == -1)
		return (-1);
	for (i = 0; i < r->nhdrs; i++)
		if (evbuffer_add_printf(out, "%s: %s\r\n", r->hdrs[i].key,
		    r->hdrs[i].value) == -1)
			return (-1);
	if (evbuffer_add(out, "\r\n", 2) == -1)
		return (-1);
	if (!nobody && !(r->flags & HTTP_RESP_HEAD) && r->bodylen > 0 &&
	    evbuffer_add(out, r->body, r->bodylen) == -1)
		return (-1);
	return (0);
}

/* A short text/plain answer, as the engine gives to bad requests. */
int
http_error_write(struct evbuffer *out, int status, int flags,
    const char *common, size_t commonlen)
{
	struct http_response	 r;
	char			 body[64];
	int			 n;

	n = snprintf(body, sizeof(body), "%d %s\n", status,
	    http_status_text(status));
	if (n < 0 || (size_t)n >= sizeof(body))
		return (-1);
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.ctype = "text/plain; charset=utf-8";
	r.body = body;
	r.bodylen = n;
	r.flags = flags;
	return (http_response_write(out, &r, common, commonlen));
}
