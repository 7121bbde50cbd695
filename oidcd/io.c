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
 * Nonblocking socket I/O under libevent, plain or through libtls.
 *
 * One persistent struct event per connection is armed for EV_READ,
 * EV_WRITE or both, according to what the connection wants right now:
 * reading unless paused, writing while output is queued, and for TLS
 * whatever the last tls_read()/tls_write()/tls_handshake() asked for.
 * The event is only changed when that set changes, so a keep-alive
 * connection costs no epoll_ctl() per request.  Writes are tried at once
 * after the owner's callback queued output, since the socket is nearly
 * always writable: that saves a trip through the event loop.
 *
 * The owner may call io_free() from its callback; the free is then
 * deferred until the callback returns.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <tls.h>

#include "io.h"

#define IO_STATE_UP		0
#define IO_STATE_CONNECT	1
#define IO_STATE_HANDSHAKE	2
#define IO_STATE_DRAIN		3	/* flush output, then linger */
#define IO_STATE_LINGER		4	/* discard input until EOF */
#define IO_STATE_DEAD		5

#define IO_F_PAUSE_IN	0x01
#define IO_F_RWANTW	0x02	/* tls_read() wanted POLLOUT */
#define IO_F_WWANTR	0x04	/* tls_write() wanted POLLIN */
#define IO_F_FREE	0x08	/* io_free() called inside a callback */
#define IO_F_TMODIFIED	0x10	/* timeout changed since last arm */
#define IO_F_KICK	0x20	/* try a read on the next loop pass */
#define IO_F_FLUSH	0x40	/* output written at the end of this pass */
#define IO_F_WBLOCKED	0x80	/* the last write would have blocked */

struct io {
	struct event_base	*base;
	int			 fd;
	struct tls		*tls;
	struct event		 ev;
	struct event		 ev_flush;
	short			 armed;
	short			 hs_want;
	int			 state;
	int			 flags;
	int			 incb;
	int			 timeout;	/* msec, 0: none */
	int			 linger;	/* msec */
	size_t			 lingered;
	struct evbuffer		*in;
	struct evbuffer		*out;
	io_cb			 cb;
	void			*arg;
	char			 err[128];
};

static void	io_dispatch(int, short, void *);
static void	io_flush(int, short, void *);
static int	io_callback(struct io *, int);
static void	io_destroy(struct io *);
static int	io_do_read(struct io *);
static int	io_do_write(struct io *);
static int	io_handshake(struct io *);
static int	io_linger_read(struct io *);
static void	io_start_linger(struct io *);
static void	io_seterr(struct io *, const char *, int);

struct io *
io_new(struct event_base *base, int fd, io_cb cb, void *arg)
{
	struct io	*io;

	if ((io = calloc(1, sizeof(*io))) == NULL)
		return (NULL);
	if ((io->in = evbuffer_new()) == NULL ||
	    (io->out = evbuffer_new()) == NULL) {
		if (io->in != NULL)
			evbuffer_free(io->in);
		free(io);
		return (NULL);
	}
	io->base = base;
	io->fd = fd;
	io->cb = cb;
	io->arg = arg;
	io->state = IO_STATE_UP;
	event_assign(&io->ev, base, fd, EV_PERSIST, io_dispatch, io);
	event_assign(&io->ev_flush, base, -1, 0, io_flush, io);
	return (io);
}

/*
 * Close the connection.  Inside the owner's callback this only marks
 * the io; io_callback() finishes the job when the callback returns.
 */
void
io_free(struct io *io)
{
	if (io == NULL)
		return;
	if (io->incb) {
		io->flags |= IO_F_FREE;
		event_del(&io->ev);
		event_del(&io->ev_flush);
		return;
	}
	io_destroy(io);
}

static void
io_destroy(struct io *io)
{
	event_del(&io->ev);
	event_del(&io->ev_flush);
	if (io->tls != NULL) {
		/* Best effort close_notify; never wait for it. */
		(void)tls_close(io->tls);
		tls_free(io->tls);
	}
	if (io->fd != -1)
		close(io->fd);
	evbuffer_free(io->in);
	evbuffer_free(io->out);
	free(io);
}

int
io_fd(const struct io *io)
{
	return (io->fd);
}

struct evbuffer *
io_input(struct io *io)
{
	return (io->in);
}

struct evbuffer *
io_output(struct io *io)
{
	return (io->out);
}

const char *
io_error(const struct io *io)
{
	return (io->err[0] != '\0' ? io->err : "unknown error");
}

int
io_is_tls(const struct io *io)
{
	return (io->tls != NULL);
}

const char *
io_tls_version(const struct io *io)
{
	if (io->tls == NULL || io->state == IO_STATE_HANDSHAKE)
		return (NULL);
	return (tls_conn_version(io->tls));
}

static void
io_seterr(struct io *io, const char *what, int err)
{
	if (err != 0)
		(void)snprintf(io->err, sizeof(io->err), "%s: %s", what,
		    strerror(err));
	else
		(void)strlcpy(io->err, what, sizeof(io->err));
}

/* Timeout in milliseconds applied to every arm; 0 means none. */
void
io_set_timeout(struct io *io, int msec)
{
	if (msec < 0)
		msec = 0;
	/*
	 * Re-arm even when the value is unchanged: the owner uses this to
	 * restart a deadline, which a persistent event would otherwise
	 * only push forward on activity.
	 */
	io->timeout = msec;
	io->flags |= IO_F_TMODIFIED;
	io_reload(io);
}

void
io_pause_read(struct io *io)
{
	if (io->flags & IO_F_PAUSE_IN)
		return;
	io->flags |= IO_F_PAUSE_IN;
	io_reload(io);
}

/*
 * Resume reading.  A read is tried on the next loop pass even if the
 * socket does not become readable: bytes read while paused may already
 * sit in the input buffer or inside the TLS layer.
 */
void
io_resume_read(struct io *io)
{
	if ((io->flags & IO_F_PAUSE_IN) == 0)
		return;
	io->flags &= ~IO_F_PAUSE_IN;
	io->flags |= IO_F_KICK;
	io_reload(io);
}

int
io_write(struct io *io, const void *buf, size_t len)
{
	if (evbuffer_add(io->out, buf, len) == -1)
		return (-1);
	io_reload(io);
	return (0);
}

/* Wait for a nonblocking connect(2) to complete: IO_CONNECTED. */
void
io_connect_wait(struct io *io)
{
	io->state = IO_STATE_CONNECT;
	io_reload(io);
}

int
io_accept_tls(struct io *io, struct tls *ctx)
{
	if (tls_accept_socket(ctx, &io->tls, io->fd) == -1) {
		io_seterr(io, tls_error(ctx) ? tls_error(ctx) :
		    "tls_accept_socket", 0);
		return (-1);
	}
	io->state = IO_STATE_HANDSHAKE;
	io->hs_want = EV_READ;
	io_reload(io);
	return (0);
}

/*
 * Client side: ctx is a configured tls_client() context of the caller's
 * own, used for this one connection and freed with the io.
 */
int
io_connect_tls(struct io *io, struct tls *ctx, const char *servername)
{
	if (tls_connect_socket(ctx, io->fd, servername) == -1) {
		io_seterr(io, tls_error(ctx) ? tls_error(ctx) :
		    "tls_connect_socket", 0);
		return (-1);
	}
	io->tls = ctx;
	io->state = IO_STATE_HANDSHAKE;
	io->hs_want = EV_WRITE;
	io_reload(io);
	return (0);
}

/*
 * Send what is queued, then shut down our side and read and discard
 * what the peer still sends for up to linger msec, so that the peer
 * sees our last response instead of a reset caused by unread data.
 * The owner gets IO_DISCONNECTED (or IO_TIMEOUT) and then frees the io.
 */
void
io_close_graceful(struct io *io, int linger)
{
	if (io->state == IO_STATE_DRAIN || io->state == IO_STATE_LINGER)
		return;
	io->linger = linger;
	io->state = IO_STATE_DRAIN;
	io->flags |= IO_F_PAUSE_IN;
	if (evbuffer_get_length(io->out) == 0 && io->incb == 0)
		io_start_linger(io);
	else
		io_reload(io);
}

static void
io_start_linger(struct io *io)
{
	if (io->tls != NULL)
		(void)tls_close(io->tls);
	(void)shutdown(io->fd, SHUT_WR);
	io->state = IO_STATE_LINGER;
	io->lingered = 0;
	if (io->timeout != io->linger) {
		io->timeout = io->linger;
		io->flags |= IO_F_TMODIFIED;
	}
	io_reload(io);
}

/* Arm the event for what the connection wants now. */
void
io_reload(struct io *io)
{
	struct timeval	 tv;
	short		 ev = 0;

	if (io->incb || (io->flags & IO_F_FREE))
		return;

	switch (io->state) {
	case IO_STATE_CONNECT:
		ev = EV_WRITE;
		break;
	case IO_STATE_HANDSHAKE:
		ev = io->hs_want;
		break;
	case IO_STATE_UP:
		if ((io->flags & IO_F_PAUSE_IN) == 0)
			ev |= (io->flags & IO_F_RWANTW) ? EV_WRITE : EV_READ;
		if (evbuffer_get_length(io->out) == 0)
			break;
		/*
		 * Output queued from outside the io's own callback (an
		 * answer from another process) is written at the end of
		 * this pass of the event loop: arming EV_WRITE would cost
		 * an epoll_ctl() to arm, a trip through epoll_wait() and
		 * an epoll_ctl() to disarm, for a socket that is nearly
		 * always writable.  Only a write that would have blocked
		 * waits for EV_WRITE.
		 */
		if (!(io->flags & (IO_F_WBLOCKED | IO_F_WWANTR)) &&
		    !(io->armed & EV_WRITE)) {
			if (!(io->flags & IO_F_FLUSH)) {
				io->flags |= IO_F_FLUSH;
				event_active(&io->ev_flush, EV_WRITE, 1);
			}
			break;
		}
		ev |= (io->flags & IO_F_WWANTR) ? EV_READ : EV_WRITE;
		break;
	case IO_STATE_DRAIN:
		ev = (io->flags & IO_F_WWANTR) ? EV_READ : EV_WRITE;
		break;
	case IO_STATE_LINGER:
		ev = EV_READ;
		break;
	default:
		break;
	}

	if (ev != io->armed) {
		event_del(&io->ev);
		event_assign(&io->ev, io->base, io->fd, ev | EV_PERSIST,
		    io_dispatch, io);
		io->armed = ev;
		io->flags |= IO_F_TMODIFIED;
	}
	if (ev != 0 && (io->flags & IO_F_TMODIFIED)) {
		if (io->timeout > 0) {
			tv.tv_sec = io->timeout / 1000;
			tv.tv_usec = (io->timeout % 1000) * 1000;
			event_add(&io->ev, &tv);
		} else
			event_add(&io->ev, NULL);
	}
	io->flags &= ~IO_F_TMODIFIED;
	if (ev != 0 && (io->flags & IO_F_KICK)) {
		io->flags &= ~IO_F_KICK;
		event_active(&io->ev, EV_READ, 1);
	}
}

/* Call the owner; -1 when the io is gone afterwards. */
static int
io_callback(struct io *io, int evt)
{
	io->incb++;
	io->cb(io, evt, io->arg);
	io->incb--;
	if (io->flags & IO_F_FREE) {
		if (io->incb == 0)
			io_destroy(io);
		return (-1);
	}
	return (0);
}

/* 1: got data, 0: nothing now, -1: EOF, -2: error. */
static int
io_do_read(struct io *io)
{
	struct evbuffer_iovec	 iov;
	ssize_t			 n;
	size_t			 got = 0;

	if (io->tls == NULL) {
		/* Not evbuffer_read(): it costs an ioctl(FIONREAD) per call. */
		if (evbuffer_reserve_space(io->in, IO_READ_CHUNK, &iov, 1)
		    != 1) {
			io_seterr(io, "evbuffer_reserve_space", 0);
			return (-2);
		}
		n = read(io->fd, iov.iov_base, iov.iov_len);
		if (n > 0) {
			iov.iov_len = n;
			if (evbuffer_commit_space(io->in, &iov, 1) == -1) {
				io_seterr(io, "evbuffer_commit_space", 0);
				return (-2);
			}
			return (1);
		}
		if (n == 0)
			return (-1);
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return (0);
		if (errno == ECONNRESET || errno == EPIPE)
			return (-1);
		io_seterr(io, "read", errno);
		return (-2);
	}

	/*
	 * Drain what the TLS layer has, a bounded amount per pass; if more
	 * may be buffered inside libtls, come back on the next pass since
	 * poll(2) would not tell us.
	 */
	for (;;) {
		if (got >= 4 * IO_READ_CHUNK) {
			io->flags |= IO_F_KICK;
			break;
		}
		if (evbuffer_reserve_space(io->in, IO_READ_CHUNK, &iov, 1)
		    != 1) {
			io_seterr(io, "evbuffer_reserve_space", 0);
			return (-2);
		}
		n = tls_read(io->tls, iov.iov_base, iov.iov_len);
		if (n == TLS_WANT_POLLIN) {
			io->flags &= ~IO_F_RWANTW;
			break;
		}
		if (n == TLS_WANT_POLLOUT) {
			io->flags |= IO_F_RWANTW;
			break;
		}
		if (n == -1) {
			io_seterr(io, tls_error(io->tls) ?
			    tls_error(io->tls) : "tls_read", 0);
			return (-2);
		}
		if (n == 0)
			return (got > 0 ? 1 : -1);
		iov.iov_len = n;
		if (evbuffer_commit_space(io->in, &iov, 1) == -1) {
			io_seterr(io, "evbuffer_commit_space", 0);
			return (-2);
		}
		got += n;
	}
	return (got > 0 ? 1 : 0);
}

/* 1: output drained, 0: more to write later, -1: peer gone, -2: error. */
static int
io_do_write(struct io *io)
{
	const unsigned char	*p;
	size_t			 len;
	ssize_t			 n;

	io->flags &= ~IO_F_WBLOCKED;
	while ((len = evbuffer_get_length(io->out)) > 0) {
		if (io->tls == NULL) {
			n = evbuffer_write(io->out, io->fd);
			if (n >= 0)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR) {
				io->flags |= IO_F_WBLOCKED;
				return (0);
			}
			if (errno == EPIPE || errno == ECONNRESET)
				return (-1);
			io_seterr(io, "write", errno);
			return (-2);
		}
		if (len > IO_WRITE_CHUNK)
			len = IO_WRITE_CHUNK;
		if ((p = evbuffer_pullup(io->out, len)) == NULL) {
			io_seterr(io, "evbuffer_pullup", 0);
			return (-2);
		}
		n = tls_write(io->tls, p, len);
		if (n == TLS_WANT_POLLIN) {
			io->flags |= IO_F_WWANTR;
			return (0);
		}
		if (n == TLS_WANT_POLLOUT) {
			io->flags &= ~IO_F_WWANTR;
			io->flags |= IO_F_WBLOCKED;
			return (0);
		}
		if (n == -1) {
			io_seterr(io, tls_error(io->tls) ?
			    tls_error(io->tls) : "tls_write", 0);
			return (-2);
		}
		(void)evbuffer_drain(io->out, n);
	}
	io->flags &= ~IO_F_WWANTR;
	return (1);
}

/* 1: done, 0: again later, -1: failed. */
static int
io_handshake(struct io *io)
{
	int	ret;

	ret = tls_handshake(io->tls);
	if (ret == 0) {
		io->state = IO_STATE_UP;
		return (1);
	}
	if (ret == TLS_WANT_POLLIN) {
		io->hs_want = EV_READ;
		return (0);
	}
	if (ret == TLS_WANT_POLLOUT) {
		io->hs_want = EV_WRITE;
		return (0);
	}
	io_seterr(io, tls_error(io->tls) ? tls_error(io->tls) :
	    "tls_handshake", 0);
	return (-1);
}

/* Discard input; 1 when lingering is over. */
static int
io_linger_read(struct io *io)
{
	char	buf[4096];
	ssize_t	n;

	for (;;) {
		n = read(io->fd, buf, sizeof(buf));
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return (0);
			return (1);
		}
		if (n == 0)
			return (1);
		io->lingered += n;
		if (io->lingered > IO_LINGER_MAX)
			return (1);
	}
}

/* The deferred write of io_write(): as if the socket said writable. */
static void
io_flush(int fd, short what, void *arg)
{
	struct io	*io = arg;

	io->flags &= ~IO_F_FLUSH;
	if (io->flags & IO_F_FREE)
		return;
	io_dispatch(io->fd, EV_WRITE, io);
}

static void
io_dispatch(int fd, short what, void *arg)
{
	struct io	*io = arg;
	int		 r, err;
	socklen_t	 len;

	if (what & EV_TIMEOUT) {
		if (io_callback(io, IO_TIMEOUT) == -1)
			return;
		goto done;
	}

	switch (io->state) {
	case IO_STATE_CONNECT:
		err = 0;
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			io_seterr(io, "connect", err);
			io->state = IO_STATE_DEAD;
			if (io_callback(io, IO_ERROR) == -1)
				return;
			goto done;
		}
		io->state = IO_STATE_UP;
		if (io_callback(io, IO_CONNECTED) == -1)
			return;
		goto done;
	case IO_STATE_HANDSHAKE:
		r = io_handshake(io);
		if (r == 0)
			goto done;
		if (r == -1) {
			io->state = IO_STATE_DEAD;
			if (io_callback(io, IO_ERROR) == -1)
				return;
			goto done;
		}
		if (io_callback(io, IO_TLSREADY) == -1)
			return;
		if (io->state != IO_STATE_UP)
			goto done;
		/* The first request may have come with the handshake. */
		what |= EV_READ;
		break;
	case IO_STATE_DRAIN:
		r = io_do_write(io);
		if (r == 0)
			goto done;
		if (r == 1) {
			io_start_linger(io);
			return;
		}
		io->state = IO_STATE_DEAD;
		if (io_callback(io, IO_DISCONNECTED) == -1)
			return;
		goto done;
	case IO_STATE_LINGER:
		if (io_linger_read(io)) {
			io->state = IO_STATE_DEAD;
			if (io_callback(io, IO_DISCONNECTED) == -1)
				return;
		}
		goto done;
	case IO_STATE_UP:
		break;
	default:
		goto done;
	}

	/* IO_STATE_UP */
	if ((io->flags & IO_F_PAUSE_IN) == 0 &&
	    (io->tls != NULL || (what & EV_READ))) {
		r = io_do_read(io);
		if (r == 1) {
			if (io_callback(io, IO_DATAIN) == -1)
				return;
		} else if (r < 0) {
			io->state = IO_STATE_DEAD;
			if (io_callback(io, r == -1 ? IO_DISCONNECTED :
			    IO_ERROR) == -1)
				return;
			goto done;
		}
	}

	/* Write what is queued now, without waiting for another pass. */
	if (io->state == IO_STATE_UP && evbuffer_get_length(io->out) > 0) {
		r = io_do_write(io);
		if (r == 1) {
			if (io_callback(io, IO_LOWAT) == -1)
				return;
		} else if (r < 0) {
			io->state = IO_STATE_DEAD;
			if (io_callback(io, r == -1 ? IO_DISCONNECTED :
			    IO_ERROR) == -1)
				return;
			goto done;
		}
	}
	if (io->state == IO_STATE_DRAIN &&
	    evbuffer_get_length(io->out) == 0) {
		io_start_linger(io);
		return;
	}
 done:
	io_reload(io);
}
