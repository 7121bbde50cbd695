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
 * Tests of the outbound HTTP client (oidcd/httpc.c).  Everything runs on
 * one event base: small scripted servers on loopback answer each
 * request they read with the next canned reply and then keep the
 * connection, close it, drop it unanswered or stay silent; the TLS
 * tests use our own server engine (server.c) with a throwaway CA made
 * with the openssl command.  Names resolve through a hosts file of the
 * test's own and, for "localhost", through /etc/hosts.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "http.h"
#include "httpc.h"
#include "tap.h"

static struct event_base	*base;

/*
 * Scripted servers.
 */

#define ACT_KEEP	0	/* answer, keep the connection */
#define ACT_CLOSE	1	/* answer, then close */
#define ACT_SILENT	2	/* read, never answer */
#define ACT_DROP	3	/* close without answering */

struct step {
	const char	*resp;		/* NULL: srv->big */
	int		 act;
};

struct sconn;

struct srv {
	int			 fd;
	int			 port;
	struct event		*ev;
	const struct step	*steps;
	size_t			 nsteps;
	int			 naccept;
	int			 nreq;
	char			 req[16384];	/* the last request read */
	char			*big;		/* a reply made at run time */
	size_t			 biglen;
	LIST_HEAD(, sconn)	 conns;
};

struct sconn {
	LIST_ENTRY(sconn)	 entry;
	struct srv		*srv;
	int			 fd;
	struct event		*rev;
	struct event		*wev;
	struct evbuffer		*in;
	struct evbuffer		*out;
	int			 closing;
};

static void
sconn_free(struct sconn *sc)
{
	LIST_REMOVE(sc, entry);
	event_free(sc->rev);
	event_free(sc->wev);
	evbuffer_free(sc->in);
	evbuffer_free(sc->out);
	close(sc->fd);
	free(sc);
}

static void
sconn_write(evutil_socket_t fd, short ev, void *arg)
{
	struct sconn	*sc = arg;

	if (evbuffer_write(sc->out, fd) == -1 && errno != EAGAIN) {
		sconn_free(sc);
		return;
	}
	if (evbuffer_get_length(sc->out) > 0) {
		event_add(sc->wev, NULL);
		return;
	}
	if (sc->closing)
		sconn_free(sc);
}

/* A whole request in the input buffer: its length, else 0. */
static size_t
sconn_request(struct sconn *sc)
{
	struct evbuffer_ptr	 p;
	char			*head, *cl;
	size_t			 hlen, blen = 0;

	p = evbuffer_search(sc->in, "\r\n\r\n", 4, NULL);
	if (p.pos == -1)
		return (0);
	hlen = p.pos + 4;
	head = (char *)evbuffer_pullup(sc->in, hlen);
	if ((cl = memmem(head, hlen, "Content-Length: ", 16)) != NULL)
		blen = strtoul(cl + 16, NULL, 10);
	if (evbuffer_get_length(sc->in) < hlen + blen)
		return (0);
	return (hlen + blen);
}

static void
sconn_read(evutil_socket_t fd, short ev, void *arg)
{
	struct sconn		*sc = arg;
	struct srv		*s = sc->srv;
	const struct step	*st;
	size_t			 n;
	int			 r;

	if ((r = evbuffer_read(sc->in, fd, 65536)) <= 0) {
		if (r == -1 && errno == EAGAIN)
			return;
		sconn_free(sc);
		return;
	}
	while ((n = sconn_request(sc)) > 0) {
		memset(s->req, 0, sizeof(s->req));
		(void)evbuffer_remove(sc->in, s->req, n < sizeof(s->req) - 1 ?
		    n : sizeof(s->req) - 1);
		if (n >= sizeof(s->req))
			(void)evbuffer_drain(sc->in, n - (sizeof(s->req) - 1));
		st = &s->steps[(size_t)s->nreq < s->nsteps ? (size_t)s->nreq :
		    s->nsteps - 1];
		s->nreq++;
		if (st->act == ACT_SILENT)
			continue;
		if (st->act == ACT_DROP) {
			sconn_free(sc);
			return;
		}
		if (st->resp != NULL)
			evbuffer_add(sc->out, st->resp, strlen(st->resp));
		else
			evbuffer_add(sc->out, s->big, s->biglen);
		sc->closing = st->act == ACT_CLOSE;
		event_add(sc->wev, NULL);
		if (sc->closing) {
			event_del(sc->rev);
			return;
		}
	}
}

static void
srv_accept(evutil_socket_t fd, short ev, void *arg)
{
	struct srv	*s = arg;
	struct sconn	*sc;
	int		 c;

	if ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) == -1)
		return;
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		exit(1);
	sc->srv = s;
	sc->fd = c;
	sc->in = evbuffer_new();
	sc->out = evbuffer_new();
	sc->rev = event_new(base, c, EV_READ | EV_PERSIST, sconn_read, sc);
	sc->wev = event_new(base, c, EV_WRITE, sconn_write, sc);
	event_add(sc->rev, NULL);
	LIST_INSERT_HEAD(&s->conns, sc, entry);
	s->naccept++;
}

static int
listen_on(int family, int *port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 s, one = 1;

	if ((s = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return (-1);
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	}
	if (bind(s, (struct sockaddr *)&ss, len) == -1 ||
	    listen(s, 16) == -1 ||
	    getsockname(s, (struct sockaddr *)&ss, &len) == -1) {
		close(s);
		return (-1);
	}
	*port = ntohs(family == AF_INET6 ? sin6->sin6_port : sin->sin_port);
	return (s);
}

static struct srv *
srv_new6(const struct step *steps, size_t nsteps, int family)
{
	struct srv	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		exit(1);
	LIST_INIT(&s->conns);
	s->steps = steps;
	s->nsteps = nsteps;
	if ((s->fd = listen_on(family, &s->port)) == -1) {
		free(s);
		return (NULL);
	}
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, srv_accept, s);
	event_add(s->ev, NULL);
	return (s);
}

static struct srv *
srv_new(const struct step *steps, size_t nsteps)
{
	struct srv	*s;

	if ((s = srv_new6(steps, nsteps, AF_INET)) == NULL)
		exit(1);
	return (s);
}

static void
srv_free(struct srv *s)
{
	while (!LIST_EMPTY(&s->conns))
		sconn_free(LIST_FIRST(&s->conns));
	event_free(s->ev);
	close(s->fd);
	free(s->big);
	free(s);
}

static const char *
url(const struct srv *s, const char *path)
{
	static char	buf[256];

	(void)snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", s->port,
	    path);
	return (buf);
}

/*
 * The client side.
 */

struct res {
	int		 called;
	int		 status;
	char		 err[HTTPC_ERR_MAX];
	char		*body;
	size_t		 bodylen;
	size_t		 nheaders;
	char		 ctype[128];
	char		 location[256];
	char		 xtest[64];
	struct httpc	*free_hc;	/* httpc_free() it in the callback */
	struct httpc_req *cancel;	/* httpc_cancel() it in the callback */
	struct httpc	*again_hc;	/* start a request in the callback */
	const char	*again_url;
	struct res	*again_res;
};

static void	done_cb(struct httpc_req *, const struct httpc_response *,
		    const char *, void *);

static void
copy_hdr(char *dst, size_t sz, const struct httpc_response *r,
    const char *name)
{
	const char	*v;

	if ((v = httpc_header(r, name)) != NULL)
		(void)snprintf(dst, sz, "%s", v);
}

static void
done_cb(struct httpc_req *req, const struct httpc_response *r,
    const char *err, void *arg)
{
	struct res	*res = arg;

	res->called++;
	if ((r == NULL) == (err == NULL))
		res->status = -2;	/* exactly one must be set */
	else if (err != NULL) {
		res->status = -1;
		(void)snprintf(res->err, sizeof(res->err), "%s", err);
	} else {
		res->status = r->status;
		free(res->body);
		if ((res->body = malloc(r->bodylen + 1)) == NULL)
			exit(1);
		memcpy(res->body, r->body, r->bodylen + 1);
		res->bodylen = r->bodylen;
		res->nheaders = r->nheaders;
		copy_hdr(res->ctype, sizeof(res->ctype), r, "content-type");
		copy_hdr(res->location, sizeof(res->location), r, "Location");
		copy_hdr(res->xtest, sizeof(res->xtest), r, "X-TEST");
	}
	if (res->cancel != NULL)
		httpc_cancel(res->cancel);
	if (res->again_hc != NULL)
		(void)httpc_request(res->again_hc, "GET", res->again_url, NULL,
		    NULL, 0, done_cb, res->again_res);
	if (res->free_hc != NULL)
		httpc_free(res->free_hc);
	event_base_loopbreak(base);
}

static int	expired;

static void
expire_cb(evutil_socket_t fd, short ev, void *arg)
{
	expired = 1;
}

/* Run the loop until res has its answer or ms pass. */
static void
wait_res(struct res *res, int ms)
{
	struct event	*t;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	expired = 0;
	t = evtimer_new(base, expire_cb, NULL);
	evtimer_add(t, &tv);
	while (!expired && (res == NULL || !res->called))
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
}

static void
run_for(int ms)
{
	wait_res(NULL, ms);
}

static void
res_reset(struct res *res)
{
	free(res->body);
	memset(res, 0, sizeof(*res));
}

static int
do_req(struct httpc *hc, const char *method, const char *u,
    const char *const *hdrs, const char *body, struct res *res)
{
	res_reset(res);
	if (httpc_request(hc, method, u, hdrs, body, body ? strlen(body) : 0,
	    done_cb, res) == NULL)
		return (-3);
	wait_res(res, 8000);
	return (res->called == 1 ? res->status : -4);
}

static int
get(struct httpc *hc, const char *u, struct res *res)
{
	return (do_req(hc, "GET", u, NULL, NULL, res));
}

static struct httpc *
client(int timeout_ms, size_t max_body)
{
	struct httpc_config	 c;
	struct httpc		*hc;

	memset(&c, 0, sizeof(c));
	c.timeout_ms = timeout_ms;
	c.max_body = max_body;
	if ((hc = httpc_new(base, NULL, &c)) == NULL)
		exit(1);
	return (hc);
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Pure functions.
 */

static void
test_url(void)
{
	static const char	*bad[] = {
		"ftp://h/", "https//h/", "https:/h/", "//h/", "https://",
		"https:///x", "https://user@h/", "https://u:p@h/",
		"https://h@/", "https://h:0/", "https://h:65536/",
		"https://h:/", "https://h:80x/", "https://h:123456/",
		"https://[::1/", "https://[::1]x/", "https://[]/",
		"https://[fe80::1%25eth0]/", "https://[1.2.3.4]/",
		"https://h/a b", "https://h/\x01", "https://h/\x7f",
		"https://h/\xc3\xa9", "https://ex ample/", "https://h\t/",
		"https://-h/", "https://.h/", "https://h%41/",
		"http://h:-1/",
	};
	struct httpc_url	 u;
	char			*big;
	size_t			 i;

	ok(httpc_parse_url("http://localhost:9000/application/o/dex/",
	    &u) == 0 && !u.tls && u.port == 9000 && !u.literal &&
	    strcmp(u.host, "localhost") == 0 &&
	    strcmp(u.path, "/application/o/dex/") == 0,
	    "url: http issuer with port and path");
	ok(httpc_parse_url("HTTPS://Accounts.Example.COM", &u) == 0 &&
	    u.tls && u.port == 443 && strcmp(u.host,
	    "accounts.example.com") == 0 && strcmp(u.path, "/") == 0,
	    "url: scheme and host case, default port, empty path");
	ok(httpc_parse_url("https://[::1]:8443/x?y=1#frag", &u) == 0 &&
	    u.tls && u.literal && u.family == AF_INET6 && u.port == 8443 &&
	    strcmp(u.host, "::1") == 0 && strcmp(u.path, "/x?y=1") == 0,
	    "url: IPv6 literal, query kept, fragment dropped");
	ok(httpc_parse_url("http://127.0.0.1/keys", &u) == 0 && u.literal &&
	    u.family == AF_INET && u.port == 80, "url: IPv4 literal");
	ok(httpc_parse_url("https://h?q=1", &u) == 0 &&
	    strcmp(u.path, "/?q=1") == 0, "url: query without path");
	ok(httpc_parse_url("https://h#f", &u) == 0 &&
	    strcmp(u.path, "/") == 0, "url: fragment only");
	ok(httpc_parse_url("https://h:65535/%41%2F", &u) == 0 &&
	    u.port == 65535 && strcmp(u.path, "/%41%2F") == 0,
	    "url: highest port, escapes kept");
	ok(httpc_parse_url("https://1.2.3/", &u) == 0 && !u.literal,
	    "url: not a dotted quad is a name");
	ok(httpc_parse_url("https://my_host.internal/", &u) == 0,
	    "url: underscore in a name");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(httpc_parse_url(bad[i], &u) == -1, "url refused: %zu", i);

	if ((big = malloc(HTTPC_URL_MAX + 2)) == NULL)
		exit(1);
	memset(big, 'a', HTTPC_URL_MAX + 1);
	memcpy(big, "https://h/", 10);
	big[HTTPC_URL_MAX + 1] = '\0';
	ok(httpc_parse_url(big, &u) == -1, "url: over the length limit");
	big[HTTPC_URL_MAX] = '\0';
	ok(httpc_parse_url(big, &u) == 0, "url: at the length limit");
	memset(big, 'a', HTTPC_HOST_MAX + 1);
	memcpy(big, "https://", 8);
	big[8 + HTTPC_HOST_MAX + 1] = '\0';
	ok(httpc_parse_url(big, &u) == -1, "url: host too long");
	big[8 + HTTPC_HOST_MAX] = '\0';
	ok(httpc_parse_url(big, &u) == 0, "url: longest host");
	free(big);
}

static void
test_form(void)
{
	struct httpc_form	 f;
	char			*big;
	size_t			 len;

	memset(&f, 0, sizeof(f));
	ok(httpc_form_add(&f, "grant_type", "authorization_code") == 0 &&
	    httpc_form_add(&f, "redirect_uri",
	    "https://a.example/cb?x=1 2&y") == 0 &&
	    httpc_form_add(&f, "code", "a+b/c~._-\xc3\xa9") == 0 &&
	    httpc_form_add(&f, "empty", "") == 0, "form: pairs added");
	is_str(f.buf, "grant_type=authorization_code&redirect_uri="
	    "https%3A%2F%2Fa.example%2Fcb%3Fx%3D1+2%26y&"
	    "code=a%2Bb%2Fc~._-%C3%A9&empty=", "form: encoded as Go does");
	is_int(f.len, strlen(f.buf), "form: length");
	len = f.len;
	ok(httpc_form_add(&f, "", "x") == -1, "form: empty key refused");
	if ((big = malloc(HTTPC_REQ_BODY_MAX + 1)) == NULL)
		exit(1);
	memset(big, 'v', HTTPC_REQ_BODY_MAX);
	big[HTTPC_REQ_BODY_MAX] = '\0';
	ok(httpc_form_add(&f, "big", big) == -1 && f.len == len,
	    "form: over the body limit refused, buffer unchanged");
	big[HTTPC_REQ_BODY_MAX - len - 5] = '\0';
	ok(httpc_form_add(&f, "big", big) == 0 &&
	    f.len == HTTPC_REQ_BODY_MAX, "form: up to the body limit");
	free(big);
	httpc_form_free(&f);
	ok(f.buf == NULL && f.len == 0, "form: freed");
}

static void
test_basic(void)
{
	char	*s;

	s = httpc_basic_auth("Aladdin", "open sesame");
	is_str(s, "Authorization: Basic QWxhZGRpbjpvcGVuK3Nlc2FtZQ==",
	    "basic: space form-encoded before base64");
	free(s);
	s = httpc_basic_auth("client id", "p@ss:word/+");
	is_str(s, "Authorization: Basic "
	    "Y2xpZW50K2lkOnAlNDBzcyUzQXdvcmQlMkYlMkI=",
	    "basic: reserved characters escaped (RFC 6749 2.3.1)");
	free(s);
	s = httpc_basic_auth("", "");
	is_str(s, "Authorization: Basic Og==", "basic: empty id and secret");
	free(s);
}

/* Responses the parser takes or refuses, fed whole and byte by byte. */
#define PARSE(s, head, max, bw, p)					\
	parse_all((s), sizeof(s) - 1, (head), (max), (bw), (p))

static int
parse_all(const char *in, size_t len, int head, size_t max, int bytewise,
    struct httpc_parser *p)
{
	char	*acc;
	size_t	 have = 0, pos = 0, used, step;
	int	 r = HTTPC_PARSE_MORE;

	httpc_parser_init(p, head, max);
	if ((acc = malloc(len + 1)) == NULL)
		exit(1);
	while (pos < len) {
		step = bytewise ? 1 : len - pos;
		memcpy(acc + have, in + pos, step);
		have += step;
		pos += step;
		r = httpc_parser_feed(p, acc, have, &used);
		if (used > have)
			r = -99;
		memmove(acc, acc + used, have - used);
		have -= used;
		if (r != HTTPC_PARSE_MORE)
			break;
	}
	if (r == HTTPC_PARSE_MORE)
		r = httpc_parser_eof(p);
	free(acc);
	return (r);
}

static void
test_parser(void)
{
	static const struct {
		const char	*in;
		int		 head;
		int		 rc;
		int		 status;
		const char	*body;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0,
		    1, 200, "hello" },
		{ "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", 0,
		    1, 200, "ok" },
		{ "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 0,
		    1, 200, "ok" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5;a=b\r\nhello\r\nA \r\n0123456789\r\n0\r\nT: v\r\n\r\n",
		    0, 1, 200, "hello0123456789" },
		{ "HTTP/1.0 200 OK\r\n\r\nuntil close", 0, 1, 200,
		    "until close" },
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\n"
		    "Link: </s>\r\n\r\nHTTP/1.1 201 Created\r\n"
		    "Content-Length: 0\r\n\r\n", 0, 1, 201, "" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 1, 1, 200,
		    "" },
		{ "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", 0,
		    1, 204, "" },
		{ "HTTP/1.1 304 Not Modified\r\n\r\n", 0, 1, 304, "" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2"
		    "\r\n\r\nok", 0, 1, 200, "ok" },
		{ "HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\n"
		    "Content-Length: 2\r\n\r\nok", 0, 1, 200, "ok" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3"
		    "\r\n\r\nok", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", 0,
		    -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999"
		    "\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, -1, 0,
		    NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
		    "\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
		    "Content-Length: 2\r\n\r\nok", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "zz\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "ffffffffffffffffffffffff\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "2\r\nokX\r\n0\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "2 x\r\nok\r\n0\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "2\r\nok\r\n0\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0,
		    -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nX : a\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/2.0 200 OK\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 99 Low\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 600 High\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 2000 OK\r\n\r\n", 0, -1, 0, NULL },
		{ "HTTP/1.1 101 Switching\r\n\r\n", 0, -1, 0, NULL },
		{ "SSH-2.0-OpenSSH_9.2\r\n", 0, -1, 0, NULL },
		{ "", 0, -1, 0, NULL },
	};
	struct httpc_parser	 p;
	size_t			 i, n, len;
	int			 bw, r;
	char			*big;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (bw = 0; bw <= 1; bw++) {
			r = parse_all(cases[i].in, strlen(cases[i].in),
			    cases[i].head, 0, bw, &p);
			if (cases[i].rc == 1)
				ok(r == HTTPC_PARSE_DONE &&
				    p.resp.status == cases[i].status &&
				    p.resp.bodylen == strlen(cases[i].body) &&
				    strcmp(p.resp.body, cases[i].body) == 0,
				    "parser case %zu%s: %d %s", i,
				    bw ? " bytewise" : "", r,
				    r == -1 ? p.error : "");
			else
				ok(r == HTTPC_PARSE_ERROR && p.error != NULL,
				    "parser case %zu%s refused (%s)", i,
				    bw ? " bytewise" : "",
				    p.error ? p.error : "-");
			httpc_parser_free(&p);
		}
	}

	/* Keep-alive as the response says. */
	r = PARSE("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, 0,
	    &p);
	ok(r == 1 && p.keepalive, "parser: 1.1 keeps the connection");
	httpc_parser_free(&p);
	r = PARSE("HTTP/1.1 200 OK\r\nConnection: x, Close\r\n"
	    "Content-Length: 0\r\n\r\n", 0, 0, 0, &p);
	ok(r == 1 && !p.keepalive, "parser: Connection: close");
	httpc_parser_free(&p);
	r = PARSE("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, 0,
	    &p);
	ok(r == 1 && !p.keepalive, "parser: 1.0 closes by default");
	httpc_parser_free(&p);
	r = PARSE("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 0\r\n\r\n", 0, 0, 0, &p);
	ok(r == 1 && p.keepalive, "parser: 1.0 with keep-alive");
	httpc_parser_free(&p);
	r = PARSE("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 0, 0, &p);
	ok(r == 1 && !p.keepalive, "parser: chunked 1.0 is not kept");
	httpc_parser_free(&p);

	/* Limits. */
	if ((big = malloc(3 * HTTPC_HEADERBLOCK_MAX)) == NULL)
		exit(1);
	memset(big, 'a', 3 * HTTPC_HEADERBLOCK_MAX);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	r = parse_all(big, HTTPC_HEADERBLOCK_MAX + 1, 0, 0, 0, &p);
	ok(r == -1 && strstr(p.error, "header") != NULL,
	    "parser: header block over the limit (%s)", p.error);
	httpc_parser_free(&p);
	memcpy(big + HTTPC_HEADERBLOCK_MAX - 4, "\r\n\r\n", 4);
	r = parse_all(big, HTTPC_HEADERBLOCK_MAX, 0, 0, 0, &p);
	ok(r == 1 && p.resp.nheaders == 1,
	    "parser: header block at the limit");
	httpc_parser_free(&p);
	memset(big, 'a', HTTPC_STATUSLINE_MAX + 20);
	memcpy(big, "HTTP/1.1 200 ", 13);
	r = parse_all(big, HTTPC_STATUSLINE_MAX + 20, 0, 0, 0, &p);
	ok(r == -1 && strstr(p.error, "status line") != NULL,
	    "parser: status line too long");
	httpc_parser_free(&p);
	/* HTTPC_HEADERS_MAX fields pass, one more does not. */
	for (n = HTTPC_HEADERS_MAX; n <= HTTPC_HEADERS_MAX + 1; n++) {
		memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
		len = 17;
		for (i = 0; i < n; i++, len += 7)
			memcpy(big + len, "X: 12\r\n", 7);
		memcpy(big + len, "\r\n", 2);
		r = parse_all(big, len + 2, 0, 0, 0, &p);
		if (n == HTTPC_HEADERS_MAX)
			ok(r == 1 && p.resp.nheaders == n,
			    "parser: header count at the limit");
		else
			ok(r == -1 && strstr(p.error, "too many") != NULL,
			    "parser: header count over the limit");
		httpc_parser_free(&p);
	}
	r = PARSE("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"
	    "0123456789a", 0, 10, 0, &p);
	ok(r == -1 && strstr(p.error, "too large") != NULL,
	    "parser: Content-Length over max_body");
	httpc_parser_free(&p);
	r = PARSE("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
	    "0123456789", 0, 10, 0, &p);
	ok(r == 1 && p.resp.bodylen == 10, "parser: body at max_body");
	httpc_parser_free(&p);
	r = PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "6\r\n012345\r\n5\r\n01234\r\n0\r\n\r\n", 0, 10, 1, &p);
	ok(r == -1 && strstr(p.error, "too large") != NULL,
	    "parser: chunks adding up over max_body");
	httpc_parser_free(&p);
	r = PARSE("HTTP/1.1 200 OK\r\n\r\n0123456789a", 0, 10, 1, &p);
	ok(r == -1 && strstr(p.error, "too large") != NULL,
	    "parser: read-until-close over max_body");
	httpc_parser_free(&p);
	memset(big, 'a', 3 * HTTPC_HEADERBLOCK_MAX);
	memcpy(big, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	for (i = 1; i <= HTTPC_INTERIM_MAX; i++)
		memcpy(big + i * 25, big, 25);
	r = parse_all(big, (HTTPC_INTERIM_MAX + 1) * 25, 0, 0, 0, &p);
	ok(r == -1 && strstr(p.error, "interim") != NULL,
	    "parser: too many interim responses");
	httpc_parser_free(&p);
	free(big);
}

/* What httpc_request() refuses before any I/O. */
static void
test_refused(void)
{
	struct httpc		*hc = client(0, 0);
	struct httpc_req	*rq;
	struct res		 res;
	const char		*u = "http://127.0.0.1:9/";
	const char		*bad1[] = { "X-A: b\r\nX-Evil: 1", NULL };
	const char		*bad2[] = { "X-A: b\nc", NULL };
	const char		*bad3[] = { "Bad Name: x", NULL };
	const char		*bad4[] = { ": x", NULL };
	const char		*bad5[] = { "NoColon", NULL };
	const char		*bad6[] = { "Host: evil", NULL };
	const char		*bad7[] = { "content-length: 5", NULL };
	const char		*bad8[] = { "Transfer-Encoding: chunked",
				    NULL };
	const char		*bad9[] = { "X-A: \x01", NULL };
	const char		*bad10[] = { "Connection: close", NULL };
	const char		*good[] = { "X-Tab: a\tb", "Accept: */*",
				    NULL };
	const char *const	*bads[] = { bad1, bad2, bad3, bad4, bad5,
				    bad6, bad7, bad8, bad9, bad10 };
	const char		*many[HTTPC_REQ_HEADERS_MAX + 2];
	char			*longh, *body;
	size_t			 i;

	memset(&res, 0, sizeof(res));
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		ok(httpc_request(hc, "GET", u, bads[i], NULL, 0, done_cb,
		    &res) == NULL, "request refused: header %zu", i);
	for (i = 0; i <= HTTPC_REQ_HEADERS_MAX; i++)
		many[i] = "X-Many: 1";
	many[i] = NULL;
	ok(httpc_request(hc, "GET", u, many, NULL, 0, done_cb, &res) == NULL,
	    "request refused: too many headers");
	many[HTTPC_REQ_HEADERS_MAX] = NULL;
	ok((rq = httpc_request(hc, "GET", u, many, NULL, 0, done_cb,
	    &res)) != NULL, "request: headers at the limit");
	httpc_cancel(rq);
	if ((longh = malloc(HTTPC_REQ_HEADER_MAX + 2)) == NULL)
		exit(1);
	memset(longh, 'a', HTTPC_REQ_HEADER_MAX + 1);
	memcpy(longh, "X-Long: ", 8);
	longh[HTTPC_REQ_HEADER_MAX + 1] = '\0';
	many[0] = longh;
	many[1] = NULL;
	ok(httpc_request(hc, "GET", u, many, NULL, 0, done_cb, &res) == NULL,
	    "request refused: header too long");
	free(longh);
	ok(httpc_request(hc, "PUT", u, NULL, NULL, 0, done_cb, &res) == NULL,
	    "request refused: method PUT");
	ok(httpc_request(hc, "get", u, NULL, NULL, 0, done_cb, &res) == NULL,
	    "request refused: method in lower case");
	ok(httpc_request(hc, "GET", u, NULL, "x", 1, done_cb, &res) == NULL,
	    "request refused: GET with a body");
	ok(httpc_request(hc, "POST", u, NULL, NULL, 3, done_cb, &res) ==
	    NULL, "request refused: body length without body");
	if ((body = calloc(1, HTTPC_REQ_BODY_MAX + 1)) == NULL)
		exit(1);
	ok(httpc_request(hc, "POST", u, NULL, body, HTTPC_REQ_BODY_MAX + 1,
	    done_cb, &res) == NULL, "request refused: body too large");
	free(body);
	ok(httpc_request(hc, "GET", "http://h/\r\nX: y", NULL, NULL, 0,
	    done_cb, &res) == NULL, "request refused: CRLF in the URL");
	ok(httpc_request(hc, "GET", "https://u:p@h/", NULL, NULL, 0,
	    done_cb, &res) == NULL, "request refused: userinfo in the URL");
	ok(httpc_request(hc, "GET", u, NULL, NULL, 0, NULL, &res) == NULL,
	    "request refused: no callback");
	ok((rq = httpc_request(hc, "GET", u, good, NULL, 0, done_cb,
	    &res)) != NULL, "request: tab in a header value is fine");
	/* Cancelled before the loop ran: nothing happens at all. */
	httpc_cancel(rq);
	run_for(50);
	is_int(res.called, 0, "cancelled at once: no callback");
	httpc_free(hc);
}

/*
 * Over the network.
 */

static void
test_bodies(void)
{
	static const struct step steps[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "X-Test: one\r\nContent-Length: 13\r\n\r\n"
		    "{\"ok\": true}\n", ACT_KEEP },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5;name=val\r\nhello\r\n7 ; x=\"y\"\r\n, world\r\n"
		    "A\r\n0123456789\r\n0\r\nX-Trailer: t\r\nY: z\r\n\r\n",
		    ACT_KEEP },
		{ "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
		    ACT_KEEP },
		{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
		    ACT_KEEP },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
		    ACT_KEEP },
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
		    "Link: </style.css>; rel=preload\r\n\r\n"
		    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal",
		    ACT_KEEP },
		{ "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/x\r\n"
		    "Content-Length: 0\r\n\r\n", ACT_KEEP },
		{ "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope",
		    ACT_KEEP },
		{ "HTTP/1.0 200 OK\r\n\r\nuntil close", ACT_CLOSE },
	};
	static const struct step close11[] = {
		{ "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nno length",
		    ACT_CLOSE },
	};
	struct httpc	*hc = client(3000, 0);
	struct srv	*s = srv_new(steps, sizeof(steps) / sizeof(steps[0]));
	struct res	 res;
	int		 nreq;

	memset(&res, 0, sizeof(res));
	is_int(get(hc, url(s, "/cl"), &res), 200, "Content-Length: status");
	ok(res.bodylen == 13 && strcmp(res.body, "{\"ok\": true}\n") == 0,
	    "Content-Length: body");
	is_str(res.ctype, "application/json", "header by lower-case name");
	is_str(res.xtest, "one", "header by upper-case name");
	is_int(res.nheaders, 3, "header count");

	is_int(get(hc, url(s, "/chunked"), &res), 200, "chunked: status");
	is_str(res.body, "hello, world0123456789",
	    "chunked: extensions and trailers skipped");

	is_int(get(hc, url(s, "/204"), &res), 204, "204: status");
	is_int(res.bodylen, 0, "204: no body despite Content-Length");
	is_int(get(hc, url(s, "/304"), &res), 304, "304: status");
	is_int(res.bodylen, 0, "304: no body");
	is_int(do_req(hc, "HEAD", url(s, "/head"), NULL, NULL, &res), 200,
	    "HEAD: status");
	is_int(res.bodylen, 0, "HEAD: no body despite Content-Length");
	ok(strncmp(s->req, "HEAD /head HTTP/1.1\r\n", 21) == 0,
	    "HEAD: request line");
	is_int(get(hc, url(s, "/continue"), &res), 200,
	    "1xx skipped: final status");
	is_str(res.body, "final", "1xx skipped: body of the final response");
	is_int(get(hc, url(s, "/redirect"), &res), 302,
	    "3xx returned, not followed");
	is_str(res.location, "http://127.0.0.1:1/x", "3xx: Location");
	nreq = s->nreq;
	run_for(50);
	is_int(s->nreq, nreq, "3xx: no request to the Location");
	is_int(get(hc, url(s, "/404"), &res), 404, "404 is a response");
	is_str(res.body, "nope", "404 body");
	is_int(s->naccept, 1, "all of the above on one connection");
	is_int(get(hc, url(s, "/close"), &res), 200, "HTTP/1.0: status");
	is_str(res.body, "until close", "HTTP/1.0: body read until close");
	run_for(20);
	is_int(httpc_idle_count(hc), 0,
	    "read-until-close connection not kept");
	srv_free(s);

	s = srv_new(close11, 1);
	is_int(get(hc, url(s, "/"), &res), 200, "1.1 without length: status");
	is_str(res.body, "no length", "1.1 without length: until close");
	srv_free(s);
	res_reset(&res);
	httpc_free(hc);
}

static void
test_bad_responses(void)
{
	static const struct step cl_te[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		    ACT_KEEP } };
	static const struct step badchunk[] = {
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "zz\r\nhello\r\n0\r\n\r\n", ACT_KEEP } };
	static const struct step hugechunk[] = {
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "fffffffffffffffffffff\r\n", ACT_KEEP } };
	static const struct step short_cl[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		    ACT_CLOSE } };
	static const struct step gzip[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
		    "Content-Length: 2\r\n\r\nxx", ACT_KEEP } };
	static const struct step big_cl[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n",
		    ACT_KEEP } };
	static const struct step upgrade[] = {
		{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
		    ACT_KEEP } };
	static const struct step garbage[] = {
		{ "SSH-2.0-OpenSSH_9.2p1\r\n", ACT_KEEP } };
	static const struct {
		const struct step	*st;
		const char		*what;
		const char		*want;
	} cases[] = {
		{ cl_te, "Content-Length with Transfer-Encoding",
		    "Transfer-Encoding" },
		{ badchunk, "bad chunk size", "chunk size" },
		{ hugechunk, "chunk size overflow", "too large" },
		{ short_cl, "body shorter than Content-Length",
		    "before end of body" },
		{ gzip, "content coding", "content coding" },
		{ big_cl, "Content-Length over 1 MiB", "too large" },
		{ upgrade, "101", "101" },
		{ garbage, "not HTTP", "not an HTTP response" },
	};
	struct httpc	*hc = client(3000, 0);
	struct httpc	*small = client(3000, 1000);
	struct srv	*s;
	struct res	 res;
	char		*p;
	size_t		 i;

	memset(&res, 0, sizeof(res));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = srv_new(cases[i].st, 1);
		is_int(get(hc, url(s, "/"), &res), -1, "refused: %s",
		    cases[i].what);
		ok(strstr(res.err, cases[i].want) != NULL &&
		    strstr(res.err, "127.0.0.1:") != NULL,
		    "error names the cause: %s", res.err);
		srv_free(s);
	}

	/* A header block over 16 KiB. */
	s = srv_new(NULL, 0);
	if ((s->big = malloc(HTTPC_HEADERBLOCK_MAX + 100)) == NULL)
		exit(1);
	memset(s->big, 'a', HTTPC_HEADERBLOCK_MAX + 100);
	memcpy(s->big, "HTTP/1.1 200 OK\r\nX-Big: ", 24);
	memcpy(s->big + HTTPC_HEADERBLOCK_MAX + 96, "\r\n\r\n", 4);
	s->biglen = HTTPC_HEADERBLOCK_MAX + 100;
	{
		static const struct step bigstep[] = { { NULL, ACT_KEEP } };
		s->steps = bigstep;
		s->nsteps = 1;
		is_int(get(hc, url(s, "/"), &res), -1,
		    "header block over 16 KiB refused");
		ok(strstr(res.err, "header block too large") != NULL,
		    "error: %s", res.err);
	}
	srv_free(s);

	/* Bodies over a lowered max_body, each way of delimiting. */
	{
		static const struct step bigstep[] = { { NULL, ACT_CLOSE } };
		static const char *const heads[] = {
			"HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			    "3e9\r\n",
			"HTTP/1.0 200 OK\r\n\r\n",
		};

		for (i = 0; i < 3; i++) {
			s = srv_new(bigstep, 1);
			if ((s->big = malloc(2000)) == NULL)
				exit(1);
			memset(s->big, 'b', 2000);
			memcpy(s->big, heads[i], strlen(heads[i]));
			s->biglen = strlen(heads[i]) + 1001;
			is_int(get(small, url(s, "/"), &res), -1,
			    "body over max_body refused (%zu)", i);
			ok(strstr(res.err, "too large") != NULL, "error: %s",
			    res.err);
			srv_free(s);
		}
		s = srv_new(bigstep, 1);
		if ((s->big = malloc(2000)) == NULL)
			exit(1);
		memset(s->big, 'b', 2000);
		p = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
		memcpy(s->big, p, strlen(p));
		s->biglen = strlen(p) + 1000;
		is_int(get(small, url(s, "/"), &res), 200,
		    "body at max_body taken");
		is_int(res.bodylen, 1000, "body length at max_body");
		srv_free(s);
	}

	/* A 1 MiB body, the default limit, over loopback. */
	{
		static const struct step bigstep[] = { { NULL, ACT_KEEP } };

		s = srv_new(bigstep, 1);
		p = "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n";
		s->biglen = strlen(p) + HTTPC_BODY_MAX;
		if ((s->big = malloc(s->biglen)) == NULL)
			exit(1);
		memset(s->big, 'c', s->biglen);
		memcpy(s->big, p, strlen(p));
		is_int(get(hc, url(s, "/"), &res), 200, "1 MiB body taken");
		ok(res.bodylen == HTTPC_BODY_MAX && res.body[0] == 'c' &&
		    res.body[HTTPC_BODY_MAX - 1] == 'c' &&
		    res.body[HTTPC_BODY_MAX] == '\0',
		    "1 MiB body complete and terminated");
		srv_free(s);
	}
	res_reset(&res);
	httpc_free(hc);
	httpc_free(small);
}

static void
test_request_format(void)
{
	static const struct step steps[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ACT_KEEP },
	};
	struct httpc		*hc = client(3000, 0);
	struct srv		*s = srv_new(steps, 1);
	struct httpc_form	 f;
	struct res		 res;
	char			*auth, want[128], *b;
	const char		*hdrs[4];

	memset(&res, 0, sizeof(res));
	hdrs[0] = "Accept: application/json";
	hdrs[1] = NULL;
	is_int(do_req(hc, "GET", url(s, "/p/q?x=1&y=%20#frag"), hdrs, NULL,
	    &res), 200, "GET with a header");
	ok(strncmp(s->req, "GET /p/q?x=1&y=%20 HTTP/1.1\r\n", 29) == 0,
	    "GET: request line, fragment not sent");
	(void)snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%d\r\n",
	    s->port);
	ok(strstr(s->req, want) != NULL, "GET: Host with port");
	ok(strstr(s->req, "\r\nUser-Agent: oidcd\r\n") != NULL,
	    "GET: User-Agent");
	ok(strstr(s->req, "\r\nAccept-Encoding: identity\r\n") != NULL,
	    "GET: Accept-Encoding: identity");
	ok(strstr(s->req, "\r\nConnection: keep-alive\r\n") != NULL,
	    "GET: Connection: keep-alive");
	ok(strstr(s->req, "\r\nAccept: application/json\r\n") != NULL,
	    "GET: caller header");
	ok(strstr(s->req, "Content-Length") == NULL,
	    "GET: no Content-Length");

	memset(&f, 0, sizeof(f));
	(void)httpc_form_add(&f, "grant_type", "authorization_code");
	(void)httpc_form_add(&f, "code", "abc def");
	auth = httpc_basic_auth("client", "s3cret");
	hdrs[0] = auth;
	hdrs[1] = "Content-Type: application/x-www-form-urlencoded";
	hdrs[2] = NULL;
	is_int(do_req(hc, "POST", url(s, "/token"), hdrs, f.buf, &res), 200,
	    "POST a form");
	ok(strncmp(s->req, "POST /token HTTP/1.1\r\n", 22) == 0,
	    "POST: request line");
	(void)snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n",
	    f.len);
	ok(strstr(s->req, want) != NULL, "POST: Content-Length");
	ok(strstr(s->req, "\r\nAuthorization: Basic Y2xpZW50OnMzY3JldA==\r\n")
	    != NULL, "POST: Basic auth header");
	b = strstr(s->req, "\r\n\r\n");
	ok(b != NULL && strcmp(b + 4, f.buf) == 0, "POST: body");
	ok(strcmp(f.buf, "grant_type=authorization_code&code=abc+def") == 0,
	    "POST: form");
	freezero(auth, strlen(auth));
	httpc_form_free(&f);
	is_int(do_req(hc, "POST", url(s, "/empty"), NULL, NULL, &res), 200,
	    "POST without body");
	ok(strstr(s->req, "\r\nContent-Length: 0\r\n") != NULL,
	    "POST without body: Content-Length: 0");
	is_int(s->naccept, 1, "three requests, one connection");
	srv_free(s);
	res_reset(&res);
	httpc_free(hc);
}

static void
test_keepalive(void)
{
	static const struct step keep[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none", ACT_KEEP },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo", ACT_KEEP },
	};
	static const struct step race[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none", ACT_KEEP },
		{ NULL, ACT_DROP },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo", ACT_KEEP },
	};
	static const struct step closed[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none",
		    ACT_CLOSE },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo", ACT_KEEP },
	};
	static const struct step partial[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none", ACT_KEEP },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ntw",
		    ACT_CLOSE },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthree",
		    ACT_KEEP },
	};
	static const struct step drop[] = { { NULL, ACT_DROP } };
	struct httpc	*hc = client(3000, 0);
	struct srv	*s;
	struct res	 res, res2;

	memset(&res, 0, sizeof(res));
	memset(&res2, 0, sizeof(res2));
	s = srv_new(keep, 2);
	is_int(get(hc, url(s, "/1"), &res), 200, "keep-alive: first");
	is_int(httpc_idle_count(hc), 1, "keep-alive: connection parked");
	is_int(get(hc, url(s, "/2"), &res), 200, "keep-alive: second");
	is_str(res.body, "two", "keep-alive: second body");
	is_int(s->naccept, 1, "keep-alive: server saw one connection");
	is_int(s->nreq, 2, "keep-alive: and two requests");

	/* The same origin spelled as a name is another pool entry. */
	srv_free(s);
	run_for(50);
	is_int(httpc_idle_count(hc), 0,
	    "server closed: idle connection dropped");

	s = srv_new(race, 3);
	is_int(get(hc, url(s, "/1"), &res), 200, "retry: first");
	is_int(get(hc, url(s, "/2"), &res), 200,
	    "retry: reused connection dropped unanswered, retried");
	is_str(res.body, "two", "retry: answer from the new connection");
	is_int(s->naccept, 2, "retry: two connections");
	is_int(s->nreq, 3, "retry: the request was sent twice");
	srv_free(s);
	run_for(20);

	s = srv_new(closed, 2);
	is_int(get(hc, url(s, "/1"), &res), 200, "idle closed: first");
	run_for(50);
	is_int(httpc_idle_count(hc), 0, "idle closed: noticed");
	is_int(get(hc, url(s, "/2"), &res), 200, "idle closed: second");
	is_int(s->naccept, 2, "idle closed: new connection");
	srv_free(s);
	run_for(20);

	/* Part of a response came: that is not retried. */
	s = srv_new(partial, 3);
	is_int(get(hc, url(s, "/1"), &res), 200, "partial: first");
	is_int(get(hc, url(s, "/2"), &res), -1,
	    "partial: truncated response on a reused connection fails");
	ok(strstr(res.err, "before end of body") != NULL, "partial: %s",
	    res.err);
	is_int(s->nreq, 2, "partial: not retried");
	srv_free(s);

	/* A new connection closed unanswered is not retried either. */
	s = srv_new(drop, 1);
	is_int(get(hc, url(s, "/"), &res), -1, "fresh connection dropped");
	ok(strstr(res.err, "closed before response") != NULL, "dropped: %s",
	    res.err);
	is_int(s->nreq, 1, "dropped: not retried");
	srv_free(s);

	/* A request started from a callback reuses the connection. */
	s = srv_new(keep, 2);
	res_reset(&res);
	res.again_hc = hc;
	res.again_url = url(s, "/again");
	res.again_res = &res2;
	ok(httpc_request(hc, "GET", url(s, "/first"), NULL, NULL, 0, done_cb,
	    &res) != NULL, "chained: started");
	wait_res(&res2, 3000);
	is_int(res.status, 200, "chained: first");
	is_int(res2.status, 200, "chained: second, started in the callback");
	is_int(s->naccept, 1, "chained: one connection");
	srv_free(s);
	res_reset(&res);
	res_reset(&res2);
	httpc_free(hc);
}

static void
test_errors(void)
{
	static const struct step silent[] = { { NULL, ACT_SILENT } };
	struct httpc		*hc = client(300, 0), *hc2;
	struct httpc_req	*rq;
	struct srv		*s;
	struct res		 res;
	uint64_t		 t0, dt;
	int			 fd, port;

	memset(&res, 0, sizeof(res));
	s = srv_new(silent, 1);
	t0 = now_ms();
	is_int(get(hc, url(s, "/"), &res), -1, "silent server: error");
	dt = now_ms() - t0;
	ok(strstr(res.err, "timeout after 300 ms waiting for response") !=
	    NULL, "silent server: %s", res.err);
	ok(dt >= 250 && dt < 2000, "silent server: after %llu ms",
	    (unsigned long long)dt);
	is_int(res.called, 1, "silent server: one callback");

	/* Cancel while waiting: the callback never comes. */
	res_reset(&res);
	hc2 = client(3000, 0);
	rq = httpc_request(hc2, "GET", url(s, "/"), NULL, NULL, 0, done_cb,
	    &res);
	run_for(100);
	ok(s->nreq >= 2, "cancel: request reached the server");
	httpc_cancel(rq);
	run_for(200);
	is_int(res.called, 0, "cancel: no callback");

	/* Free the client with a request in flight: no callback either. */
	(void)httpc_request(hc2, "GET", url(s, "/"), NULL, NULL, 0, done_cb,
	    &res);
	run_for(100);
	httpc_free(hc2);
	run_for(100);
	is_int(res.called, 0, "free in flight: no callback");
	srv_free(s);

	/* Connection refused. */
	if ((fd = listen_on(AF_INET, &port)) == -1)
		exit(1);
	close(fd);
	(void)snprintf(res.err, sizeof(res.err), "http://127.0.0.1:%d/",
	    port);
	{
		char	u[64];

		(void)strlcpy(u, res.err, sizeof(u));
		is_int(get(hc, u, &res), -1, "refused: error");
		ok(strstr(res.err, "refused") != NULL, "refused: %s",
		    res.err);
	}

	/* https without CA roots and not insecure. */
	is_int(get(hc, "https://127.0.0.1:1/", &res), -1,
	    "https without roots: error");
	ok(strstr(res.err, "no CA roots") != NULL, "no roots: %s", res.err);

	/* A name with no resolver at all. */
	is_int(get(hc, "http://upstream.test/", &res), -1,
	    "name without resolver: error");
	ok(strstr(res.err, "no resolver") != NULL, "no resolver: %s",
	    res.err);
	res_reset(&res);
	httpc_free(hc);
}

/* The callback may free the client or cancel other requests. */
static void
test_reentry(void)
{
	static const struct step steps[] = {
		{ NULL, ACT_SILENT },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ACT_KEEP },
	};
	struct httpc		*hc = client(3000, 0);
	struct srv		*s = srv_new(steps, 2);
	struct res		 a, b;
	struct httpc_req	*rb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	/* b is sent first on its own connection and never answered. */
	rb = httpc_request(hc, "GET", url(s, "/b"), NULL, NULL, 0, done_cb,
	    &b);
	run_for(50);
	is_int(s->nreq, 1, "reentry: the silent request is there");
	a.cancel = rb;
	a.free_hc = hc;
	ok(httpc_request(hc, "GET", url(s, "/a"), NULL, NULL, 0, done_cb,
	    &a) != NULL, "reentry: started");
	wait_res(&a, 3000);
	is_int(a.status, 200, "reentry: answered");
	run_for(50);
	is_int(b.called, 0, "reentry: the other request, cancelled in the "
	    "callback, is silent");
	/* hc was freed in the callback; ASan checks the rest. */
	srv_free(s);
	res_reset(&a);
}

/* Names through a hosts file of our own, with no nameserver. */
static void
test_dns(const char *dir)
{
	static const struct step steps[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ACT_CLOSE },
	};
	struct httpc_config	 c;
	struct evdns_base	*dns;
	struct httpc		*hc;
	struct srv		*s, *s6;
	struct res		 res;
	char			 hosts[256], resolv[256], u[128], want[64];
	FILE			*f;
	uint64_t		 t0;

	memset(&res, 0, sizeof(res));
	(void)snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	(void)snprintf(resolv, sizeof(resolv), "%s/no-resolv.conf", dir);
	if ((f = fopen(hosts, "w")) == NULL)
		exit(1);
	/* 127.0.0.2 refuses: the other address must be tried. */
	fprintf(f, "127.0.0.1 upstream.test\n"
	    "127.0.0.2 dual-a.test\n127.0.0.1 dual-a.test\n"
	    "127.0.0.1 dual-b.test\n127.0.0.2 dual-b.test\n"
	    "::1 six.test\n");
	fclose(f);

	ok((dns = httpc_dns_new_files(base, resolv, hosts)) != NULL,
	    "dns: base without resolv.conf");
	memset(&c, 0, sizeof(c));
	c.timeout_ms = 3000;
	if ((hc = httpc_new(base, dns, &c)) == NULL)
		exit(1);
	s = srv_new(steps, 1);
	(void)snprintf(u, sizeof(u), "http://upstream.test:%d/", s->port);
	is_int(get(hc, u, &res), 200, "dns: name from the hosts file");
	(void)snprintf(want, sizeof(want), "\r\nHost: upstream.test:%d\r\n",
	    s->port);
	ok(strstr(s->req, want) != NULL, "dns: Host is the name");
	(void)snprintf(u, sizeof(u), "http://dual-a.test:%d/", s->port);
	is_int(get(hc, u, &res), 200, "dns: two addresses (a)");
	(void)snprintf(u, sizeof(u), "http://dual-b.test:%d/", s->port);
	is_int(get(hc, u, &res), 200, "dns: two addresses (b)");
	is_int(s->naccept, 3, "dns: each reached the server once");
	t0 = now_ms();
	(void)snprintf(u, sizeof(u), "http://nothere.test:%d/", s->port);
	is_int(get(hc, u, &res), -1, "dns: unknown name fails");
	ok(strstr(res.err, "no nameserver") != NULL &&
	    now_ms() - t0 < 1000, "dns: at once: %s", res.err);

	/* IPv6, as a literal and as a name, if the host has ::1. */
	if ((s6 = srv_new6(steps, 1, AF_INET6)) != NULL) {
		(void)snprintf(u, sizeof(u), "http://[::1]:%d/v6", s6->port);
		is_int(get(hc, u, &res), 200, "IPv6 literal");
		(void)snprintf(want, sizeof(want), "\r\nHost: [::1]:%d\r\n",
		    s6->port);
		ok(strstr(s6->req, want) != NULL, "IPv6: Host in brackets");
		(void)snprintf(u, sizeof(u), "http://six.test:%d/v6",
		    s6->port);
		is_int(get(hc, u, &res), 200, "IPv6 address of a name");
		srv_free(s6);
	} else
		diag("no IPv6 loopback: IPv6 tests skipped");
	srv_free(s);
	res_reset(&res);
	httpc_free(hc);
	evdns_base_free(dns, 1);
}

/*
 * TLS, against our own server engine.
 */

static void
tls_handler(struct http_conn *c, struct http_request *req, void *arg)
{
	(void)http_conn_respond(c, 200, "text/plain", NULL, 0, "tls-ok", 6,
	    0);
}

static int
sh(const char *cmd)
{
	return (system(cmd) == 0 ? 0 : -1);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if ((buf = malloc(n + 1)) == NULL || fread(buf, 1, n, f) !=
	    (size_t)n) {
		fclose(f);
		free(buf);
		return (NULL);
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return (buf);
}

/* A CA, a server certificate for localhost and 127.0.0.1, another CA. */
static int
make_certs(const char *dir)
{
	char	cmd[2048];

	(void)snprintf(cmd, sizeof(cmd),
	    "cd %s && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=httpc-ca "
	    ">/dev/null 2>&1 && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout other.key -out other.crt -days 2 "
	    "-subj /CN=other-ca >/dev/null 2>&1 && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout srv.key -out srv.csr -subj /CN=localhost "
	    ">/dev/null 2>&1 && "
	    "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' >ext && "
	    "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key "
	    "-CAcreateserial -out srv.crt -days 2 -extfile ext "
	    ">/dev/null 2>&1", dir);
	return (sh(cmd));
}

static void
test_tls(const char *dir)
{
	struct http_server_conf	 sc;
	struct http_tls_conf	 tc;
	struct http_server	*srv;
	struct httpc_config	 c;
	struct httpc		*hc;
	struct evdns_base	*dns, *dns2;
	struct res		 res;
	char			 path[256], u[128], *cert, *key, *ca, *other;
	char			*both;
	size_t			 certlen, keylen, calen, otherlen;
	int			 fd, port;

	memset(&res, 0, sizeof(res));
	if (make_certs(dir) == -1) {
		diag("openssl unavailable: TLS tests skipped");
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/srv.crt", dir);
	cert = slurp(path, &certlen);
	(void)snprintf(path, sizeof(path), "%s/srv.key", dir);
	key = slurp(path, &keylen);
	(void)snprintf(path, sizeof(path), "%s/ca.crt", dir);
	ca = slurp(path, &calen);
	(void)snprintf(path, sizeof(path), "%s/other.crt", dir);
	other = slurp(path, &otherlen);
	if (cert == NULL || key == NULL || ca == NULL || other == NULL)
		exit(1);

	memset(&sc, 0, sizeof(sc));
	if ((srv = http_server_new(base, &sc, tls_handler, NULL)) == NULL ||
	    (fd = listen_on(AF_INET, &port)) == -1)
		exit(1);
	memset(&tc, 0, sizeof(tc));
	tc.cert = (const uint8_t *)cert;
	tc.certlen = certlen;
	tc.key = (uint8_t *)key;
	tc.keylen = keylen;
	ok(http_server_listen(srv, fd, &tc) == 0, "TLS server listening");
	freezero(key, keylen);

	/* The test CA: verified by address and by name. */
	memset(&c, 0, sizeof(c));
	c.ca_pem = ca;
	c.ca_len = calen;
	c.timeout_ms = 5000;
	if ((hc = httpc_new(base, NULL, &c)) == NULL)
		exit(1);
	(void)snprintf(u, sizeof(u), "https://127.0.0.1:%d/tls", port);
	is_int(get(hc, u, &res), 200, "TLS: verified against the CA (%s)",
	    res.err);
	is_str(res.body, "tls-ok", "TLS: body");
	is_int(get(hc, u, &res), 200, "TLS: second request");
	is_int(httpc_idle_count(hc), 1, "TLS: connection kept");
	httpc_free(hc);

	if ((dns = httpc_dns_new(base)) == NULL)
		exit(1);
	if ((hc = httpc_new(base, dns, &c)) == NULL)
		exit(1);
	(void)snprintf(u, sizeof(u), "https://localhost:%d/name", port);
	is_int(get(hc, u, &res), 200,
	    "TLS: localhost through /etc/hosts, name verified (%s)", res.err);
	httpc_free(hc);

	/* Roots of the system plus ours, as the connector passes them. */
	if (asprintf(&both, "%s\n%s", other, ca) == -1)
		exit(1);
	c.ca_pem = both;
	c.ca_len = strlen(both);
	if ((hc = httpc_new(base, dns, &c)) == NULL)
		exit(1);
	is_int(get(hc, u, &res), 200, "TLS: CA among several roots");
	httpc_free(hc);
	free(both);

	/* Another CA: the handshake fails. */
	c.ca_pem = other;
	c.ca_len = otherlen;
	if ((hc = httpc_new(base, dns, &c)) == NULL)
		exit(1);
	is_int(get(hc, u, &res), -1, "TLS: unknown CA refused");
	ok(strstr(res.err, "TLS handshake") != NULL, "TLS: %s", res.err);
	httpc_free(hc);

	/* The right CA, a name the certificate does not carry. */
	(void)snprintf(path, sizeof(path), "%s/hosts", dir);
	(void)snprintf(u, sizeof(u), "%s/no-resolv.conf", dir);
	if ((dns2 = httpc_dns_new_files(base, u, path)) == NULL)
		exit(1);
	c.ca_pem = ca;
	c.ca_len = calen;
	if ((hc = httpc_new(base, dns2, &c)) == NULL)
		exit(1);
	(void)snprintf(u, sizeof(u), "https://upstream.test:%d/", port);
	is_int(get(hc, u, &res), -1, "TLS: name not in the certificate");
	ok(strstr(res.err, "TLS handshake") != NULL, "TLS: %s", res.err);
	httpc_free(hc);
	evdns_base_free(dns2, 1);

	/* No verification at all, as insecureSkipVerify. */
	memset(&c, 0, sizeof(c));
	c.insecure_skip_verify = 1;
	if ((hc = httpc_new(base, dns, &c)) == NULL)
		exit(1);
	(void)snprintf(u, sizeof(u), "https://localhost:%d/insecure", port);
	is_int(get(hc, u, &res), 200, "TLS: insecure_skip_verify");
	httpc_free(hc);

	/* Configurations httpc_new() refuses. */
	memset(&c, 0, sizeof(c));
	c.timeout_ms = -1;
	ok(httpc_new(base, dns, &c) == NULL, "httpc_new: negative timeout");
	c.timeout_ms = HTTPC_TIMEOUT_MAX_MS + 1;
	ok(httpc_new(base, dns, &c) == NULL, "httpc_new: timeout too long");
	c.timeout_ms = 0;
	c.ca_len = 10;
	ok(httpc_new(base, dns, &c) == NULL, "httpc_new: length without CA");

	res_reset(&res);
	http_server_free(srv);
	evdns_base_free(dns, 1);
	free(cert);
	free(ca);
	free(other);
}

int
main(void)
{
	char	dir[] = "/tmp/t_httpc.XXXXXX", cmd[300];

	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL || mkdtemp(dir) == NULL)
		return (1);
	test_url();
	test_form();
	test_basic();
	test_parser();
	test_refused();
	test_bodies();
	test_bad_responses();
	test_request_format();
	test_keepalive();
	test_errors();
	test_reentry();
	test_dns(dir);
	test_tls(dir);
	event_base_free(base);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)sh(cmd);
	return (tap_done());
}
