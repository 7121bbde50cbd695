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

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oidcd.h"

/* Compare secrets in time that depends only on their length. */
int
timingsafe_bcmp(const void *b1, const void *b2, size_t n)
{
	const unsigned char	*p1 = b1, *p2 = b2;
	unsigned char		 ret = 0;

	for (; n > 0; n--)
		ret |= *p1++ ^ *p2++;
	return (ret != 0);
}

uint64_t
now_monotonic_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("%s: clock_gettime", __func__);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

uint64_t
now_realtime(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("%s: clock_gettime", __func__);
	return ((uint64_t)ts.tv_sec);
}

/*
 * Copy a counted string out of a message payload at offset off: the
 * rest of the payload, at most max bytes, with no NUL inside.
 */
int
imsg_get_string(struct imsg *imsg, size_t off, char **out)
{
	size_t	 len = imsg_get_len(imsg);

	*out = NULL;
	if (off > len) {
		errno = EBADMSG;
		return (-1);
	}
	len -= off;
	if (len > 0 && memchr((char *)imsg->data + off, '\0', len) != NULL) {
		errno = EBADMSG;
		return (-1);
	}
	if ((*out = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(*out, (char *)imsg->data + off, len);
	(*out)[len] = '\0';
	return (0);
}

const char *
key_state_name(unsigned int state)
{
	switch (state) {
	case KEY_STATE_NEXT:
		return ("next");
	case KEY_STATE_ACTIVE:
		return ("active");
	case KEY_STATE_RETIRED:
		return ("retired");
	default:
		return ("unknown");
	}
}

/* strdup(3) of a string that may be NULL; out of memory is fatal. */
char *
xstrdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return (NULL);
	if ((p = strdup(s)) == NULL)
		fatal("%s: strdup", __func__);
	return (p);
}
