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

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

/* Descriptors a peer may queue on us before we call it an attack. */
#define IMSG_MAX_FDS	16
#define IMSG_READ_CHUNK	65536

static void	 ibuf_free(struct ibuf *);

int
imsgbuf_init(struct imsgbuf *ibuf, int fd)
{
	memset(ibuf, 0, sizeof(*ibuf));
	TAILQ_INIT(&ibuf->w_bufs);
	TAILQ_INIT(&ibuf->r_fds);
	ibuf->r_size = IMSG_READ_CHUNK;
	if ((ibuf->r_buf = malloc(ibuf->r_size)) == NULL)
		return (-1);
	ibuf->maxsize = MAX_IMSGSIZE;
	ibuf->fd = fd;
	ibuf->pid = getpid();
	return (0);
}

void
imsgbuf_allow_fdpass(struct imsgbuf *ibuf)
{
	ibuf->fdpass = 1;
}

int
imsgbuf_set_maxsize(struct imsgbuf *ibuf, uint32_t maxsize)
{
	if (maxsize < IMSG_HEADER_SIZE || maxsize & IMSG_FD_MARK) {
		errno = EINVAL;
		return (-1);
	}
	ibuf->maxsize = maxsize;
	return (0);
}

static void
imsgbuf_close_fds(struct imsgbuf *ibuf)
{
	struct imsg_fd	*ifd;

	while ((ifd = TAILQ_FIRST(&ibuf->r_fds)) != NULL) {
		TAILQ_REMOVE(&ibuf->r_fds, ifd, entry);
		close(ifd->fd);
		free(ifd);
	}
	ibuf->r_nfds = 0;
}

/*
 * Read what the socket has.  Returns 1 when data was read or the read
 * would block, 0 on end of file, -1 on error.
 */
int
imsgbuf_read(struct imsgbuf *ibuf)
{
	struct msghdr		 msg;
	struct cmsghdr		*cmsg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cmsgbuf;
	struct iovec		 iov;
	struct imsg_fd		*ifd;
	unsigned char		*nbuf;
	size_t			 want, nsize;
	ssize_t			 n;
	int			*fdp, i, nfd;

	/* Make room for at least one full message of the largest size. */
	want = ibuf->maxsize + IMSG_HEADER_SIZE;
	if (ibuf->r_size - ibuf->r_len < IMSG_READ_CHUNK &&
	    ibuf->r_size < want) {
		nsize = ibuf->r_size * 2;
		if (nsize > want)
			nsize = want;
		if ((nbuf = realloc(ibuf->r_buf, nsize)) == NULL)
			return (-1);
		ibuf->r_buf = nbuf;
		ibuf->r_size = nsize;
	}
	if (ibuf->r_len == ibuf->r_size) {
		errno = EOVERFLOW;
		return (-1);
	}

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = ibuf->r_buf + ibuf->r_len;
	iov.iov_len = ibuf->r_size - ibuf->r_len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

 again:
	if ((n = recvmsg(ibuf->fd, &msg, MSG_CMSG_CLOEXEC)) == -1) {
		if (errno == EINTR)
			goto again;
		if (errno == EAGAIN)
			return (1);
		return (-1);
	}
	if (n == 0)
		return (0);
	ibuf->r_len += n;

	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fdp = (int *)CMSG_DATA(cmsg);
		for (i = 0; i < nfd; i++) {
			if (!ibuf->fdpass || ibuf->r_nfds >= IMSG_MAX_FDS ||
			    (ifd = calloc(1, sizeof(*ifd))) == NULL) {
				close(fdp[i]);
				/* A peer that sends fds unasked is broken. */
				errno = EBADMSG;
				return (-1);
			}
			ifd->fd = fdp[i];
			TAILQ_INSERT_TAIL(&ibuf->r_fds, ifd, entry);
			ibuf->r_nfds++;
		}
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		errno = EBADMSG;
		return (-1);
	}
	return (1);
}

/*
 * Take one complete message out of the read buffer.  Returns its total
 * length, 0 when no complete message is there yet, -1 on a malformed
 * or oversized message (errno EBADMSG or ERANGE).
 */
ssize_t
imsg_get(struct imsgbuf *ibuf, struct imsg *imsg)
{
	struct imsg_hdr	 hdr;
	struct imsg_fd	*ifd;
	size_t		 len, datalen;

	if (ibuf->r_len < IMSG_HEADER_SIZE)
		return (0);
	memcpy(&hdr, ibuf->r_buf, sizeof(hdr));
	len = hdr.len & ~IMSG_FD_MARK;
	if (len < IMSG_HEADER_SIZE || len > ibuf->maxsize) {
		errno = ERANGE;
		return (-1);
	}
	if (len > ibuf->r_len)
		return (0);

	memset(imsg, 0, sizeof(*imsg));
	imsg->hdr = hdr;
	imsg->hdr.len = len;
	imsg->fd = -1;
	datalen = len - IMSG_HEADER_SIZE;
	if (datalen > 0) {
		if ((imsg->data = malloc(datalen)) == NULL)
			return (-1);
		memcpy(imsg->data, ibuf->r_buf + IMSG_HEADER_SIZE, datalen);
	}
	if (hdr.len & IMSG_FD_MARK) {
		/* The descriptor travels with the first byte of its message. */
		if ((ifd = TAILQ_FIRST(&ibuf->r_fds)) == NULL) {
			free(imsg->data);
			imsg->data = NULL;
			errno = EBADMSG;
			return (-1);
		}
		TAILQ_REMOVE(&ibuf->r_fds, ifd, entry);
		ibuf->r_nfds--;
		imsg->fd = ifd->fd;
		free(ifd);
	}
	ibuf->r_len -= len;
	if (ibuf->r_len > 0)
		memmove(ibuf->r_buf, ibuf->r_buf + len, ibuf->r_len);
	return (len);
}

uint32_t
imsg_get_type(struct imsg *imsg)
{
	return (imsg->hdr.type);
}

uint32_t
imsg_get_id(struct imsg *imsg)
{
	return (imsg->hdr.peerid);
}

pid_t
imsg_get_pid(struct imsg *imsg)
{
	return (imsg->hdr.pid);
}

size_t
imsg_get_len(struct imsg *imsg)
{
	return (imsg->hdr.len - IMSG_HEADER_SIZE);
}

/* Hand the descriptor over to the caller, who must close it. */
int
imsg_get_fd(struct imsg *imsg)
{
	int	 fd = imsg->fd;

	imsg->fd = -1;
	return (fd);
}

/* Copy the payload out; it must be exactly len bytes. */
int
imsg_get_data(struct imsg *imsg, void *data, size_t len)
{
	if (len == 0 || imsg_get_len(imsg) != len) {
		errno = EBADMSG;
		return (-1);
	}
	memcpy(data, imsg->data, len);
	return (0);
}

void
imsg_free(struct imsg *imsg)
{
	if (imsg->fd != -1)
		close(imsg->fd);
	imsg->fd = -1;
	free(imsg->data);
	imsg->data = NULL;
}

struct ibuf *
imsg_create(struct imsgbuf *ibuf, uint32_t type, uint32_t peerid, pid_t pid,
    size_t datalen)
{
	struct ibuf	*buf;
	struct imsg_hdr	 hdr;

	if (datalen > ibuf->maxsize - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return (NULL);
	}
	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	buf->size = IMSG_HEADER_SIZE + datalen;
	buf->max = ibuf->maxsize;
	buf->fd = -1;
	if ((buf->buf = malloc(buf->size)) == NULL) {
		free(buf);
		return (NULL);
	}
	hdr.type = type;
	hdr.len = 0;
	hdr.peerid = peerid;
	hdr.pid = pid ? (uint32_t)pid : (uint32_t)ibuf->pid;
	memcpy(buf->buf, &hdr, sizeof(hdr));
	buf->wpos = sizeof(hdr);
	return (buf);
}

int
imsg_add(struct ibuf *buf, const void *data, size_t len)
{
	unsigned char	*nbuf;
	size_t		 nsize;

	if (buf == NULL)
		return (-1);
	if (len == 0)
		return (0);
	if (len > buf->max - buf->wpos) {
		ibuf_free(buf);
		errno = ERANGE;
		return (-1);
	}
	if (buf->wpos + len > buf->size) {
		nsize = buf->wpos + len;
		if ((nbuf = realloc(buf->buf, nsize)) == NULL) {
			ibuf_free(buf);
			return (-1);
		}
		buf->buf = nbuf;
		buf->size = nsize;
	}
	memcpy(buf->buf + buf->wpos, data, len);
	buf->wpos += len;
	return (0);
}

void
imsg_close(struct imsgbuf *ibuf, struct ibuf *buf)
{
	struct imsg_hdr	*hdr;
	uint32_t	 len;

	len = buf->wpos;
	if (buf->fd != -1)
		len |= IMSG_FD_MARK;
	hdr = (struct imsg_hdr *)buf->buf;
	memcpy(&hdr->len, &len, sizeof(len));
	TAILQ_INSERT_TAIL(&ibuf->w_bufs, buf, entry);
	ibuf->w_queued++;
}

int
imsg_composev(struct imsgbuf *ibuf, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const struct iovec *iov, int iovcnt)
{
	struct ibuf	*buf;
	size_t		 datalen = 0;
	int		 i;

	for (i = 0; i < iovcnt; i++)
		datalen += iov[i].iov_len;
	if ((buf = imsg_create(ibuf, type, peerid, pid, datalen)) == NULL)
		goto fail;
	for (i = 0; i < iovcnt; i++)
		if (imsg_add(buf, iov[i].iov_base, iov[i].iov_len) == -1)
			goto fail;
	buf->fd = fd;
	imsg_close(ibuf, buf);
	return (1);
 fail:
	/* The descriptor is ours to close, as in libutil. */
	if (fd != -1)
		close(fd);
	return (-1);
}

int
imsg_compose(struct imsgbuf *ibuf, uint32_t type, uint32_t peerid, pid_t pid,
    int fd, const void *data, size_t datalen)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = datalen;
	return (imsg_composev(ibuf, type, peerid, pid, fd, &iov,
	    datalen ? 1 : 0));
}

int
imsg_forward(struct imsgbuf *ibuf, struct imsg *imsg)
{
	return (imsg_compose(ibuf, imsg->hdr.type, imsg->hdr.peerid,
	    imsg->hdr.pid, imsg_get_fd(imsg), imsg->data,
	    imsg_get_len(imsg)));
}

static void
ibuf_free(struct ibuf *buf)
{
	if (buf == NULL)
		return;
	if (buf->fd != -1)
		close(buf->fd);
	free(buf->buf);
	free(buf);
}

/*
 * Write what is queued.  A buffer that carries a descriptor is sent on
 * its own so the descriptor lands with its message.  Returns 0 (also
 * when the socket would block), -1 on error; EPIPE means the peer is
 * gone.
 */
int
imsgbuf_write(struct imsgbuf *ibuf)
{
	struct iovec		 iov[64];
	struct msghdr		 msg;
	struct cmsghdr		*cmsg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct ibuf		*buf, *next;
	ssize_t			 n;
	size_t			 left;
	int			 i = 0, fd = -1;

	while (!TAILQ_EMPTY(&ibuf->w_bufs)) {
		memset(&msg, 0, sizeof(msg));
		i = 0;
		fd = -1;
		TAILQ_FOREACH(buf, &ibuf->w_bufs, entry) {
			if (i >= (int)(sizeof(iov) / sizeof(iov[0])))
				break;
			if (i > 0 && buf->fd != -1)
				break;
			iov[i].iov_base = buf->buf + buf->rpos;
			iov[i].iov_len = buf->wpos - buf->rpos;
			i++;
			if (buf->fd != -1) {
				fd = buf->fd;
				break;
			}
		}
		msg.msg_iov = iov;
		msg.msg_iovlen = i;
		if (fd != -1) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			msg.msg_control = &cmsgbuf.buf;
			msg.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
		}
 again:
		if ((n = sendmsg(ibuf->fd, &msg, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				goto again;
			if (errno == EAGAIN || errno == ENOBUFS)
				return (0);
			return (-1);
		}
		/* The descriptor went with the first byte. */
		if (fd != -1) {
			buf = TAILQ_FIRST(&ibuf->w_bufs);
			while (buf != NULL && buf->fd != fd)
				buf = TAILQ_NEXT(buf, entry);
			if (buf != NULL) {
				close(buf->fd);
				buf->fd = -1;
			}
		}
		left = n;
		for (buf = TAILQ_FIRST(&ibuf->w_bufs); buf != NULL && left > 0;
		    buf = next) {
			next = TAILQ_NEXT(buf, entry);
			if (left >= buf->wpos - buf->rpos) {
				left -= buf->wpos - buf->rpos;
				TAILQ_REMOVE(&ibuf->w_bufs, buf, entry);
				ibuf->w_queued--;
				ibuf_free(buf);
			} else {
				buf->rpos += left;
				left = 0;
			}
		}
	}
	return (0);
}

/* Write everything, waiting for the socket if need be. */
int
imsgbuf_flush(struct imsgbuf *ibuf)
{
	struct pollfd	 pfd;

	while (ibuf->w_queued > 0) {
		if (imsgbuf_write(ibuf) == -1)
			return (-1);
		if (ibuf->w_queued == 0)
			break;
		pfd.fd = ibuf->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
	}
	return (0);
}

void
imsgbuf_clear(struct imsgbuf *ibuf)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(&ibuf->w_bufs)) != NULL) {
		TAILQ_REMOVE(&ibuf->w_bufs, buf, entry);
		ibuf_free(buf);
	}
	ibuf->w_queued = 0;
	imsgbuf_close_fds(ibuf);
	free(ibuf->r_buf);
	ibuf->r_buf = NULL;
	ibuf->r_len = ibuf->r_size = 0;
}

uint32_t
imsgbuf_queuelen(struct imsgbuf *ibuf)
{
	return (ibuf->w_queued);
}
