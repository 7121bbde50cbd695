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
 * A small nonblocking I/O layer for one socket under libevent, plain or
 * TLS (libtls), in the shape of smtpd's ioev.c.  One struct event per
 * connection is re-armed for reading or writing according to what the
 * last read(2)/write(2) or tls_read()/tls_write()/tls_handshake() asked
 * for (TLS 1.3 may want to write during a read and the reverse), with a
 * timeout on every arm.  Data goes through one input and one output
 * evbuffer.  The owner is told what happened through one callback.
 */

#ifndef IO_H
#define IO_H

#include <sys/types.h>

#include <stddef.h>

struct event_base;
struct evbuffer;
struct tls;
struct io;

/* Events passed to the callback. */
#define IO_CONNECTED	1	/* client: connect(2) completed */
#define IO_TLSREADY	2	/* TLS handshake done */
#define IO_DATAIN	3	/* new bytes in the input buffer */
#define IO_LOWAT	4	/* output buffer drained */
#define IO_DISCONNECTED	5	/* peer closed, or linger ended */
#define IO_TIMEOUT	6	/* the armed timeout fired */
#define IO_ERROR	7	/* socket or TLS error, see io_error() */

/* Bytes read per read(2)/tls_read() call. */
#define IO_READ_CHUNK	16384
/* Bytes handed to one tls_write() call. */
#define IO_WRITE_CHUNK	16384
/* Bytes a lingering close discards at most before it gives up. */
#define IO_LINGER_MAX	(1024 * 1024)

typedef void	(*io_cb)(struct io *, int, void *);

struct io	*io_new(struct event_base *, int, io_cb, void *);
void		 io_free(struct io *);
int		 io_fd(const struct io *);
struct evbuffer	*io_input(struct io *);
struct evbuffer	*io_output(struct io *);
const char	*io_error(const struct io *);
int		 io_is_tls(const struct io *);
const char	*io_tls_version(const struct io *);
void		 io_set_timeout(struct io *, int);
void		 io_pause_read(struct io *);
void		 io_resume_read(struct io *);
int		 io_write(struct io *, const void *, size_t);
void		 io_reload(struct io *);
void		 io_connect_wait(struct io *);
int		 io_accept_tls(struct io *, struct tls *);
int		 io_connect_tls(struct io *, struct tls *, const char *);
void		 io_close_graceful(struct io *, int);

#endif /* IO_H */
