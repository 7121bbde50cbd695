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
 * Unit tests for our imsg implementation: framing across partial
 * reads, descriptor passing, size limits, refusal of unasked
 * descriptors and of malformed headers.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "tap.h"

static void
pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	(void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

static void
test_roundtrip(void)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	struct iovec	 iov[2];
	char		 a[] = "hello", b[] = "world";
	uint32_t	 v = 0;
	int		 sv[2];
	ssize_t		 n;

	pair(sv);
	ok(imsgbuf_init(&w, sv[0]) == 0 && imsgbuf_init(&r, sv[1]) == 0,
	    "imsgbuf_init");
	ok(imsg_compose(&w, 7, 42, 3, -1, &v, sizeof(v)) == 1, "compose");
	iov[0].iov_base = a;
	iov[0].iov_len = 5;
	iov[1].iov_base = b;
	iov[1].iov_len = 6;
	ok(imsg_composev(&w, 8, 43, 0, -1, iov, 2) == 1, "composev");
	is_int(imsgbuf_queuelen(&w), 2, "two messages queued");
	ok(imsgbuf_flush(&w) == 0, "flush");
	is_int(imsgbuf_queuelen(&w), 0, "queue empty after flush");
	ok(imsgbuf_read(&r) == 1, "read");
	n = imsg_get(&r, &imsg);
	is_int(n, IMSG_HEADER_SIZE + 4, "first message length");
	is_int(imsg_get_type(&imsg), 7, "type");
	is_int(imsg_get_id(&imsg), 42, "peerid");
	is_int(imsg_get_pid(&imsg), 3, "pid");
	ok(imsg_get_data(&imsg, &v, sizeof(v)) == 0, "exact-size get_data");
	ok(imsg_get_data(&imsg, &v, 2) == -1 && errno == EBADMSG,
	    "get_data with the wrong size fails");
	imsg_free(&imsg);
	n = imsg_get(&r, &imsg);
	ok(n > 0 && imsg_get_len(&imsg) == 11 &&
	    memcmp(imsg.data, "helloworld", 11) == 0, "composev payload");
	imsg_free(&imsg);
	is_int(imsg_get(&r, &imsg), 0, "nothing more");
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* A message that arrives one byte at a time comes out whole. */
static void
test_partial(void)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	unsigned char	 payload[1000];
	int		 sv[2], tv[2], i, got = 0, early = 0;
	size_t		 off;
	ssize_t		 n;
	unsigned char	 wire[2000];
	ssize_t		 wlen;

	for (i = 0; i < (int)sizeof(payload); i++)
		payload[i] = i & 0xff;
	pair(sv);
	imsgbuf_init(&w, sv[0]);
	imsg_compose(&w, 9, 1, 0, -1, payload, sizeof(payload));
	imsgbuf_flush(&w);
	wlen = read(sv[1], wire, sizeof(wire));
	is_int(wlen, IMSG_HEADER_SIZE + sizeof(payload), "wire length");

	pair(tv);
	imsgbuf_init(&r, tv[1]);
	for (off = 0; off < (size_t)wlen; off++) {
		if (write(tv[0], wire + off, 1) != 1)
			break;
		if (imsgbuf_read(&r) != 1)
			break;
		n = imsg_get(&r, &imsg);
		if (n > 0) {
			if (off + 1 < (size_t)wlen)
				early = 1;
			got = imsg_get_len(&imsg) == sizeof(payload) &&
			    memcmp(imsg.data, payload, sizeof(payload)) == 0;
			imsg_free(&imsg);
		}
	}
	ok(!early, "no message before its last byte");
	ok(got, "message reassembled from single-byte reads");
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
	close(tv[0]);
	close(tv[1]);
}

static void
test_fdpass(void)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	struct stat	 st1, st2;
	int		 sv[2], fd, rfd, pfd[2];
	char		 c = 0;

	pair(sv);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);
	imsgbuf_allow_fdpass(&r);
	if (pipe(pfd) == -1)
		abort();
	fstat(pfd[1], &st1);
	fd = pfd[1];
	ok(imsg_compose(&w, 1, 0, 0, fd, "x", 1) == 1, "compose with fd");
	ok(imsg_compose(&w, 2, 0, 0, -1, "y", 1) == 1, "compose without");
	imsgbuf_flush(&w);
	ok(fcntl(fd, F_GETFD) == -1, "sender's fd closed once sent");
	imsgbuf_read(&r);
	imsgbuf_read(&r);
	ok(imsg_get(&r, &imsg) > 0, "got message with fd");
	rfd = imsg_get_fd(&imsg);
	ok(rfd != -1 && fstat(rfd, &st2) == 0 && st1.st_ino == st2.st_ino,
	    "received the same pipe");
	ok(rfd != -1 && write(rfd, "z", 1) == 1 && read(pfd[0], &c, 1) == 1 &&
	    c == 'z', "received descriptor works");
	is_int(imsg_get_fd(&imsg), -1, "fd can be taken once");
	imsg_free(&imsg);
	ok(imsg_get(&r, &imsg) > 0 && imsg.fd == -1,
	    "next message has no fd");
	imsg_free(&imsg);
	close(rfd);
	close(pfd[0]);

	/* A receiver that does not allow descriptors refuses them. */
	imsgbuf_clear(&r);
	imsgbuf_init(&r, sv[1]);
	if (pipe(pfd) == -1)
		abort();
	imsg_compose(&w, 1, 0, 0, pfd[1], "x", 1);
	imsgbuf_flush(&w);
	errno = 0;
	ok(imsgbuf_read(&r) == -1 && errno == EBADMSG,
	    "unasked descriptor refused");
	close(pfd[0]);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

static void
test_limits(void)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	struct imsg_hdr	 hdr;
	char		*big;
	int		 sv[2];

	pair(sv);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);
	big = calloc(1, 300000);
	ok(imsg_compose(&w, 1, 0, 0, -1, big, MAX_IMSGSIZE) == -1 &&
	    errno == ERANGE, "default maximum refuses an oversized message");
	ok(imsgbuf_set_maxsize(&w, 256 * 1024) == 0, "raise maximum");
	ok(imsg_compose(&w, 1, 0, 0, -1, big, 200000) == 1,
	    "200 KB message with a 256 KiB maximum");
	ok(imsgbuf_set_maxsize(&w, 0x80000010U) == -1, "fd mark bit refused");
	imsgbuf_flush(&w);
	/* The receiver still has the 16 KiB default: the header is bad. */
	while (imsgbuf_read(&r) == 1 && r.r_len < IMSG_HEADER_SIZE)
		;
	ok(imsg_get(&r, &imsg) == -1 && errno == ERANGE,
	    "receiver refuses a message over its maximum");
	imsgbuf_clear(&r);

	/* A header whose length is shorter than a header. */
	imsgbuf_init(&r, sv[1]);
	while (read(sv[1], big, 300000) > 0)
		;
	memset(&hdr, 0, sizeof(hdr));
	hdr.len = 4;
	if (write(sv[0], &hdr, sizeof(hdr)) != sizeof(hdr))
		abort();
	imsgbuf_read(&r);
	ok(imsg_get(&r, &imsg) == -1 && errno == ERANGE,
	    "header with a length below the header size refused");
	imsgbuf_clear(&r);

	/* A header that announces a descriptor that never came. */
	imsgbuf_init(&r, sv[1]);
	imsgbuf_allow_fdpass(&r);
	hdr.len = IMSG_HEADER_SIZE | IMSG_FD_MARK;
	if (write(sv[0], &hdr, sizeof(hdr)) != sizeof(hdr))
		abort();
	imsgbuf_read(&r);
	ok(imsg_get(&r, &imsg) == -1 && errno == EBADMSG,
	    "announced but missing descriptor refused");
	imsgbuf_clear(&r);

	/* End of file. */
	imsgbuf_init(&r, sv[1]);
	close(sv[0]);
	is_int(imsgbuf_read(&r), 0, "EOF reads as 0");
	imsgbuf_clear(&r);
	imsgbuf_clear(&w);
	close(sv[1]);
	free(big);
}

/* Many messages in one read come out in order. */
static void
test_burst(void)
{
	struct imsgbuf	 w, r;
	struct imsg	 imsg;
	uint32_t	 i, v, bad = 0, count = 0;
	int		 sv[2];

	pair(sv);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);
	for (i = 0; i < 2000; i++)
		imsg_compose(&w, 5, i, 0, -1, &i, sizeof(i));
	while (imsgbuf_queuelen(&w) > 0 || count < 2000) {
		if (imsgbuf_write(&w) == -1)
			break;
		if (imsgbuf_read(&r) != 1)
			break;
		while (imsg_get(&r, &imsg) > 0) {
			if (imsg_get_data(&imsg, &v, sizeof(v)) == -1 ||
			    v != count || imsg_get_id(&imsg) != count)
				bad++;
			count++;
			imsg_free(&imsg);
		}
	}
	is_int(count, 2000, "2000 messages received");
	is_int(bad, 0, "in order and intact");
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	test_roundtrip();
	test_partial();
	test_fdpass();
	test_limits();
	test_burst();
	return (tap_done());
}
