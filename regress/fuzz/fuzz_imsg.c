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
 * libFuzzer target: the imsg reader.  Arbitrary bytes arrive on a
 * socketpair, as a compromised peer would send them, and are read and
 * split into messages with the limits the daemon uses; each message's
 * accessors are exercised the way the dispatchers do.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define FUZZ_MAXSIZE	(256 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsgbuf	 ibuf;
	struct imsg	 imsg;
	uint32_t	 word;
	char		*copy;
	int		 sv[2], fd, rounds = 0;
	ssize_t		 n;

	if (size > 200000)
		return (0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return (0);
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (imsgbuf_init(&ibuf, sv[1]) == -1)
		goto out;
	/* The first byte picks the limits of the receiving buffer. */
	if (size > 0 && (data[0] & 1))
		(void)imsgbuf_set_maxsize(&ibuf, FUZZ_MAXSIZE);
	if (size > 0 && (data[0] & 2))
		imsgbuf_allow_fdpass(&ibuf);

	while (size > 0 && rounds++ < 64) {
		n = write(sv[0], data, size);
		if (n > 0) {
			data += n;
			size -= n;
		}
		if (imsgbuf_read(&ibuf) != 1)
			break;
		for (;;) {
			if ((n = imsg_get(&ibuf, &imsg)) <= 0)
				break;
			(void)imsg_get_type(&imsg);
			(void)imsg_get_id(&imsg);
			(void)imsg_get_pid(&imsg);
			(void)imsg_get_data(&imsg, &word, sizeof(word));
			if (imsg_get_len(&imsg) > 0 &&
			    (copy = malloc(imsg_get_len(&imsg))) != NULL) {
				memcpy(copy, imsg.data, imsg_get_len(&imsg));
				free(copy);
			}
			if ((fd = imsg_get_fd(&imsg)) != -1)
				close(fd);
			imsg_free(&imsg);
		}
		if (n == -1)
			break;
	}
	imsgbuf_clear(&ibuf);
 out:
	close(sv[0]);
	close(sv[1]);
	return (0);
}
