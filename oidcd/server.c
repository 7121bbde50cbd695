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
 * The HTTP server engine the frontend drives: listening sockets (bound
 * by the parent, shared between frontends, so EAGAIN on accept is
 * normal), connections on io.c, keep-alive, pipelining, limits and
 * timeouts.  Each complete request goes to one handler callback, which
 * answers at once or later (after an imsg round trip) through
 * http_conn_respond(); connections have a numeric id so that a late
 * answer finds its connection, or learns that it has gone.
 *
 * A connection is in one of three states:
 *  READING	parsing input; the io timeout is the idle timeout before
 *		the first byte of a request and the remaining time of the
 *		header deadline after it (slow clients are dropped);
 *  PENDING	the handler has the request; input is still read (up to a
 *		limit, to notice a client that goes away) but not parsed,
 *		and a deadline answers 503 and closes if no response comes;
 *  CLOSING	the last response is flushed, then a lingering close.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* libbsd's RB_GENERATE_STATIC marks functions __unused; glibc lacks it. */
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif
#include <sys/tree.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include <event2/event.h>
#include <event2/event_struct.h>
#include <tls.h>

#include "http.h"
#include "io.h"
#include "log.h"

#define CONN_READING	0
#define CONN_PENDING	1
#define CONN_CLOSING	2

/* Newline-free input after which a partial request is parsed again. */
#define SERVER_REPARSE		1024

/* Connections accepted per listener wake-up, for fairness. */
#define SERVER_ACCEPT_BATCH	32

struct http_listener {
	struct http_server	*srv;
	int			 fd;
	struct event		 ev;
	struct tls		*tls;
	char			*common;	/* on every response */
	size_t			 commonlen;
};

struct http_conn {
	RB_ENTRY(http_conn)	 entry;
	uint32_t		 id;
	struct http_server	*srv;
	struct http_listener	*l;
	struct io		*io;
	struct sockaddr_storage	 ss;
	char			 peer[INET6_ADDRSTRLEN];
	int			 state;
	int			 nreq;
	int			 keepalive;	/* current request */
	int			 head;
	int			 version;
	int			 inhandler;
	int			 sent_continue;
	int			 outwait;	/* paused for output */
	size_t			 parsed;	/* input at last MORE */
	size_t			 need;		/* body: total needed */
	uint64_t		 reqstart;	/* msec, 0: no request yet */
	struct event		 ev_timer;	/* deadline, or kick */
	struct http_request	 req;
};

RB_HEAD(conn_tree, http_conn);

struct http_server {
	struct event_base	*base;
	struct http_server_conf	 conf;
	http_handler		 handler;
	void			*arg;
	struct http_listener	*l[HTTP_SERVER_MAX_LISTENERS];
	size_t			 nl;
	struct conn_tree	 conns;
	size_t			 nconns;
	uint32_t		 nextid;
	int			 nfds;
	int			 maxfds;
	int			 accept_paused;
	struct event		 ev_pause;
};

static int	conn_cmp(struct http_conn *, struct http_conn *);
RB_GENERATE_STATIC(conn_tree, http_conn, entry, conn_cmp);

static uint64_t	server_now(void);
static void	server_accept(int, short, void *);
static void	server_accept_pause(struct http_server *, int);
static void	server_accept_resume(int, short, void *);
static int	server_tls_init(struct http_listener *,
		    const struct http_tls_conf *);
static int	server_tls_protocols(const char *, const char *, uint32_t *);
static void	conn_new(struct http_listener *, int,
		    struct sockaddr_storage *);
static void	conn_free(struct http_conn *);
static void	conn_io(struct io *, int, void *);
static void	conn_process(struct http_conn *);
static void	conn_error(struct http_conn *, int);
static void	conn_timer(int, short, void *);
static void	conn_set_read_timeout(struct http_conn *);

static int
conn_cmp(struct http_conn *a, struct http_conn *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

static uint64_t
server_now(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct http_server *
http_server_new(struct event_base *base, const struct http_server_conf *conf,
    http_handler handler, void *arg)
{
	struct http_server	*srv;
	struct rlimit		 rl;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return (NULL);
	srv->base = base;
	srv->handler = handler;
	srv->arg = arg;
	if (conf != NULL)
		srv->conf = *conf;
	if (srv->conf.max_conns <= 0)
		srv->conf.max_conns = HTTP_SERVER_MAX_CONNS;
	if (srv->conf.max_requests <= 0)
		srv->conf.max_requests = HTTP_SERVER_MAX_REQUESTS;
	if (srv->conf.header_timeout <= 0)
		srv->conf.header_timeout = HTTP_SERVER_HEADER_TIMEOUT;
	if (srv->conf.idle_timeout <= 0)
		srv->conf.idle_timeout = HTTP_SERVER_IDLE_TIMEOUT;
	if (srv->conf.io_timeout <= 0)
		srv->conf.io_timeout = HTTP_SERVER_IO_TIMEOUT;
	if (srv->conf.response_timeout <= 0)
		srv->conf.response_timeout = HTTP_SERVER_RESPONSE_TIMEOUT;
	if (srv->conf.linger <= 0)
		srv->conf.linger = HTTP_SERVER_LINGER;
	if (srv->conf.fd_reserve <= 0)
		srv->conf.fd_reserve = HTTP_SERVER_FD_RESERVE;
	srv->maxfds = srv->conf.max_fds;
	if (srv->maxfds <= 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
		    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT32_MAX)
			srv->maxfds = 1024;
		else
			srv->maxfds = rl.rlim_cur;
	}
	if (srv->conf.nheaders > HTTP_MAX_EXTRA_HEADERS) {
		free(srv);
		return (NULL);
	}
	RB_INIT(&srv->conns);
	srv->nextid = arc4random();
	evtimer_assign(&srv->ev_pause, base, server_accept_resume, srv);
	/*
	 * A peer that resets must cost an EPIPE, not the process: the
	 * caller ignores SIGPIPE (proc_run() does, before the sandbox,
	 * which has no rt_sigaction).
	 */
	return (srv);
}

/*
 * Serve on an already bound and listening socket, plain or with TLS.
 * The server owns fd from now on and closes it in http_server_free().
 * The TLS key is copied into libtls and cleared from its config again;
 * the caller freezero()s its own copy.
 */
int
http_server_listen(struct http_server *srv, int fd,
    const struct http_tls_conf *tlsconf)
{
	struct http_listener	*l;
	const char		*hsts = NULL;
	int			 flags;

	if (srv->nl == HTTP_SERVER_MAX_LISTENERS) {
		log_warnx("%s: too many listeners", __func__);
		return (-1);
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		log_warn("%s: fcntl", __func__);
		return (-1);
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		log_warn("%s: calloc", __func__);
		return (-1);
	}
	l->srv = srv;
	l->fd = fd;
	if (tlsconf != NULL) {
		if (server_tls_init(l, tlsconf) == -1) {
			free(l);
			return (-1);
		}
		hsts = tlsconf->hsts != NULL ? tlsconf->hsts :
		    HTTP_SERVER_HSTS_DEFAULT;
	}
	if (http_header_block(&l->common, &l->commonlen, srv->conf.headers,
	    srv->conf.nheaders, hsts) == -1) {
		log_warnx("%s: invalid response headers in config", __func__);
		tls_free(l->tls);
		free(l);
		return (-1);
	}
	event_assign(&l->ev, srv->base, fd, EV_READ | EV_PERSIST,
	    server_accept, l);
	if (!srv->accept_paused)
		event_add(&l->ev, NULL);
	srv->l[srv->nl++] = l;
	srv->nfds++;
	return (0);
}

static int
server_tls_protocols(const char *min, const char *max, uint32_t *protos)
{
	int	lo = 2, hi = 3;

	if (min != NULL && strcmp(min, "1.2") == 0)
		lo = 2;
	else if (min != NULL && strcmp(min, "1.3") == 0)
		lo = 3;
	else if (min != NULL && min[0] != '\0')
		return (-1);
	if (max != NULL && strcmp(max, "1.2") == 0)
		hi = 2;
	else if (max != NULL && strcmp(max, "1.3") == 0)
		hi = 3;
	else if (max != NULL && max[0] != '\0')
		return (-1);
	if (lo > hi)
		return (-1);
	*protos = 0;
	if (lo <= 2 && hi >= 2)
		*protos |= TLS_PROTOCOL_TLSv1_2;
	if (hi >= 3)
		*protos |= TLS_PROTOCOL_TLSv1_3;
	return (0);
}

static int
server_tls_init(struct http_listener *l, const struct http_tls_conf *tc)
{
	struct tls_config	*cfg;
	uint32_t		 protos;

	if (server_tls_protocols(tc->min_version, tc->max_version,
	    &protos) == -1) {
		log_warnx("%s: bad TLS versions (want \"1.2\" or \"1.3\")",
		    __func__);
		return (-1);
	}
	if ((cfg = tls_config_new()) == NULL) {
		log_warnx("%s: tls_config_new", __func__);
		return (-1);
	}
	if (tls_config_set_protocols(cfg, protos) == -1 ||
	    tls_config_set_keypair_mem(cfg, tc->cert, tc->certlen, tc->key,
	    tc->keylen) == -1 || (tc->session_idlen > 0 &&
	    tls_config_set_session_id(cfg, tc->session_id,
	    tc->session_idlen) == -1)) {
		log_warnx("%s: %s", __func__, tls_config_error(cfg));
		tls_config_clear_keys(cfg);
		tls_config_free(cfg);
		return (-1);
	}
	if ((l->tls = tls_server()) == NULL) {
		log_warnx("%s: tls_server", __func__);
		tls_config_clear_keys(cfg);
		tls_config_free(cfg);
		return (-1);
	}
	if (tls_configure(l->tls, cfg) == -1) {
		log_warnx("%s: %s", __func__, tls_error(l->tls));
		tls_config_clear_keys(cfg);
		tls_config_free(cfg);
		tls_free(l->tls);
		l->tls = NULL;
		return (-1);
	}
	/* The context has its own copy; drop the config's. */
	tls_config_clear_keys(cfg);
	tls_config_free(cfg);
	return (0);
}

void
http_server_free(struct http_server *srv)
{
	struct http_conn	*c, *next;
	size_t			 i;

	if (srv == NULL)
		return;
	RB_FOREACH_SAFE(c, conn_tree, &srv->conns, next)
		conn_free(c);
	for (i = 0; i < srv->nl; i++) {
		event_del(&srv->l[i]->ev);
		tls_free(srv->l[i]->tls);
		if (srv->l[i]->fd != -1)
			close(srv->l[i]->fd);
		free(srv->l[i]->common);
		free(srv->l[i]);
	}
	event_del(&srv->ev_pause);
	free(srv);
}

size_t
http_server_nconns(const struct http_server *srv)
{
	return (srv->nconns);
}

/*
 * Stop accepting, for a second after EMFILE/ENFILE (timed), or until a
 * connection closes when at a limit of our own (untimed).
 */
static void
server_accept_pause(struct http_server *srv, int timed)
{
	struct timeval	tv;
	size_t		i;

	if (!srv->accept_paused) {
		for (i = 0; i < srv->nl; i++)
			event_del(&srv->l[i]->ev);
		srv->accept_paused = 1;
	}
	if (timed) {
		tv.tv_sec = HTTP_SERVER_ACCEPT_PAUSE / 1000;
		tv.tv_usec = (HTTP_SERVER_ACCEPT_PAUSE % 1000) * 1000;
		evtimer_add(&srv->ev_pause, &tv);
	}
}

static void
server_accept_resume(int fd, short ev, void *arg)
{
	struct http_server	*srv = arg;
	size_t			 i;

	if (!srv->accept_paused || evtimer_pending(&srv->ev_pause, NULL))
		return;
	if (srv->nconns >= (size_t)srv->conf.max_conns ||
	    srv->nfds + srv->conf.fd_reserve >= srv->maxfds)
		return;
	for (i = 0; i < srv->nl; i++)
		if (srv->l[i]->fd != -1)
			event_add(&srv->l[i]->ev, NULL);
	srv->accept_paused = 0;
}

static void
server_accept(int fd, short ev, void *arg)
{
	struct http_listener	*l = arg;
	struct http_server	*srv = l->srv;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 s, i;

	for (i = 0; i < SERVER_ACCEPT_BATCH; i++) {
		if (srv->nconns >= (size_t)srv->conf.max_conns ||
		    srv->nfds + srv->conf.fd_reserve >= srv->maxfds) {
			server_accept_pause(srv, 0);
			return;
		}
		len = sizeof(ss);
		s = accept4(fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1) {
			switch (errno) {
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
			case EINTR:
			case ECONNABORTED:
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				log_warn("%s: accept", __func__);
				server_accept_pause(srv, 1);
				return;
			default:
				log_warn("%s: accept", __func__);
				return;
			}
		}
		conn_new(l, s, &ss);
	}
}

static void
conn_new(struct http_listener *l, int s, struct sockaddr_storage *ss)
{
	struct http_server	*srv = l->srv;
	struct http_conn	*c;
	int			 one = 1;

	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s: calloc", __func__);
		close(s);
		return;
	}
	if ((c->io = io_new(srv->base, s, conn_io, c)) == NULL) {
		log_warn("%s: io_new", __func__);
		free(c);
		close(s);
		return;
	}
	c->srv = srv;
	c->l = l;
	c->ss = *ss;
	c->state = CONN_READING;
	http_request_init(&c->req);
	evtimer_assign(&c->ev_timer, srv->base, conn_timer, c);

	/* Ids are not reused until the 32-bit counter wraps. */
	do {
		c->id = srv->nextid++;
	} while (c->id == 0 || RB_INSERT(conn_tree, &srv->conns, c) != NULL);
	srv->nconns++;
	srv->nfds++;

	if (l->tls != NULL) {
		io_set_timeout(c->io, srv->conf.io_timeout);
		if (io_accept_tls(c->io, l->tls) == -1) {
			log_warnx("%s: %s", __func__, io_error(c->io));
			conn_free(c);
			return;
		}
	} else {
		/* The client has header_timeout to send its request. */
		c->reqstart = server_now();
		io_set_timeout(c->io, srv->conf.header_timeout);
	}
}

static void
conn_free(struct http_conn *c)
{
	struct http_server	*srv = c->srv;

	RB_REMOVE(conn_tree, &srv->conns, c);
	srv->nconns--;
	srv->nfds--;
	evtimer_del(&c->ev_timer);
	io_free(c->io);
	http_request_free(&c->req);
	free(c);
	if (srv->accept_paused)
		server_accept_resume(-1, 0, srv);
}

/* The connection if it still exists and is waiting for an answer. */
struct http_conn *
http_server_conn_byid(struct http_server *srv, uint32_t id)
{
	struct http_conn	 key, *c;

	key.id = id;
	if ((c = RB_FIND(conn_tree, &srv->conns, &key)) == NULL)
		return (NULL);
	if (c->state == CONN_CLOSING)
		return (NULL);
	return (c);
}

uint32_t
http_conn_id(const struct http_conn *c)
{
	return (c->id);
}

int
http_conn_is_tls(const struct http_conn *c)
{
	return (c->l->tls != NULL);
}

const struct sockaddr_storage *
http_conn_peer(const struct http_conn *c)
{
	return (&c->ss);
}

const char *
http_conn_peer_str(const struct http_conn *c)
{
	struct http_conn	*cc = (struct http_conn *)c;
	const void		*addr;

	if (cc->peer[0] != '\0')
		return (cc->peer);
	if (c->ss.ss_family == AF_INET)
		addr = &((const struct sockaddr_in *)&c->ss)->sin_addr;
	else if (c->ss.ss_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)&c->ss)->sin6_addr;
	else
		return ("unknown");
	if (inet_ntop(c->ss.ss_family, addr, cc->peer, sizeof(cc->peer)) ==
	    NULL)
		return ("unknown");
	return (cc->peer);
}

/* The request being answered; valid while the answer is pending. */
struct http_request *
http_conn_request(struct http_conn *c)
{
	return (c->state == CONN_PENDING ? &c->req : NULL);
}

static void
conn_set_read_timeout(struct http_conn *c)
{
	struct http_server	*srv = c->srv;
	uint64_t		 now, end;

	if (c->reqstart == 0) {
		io_set_timeout(c->io, srv->conf.idle_timeout);
		return;
	}
	now = server_now();
	end = c->reqstart + srv->conf.header_timeout;
	io_set_timeout(c->io, end > now ? (int)(end - now) : 1);
}

static void
conn_io(struct io *io, int evt, void *arg)
{
	struct http_conn	*c = arg;

	switch (evt) {
	case IO_TLSREADY:
		c->reqstart = server_now();
		conn_set_read_timeout(c);
		break;
	case IO_DATAIN:
		if (c->state == CONN_READING)
			conn_process(c);
		else if (c->state == CONN_PENDING &&
		    evbuffer_get_length(io_input(io)) > HTTP_SERVER_MAX_INPUT)
			io_pause_read(io);
		break;
	case IO_LOWAT:
		if (c->outwait && c->state == CONN_READING) {
			c->outwait = 0;
			io_resume_read(io);
			conn_process(c);
		}
		break;
	case IO_TIMEOUT:
		if (c->state == CONN_READING && c->reqstart != 0 &&
		    c->nreq > 0)
			log_debug("%s: %s: request timeout", __func__,
			    http_conn_peer_str(c));
		conn_free(c);
		break;
	case IO_ERROR:
		log_debug("%s: %s: %s", __func__, http_conn_peer_str(c),
		    io_error(io));
		conn_free(c);
		break;
	case IO_DISCONNECTED:
	default:
		conn_free(c);
		break;
	}
}

/* Parse and dispatch the requests waiting in the input buffer. */
static void
conn_process(struct http_conn *c)
{
	struct http_server	*srv = c->srv;
	struct evbuffer		*in = io_input(c->io);
	struct timeval		 tv;
	const char		*data;
	size_t			 len, used;
	int			 rc;

	while (c->state == CONN_READING) {
		if ((len = evbuffer_get_length(in)) == 0) {
			conn_set_read_timeout(c);
			return;
		}
		/* Let a client that does not read its answers wait. */
		if (evbuffer_get_length(io_output(c->io)) >
		    HTTP_SERVER_MAX_OUTPUT) {
			c->outwait = 1;
			io_pause_read(c->io);
			io_set_timeout(c->io, srv->conf.io_timeout);
			return;
		}
		if (c->reqstart == 0)
			c->reqstart = server_now();
		if ((data = (const char *)evbuffer_pullup(in, -1)) == NULL) {
			conn_free(c);
			return;
		}
		/*
		 * A client that sends a byte at a time must not make us
		 * parse the whole header block again per byte: parse when
		 * a line may have ended, at least every SERVER_REPARSE
		 * bytes (so that the limits still trip), and for a body only
		 * once it is complete.
		 */
		if (c->need > 0 ? len < c->need : (c->parsed > 0 &&
		    len < c->parsed + SERVER_REPARSE &&
		    memchr(data + c->parsed, '\n', len - c->parsed) == NULL)) {
			conn_set_read_timeout(c);
			return;
		}
		rc = http_request_parse(&c->req, data, len, &used);
		if (rc == HTTP_PARSE_MORE) {
			c->parsed = len;
			c->need = c->req.need;
			if (c->req.expect_continue && !c->sent_continue) {
				c->sent_continue = 1;
				(void)io_write(c->io,
				    "HTTP/1.1 100 Continue\r\n\r\n", 25);
			}
			conn_set_read_timeout(c);
			return;
		}
		if (rc != HTTP_PARSE_OK) {
			log_debug("%s: %s: %d: %s", __func__,
			    http_conn_peer_str(c), rc, c->req.error);
			conn_error(c, rc);
			return;
		}
		(void)evbuffer_drain(in, used);
		c->parsed = 0;
		c->need = 0;
		c->reqstart = 0;
		c->sent_continue = 0;
		c->nreq++;
		c->keepalive = c->req.keepalive &&
		    c->nreq < srv->conf.max_requests;
		c->head = c->req.method == HTTP_METHOD_HEAD;
		c->version = c->req.version;
		c->state = CONN_PENDING;
		/* The response deadline bounds this state, not the io. */
		io_set_timeout(c->io, 0);
		tv.tv_sec = srv->conf.response_timeout / 1000;
		tv.tv_usec = (srv->conf.response_timeout % 1000) * 1000;
		evtimer_add(&c->ev_timer, &tv);

		c->inhandler = 1;
		srv->handler(c, &c->req, srv->arg);
		c->inhandler = 0;
	}
}

/* Answer a bad request and close. */
static void
conn_error(struct http_conn *c, int status)
{
	(void)http_error_write(io_output(c->io), status, HTTP_RESP_CLOSE,
	    c->l->common, c->l->commonlen);
	c->state = CONN_CLOSING;
	evtimer_del(&c->ev_timer);
	io_set_timeout(c->io, c->srv->conf.io_timeout);
	io_close_graceful(c->io, c->srv->conf.linger);
}

/* Response deadline while pending; a kick to go on reading otherwise. */
static void
conn_timer(int fd, short ev, void *arg)
{
	struct http_conn	*c = arg;

	if (c->state == CONN_PENDING) {
		log_warnx("%s: %s: no response in time", __func__,
		    http_conn_peer_str(c));
		/*
		 * Close after the 503 so that a late answer of the handler
		 * can never be taken for the answer to a later request.
		 */
		c->keepalive = 0;
		(void)http_conn_respond_error(c, 503);
		return;
	}
	if (c->state == CONN_READING)
		conn_process(c);
}

/*
 * Answer the pending request: status, Content-Type (or NULL), extra
 * headers, body.  flags are HTTP_RESP_NOSTORE and HTTP_RESP_CLOSE; the
 * engine adds the connection and HEAD handling.  Returns -1 if nothing
 * is pending on this connection or the headers are invalid (the client
 * then gets a 500).
 */
int
http_conn_respond(struct http_conn *c, int status, const char *ctype,
    const struct http_kv *hdrs, size_t nhdrs, const void *body, size_t len,
    int flags)
{
	struct http_server	*srv = c->srv;
	struct http_response	 r;
	struct timeval		 tv;
	int			 ret = 0;

	if (c->state != CONN_PENDING)
		return (-1);
	if (flags & HTTP_RESP_CLOSE)
		c->keepalive = 0;
	r.status = status;
	r.ctype = ctype;
	r.hdrs = hdrs;
	r.nhdrs = nhdrs;
	r.body = body;
	r.bodylen = len;
	r.flags = flags & HTTP_RESP_NOSTORE;
	if (!c->keepalive)
		r.flags |= HTTP_RESP_CLOSE;
	else if (c->version == 10)
		r.flags |= HTTP_RESP_KEEPALIVE;
	if (c->head)
		r.flags |= HTTP_RESP_HEAD;
	if (http_response_write(io_output(c->io), &r, c->l->common,
	    c->l->commonlen) == -1) {
		log_warnx("%s: invalid response, answering 500", __func__);
		c->keepalive = 0;
		(void)http_error_write(io_output(c->io), 500, HTTP_RESP_CLOSE,
		    c->l->common, c->l->commonlen);
		ret = -1;
	}
	evtimer_del(&c->ev_timer);
	if (!c->keepalive) {
		c->state = CONN_CLOSING;
		io_set_timeout(c->io, srv->conf.io_timeout);
		io_close_graceful(c->io, srv->conf.linger);
		return (ret);
	}
	c->state = CONN_READING;
	io_resume_read(c->io);
	if (c->inhandler) {
		/* conn_process() goes on with the next request itself. */
		io_reload(c->io);
		return (ret);
	}
	/* Later, not from inside the caller: pipelined input may wait. */
	conn_set_read_timeout(c);
	io_reload(c->io);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	evtimer_add(&c->ev_timer, &tv);
	return (ret);
}

/* A short text/plain answer with the status's reason phrase. */
int
http_conn_respond_error(struct http_conn *c, int status)
{
	char	body[64];
	int	n;

	n = snprintf(body, sizeof(body), "%d %s\n", status,
	    http_status_text(status));
	if (n < 0 || (size_t)n >= sizeof(body))
		return (-1);
	return (http_conn_respond(c, status, "text/plain; charset=utf-8",
	    NULL, 0, body, n, 0));
}

/*
 * Stop accepting and close the listening sockets: after a reload a new
 * server takes the listeners over.  Connections already accepted go on
 * with the listener settings (TLS context, headers) they came in with.
 */
void
http_server_unlisten(struct http_server *srv)
{
	size_t	 i;

	for (i = 0; i < srv->nl; i++) {
		if (srv->l[i]->fd == -1)
			continue;
		event_del(&srv->l[i]->ev);
		close(srv->l[i]->fd);
		srv->l[i]->fd = -1;
		srv->nfds--;
	}
}
