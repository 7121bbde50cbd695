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
 * Tests of the HTTP server engine (oidcd/server.c, oidcd/io.c) over
 * real loopback sockets.  The engine runs in a thread with an event
 * base of its own; the test talks to it with blocking sockets and, for
 * TLS, with libtls as a client (and with io.c in client mode on a
 * second event base).  Timeouts are short so that it runs in seconds.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <tls.h>

#include "http.h"
#include "io.h"
#include "tap.h"

#define HDR_TIMEOUT	800
#define RESP_TIMEOUT	500
#define MAX_REQUESTS	5

static struct event_base	*sbase;
static struct http_server	*srv;
static struct http_server	*srv1;		/* max_conns 1 */
static pthread_mutex_t		 mtx = PTHREAD_MUTEX_INITIALIZER;
static uint32_t			 last_ids[8];
static int			 nlast;
static int			 gone_checked = -1;	/* 1: NULL */
static int			 late_respond;
static int			 saw_tls = -1;
static char			 saw_peer[64];

struct client {
	int		 fd;
	struct tls	*tls;
	char		 buf[256 * 1024];
	size_t		 len;
};

struct resp {
	int		 status;
	char		 head[4096];
	char		 body[4096];
	size_t		 bodylen;
};

static void
record_id(struct http_conn *c)
{
	pthread_mutex_lock(&mtx);
	if (nlast < 8)
		last_ids[nlast++] = http_conn_id(c);
	pthread_mutex_unlock(&mtx);
}

static void
async_cb(evutil_socket_t fd, short ev, void *arg)
{
	uint32_t		 id = (uint32_t)(uintptr_t)arg;
	struct http_conn	*c;

	if ((c = http_server_conn_byid(srv, id)) != NULL)
		(void)http_conn_respond(c, 200, "text/plain", NULL, 0,
		    "async", 5, HTTP_RESP_NOSTORE);
}

static void
gone_cb(evutil_socket_t fd, short ev, void *arg)
{
	uint32_t	id = (uint32_t)(uintptr_t)arg;

	pthread_mutex_lock(&mtx);
	gone_checked = http_server_conn_byid(srv, id) == NULL;
	pthread_mutex_unlock(&mtx);
}

static void
later(event_callback_fn fn, struct http_conn *c, int msec)
{
	struct timeval	tv;

	tv.tv_sec = 0;
	tv.tv_usec = msec * 1000;
	event_base_once(sbase, -1, EV_TIMEOUT, fn,
	    (void *)(uintptr_t)http_conn_id(c), &tv);
}

static void
late_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_conn	*c;

	/* The 503 has been sent; the connection must not take an answer. */
	c = http_server_conn_byid(srv, (uint32_t)(uintptr_t)arg);
	pthread_mutex_lock(&mtx);
	late_respond = c == NULL ? -2 : http_conn_respond(c, 200, NULL, NULL,
	    0, "late", 4, 0);
	pthread_mutex_unlock(&mtx);
}

static void
handler(struct http_conn *c, struct http_request *req, void *arg)
{
	char			 body[256];
	struct http_kv		 kv = { "X-Path", req->path };
	int			 n;

	record_id(c);
	pthread_mutex_lock(&mtx);
	saw_tls = http_conn_is_tls(c);
	(void)snprintf(saw_peer, sizeof(saw_peer), "%s",
	    http_conn_peer_str(c));
	pthread_mutex_unlock(&mtx);

	if (strcmp(req->path, "/async") == 0) {
		later(async_cb, c, 100);
		return;
	}
	if (strcmp(req->path, "/never") == 0) {
		later(late_cb, c, RESP_TIMEOUT + 300);
		return;
	}
	if (strcmp(req->path, "/gone") == 0) {
		later(gone_cb, c, 400);
		return;
	}
	if (strcmp(req->path, "/quit") == 0)
		event_base_loopexit(sbase, NULL);
	if (strcmp(req->path, "/echo") == 0) {
		(void)http_conn_respond(c, 200, "application/octet-stream",
		    NULL, 0, req->body, req->bodylen, 0);
		return;
	}
	n = snprintf(body, sizeof(body), "{\"path\":\"%s\"}", req->path);
	(void)http_conn_respond(c, 200, "application/json", &kv, 1, body, n,
	    HTTP_RESP_NOSTORE);
}

static void *
server_thread(void *arg)
{
	event_base_dispatch(sbase);
	return (NULL);
}

static int
listen_local(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s, one = 1;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 128) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		close(s);
		return (-1);
	}
	*port = ntohs(sin.sin_port);
	return (s);
}

static int
connect_local(int port)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 5, 0 };
	int			 s;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(s);
		return (-1);
	}
	(void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return (s);
}

static struct client *
client_new(int port)
{
	struct client	*cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		exit(1);
	if ((cl->fd = connect_local(port)) == -1) {
		perror("connect");
		exit(1);
	}
	return (cl);
}

static void
client_free(struct client *cl)
{
	if (cl->tls != NULL) {
		(void)tls_close(cl->tls);
		tls_free(cl->tls);
	}
	close(cl->fd);
	free(cl);
}

static int
client_send(struct client *cl, const char *s, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if (cl->tls != NULL) {
			n = tls_write(cl->tls, s, len);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
				continue;
		} else
			n = send(cl->fd, s, len, MSG_NOSIGNAL);
		if (n <= 0)
			return (-1);
		s += n;
		len -= n;
	}
	return (0);
}

/* More bytes into cl->buf; 0 on EOF, -1 on error or timeout. */
static ssize_t
client_fill(struct client *cl)
{
	ssize_t	n;

	if (cl->len == sizeof(cl->buf))
		return (-1);
	for (;;) {
		if (cl->tls != NULL) {
			n = tls_read(cl->tls, cl->buf + cl->len,
			    sizeof(cl->buf) - cl->len);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
				continue;
		} else
			n = recv(cl->fd, cl->buf + cl->len,
			    sizeof(cl->buf) - cl->len, 0);
		break;
	}
	if (n > 0)
		cl->len += n;
	return (n);
}

/*
 * Read one response; status 0 if the connection ended first.  A
 * response to HEAD has a Content-Length but no body.
 */
static int
client_response_head(struct client *cl, struct resp *r, int head)
{
	char	*end, *p;
	size_t	 hl, cl_len = 0, total;

	memset(r, 0, sizeof(*r));
	for (;;) {
		if ((end = memmem(cl->buf, cl->len, "\r\n\r\n", 4)) != NULL)
			break;
		if (client_fill(cl) <= 0)
			return (0);
	}
	hl = end + 4 - cl->buf;
	if (hl >= sizeof(r->head))
		return (0);
	memcpy(r->head, cl->buf, hl);
	r->head[hl] = '\0';
	r->status = atoi(r->head + 9);
	if ((p = strcasestr(r->head, "\r\nContent-Length: ")) != NULL)
		cl_len = strtoul(p + 18, NULL, 10);
	if (cl_len >= sizeof(r->body))
		return (0);
	r->bodylen = cl_len;
	if (head)
		cl_len = 0;
	total = hl + cl_len;
	while (cl->len < total)
		if (client_fill(cl) <= 0)
			return (0);
	memcpy(r->body, cl->buf + hl, cl_len);
	memmove(cl->buf, cl->buf + total, cl->len - total);
	cl->len -= total;
	return (r->status);
}

static int
client_response(struct client *cl, struct resp *r)
{
	return (client_response_head(cl, r, 0));
}

/* Does the peer close (EOF or reset) within the receive timeout? */
static int
client_eof(struct client *cl)
{
	ssize_t	n;

	for (;;) {
		cl->len = 0;
		n = client_fill(cl);
		if (n == 0)
			return (1);
		if (n < 0)
			return (errno == ECONNRESET || errno == EPIPE);
	}
}

static double
now_sec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
request(struct client *cl, const char *req, struct resp *r)
{
	if (client_send(cl, req, strlen(req)) == -1)
		return (-1);
	return (client_response(cl, r));
}

static void
test_plain(int port)
{
	struct client	*cl, *slow;
	struct resp	 r, r2;
	char		*big, *q;
	const char	*p;
	double		 t0;
	int		 i;

	cl = client_new(port);
	is_int(request(cl, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200,
	    "GET answered 200");
	ok(r.bodylen == 17 && memcmp(r.body, "{\"path\":\"/hello\"}", 17) == 0,
	    "body from the handler");
	ok(strstr(r.head, "\r\nX-Content-Type-Options: nosniff\r\n") != NULL,
	    "nosniff");
	ok(strstr(r.head, "\r\nX-Path: /hello\r\n") != NULL, "extra header");
	ok(strstr(r.head, "\r\nCache-Control: no-store\r\n") != NULL,
	    "no-store");
	ok(strstr(r.head, "Strict-Transport-Security") == NULL,
	    "no HSTS on a plain listener");
	ok(strstr(r.head, "Connection:") == NULL, "1.1 keep-alive implicit");
	pthread_mutex_lock(&mtx);
	is_int(saw_tls, 0, "handler sees a plain listener");
	is_str(saw_peer, "127.0.0.1", "handler sees the peer address");
	nlast = 0;
	pthread_mutex_unlock(&mtx);

	/* Keep-alive: same connection, same id. */
	is_int(request(cl, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200,
	    "second request on the same connection");
	(void)client_send(cl, "HEAD /again HTTP/1.1\r\nHost: x\r\n\r\n", 33);
	is_int(client_response_head(cl, &r, 1), 200,
	    "HEAD on the same connection");
	ok(strstr(r.head, "Content-Length: 17\r\n") != NULL,
	    "HEAD has the length");
	/* The HEAD's "body" must not be there: the next response follows. */
	is_int(request(cl, "GET /third HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200,
	    "request after HEAD");
	ok(memcmp(r.body, "{\"path\":\"/third\"}", 17) == 0,
	    "no body was sent for HEAD");
	pthread_mutex_lock(&mtx);
	ok(nlast == 3 && last_ids[0] == last_ids[1] &&
	    last_ids[1] == last_ids[2], "one connection id for all");
	pthread_mutex_unlock(&mtx);

	ok(strstr(r.head, "Connection:") == NULL, "still keep-alive");
	client_free(cl);

	/* Pipelined pair in one write. */
	cl = client_new(port);
	is_int(request(cl, "GET /p1 HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
	    &r), 200, "first pipelined response");
	ok(memcmp(r.body, "{\"path\":\"/p1\"}", 14) == 0, "first in order");
	is_int(client_response(cl, &r2), 200, "second pipelined response");
	ok(r2.bodylen == 5 && memcmp(r2.body, "hello", 5) == 0,
	    "second in order, POST body echoed");
	client_free(cl);

	/* Slowloris: half a header, then nothing. */
	slow = client_new(port);
	t0 = now_sec();
	client_send(slow, "GET / HTTP/1.1\r\nHo", 18);
	cl = client_new(port);
	is_int(request(cl, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200,
	    "another client served while one stalls");
	client_free(cl);
	usleep(300 * 1000);
	client_send(slow, "s", 1);	/* dribbling does not extend it */
	ok(client_eof(slow), "stalled client closed");
	t0 = now_sec() - t0;
	ok(t0 > HDR_TIMEOUT / 1000.0 - 0.1 && t0 < HDR_TIMEOUT / 1000.0 + 1.0,
	    "closed after the header timeout (%.2fs)", t0);
	client_free(slow);

	/* 100 KB request line. */
	if ((big = malloc(200 * 1024)) == NULL)
		exit(1);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 100 * 1024);
	strcpy(big + 5 + 100 * 1024, " HTTP/1.1\r\nHost: x\r\n\r\n");
	cl = client_new(port);
	(void)client_send(cl, big, strlen(big));
	is_int(client_response(cl, &r), 414, "100 KB request line: 414");
	ok(strstr(r.head, "Connection: close\r\n") != NULL, "414 closes");
	ok(client_eof(cl), "connection closed after 414");
	client_free(cl);

	/* Header flood. */
	q = big + sprintf(big, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < 200; i++)
		q += sprintf(q, "X-Flood-%d: %d\r\n", i, i);
	strcpy(q, "\r\n");
	cl = client_new(port);
	(void)client_send(cl, big, strlen(big));
	is_int(client_response(cl, &r), 431, "200 headers: 431");
	ok(client_eof(cl), "connection closed after 431");
	client_free(cl);
	free(big);

	/* Smuggling attempt. */
	cl = client_new(port);
	is_int(request(cl, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", &r), 400,
	    "CL + TE: 400");
	ok(client_eof(cl), "closed after 400");
	client_free(cl);
	cl = client_new(port);
	is_int(request(cl, "GET / HTTP/1.1\nHost: x\n\n", &r), 400,
	    "bare LF: 400");
	client_free(cl);

	/* Asynchronous answer through the connection id. */
	cl = client_new(port);
	t0 = now_sec();
	is_int(request(cl, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200,
	    "asynchronous answer");
	ok(r.bodylen == 5 && memcmp(r.body, "async", 5) == 0,
	    "asynchronous body");
	ok(now_sec() - t0 >= 0.09, "answer came later");
	is_int(request(cl, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200,
	    "keep-alive after an asynchronous answer");

	/* Pipelined behind an asynchronous answer: order kept. */
	is_int(request(cl, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /behind HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200,
	    "async first of a pipelined pair");
	ok(r.bodylen == 5 && memcmp(r.body, "async", 5) == 0,
	    "async answer first");
	is_int(client_response(cl, &r2), 200, "then the one behind it");
	ok(memcmp(r2.body, "{\"path\":\"/behind\"}", 18) == 0,
	    "pipelined request behind an async one served after it");

	/* Handler never answers: 503 and close. */
	t0 = now_sec();
	is_int(request(cl, "GET /never HTTP/1.1\r\nHost: x\r\n\r\n", &r), 503,
	    "no answer: 503");
	t0 = now_sec() - t0;
	ok(t0 > RESP_TIMEOUT / 1000.0 - 0.1 && t0 < RESP_TIMEOUT / 1000.0 + 1,
	    "503 after the response timeout (%.2fs)", t0);
	ok(client_eof(cl), "closed after 503");
	client_free(cl);
	usleep(500 * 1000);
	pthread_mutex_lock(&mtx);
	ok(late_respond == -2 || late_respond == -1,
	    "a late answer is refused (%d)", late_respond);
	pthread_mutex_unlock(&mtx);

	/* Client gone before the answer: the id finds nothing. */
	cl = client_new(port);
	(void)client_send(cl, "GET /gone HTTP/1.1\r\nHost: x\r\n\r\n", 31);
	usleep(100 * 1000);
	client_free(cl);
	usleep(600 * 1000);
	pthread_mutex_lock(&mtx);
	is_int(gone_checked, 1, "conn_byid is NULL once the client left");
	pthread_mutex_unlock(&mtx);

	/* Requests per connection. */
	cl = client_new(port);
	for (i = 1; i <= MAX_REQUESTS; i++) {
		if (request(cl, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r) != 200)
			break;
		if (i < MAX_REQUESTS && strstr(r.head, "Connection: close"))
			break;
	}
	is_int(i, MAX_REQUESTS + 1, "%d requests served", MAX_REQUESTS);
	ok(strstr(r.head, "Connection: close\r\n") != NULL,
	    "last allowed request gets Connection: close");
	ok(client_eof(cl), "closed after the last allowed request");
	client_free(cl);

	/* HTTP/1.0 */
	cl = client_new(port);
	is_int(request(cl, "GET /ten HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "\r\n", &r), 200, "1.0 keep-alive request");
	ok(strstr(r.head, "Connection: keep-alive\r\n") != NULL,
	    "1.0 keep-alive confirmed");
	is_int(request(cl, "GET /ten HTTP/1.0\r\n\r\n", &r), 200,
	    "1.0 request on the same connection");
	ok(strstr(r.head, "Connection: close\r\n") != NULL, "1.0 closes");
	ok(client_eof(cl), "closed after 1.0 without keep-alive");
	client_free(cl);

	/* A request a byte at a time, body included. */
	cl = client_new(port);
	p = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\ndrip";
	for (i = 0; p[i] != '\0'; i++) {
		(void)client_send(cl, p + i, 1);
		usleep(1000);
	}
	is_int(client_response(cl, &r), 200, "request sent byte by byte");
	ok(r.bodylen == 4 && memcmp(r.body, "drip", 4) == 0,
	    "body sent byte by byte");
	client_free(cl);

	/* Expect: 100-continue */
	cl = client_new(port);
	(void)client_send(cl, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\nExpect: 100-continue\r\n\r\n", 73);
	is_int(client_response(cl, &r), 100, "100 Continue sent");
	is_int(request(cl, "abc", &r), 200, "body after 100 Continue");
	ok(r.bodylen == 3 && memcmp(r.body, "abc", 3) == 0,
	    "body echoed after 100");
	client_free(cl);
}

/* At max_conns, accepting waits until a connection closes. */
static void
test_maxconns(int port)
{
	struct client	*a, *b;
	struct resp	 r;
	struct timeval	 tv = { 0, 300 * 1000 };
	const char	*p;
	char		 c;

	a = client_new(port);
	is_int(request(a, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n", &r),
	    200, "first connection served");
	b = client_new(port);
	p = "GET /second HTTP/1.1\r\nHost: x\r\n\r\n";
	(void)client_send(b, p, strlen(p));
	(void)setsockopt(b->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ok(recv(b->fd, &c, 1, MSG_PEEK) == -1 && errno == EAGAIN,
	    "second connection waits at max_conns");
	tv.tv_sec = 5;
	(void)setsockopt(b->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	client_free(a);
	is_int(client_response(b, &r), 200,
	    "second connection served once the first closed");
	client_free(b);
}

static void
test_tls(int port, const char *cafile)
{
	struct tls_config	*cfg;
	struct client		*cl;
	struct resp		 r;

	cl = client_new(port);
	if ((cfg = tls_config_new()) == NULL || (cl->tls = tls_client()) ==
	    NULL)
		exit(1);
	ok(tls_config_set_ca_file(cfg, cafile) == 0, "CA loaded");
	ok(tls_configure(cl->tls, cfg) == 0, "client configured");
	ok(tls_connect_socket(cl->tls, cl->fd, "localhost") == 0,
	    "tls_connect_socket");
	ok(tls_handshake(cl->tls) == 0, "handshake with the test CA: %s",
	    tls_error(cl->tls) ? tls_error(cl->tls) : "ok");
	is_int(request(cl, "GET /tls HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200,
	    "GET over TLS");
	ok(memcmp(r.body, "{\"path\":\"/tls\"}", 15) == 0, "TLS body");
	ok(strstr(r.head, "\r\nStrict-Transport-Security: max-age=31536000"
	    "\r\n") != NULL, "HSTS on the TLS listener");
	pthread_mutex_lock(&mtx);
	is_int(saw_tls, 1, "handler sees a TLS listener");
	pthread_mutex_unlock(&mtx);
	is_int(request(cl, "GET /tls2 HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /tls3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r),
	    200, "pipelined keep-alive over TLS");
	is_int(client_response(cl, &r), 200, "second TLS response");
	ok(memcmp(r.body, "{\"path\":\"/tls3\"}", 16) == 0, "order over TLS");
	ok(client_eof(cl), "TLS connection closed on request");
	client_free(cl);
	tls_config_free(cfg);

	/* A client that does not trust the CA fails the handshake. */
	cl = client_new(port);
	if ((cfg = tls_config_new()) == NULL || (cl->tls = tls_client()) ==
	    NULL)
		exit(1);
	tls_configure(cl->tls, cfg);
	tls_connect_socket(cl->tls, cl->fd, "localhost");
	ok(tls_handshake(cl->tls) == -1, "untrusted CA: handshake fails");
	client_free(cl);
	tls_config_free(cfg);
}

/* io.c in client mode against our own TLS listener. */
struct ioclient {
	struct event_base	*base;
	struct io		*io;
	struct tls		*tls;
	int			 connected, tlsready, status, done;
	char			 err[128];
};

static void
ioclient_cb(struct io *io, int evt, void *arg)
{
	struct ioclient	*ic = arg;
	const char	*req = "GET /io HTTP/1.1\r\nHost: x\r\n"
			    "Connection: close\r\n\r\n";
	const char	*data;
	size_t		 len;

	switch (evt) {
	case IO_CONNECTED:
		ic->connected = 1;
		if (io_connect_tls(io, ic->tls, "localhost") == -1) {
			snprintf(ic->err, sizeof(ic->err), "%s", io_error(io));
			ic->tls = NULL;
			goto out;
		}
		ic->tls = NULL;		/* the io owns it now */
		return;
	case IO_TLSREADY:
		ic->tlsready = 1;
		(void)io_write(io, req, strlen(req));
		return;
	case IO_DATAIN:
		len = evbuffer_get_length(io_input(io));
		data = (const char *)evbuffer_pullup(io_input(io), -1);
		if (len > 12 && memmem(data, len, "\r\n\r\n", 4) != NULL)
			ic->status = atoi(data + 9);
		return;
	case IO_LOWAT:
		return;
	case IO_ERROR:
		snprintf(ic->err, sizeof(ic->err), "%s", io_error(io));
		break;
	default:
		break;
	}
 out:
	ic->done = 1;
	io_free(io);
	ic->io = NULL;
	event_base_loopexit(ic->base, NULL);
}

static void
test_io_client(int port, const char *cafile)
{
	struct ioclient		 ic;
	struct tls_config	*cfg;
	struct sockaddr_in	 sin;
	int			 s;

	memset(&ic, 0, sizeof(ic));
	if ((ic.base = event_base_new()) == NULL ||
	    (cfg = tls_config_new()) == NULL || (ic.tls = tls_client()) ==
	    NULL)
		exit(1);
	tls_config_set_ca_file(cfg, cafile);
	tls_configure(ic.tls, cfg);
	tls_config_free(cfg);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		exit(1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS)
		exit(1);
	if ((ic.io = io_new(ic.base, s, ioclient_cb, &ic)) == NULL)
		exit(1);
	io_set_timeout(ic.io, 3000);
	io_connect_wait(ic.io);
	event_base_dispatch(ic.base);
	ok(ic.connected, "io client: connected");
	ok(ic.tlsready, "io client: TLS handshake (%s)", ic.err);
	is_int(ic.status, 200, "io client: response status");
	ok(ic.done, "io client: server closed after Connection: close");
	if (ic.io != NULL)
		io_free(ic.io);
	tls_free(ic.tls);
	event_base_free(ic.base);
}

static int
sh(const char *cmd)
{
	int	rc = system(cmd);

	return (rc == 0 ? 0 : -1);
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
	*len = n;
	return (buf);
}

/* Throwaway CA and server certificate for localhost / 127.0.0.1. */
static int
make_certs(const char *dir)
{
	char	cmd[2048];

	(void)snprintf(cmd, sizeof(cmd),
	    "cd %s && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=oidcd-test-ca "
	    ">/dev/null 2>&1 && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout srv.key -out srv.csr -subj /CN=localhost "
	    ">/dev/null 2>&1 && "
	    "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' >ext && "
	    "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key "
	    "-CAcreateserial -out srv.crt -days 2 -extfile ext "
	    ">/dev/null 2>&1", dir);
	return (sh(cmd));
}

int
main(void)
{
	struct http_server_conf	 conf;
	struct http_tls_conf	 tc;
	struct http_kv		 hdrs[1] = {
		{ "Content-Security-Policy", "default-src 'none'" } };
	struct client		*cl;
	struct resp		 r;
	pthread_t		 th;
	char			 dir[] = "/tmp/t_server.XXXXXX", path[256];
	char			 cafile[256], cmd[300];
	char			*cert = NULL, *key = NULL;
	size_t			 certlen = 0, keylen = 0;
	int			 fd, tfd = -1, port, tport = 0, havetls;
	int			 fd1, port1;

	signal(SIGPIPE, SIG_IGN);
	if ((sbase = event_base_new()) == NULL)
		return (1);
	memset(&conf, 0, sizeof(conf));
	conf.header_timeout = HDR_TIMEOUT;
	conf.idle_timeout = 2000;
	conf.io_timeout = 2000;
	conf.response_timeout = RESP_TIMEOUT;
	conf.linger = 500;
	conf.max_requests = MAX_REQUESTS;
	conf.headers = hdrs;
	conf.nheaders = 1;
	if ((srv = http_server_new(sbase, &conf, handler, NULL)) == NULL)
		return (1);
	if ((fd = listen_local(&port)) == -1)
		return (1);
	ok(http_server_listen(srv, fd, NULL) == 0, "plain listener");

	havetls = mkdtemp(dir) != NULL && make_certs(dir) == 0;
	if (havetls) {
		(void)snprintf(path, sizeof(path), "%s/srv.crt", dir);
		cert = slurp(path, &certlen);
		(void)snprintf(path, sizeof(path), "%s/srv.key", dir);
		key = slurp(path, &keylen);
		(void)snprintf(cafile, sizeof(cafile), "%s/ca.crt", dir);
		havetls = cert != NULL && key != NULL;
	}
	if (havetls) {
		memset(&tc, 0, sizeof(tc));
		tc.cert = (const uint8_t *)cert;
		tc.certlen = certlen;
		tc.key = (uint8_t *)key;
		tc.keylen = keylen;
		tc.min_version = "1.3";
		tc.max_version = "1.2";
		tfd = listen_local(&tport);
		ok(http_server_listen(srv, tfd, &tc) == -1,
		    "min above max TLS version refused");
		tc.min_version = "1.2";
		tc.max_version = NULL;
		tc.session_id = (const unsigned char *)"0123456789abcdef";
		tc.session_idlen = 16;
		ok(http_server_listen(srv, tfd, &tc) == 0, "TLS listener");
		memset(key, 0, keylen);
	} else
		diag("openssl unavailable: TLS tests skipped");

	conf.max_conns = 1;
	if ((srv1 = http_server_new(sbase, &conf, handler, NULL)) == NULL ||
	    (fd1 = listen_local(&port1)) == -1 ||
	    http_server_listen(srv1, fd1, NULL) == -1)
		return (1);

	if (pthread_create(&th, NULL, server_thread, NULL) != 0)
		return (1);

	test_plain(port);
	test_maxconns(port1);
	if (havetls) {
		test_tls(tport, cafile);
		test_io_client(tport, cafile);
	}

	cl = client_new(port);
	is_int(request(cl, "GET /quit HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200,
	    "quit");
	client_free(cl);
	pthread_join(th, NULL);
	ok(http_server_nconns(srv) <= 1, "connections gone or closing");
	http_server_free(srv);
	http_server_free(srv1);
	event_base_free(sbase);
	free(cert);
	free(key);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)sh(cmd);
	return (tap_done());
}
