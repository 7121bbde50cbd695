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
 * Outbound HTTP/1.1 client of the connector, on io.c in client mode.
 *
 * A request goes: deferred start (so that the callback never runs
 * inside httpc_request()), an idle keep-alive connection to the same
 * origin if there is one, else name resolution through evdns (literal
 * addresses skip it) and connect(2) to each address in turn, the TLS
 * handshake for https, the request written in one piece, and the
 * response fed to the parser below until it is complete.  A deadline
 * timer bounds the whole request; connect and handshake have a shorter
 * bound of their own so that a dead address leaves time for the next.
 *
 * The parser is strict where leniency would let a response be read two
 * ways (Content-Length with Transfer-Encoding, differing lengths, bad
 * chunk sizes, obs-fold) and refuses what we did not ask for (any
 * content coding, 101).  It accepts a bare LF as line end, as RFC 9112
 * allows a recipient to.
 *
 * Requests and response bodies carry client secrets and tokens: the
 * buffers we own are wiped before they are freed.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/evp.h>
#include <tls.h>

#include "httpc.h"
#include "io.h"
#include "log.h"

/* Parser states. */
#define PS_HEAD		0
#define PS_BODY_CL	1
#define PS_BODY_EOF	2
#define PS_CHUNK_SIZE	3
#define PS_CHUNK_DATA	4
#define PS_CHUNK_END	5
#define PS_TRAILER	6
#define PS_DONE		7
#define PS_ERROR	8

/* Connection states. */
#define CONN_CONNECT	0
#define CONN_HANDSHAKE	1
#define CONN_UP		2

struct httpc_conn {
	TAILQ_ENTRY(httpc_conn)	 entry;		/* hc->idle */
	struct httpc		*hc;
	struct io		*io;
	struct httpc_req	*req;		/* NULL: idle */
	int			 state;
	int			 idle;		/* in hc->idle */
	int			 tls;
	int			 reused;	/* carried a response before */
	int			 got;		/* response bytes for req */
	uint16_t		 port;
	char			 host[HTTPC_HOST_MAX + 1];
};

TAILQ_HEAD(httpc_conns, httpc_conn);
TAILQ_HEAD(httpc_reqs, httpc_req);

struct httpc {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct tls_config	*tlscfg;
	int			 roots;		/* CA set, or no verification */
	int			 timeout_ms;
	size_t			 max_body;
	struct httpc_reqs	 reqs;
	struct httpc_conns	 idle;		/* oldest first */
	size_t			 nidle;
};

/*
 * The argument of an evdns lookup.  It outlives a cancelled request:
 * evdns calls back once more after a cancel, from the event loop.
 */
struct httpc_dnsq {
	struct httpc_req			*req;
	struct evdns_getaddrinfo_request	*dreq;
};

struct httpc_req {
	TAILQ_ENTRY(httpc_req)	 entry;		/* hc->reqs */
	struct httpc		*hc;
	struct httpc_url	 url;
	char			 hostport[HTTPC_HOST_MAX + 9];
	char			*msg;		/* the request, for a retry */
	size_t			 msglen;
	int			 head;
	httpc_cb		 cb;
	void			*arg;
	struct event		*ev_deadline;
	struct event		*ev_kick;
	struct httpc_dnsq	*dnsq;
	struct httpc_conn	*conn;
	struct httpc_parser	 parser;
	int			 parsing;	/* parser initialized */
	int			 done;		/* callback running */
	int			 retried;
	int			 fresh;		/* not from the idle pool */
	const char		*phase;
	struct sockaddr_storage	 addrs[HTTPC_ADDRS_MAX];
	socklen_t		 addrlens[HTTPC_ADDRS_MAX];
	size_t			 naddrs;
	size_t			 nextaddr;
	char			 lasterr[HTTPC_ERR_MAX];
	char			 err[HTTPC_ERR_MAX];
};

/* RFC 9110 5.6.2 tchar, the server's table (http.c) */
#define IS_TCHAR(c)	(http_tchar[(unsigned char)(c)])
/* field-vchar, SP and HTAB; obs-text (0x80-0xff) is allowed. */
#define IS_FIELDCHAR(c)	((unsigned char)(c) == '\t' ||		\
			    ((unsigned char)(c) >= 0x20 &&		\
			    (unsigned char)(c) != 0x7f))

/* Headers the client writes itself; a caller may not add them. */
static const char *const httpc_reserved[] = {
	"host", "content-length", "transfer-encoding", "connection",
	"accept-encoding", "user-agent", "te", "upgrade", "keep-alive",
	"trailer", "expect",
};

static int	 parser_fail(struct httpc_parser *, const char *);
static int	 parser_head(struct httpc_parser *, const char *, size_t,
		    size_t *);
static int	 parser_headers(struct httpc_parser *, const char *,
		    size_t);
static int	 parser_append(struct httpc_parser *, const char *, size_t);
static int	 parser_finish(struct httpc_parser *);
static int	 parser_chunk_size(struct httpc_parser *, const char *,
		    size_t, size_t *);
static int	 parser_trailer(struct httpc_parser *, const char *, size_t,
		    size_t *);
static int	 token_in_list(const char *, const char *);
static size_t	 form_escape(char *, const char *);

static void	 httpc_kick(evutil_socket_t, short, void *);
static void	 httpc_deadline(evutil_socket_t, short, void *);
static void	 httpc_dns_cb(int, struct evutil_addrinfo *, void *);
static void	 httpc_resolve(struct httpc_req *);
static void	 httpc_connect_next(struct httpc_req *);
static void	 httpc_send(struct httpc_req *);
static void	 httpc_input(struct httpc_req *);
static void	 httpc_conn_cb(struct io *, int, void *);
static void	 httpc_conn_close(struct httpc_conn *);
static void	 httpc_park(struct httpc_conn *);
static void	 httpc_detach(struct httpc_req *, int);
static void	 httpc_dns_cancel(struct httpc_req *);
static void	 httpc_finish(struct httpc_req *,
		    const struct httpc_response *, const char *);
static void	 httpc_fail(struct httpc_req *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 httpc_req_free(struct httpc_req *);
static void	 httpc_msg_cleanup(const void *, size_t, void *);

/*
 * URLs.
 */

/*
 * Split an http or https URL into scheme, host, port and path+query.
 * Userinfo is refused (credentials never travel in URLs here), the
 * fragment is dropped, the host is a DNS name, a dotted IPv4 address or
 * a bracketed IPv6 address without zone, and the path must already be
 * percent-encoded: no space, control or non-ASCII byte.
 */
int
httpc_parse_url(const char *s, struct httpc_url *u)
{
	const char	*p, *a, *ae, *h, *he, *q;
	size_t		 len, i, n;
	unsigned long	 port;
	struct in6_addr	 in6;
	struct in_addr	 in4;

	memset(u, 0, sizeof(*u));
	if ((len = strnlen(s, HTTPC_URL_MAX + 1)) > HTTPC_URL_MAX)
		return (-1);
	if (strncasecmp(s, "https://", 8) == 0) {
		u->tls = 1;
		u->port = 443;
		a = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		u->port = 80;
		a = s + 7;
	} else
		return (-1);

	/* authority */
	for (ae = a; *ae != '\0' && *ae != '/' && *ae != '?' && *ae != '#';
	    ae++)
		if (*ae == '@')
			return (-1);
	if (ae == a)
		return (-1);
	if (*a == '[') {
		h = a + 1;
		if ((he = memchr(h, ']', ae - h)) == NULL)
			return (-1);
		p = he + 1;
		n = he - h;
		if (n == 0 || n >= sizeof(u->host))
			return (-1);
		memcpy(u->host, h, n);
		u->host[n] = '\0';
		if (inet_pton(AF_INET6, u->host, &in6) != 1)
			return (-1);
		u->literal = 1;
		u->family = AF_INET6;
	} else {
		h = a;
		for (he = h; he < ae && *he != ':'; he++)
			;
		p = he;
		n = he - h;
		if (n == 0 || n > HTTPC_HOST_MAX)
			return (-1);
		for (i = 0; i < n; i++) {
			if (!((h[i] >= 'a' && h[i] <= 'z') ||
			    (h[i] >= 'A' && h[i] <= 'Z') ||
			    (h[i] >= '0' && h[i] <= '9') ||
			    h[i] == '.' || h[i] == '-' || h[i] == '_'))
				return (-1);
			u->host[i] = (h[i] >= 'A' && h[i] <= 'Z') ?
			    h[i] - 'A' + 'a' : h[i];
		}
		u->host[n] = '\0';
		if (u->host[0] == '.' || u->host[0] == '-')
			return (-1);
		if (inet_pton(AF_INET, u->host, &in4) == 1) {
			u->literal = 1;
			u->family = AF_INET;
		}
	}
	if (p < ae) {
		if (*p != ':' || p + 1 == ae || ae - (p + 1) > 5)
			return (-1);
		port = 0;
		for (q = p + 1; q < ae; q++) {
			if (*q < '0' || *q > '9')
				return (-1);
			port = port * 10 + (*q - '0');
		}
		if (port == 0 || port > 65535)
			return (-1);
		u->port = port;
	}

	/* path and query, up to a fragment */
	for (q = ae; *q != '\0' && *q != '#'; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return (-1);
	n = q - ae;
	if (n == 0 || *ae == '?') {
		u->path[0] = '/';
		memcpy(u->path + 1, ae, n);
		u->path[n + 1] = '\0';
	} else {
		memcpy(u->path, ae, n);
		u->path[n] = '\0';
	}
	return (0);
}

/*
 * application/x-www-form-urlencoded, byte for byte as Go's
 * url.QueryEscape: what Dex and golang.org/x/oauth2 send.
 */
static size_t
form_escape(char *dst, const char *src)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 n = 0;

	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.' || *s == '~') {
			if (dst != NULL)
				dst[n] = *s;
			n++;
		} else if (*s == ' ') {
			if (dst != NULL)
				dst[n] = '+';
			n++;
		} else {
			if (dst != NULL) {
				dst[n] = '%';
				dst[n + 1] = hex[*s >> 4];
				dst[n + 2] = hex[*s & 0x0f];
			}
			n += 3;
		}
	}
	return (n);
}

/* Append "key=value", with '&' before all but the first pair. */
int
httpc_form_add(struct httpc_form *f, const char *key, const char *value)
{
	size_t	 klen, vlen, need, nsz;
	char	*nb;

	klen = form_escape(NULL, key);
	vlen = form_escape(NULL, value);
	need = (f->len > 0) + klen + 1 + vlen;
	if (klen == 0 || need > HTTPC_REQ_BODY_MAX - f->len)
		return (-1);
	if (f->len + need + 1 > f->size) {
		nsz = f->size < 256 ? 256 : f->size;
		while (nsz < f->len + need + 1)
			nsz *= 2;
		/* recallocarray() wipes the old buffer: it held secrets. */
		if ((nb = recallocarray(f->buf, f->size, nsz, 1)) == NULL)
			return (-1);
		f->buf = nb;
		f->size = nsz;
	}
	if (f->len > 0)
		f->buf[f->len++] = '&';
	f->len += form_escape(f->buf + f->len, key);
	f->buf[f->len++] = '=';
	f->len += form_escape(f->buf + f->len, value);
	f->buf[f->len] = '\0';
	return (0);
}

void
httpc_form_free(struct httpc_form *f)
{
	freezero(f->buf, f->size);
	f->buf = NULL;
	f->len = f->size = 0;
}

/*
 * "Authorization: Basic ..." for a confidential client, RFC 6749 2.3.1:
 * id and secret are form-encoded before they are joined and base64
 * encoded, as golang.org/x/oauth2 does.  The caller freezero()s it.
 */
char *
httpc_basic_auth(const char *id, const char *secret)
{
	static const char	 pfx[] = "Authorization: Basic ";
	char			*raw = NULL, *out = NULL;
	size_t			 ilen, slen, rawlen, outlen;

	if (strlen(id) > HTTPC_REQ_HEADER_MAX ||
	    strlen(secret) > HTTPC_REQ_HEADER_MAX)
		return (NULL);
	ilen = form_escape(NULL, id);
	slen = form_escape(NULL, secret);
	rawlen = ilen + 1 + slen;
	outlen = sizeof(pfx) - 1 + 4 * ((rawlen + 2) / 3);
	if (outlen > HTTPC_REQ_HEADER_MAX)
		return (NULL);
	if ((raw = malloc(rawlen + 1)) == NULL ||
	    (out = malloc(outlen + 1)) == NULL) {
		freezero(raw, rawlen + 1);
		return (NULL);
	}
	(void)form_escape(raw, id);
	raw[ilen] = ':';
	(void)form_escape(raw + ilen + 1, secret);
	memcpy(out, pfx, sizeof(pfx) - 1);
	(void)EVP_EncodeBlock((unsigned char *)out + sizeof(pfx) - 1,
	    (unsigned char *)raw, rawlen);
	out[outlen] = '\0';
	freezero(raw, rawlen + 1);
	return (out);
}

/*
 * The response parser.
 */

void
httpc_parser_init(struct httpc_parser *p, int head, size_t max_body)
{
	memset(p, 0, sizeof(*p));
	p->head = head;
	p->max_body = (max_body == 0 || max_body > HTTPC_BODY_MAX) ?
	    HTTPC_BODY_MAX : max_body;
	p->state = PS_HEAD;
}

void
httpc_parser_free(struct httpc_parser *p)
{
	freezero(p->hdrbuf, p->hdrsz);
	freezero(p->body, p->bodysz);
	p->hdrbuf = NULL;
	p->hdrsz = 0;
	p->body = NULL;
	p->bodysz = p->bodylen = 0;
	memset(&p->resp, 0, sizeof(p->resp));
}

static int
parser_fail(struct httpc_parser *p, const char *why)
{
	p->state = PS_ERROR;
	p->error = why;
	return (HTTPC_PARSE_ERROR);
}

/* Is tok one of the comma-separated tokens of s, ignoring case? */
static int
token_in_list(const char *s, const char *tok)
{
	size_t		 tlen = strlen(tok), n;
	const char	*e;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		for (e = s; *e != '\0' && *e != ','; e++)
			;
		for (n = e - s; n > 0 && (s[n - 1] == ' ' ||
		    s[n - 1] == '\t'); n--)
			;
		if (n == tlen && strncasecmp(s, tok, n) == 0)
			return (1);
		s = e;
	}
	return (0);
}

/*
 * Find the end of the status line and header block in buf, which holds
 * what has arrived of it.  The outcome depends only on the bytes, not
 * on how they were split into calls.
 */
static int
parser_head(struct httpc_parser *p, const char *buf, size_t len,
    size_t *used)
{
	const char	*nl;
	size_t		 lim, off;

	*used = 0;
	if (memcmp(buf, "HTTP/", len < 5 ? len : 5) != 0)
		return (parser_fail(p, "not an HTTP response"));
	lim = len < HTTPC_HEADERBLOCK_MAX ? len : HTTPC_HEADERBLOCK_MAX;
	off = p->scan;
	if (off == 0) {
		if ((nl = memchr(buf, '\n', lim)) == NULL) {
			if (len > HTTPC_STATUSLINE_MAX)
				return (parser_fail(p,
				    "status line too long"));
			return (HTTPC_PARSE_MORE);
		}
		if ((size_t)(nl - buf) > HTTPC_STATUSLINE_MAX)
			return (parser_fail(p, "status line too long"));
		off = p->scan = nl - buf + 1;
	}
	while (off < lim) {
		if ((nl = memchr(buf + off, '\n', lim - off)) == NULL)
			break;
		if ((size_t)(nl - buf) == off || ((size_t)(nl - buf) ==
		    off + 1 && buf[off] == '\r')) {
			*used = nl - buf + 1;
			return (parser_headers(p, buf, *used));
		}
		off = p->scan = nl - buf + 1;
	}
	if (len >= HTTPC_HEADERBLOCK_MAX)
		return (parser_fail(p, "header block too large"));
	return (HTTPC_PARSE_MORE);
}

/*
 * Cut the header block, copied to hdrbuf, into the status line and
 * fields, and decide how the body is delimited.  HTTPC_PARSE_MORE
 * means "go on in the state now set".
 */
static int
parser_headers(struct httpc_parser *p, const char *buf, size_t blen)
{
	char		*s, *end, *line, *nl, *e, *c, *v, *ve;
	size_t		 nh = 0;
	uint64_t	 cl = 0, x;
	int		 ncl = 0, nte = 0, version, status;
	int		 conn_close = 0, conn_keep = 0;

	/* Only the block of the final response is kept. */
	freezero(p->hdrbuf, p->hdrsz);
	p->hdrsz = 0;
	if ((p->hdrbuf = s = malloc(blen + 1)) == NULL)
		return (parser_fail(p, "out of memory"));
	p->hdrsz = blen + 1;
	memcpy(s, buf, blen);
	s[blen] = '\0';
	end = s + blen;

	/* HTTP/1.x SP 3DIGIT [ SP reason-phrase ] */
	nl = memchr(s, '\n', blen);
	e = (nl > s && nl[-1] == '\r') ? nl - 1 : nl;
	if (e - s < 12 || s[8] != ' ' || (s[12] != ' ' && e - s > 12))
		return (parser_fail(p, "bad status line"));
	if (memcmp(s, "HTTP/1.1", 8) == 0)
		version = 11;
	else if (memcmp(s, "HTTP/1.0", 8) == 0)
		version = 10;
	else
		return (parser_fail(p, "unsupported HTTP version"));
	if (s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' ||
	    s[11] < '0' || s[11] > '9')
		return (parser_fail(p, "bad status code"));
	status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	for (c = s + 12; c < e; c++)
		if (!IS_FIELDCHAR(*c))
			return (parser_fail(p, "bad character in reason"));

	for (line = nl + 1;; line = nl + 1) {
		/* The block ends with an empty line: a '\n' is there. */
		nl = memchr(line, '\n', end - line);
		e = (nl > line && nl[-1] == '\r') ? nl - 1 : nl;
		if (e == line)
			break;
		if (nh == HTTPC_HEADERS_MAX)
			return (parser_fail(p, "too many header fields"));
		if (*line == ' ' || *line == '\t')
			return (parser_fail(p, "obs-fold in header"));
		for (c = line; c < e && IS_TCHAR(*c); c++)
			;
		if (c == line || c == e || *c != ':')
			return (parser_fail(p, "bad header field name"));
		*c = '\0';
		for (v = c + 1; v < e && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = e; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			;
		for (c = v; c < ve; c++)
			if (!IS_FIELDCHAR(*c))
				return (parser_fail(p,
				    "bad character in header field"));
		*ve = '\0';
		p->hdrs[nh].key = line;
		p->hdrs[nh].value = v;
		nh++;

		if (strcasecmp(line, "content-length") == 0) {
			if (*v == '\0')
				return (parser_fail(p, "bad Content-Length"));
			for (x = 0, c = v; *c != '\0'; c++) {
				if (*c < '0' || *c > '9' ||
				    x > (UINT64_MAX - 9) / 10)
					return (parser_fail(p,
					    "bad Content-Length"));
				x = x * 10 + (*c - '0');
			}
			if (ncl++ > 0 && x != cl)
				return (parser_fail(p,
				    "conflicting Content-Length"));
			cl = x;
		} else if (strcasecmp(line, "transfer-encoding") == 0) {
			/* chunked is all we know, and it may come once. */
			if (nte++ > 0 || strcasecmp(v, "chunked") != 0)
				return (parser_fail(p,
				    "unsupported transfer coding"));
		} else if (strcasecmp(line, "content-encoding") == 0) {
			/* We sent Accept-Encoding: identity. */
			if (*v != '\0' && strcasecmp(v, "identity") != 0)
				return (parser_fail(p,
				    "unsupported content coding"));
		} else if (strcasecmp(line, "connection") == 0) {
			if (token_in_list(v, "close"))
				conn_close = 1;
			if (token_in_list(v, "keep-alive"))
				conn_keep = 1;
		}
	}

	if (status == 101)
		return (parser_fail(p, "unexpected 101 response"));
	if (status < 200) {
		/* Interim: 100 Continue, 103 Early Hints.  Skip it. */
		if (++p->ninterim > HTTPC_INTERIM_MAX)
			return (parser_fail(p, "too many interim responses"));
		freezero(p->hdrbuf, p->hdrsz);
		p->hdrbuf = NULL;
		p->hdrsz = 0;
		p->scan = 0;
		return (HTTPC_PARSE_MORE);
	}
	if (nte > 0 && ncl > 0)
		return (parser_fail(p,
		    "Content-Length with Transfer-Encoding"));

	p->resp.status = status;
	p->resp.version = version;
	p->resp.headers = p->hdrs;
	p->resp.nheaders = nh;
	if (version == 11)
		p->keepalive = !conn_close;
	else
		p->keepalive = conn_keep && !conn_close;

	if (p->head || status == 204 || status == 304)
		return (parser_finish(p));
	if (nte > 0) {
		/* RFC 9112 6.1: chunked in 1.0 is suspect framing; close. */
		if (version == 10)
			p->keepalive = 0;
		p->state = PS_CHUNK_SIZE;
		return (HTTPC_PARSE_MORE);
	}
	if (ncl > 0) {
		if (cl > p->max_body)
			return (parser_fail(p, "response body too large"));
		if ((p->body = malloc(cl + 1)) == NULL)
			return (parser_fail(p, "out of memory"));
		p->bodysz = cl + 1;
		if (cl == 0)
			return (parser_finish(p));
		p->remain = cl;
		p->state = PS_BODY_CL;
		return (HTTPC_PARSE_MORE);
	}
	/* Delimited by the end of the connection, which cannot be reused. */
	p->keepalive = 0;
	p->state = PS_BODY_EOF;
	return (HTTPC_PARSE_MORE);
}

static int
parser_append(struct httpc_parser *p, const char *data, size_t n)
{
	size_t	 need, nsz;
	char	*nb;

	if (n > p->max_body - p->bodylen)
		return (parser_fail(p, "response body too large"));
	need = p->bodylen + n + 1;
	if (need > p->bodysz) {
		nsz = p->bodysz > 0 ? p->bodysz : 4096;
		while (nsz < need)
			nsz *= 2;
		if (nsz > p->max_body + 1)
			nsz = p->max_body + 1;
		/* recallocarray() wipes the old buffer: tokens. */
		if ((nb = recallocarray(p->body, p->bodysz, nsz, 1)) == NULL)
			return (parser_fail(p, "out of memory"));
		p->body = nb;
		p->bodysz = nsz;
	}
	memcpy(p->body + p->bodylen, data, n);
	p->bodylen += n;
	return (0);
}

static int
parser_finish(struct httpc_parser *p)
{
	if (p->body == NULL) {
		if ((p->body = calloc(1, 1)) == NULL)
			return (parser_fail(p, "out of memory"));
		p->bodysz = 1;
	}
	p->body[p->bodylen] = '\0';
	p->resp.body = p->body;
	p->resp.bodylen = p->bodylen;
	p->state = PS_DONE;
	return (HTTPC_PARSE_DONE);
}

/* chunk-size [ BWS ";" chunk-ext ] CRLF */
static int
parser_chunk_size(struct httpc_parser *p, const char *buf, size_t len,
    size_t *used)
{
	const char	*nl, *e, *c;
	uint64_t	 size = 0;
	int		 d;

	*used = 0;
	if ((nl = memchr(buf, '\n', len < HTTPC_CHUNKLINE_MAX ? len :
	    HTTPC_CHUNKLINE_MAX)) == NULL) {
		if (len >= HTTPC_CHUNKLINE_MAX)
			return (parser_fail(p, "chunk size line too long"));
		return (HTTPC_PARSE_MORE);
	}
	e = (nl > buf && nl[-1] == '\r') ? nl - 1 : nl;
	for (c = buf; c < e; c++) {
		if (*c >= '0' && *c <= '9')
			d = *c - '0';
		else if (*c >= 'a' && *c <= 'f')
			d = *c - 'a' + 10;
		else if (*c >= 'A' && *c <= 'F')
			d = *c - 'A' + 10;
		else
			break;
		/* Bounded at every digit, so it cannot overflow. */
		size = size * 16 + d;
		if (size > p->max_body - p->bodylen)
			return (parser_fail(p, "response body too large"));
	}
	if (c == buf)
		return (parser_fail(p, "bad chunk size"));
	while (c < e && (*c == ' ' || *c == '\t'))
		c++;
	if (c < e && *c != ';')
		return (parser_fail(p, "bad chunk size"));
	for (; c < e; c++)
		if (!IS_FIELDCHAR(*c))
			return (parser_fail(p, "bad chunk extension"));
	*used = nl - buf + 1;
	if (size == 0)
		p->state = PS_TRAILER;
	else {
		p->remain = size;
		p->state = PS_CHUNK_DATA;
	}
	return (HTTPC_PARSE_MORE);
}

/* One trailer field, checked and dropped, or the final empty line. */
static int
parser_trailer(struct httpc_parser *p, const char *buf, size_t len,
    size_t *used)
{
	const char	*nl, *e, *c;
	size_t		 room = HTTPC_HEADERBLOCK_MAX - p->trailer;

	*used = 0;
	if ((nl = memchr(buf, '\n', len < room ? len : room)) == NULL) {
		if (len >= room)
			return (parser_fail(p, "trailer section too large"));
		return (HTTPC_PARSE_MORE);
	}
	e = (nl > buf && nl[-1] == '\r') ? nl - 1 : nl;
	*used = nl - buf + 1;
	p->trailer += *used;
	if (e == buf)
		return (parser_finish(p));
	if (++p->ntrailers > HTTPC_HEADERS_MAX)
		return (parser_fail(p, "too many trailer fields"));
	for (c = buf; c < e && IS_TCHAR(*c); c++)
		;
	if (c == buf || c == e || *c != ':')
		return (parser_fail(p, "bad trailer field"));
	for (c++; c < e; c++)
		if (!IS_FIELDCHAR(*c))
			return (parser_fail(p, "bad character in trailer"));
	return (HTTPC_PARSE_MORE);
}

/*
 * Feed bytes.  *used of them are consumed; the rest must be passed
 * again at the start of the next call.
 */
int
httpc_parser_feed(struct httpc_parser *p, const char *buf, size_t len,
    size_t *used)
{
	size_t	off = 0, n;
	int	r;

	*used = 0;
	for (;;) {
		switch (p->state) {
		case PS_DONE:
			*used = off;
			return (HTTPC_PARSE_DONE);
		case PS_ERROR:
			*used = off;
			return (HTTPC_PARSE_ERROR);
		case PS_HEAD:
			if (off == len)
				goto more;
			r = parser_head(p, buf + off, len - off, &n);
			if (r == HTTPC_PARSE_ERROR)
				return (r);
			if (n == 0)
				goto more;
			off += n;
			break;
		case PS_BODY_CL:
		case PS_CHUNK_DATA:
			n = len - off;
			if (n > p->remain)
				n = p->remain;
			if (n == 0)
				goto more;
			if (parser_append(p, buf + off, n) == -1)
				return (HTTPC_PARSE_ERROR);
			off += n;
			p->remain -= n;
			if (p->remain > 0)
				break;
			if (p->state == PS_CHUNK_DATA)
				p->state = PS_CHUNK_END;
			else if (parser_finish(p) == HTTPC_PARSE_ERROR)
				return (HTTPC_PARSE_ERROR);
			break;
		case PS_BODY_EOF:
			if (off == len)
				goto more;
			if (parser_append(p, buf + off, len - off) == -1)
				return (HTTPC_PARSE_ERROR);
			off = len;
			break;
		case PS_CHUNK_SIZE:
		case PS_TRAILER:
			if (off == len)
				goto more;
			if (p->state == PS_CHUNK_SIZE)
				r = parser_chunk_size(p, buf + off, len - off,
				    &n);
			else
				r = parser_trailer(p, buf + off, len - off, &n);
			if (r == HTTPC_PARSE_ERROR)
				return (r);
			if (n == 0)
				goto more;
			off += n;
			break;
		case PS_CHUNK_END:
			if (off == len)
				goto more;
			if (buf[off] == '\n') {
				off++;
				p->state = PS_CHUNK_SIZE;
				break;
			}
			if (buf[off] != '\r')
				return (parser_fail(p,
				    "missing CRLF after chunk"));
			if (len - off < 2)
				goto more;
			if (buf[off + 1] != '\n')
				return (parser_fail(p,
				    "missing CRLF after chunk"));
			off += 2;
			p->state = PS_CHUNK_SIZE;
			break;
		default:
			return (parser_fail(p, "parser state"));
		}
	}
 more:
	*used = off;
	return (HTTPC_PARSE_MORE);
}

/* The connection ended: did that complete the response? */
int
httpc_parser_eof(struct httpc_parser *p)
{
	switch (p->state) {
	case PS_DONE:
		return (HTTPC_PARSE_DONE);
	case PS_ERROR:
		return (HTTPC_PARSE_ERROR);
	case PS_BODY_EOF:
		return (parser_finish(p));
	case PS_HEAD:
		return (parser_fail(p,
		    "connection closed before end of response head"));
	default:
		return (parser_fail(p, "connection closed before end of body"));
	}
}

/* First value of a response header by case-insensitive name, or NULL. */
const char *
httpc_header(const struct httpc_response *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].key, name) == 0)
			return (r->headers[i].value);
	return (NULL);
}

/*
 * Name resolution.
 */

/*
 * An evdns base for the connector, made before chroot: nameservers and
 * search list from resolv.conf, names from the hosts file (so that
 * "localhost" and test names work).  Either file may be missing; then
 * only what the other provides, and literal addresses, resolve.
 */
struct evdns_base *
httpc_dns_new_files(struct event_base *base, const char *resolv,
    const char *hosts)
{
	struct evdns_base	*dns;
	int			 r;

	/* Inactive, it must not keep the event loop from exiting. */
	if ((dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE)) ==
	    NULL)
		return (NULL);
	r = evdns_base_resolv_conf_parse(dns, DNS_OPTION_NAMESERVERS |
	    DNS_OPTION_SEARCH | DNS_OPTION_MISC |
	    DNS_OPTION_NAMESERVERS_NO_DEFAULT, resolv);
	if (r != 0 || evdns_base_count_nameservers(dns) == 0)
		log_debug("%s: no nameserver from %s (%d), names resolve "
		    "through %s only", __func__, resolv, r, hosts);
	if (evdns_base_load_hosts(dns, hosts) != 0)
		log_debug("%s: cannot load %s", __func__, hosts);
	return (dns);
}

struct evdns_base *
httpc_dns_new(struct event_base *base)
{
	return (httpc_dns_new_files(base, HTTPC_RESOLV_CONF, HTTPC_HOSTS));
}

/*
 * The client.
 */

struct httpc *
httpc_new(struct event_base *base, struct evdns_base *dns,
    const struct httpc_config *conf)
{
	struct httpc	*hc;

	if (conf->timeout_ms < 0 || conf->timeout_ms > HTTPC_TIMEOUT_MAX_MS ||
	    (conf->ca_pem == NULL && conf->ca_len > 0))
		return (NULL);
	if ((hc = calloc(1, sizeof(*hc))) == NULL)
		return (NULL);
	hc->base = base;
	hc->dns = dns;
	hc->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms :
	    HTTPC_TIMEOUT_MS;
	hc->max_body = (conf->max_body == 0 || conf->max_body >
	    HTTPC_BODY_MAX) ? HTTPC_BODY_MAX : conf->max_body;
	TAILQ_INIT(&hc->reqs);
	TAILQ_INIT(&hc->idle);

	if ((hc->tlscfg = tls_config_new()) == NULL)
		goto fail;
	if (tls_config_set_protocols(hc->tlscfg, TLS_PROTOCOLS_DEFAULT) == -1)
		goto fail;
	if (conf->ca_pem != NULL && conf->ca_len > 0) {
		if (tls_config_set_ca_mem(hc->tlscfg,
		    (const uint8_t *)conf->ca_pem, conf->ca_len) == -1) {
			log_warnx("%s: CA roots: %s", __func__,
			    tls_config_error(hc->tlscfg));
			goto fail;
		}
		hc->roots = 1;
	}
	if (conf->insecure_skip_verify) {
		/* As Go's InsecureSkipVerify: no check at all. */
		tls_config_insecure_noverifycert(hc->tlscfg);
		tls_config_insecure_noverifyname(hc->tlscfg);
		tls_config_insecure_noverifytime(hc->tlscfg);
		hc->roots = 1;
	}
	return (hc);
 fail:
	if (hc->tlscfg != NULL)
		tls_config_free(hc->tlscfg);
	free(hc);
	return (NULL);
}

/* Cancel every request (no callbacks) and close every connection. */
void
httpc_free(struct httpc *hc)
{
	struct httpc_req	*req;

	if (hc == NULL)
		return;
	while ((req = TAILQ_FIRST(&hc->reqs)) != NULL)
		httpc_cancel(req);
	while (!TAILQ_EMPTY(&hc->idle))
		httpc_conn_close(TAILQ_FIRST(&hc->idle));
	/* Connections in use hold a reference of their own. */
	tls_config_free(hc->tlscfg);
	free(hc);
}

size_t
httpc_idle_count(const struct httpc *hc)
{
	return (hc->nidle);
}

/* A caller's "Name: value": a token, a colon, no CR, LF or NUL. */
static int
httpc_header_ok(const char *h)
{
	const char	*c;
	size_t		 i, n;

	if (strnlen(h, HTTPC_REQ_HEADER_MAX + 1) > HTTPC_REQ_HEADER_MAX)
		return (0);
	for (c = h; IS_TCHAR(*c); c++)
		;
	n = c - h;
	if (n == 0 || *c != ':')
		return (0);
	for (i = 0; i < sizeof(httpc_reserved) / sizeof(httpc_reserved[0]);
	    i++)
		if (strlen(httpc_reserved[i]) == n &&
		    strncasecmp(httpc_reserved[i], h, n) == 0)
			return (0);
	for (c++; *c != '\0'; c++)
		if (!IS_FIELDCHAR(*c))
			return (0);
	return (1);
}

/* Append to a buffer sized beforehand, or only count when it is NULL. */
static void
httpc_put(char *buf, size_t *off, const char *s, size_t n)
{
	if (buf != NULL)
		memcpy(buf + *off, s, n);
	*off += n;
}

static void
httpc_puts(char *buf, size_t *off, const char *s)
{
	httpc_put(buf, off, s, strlen(s));
}

/* The whole request; twice: once to count, once to write. */
static size_t
httpc_build(char *buf, const struct httpc_req *req, const char *method,
    const char *hosthdr, const char *const *headers, const void *body,
    size_t bodylen, int post)
{
	char	 clen[32];
	size_t	 off = 0, i;

	httpc_puts(buf, &off, method);
	httpc_puts(buf, &off, " ");
	httpc_puts(buf, &off, req->url.path);
	httpc_puts(buf, &off, " HTTP/1.1\r\nHost: ");
	httpc_puts(buf, &off, hosthdr);
	httpc_puts(buf, &off, "\r\nUser-Agent: oidcd\r\n"
	    "Accept-Encoding: identity\r\nConnection: keep-alive\r\n");
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		httpc_puts(buf, &off, headers[i]);
		httpc_puts(buf, &off, "\r\n");
	}
	if (post) {
		(void)snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n",
		    bodylen);
		httpc_puts(buf, &off, clen);
	}
	httpc_puts(buf, &off, "\r\n");
	if (bodylen > 0)
		httpc_put(buf, &off, body, bodylen);
	return (off);
}

/*
 * Start a request: GET, HEAD or POST (with a body) to an http or https
 * URL, with extra "Name: value" headers.  NULL on bad arguments, which
 * includes a header the client writes itself or one with CR or LF.
 */
struct httpc_req *
httpc_request(struct httpc *hc, const char *method, const char *url,
    const char *const *headers, const void *body, size_t bodylen,
    httpc_cb cb, void *arg)
{
	struct httpc_req	*req;
	struct timeval		 tv;
	char			 hosthdr[HTTPC_HOST_MAX + 9];
	size_t			 i;
	int			 post, head, dflt;

	if (hc == NULL || method == NULL || url == NULL || cb == NULL)
		return (NULL);
	post = strcmp(method, "POST") == 0;
	head = strcmp(method, "HEAD") == 0;
	if (!post && !head && strcmp(method, "GET") != 0)
		return (NULL);
	if ((!post && bodylen > 0) || (body == NULL && bodylen > 0) ||
	    bodylen > HTTPC_REQ_BODY_MAX)
		return (NULL);
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		if (i == HTTPC_REQ_HEADERS_MAX ||
		    !httpc_header_ok(headers[i])) {
			/* Not the header itself: it may carry a secret. */
			log_debug("%s: caller header %zu refused", __func__,
			    i);
			return (NULL);
		}
	}

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return (NULL);
	if (httpc_parse_url(url, &req->url) == -1) {
		log_debug("%s: bad URL", __func__);
		free(req);
		return (NULL);
	}
	req->hc = hc;
	req->head = head;
	req->cb = cb;
	req->arg = arg;
	req->phase = "starting";
	dflt = req->url.port == (req->url.tls ? 443 : 80);
	(void)snprintf(req->hostport, sizeof(req->hostport),
	    req->url.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    req->url.host, req->url.port);
	if (dflt)
		(void)snprintf(hosthdr, sizeof(hosthdr),
		    req->url.family == AF_INET6 ? "[%s]" : "%s",
		    req->url.host);
	else
		(void)strlcpy(hosthdr, req->hostport, sizeof(hosthdr));

	req->msglen = httpc_build(NULL, req, method, hosthdr, headers, body,
	    bodylen, post);
	if ((req->msg = malloc(req->msglen)) == NULL)
		goto fail;
	(void)httpc_build(req->msg, req, method, hosthdr, headers, body,
	    bodylen, post);

	if ((req->ev_deadline = evtimer_new(hc->base, httpc_deadline,
	    req)) == NULL ||
	    (req->ev_kick = event_new(hc->base, -1, 0, httpc_kick, req)) ==
	    NULL)
		goto fail;
	tv.tv_sec = hc->timeout_ms / 1000;
	tv.tv_usec = (hc->timeout_ms % 1000) * 1000;
	if (evtimer_add(req->ev_deadline, &tv) == -1)
		goto fail;
	/* Start from the loop, so the callback never runs in here. */
	event_active(req->ev_kick, EV_TIMEOUT, 1);
	TAILQ_INSERT_TAIL(&hc->reqs, req, entry);
	return (req);
 fail:
	httpc_req_free(req);
	return (NULL);
}

/* Forget a request: its callback will not be called. */
void
httpc_cancel(struct httpc_req *req)
{
	if (req == NULL || req->done)
		return;
	TAILQ_REMOVE(&req->hc->reqs, req, entry);
	httpc_dns_cancel(req);
	httpc_detach(req, 0);
	httpc_req_free(req);
}

static void
httpc_req_free(struct httpc_req *req)
{
	if (req->parsing)
		httpc_parser_free(&req->parser);
	freezero(req->msg, req->msglen);
	if (req->ev_deadline != NULL)
		event_free(req->ev_deadline);
	if (req->ev_kick != NULL)
		event_free(req->ev_kick);
	free(req);
}

/*
 * The end of a request: the callback, then the request is freed.  The
 * connection was parked or closed before, so that the callback may do
 * anything, including free the client.
 */
static void
httpc_finish(struct httpc_req *req, const struct httpc_response *resp,
    const char *err)
{
	TAILQ_REMOVE(&req->hc->reqs, req, entry);
	httpc_dns_cancel(req);
	httpc_detach(req, 0);
	event_del(req->ev_deadline);
	event_del(req->ev_kick);
	if (err != NULL)
		log_debug("httpc: %s: %s", req->hostport, err);
	req->done = 1;
	req->cb(req, resp, err, req->arg);
	httpc_req_free(req);
}

static void
httpc_fail(struct httpc_req *req, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(req->err, sizeof(req->err), fmt, ap);
	va_end(ap);
	httpc_finish(req, NULL, req->err);
}

static void
httpc_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct httpc_req	*req = arg;

	httpc_fail(req, "%s: timeout after %d ms %s", req->hostport,
	    req->hc->timeout_ms, req->phase);
}

static int
httpc_same_origin(const struct httpc_conn *c, const struct httpc_url *u)
{
	return (c->tls == u->tls && c->port == u->port &&
	    strcmp(c->host, u->host) == 0);
}

static void
httpc_kick(evutil_socket_t fd, short ev, void *arg)
{
	struct httpc_req	*req = arg;
	struct httpc		*hc = req->hc;
	struct httpc_conn	*c;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	if (!req->fresh) {
		TAILQ_FOREACH(c, &hc->idle, entry)
			if (httpc_same_origin(c, &req->url))
				break;
		if (c != NULL) {
			TAILQ_REMOVE(&hc->idle, c, entry);
			hc->nidle--;
			c->idle = 0;
			c->req = req;
			req->conn = c;
			httpc_send(req);
			return;
		}
	}
	if (req->url.tls && !hc->roots) {
		httpc_fail(req, "%s: no CA roots to verify the server",
		    req->hostport);
		return;
	}
	req->naddrs = req->nextaddr = 0;
	req->lasterr[0] = '\0';
	if (!req->url.literal) {
		httpc_resolve(req);
		return;
	}
	memset(&req->addrs[0], 0, sizeof(req->addrs[0]));
	if (req->url.family == AF_INET6) {
		sin6 = (struct sockaddr_in6 *)&req->addrs[0];
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(req->url.port);
		(void)inet_pton(AF_INET6, req->url.host, &sin6->sin6_addr);
		req->addrlens[0] = sizeof(*sin6);
	} else {
		sin = (struct sockaddr_in *)&req->addrs[0];
		sin->sin_family = AF_INET;
		sin->sin_port = htons(req->url.port);
		(void)inet_pton(AF_INET, req->url.host, &sin->sin_addr);
		req->addrlens[0] = sizeof(*sin);
	}
	req->naddrs = 1;
	httpc_connect_next(req);
}

static void
httpc_resolve(struct httpc_req *req)
{
	struct httpc			*hc = req->hc;
	struct httpc_dnsq		*q;
	struct evdns_getaddrinfo_request *d;
	struct evutil_addrinfo		 hints;

	if (hc->dns == NULL) {
		httpc_fail(req, "%s: no resolver", req->hostport);
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		httpc_fail(req, "%s: out of memory", req->hostport);
		return;
	}
	q->req = req;
	req->dnsq = q;
	req->phase = "resolving";
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	/*
	 * NULL: answered already (hosts file, or an error), the callback
	 * has run and req may be gone.
	 */
	if ((d = evdns_getaddrinfo(hc->dns, req->url.host, NULL, &hints,
	    httpc_dns_cb, q)) == NULL)
		return;
	q->dreq = d;
	if (evdns_base_count_nameservers(hc->dns) == 0) {
		/* evdns would queue the question forever. */
		httpc_fail(req, "%s: cannot resolve: no nameserver",
		    req->hostport);
	}
}

static void
httpc_dns_cancel(struct httpc_req *req)
{
	struct httpc_dnsq	*q;

	if ((q = req->dnsq) == NULL)
		return;
	req->dnsq = NULL;
	q->req = NULL;
	/* evdns calls httpc_dns_cb() once more, later; it frees q. */
	evdns_getaddrinfo_cancel(q->dreq);
}

static void
httpc_dns_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct httpc_dnsq	*q = arg;
	struct httpc_req	*req = q->req;
	struct evutil_addrinfo	*a;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	free(q);
	if (req == NULL) {
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		return;
	}
	req->dnsq = NULL;
	if (result != 0) {
		httpc_fail(req, "%s: cannot resolve: %s", req->hostport,
		    evutil_gai_strerror(result));
		return;
	}
	for (a = ai; a != NULL && req->naddrs < HTTPC_ADDRS_MAX;
	    a = a->ai_next) {
		if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
		    a->ai_addrlen > sizeof(req->addrs[0]))
			continue;
		memcpy(&req->addrs[req->naddrs], a->ai_addr, a->ai_addrlen);
		req->addrlens[req->naddrs] = a->ai_addrlen;
		if (a->ai_family == AF_INET) {
			sin = (struct sockaddr_in *)&req->addrs[req->naddrs];
			sin->sin_port = htons(req->url.port);
		} else {
			sin6 = (struct sockaddr_in6 *)
			    &req->addrs[req->naddrs];
			sin6->sin6_port = htons(req->url.port);
		}
		req->naddrs++;
	}
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	httpc_connect_next(req);
}

/* Connect to the next address of the list, or fail the request. */
static void
httpc_connect_next(struct httpc_req *req)
{
	struct httpc		*hc = req->hc;
	struct httpc_conn	*c;
	struct sockaddr		*sa;
	int			 s;

	req->phase = "connecting";
	while (req->nextaddr < req->naddrs) {
		sa = (struct sockaddr *)&req->addrs[req->nextaddr];
		s = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (s == -1 || (connect(s, sa, req->addrlens[req->nextaddr])
		    == -1 && errno != EINPROGRESS)) {
			(void)snprintf(req->lasterr, sizeof(req->lasterr),
			    "connect: %s", strerror(errno));
			if (s != -1)
				close(s);
			req->nextaddr++;
			continue;
		}
		req->nextaddr++;
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->io = io_new(hc->base, s, httpc_conn_cb, c)) == NULL) {
			free(c);
			close(s);
			httpc_fail(req, "%s: out of memory", req->hostport);
			return;
		}
		c->hc = hc;
		c->req = req;
		c->state = CONN_CONNECT;
		c->tls = req->url.tls;
		c->port = req->url.port;
		(void)strlcpy(c->host, req->url.host, sizeof(c->host));
		req->conn = c;
		/* Leave time for the next address if this one is dead. */
		io_set_timeout(c->io, HTTPC_CONNECT_MS);
		io_connect_wait(c->io);
		return;
	}
	httpc_fail(req, "%s: %s", req->hostport, req->naddrs == 0 ?
	    "no address" : req->lasterr);
}

/* Write the request on the connection and wait for the response. */
static void
httpc_send(struct httpc_req *req)
{
	struct httpc_conn	*c = req->conn;
	char			*copy;

	c->state = CONN_UP;
	c->got = 0;
	io_set_timeout(c->io, 0);
	if (req->parsing)
		httpc_parser_free(&req->parser);
	httpc_parser_init(&req->parser, req->head, req->hc->max_body);
	req->parsing = 1;
	req->phase = "waiting for response";
	/*
	 * By reference, so that the secrets in it are wiped when the
	 * buffer lets go of it, and a copy, for a retry.
	 */
	if ((copy = malloc(req->msglen)) == NULL) {
		httpc_fail(req, "%s: out of memory", req->hostport);
		return;
	}
	memcpy(copy, req->msg, req->msglen);
	if (evbuffer_add_reference(io_output(c->io), copy, req->msglen,
	    httpc_msg_cleanup, copy) == -1) {
		freezero(copy, req->msglen);
		httpc_fail(req, "%s: out of memory", req->hostport);
		return;
	}
	io_reload(c->io);
}

static void
httpc_msg_cleanup(const void *data, size_t len, void *copy)
{
	freezero(copy, len);
}

/*
 * Let go of the request's connection: back to the idle pool when the
 * response left it clean and reusable, else closed.
 */
static void
httpc_detach(struct httpc_req *req, int reuse)
{
	struct httpc_conn	*c;

	if ((c = req->conn) == NULL)
		return;
	req->conn = NULL;
	c->req = NULL;
	if (reuse)
		httpc_park(c);
	else
		httpc_conn_close(c);
}

static void
httpc_park(struct httpc_conn *c)
{
	struct httpc		*hc = c->hc;
	struct httpc_conn	*o;

	/* One idle connection per origin: the newest. */
	TAILQ_FOREACH(o, &hc->idle, entry)
		if (o->tls == c->tls && o->port == c->port &&
		    strcmp(o->host, c->host) == 0)
			break;
	if (o != NULL)
		httpc_conn_close(o);
	if (hc->nidle >= HTTPC_IDLE_MAX)
		httpc_conn_close(TAILQ_FIRST(&hc->idle));
	c->reused = 1;
	c->got = 0;
	c->idle = 1;
	TAILQ_INSERT_TAIL(&hc->idle, c, entry);
	hc->nidle++;
	/* Read on: the server's close or a timeout ends it. */
	io_set_timeout(c->io, HTTPC_IDLE_MS);
}

static void
httpc_conn_close(struct httpc_conn *c)
{
	if (c->idle) {
		TAILQ_REMOVE(&c->hc->idle, c, entry);
		c->hc->nidle--;
	}
	io_free(c->io);
	free(c);
}

static void
httpc_input(struct httpc_req *req)
{
	struct httpc_conn	*c = req->conn;
	struct evbuffer		*in = io_input(c->io);
	const char		*data;
	size_t			 len, used;
	int			 r, reuse;

	if ((len = evbuffer_get_length(in)) == 0)
		return;
	c->got = 1;
	if ((data = (const char *)evbuffer_pullup(in, -1)) == NULL) {
		httpc_fail(req, "%s: out of memory", req->hostport);
		return;
	}
	r = httpc_parser_feed(&req->parser, data, len, &used);
	(void)evbuffer_drain(in, used);
	if (r == HTTPC_PARSE_MORE) {
		if (req->parser.state != PS_HEAD)
			req->phase = "reading body";
		return;
	}
	if (r == HTTPC_PARSE_ERROR) {
		httpc_fail(req, "%s: bad response: %s", req->hostport,
		    req->parser.error);
		return;
	}
	/* Bytes beyond the response, or unsent request bytes: not clean. */
	reuse = req->parser.keepalive && evbuffer_get_length(in) == 0 &&
	    evbuffer_get_length(io_output(c->io)) == 0;
	httpc_detach(req, reuse);
	httpc_finish(req, &req->parser.resp, NULL);
}

static void
httpc_conn_cb(struct io *io, int evt, void *arg)
{
	struct httpc_conn	*c = arg;
	struct httpc_req	*req = c->req;
	struct tls		*ctx;
	char			 why[HTTPC_ERR_MAX];

	if (req == NULL) {
		/* Idle: the server closed, spoke out of turn, or timeout. */
		httpc_conn_close(c);
		return;
	}

	switch (evt) {
	case IO_CONNECTED:
		if (!c->tls) {
			httpc_send(req);
			return;
		}
		if ((ctx = tls_client()) == NULL) {
			httpc_fail(req, "%s: tls_client failed",
			    req->hostport);
			return;
		}
		if (tls_configure(ctx, c->hc->tlscfg) == -1) {
			(void)snprintf(why, sizeof(why), "%s", tls_error(ctx));
			tls_free(ctx);
			httpc_fail(req, "%s: %s", req->hostport, why);
			return;
		}
		/* libtls sends no SNI for an address, checks it as one. */
		if (io_connect_tls(io, ctx, c->host) == -1) {
			tls_free(ctx);
			httpc_fail(req, "%s: %s", req->hostport, io_error(io));
			return;
		}
		c->state = CONN_HANDSHAKE;
		req->phase = "in TLS handshake";
		io_set_timeout(io, HTTPC_CONNECT_MS);
		return;
	case IO_TLSREADY:
		httpc_send(req);
		return;
	case IO_DATAIN:
		httpc_input(req);
		return;
	case IO_LOWAT:
		return;
	case IO_TIMEOUT:
	case IO_ERROR:
	case IO_DISCONNECTED:
		break;
	default:
		return;
	}

	if (c->state == CONN_CONNECT) {
		/* This address failed: try the next one. */
		if (evt == IO_TIMEOUT)
			(void)strlcpy(req->lasterr, "connect: timed out",
			    sizeof(req->lasterr));
		else
			(void)strlcpy(req->lasterr, io_error(io),
			    sizeof(req->lasterr));
		httpc_detach(req, 0);
		httpc_connect_next(req);
		return;
	}
	if (c->state == CONN_HANDSHAKE) {
		httpc_fail(req, "%s: TLS handshake: %s", req->hostport,
		    evt == IO_TIMEOUT ? "timed out" : evt == IO_DISCONNECTED ?
		    "connection closed" : io_error(io));
		return;
	}
	if (evt == IO_DISCONNECTED && req->parsing) {
		/* The parser has seen every byte read: IO_DATAIN came first. */
		if (httpc_parser_eof(&req->parser) == HTTPC_PARSE_DONE) {
			httpc_detach(req, 0);
			httpc_finish(req, &req->parser.resp, NULL);
			return;
		}
	}
	if (c->reused && !c->got && !req->retried) {
		/*
		 * The server closed the idle connection as we reused it.
		 * Nothing came back, so nothing was processed twice:
		 * once more on a new connection.
		 */
		req->retried = 1;
		req->fresh = 1;
		httpc_detach(req, 0);
		log_debug("httpc: %s: reused connection failed, retrying",
		    req->hostport);
		event_active(req->ev_kick, EV_TIMEOUT, 1);
		return;
	}
	if (evt == IO_DISCONNECTED)
		httpc_fail(req, "%s: %s", req->hostport, c->got ?
		    req->parser.error : "connection closed before response");
	else
		httpc_fail(req, "%s: %s", req->hostport, io_error(io));
}
