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
 * Load driver for the token endpoint.  wrk cannot run a refresh chain
 * (each answer carries the next refresh token, and the old one is dead
 * after the reuse interval), so this holds K keep-alive connections,
 * each running its own chain, one request in flight per connection, for
 * a fixed time, and counts the 200 answers.  With -p it sends password
 * grants instead.  Plain HTTP/1.1 on loopback, one thread, epoll.
 *
 * usage: token [-c conns] [-d seconds] [-w warmup] -u client:secret
 *	  [-s scope] host port path (-r tokenfile | -p user:password)
 *
 * tokenfile holds one refresh token per line, at least conns of them.
 * Prints "responses N rotated T errors E seconds S rate R p50 X p99 Y"
 * (latencies in ms; rotated: answers whose refresh token was new).
 * Not part of oidcd: bench/token.sh builds it with cc.
 */

#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CONNS_MAX	1024		/* -c */
#define TOKEN_MAX	4096		/* one refresh token */
#define REQ_MAX		8192		/* one request */
#define RESP_MAX	(64 * 1024)	/* one response, headers and body */
#define LAT_MAX		(4 * 1024 * 1024)	/* latencies kept */
#define ARG_MAX_LEN	1024		/* -u, -p, -s, path */

struct conn {
	int		 fd;
	int		 dead;		/* chain broken: no more requests */
	char		 token[TOKEN_MAX];
	char		 req[REQ_MAX];
	size_t		 reqlen;
	size_t		 reqoff;
	char		 resp[RESP_MAX + 1];
	size_t		 resplen;
	double		 sent;		/* when the request went out */
};

static struct sockaddr_in sin4;
static char		 hostport[64];
static const char	*path;
static char		 basic[ARG_MAX_LEN * 2];
static const char	*scope = "openid email profile groups offline_access";
static const char	*user, *pass;
static int		 epfd;
static double		*lat;
static size_t		 nlat;
static unsigned long	 nresp, nerr, nrot;
static int		 counting;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
b64(const char *in, char *out, size_t outsz)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t	len = strlen(in), i, o = 0;
	uint32_t v;

	for (i = 0; i < len && o + 5 < outsz; i += 3) {
		v = (unsigned char)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)in[i + 2];
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < len ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Percent-encode for a form body; 0 when it does not fit. */
static int
formenc(const char *in, char *out, size_t outsz)
{
	size_t	o = 0;

	for (; *in != '\0'; in++) {
		if (o + 4 >= outsz)
			return (0);
		if (isalnum((unsigned char)*in) || strchr("-._~", *in) != NULL)
			out[o++] = *in;
		else
			o += snprintf(out + o, outsz - o, "%%%02X",
			    (unsigned char)*in);
	}
	out[o] = '\0';
	return (1);
}

static int
build(struct conn *c)
{
	char	body[TOKEN_MAX * 3 + ARG_MAX_LEN * 6], a[TOKEN_MAX * 3],
		    b[ARG_MAX_LEN * 3], s[ARG_MAX_LEN * 3];
	int	n;

	if (!formenc(scope, s, sizeof(s)))
		return (0);
	if (user != NULL) {
		if (!formenc(user, a, sizeof(a)) ||
		    !formenc(pass, b, sizeof(b)))
			return (0);
		n = snprintf(body, sizeof(body), "grant_type=password&"
		    "username=%s&password=%s&scope=%s", a, b, s);
	} else {
		if (!formenc(c->token, a, sizeof(a)))
			return (0);
		n = snprintf(body, sizeof(body),
		    "grant_type=refresh_token&refresh_token=%s", a);
	}
	if (n < 0 || (size_t)n >= sizeof(body))
		return (0);
	n = snprintf(c->req, sizeof(c->req), "POST %s HTTP/1.1\r\n"
	    "Host: %s\r\nAuthorization: Basic %s\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\n\r\n%s", path, hostport, basic,
	    strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(c->req))
		return (0);
	c->reqlen = n;
	c->reqoff = 0;
	c->resplen = 0;
	return (1);
}

static void
want(struct conn *c, uint32_t ev, int op)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(epfd, op, c->fd, &e) == -1)
		err(1, "epoll_ctl");
}

static void
connect_one(struct conn *c)
{
	int	one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sin4, sizeof(sin4)) == -1 &&
	    errno != EINPROGRESS)
		err(1, "connect");
	want(c, EPOLLOUT, EPOLL_CTL_ADD);
}

static void
reconnect(struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->reqoff = 0;
	c->resplen = 0;
	connect_one(c);
}

static void
kill_chain(struct conn *c, const char *why)
{
	if (counting)
		nerr++;
	if (user == NULL) {
		/* A refresh chain cannot go on without its next token. */
		if (nerr <= 5)
			warnx("chain ended: %s", why);
		c->dead = 1;
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
}

/* A complete response: 1; incomplete: 0; malformed: -1. */
static int
complete(struct conn *c, int *status, char **body)
{
	char		*e, *h, *v;
	unsigned long	 len;

	c->resp[c->resplen] = '\0';
	if ((e = strstr(c->resp, "\r\n\r\n")) == NULL)
		return (c->resplen >= RESP_MAX ? -1 : 0);
	if (sscanf(c->resp, "HTTP/1.%*c %d", status) != 1)
		return (-1);
	len = 0;
	for (h = strstr(c->resp, "\r\n"); h != NULL && h < e;
	    h = strstr(h + 2, "\r\n")) {
		if (strncasecmp(h + 2, "content-length:", 15) == 0) {
			v = h + 17;
			len = strtoul(v, NULL, 10);
		}
	}
	if (len > RESP_MAX)
		return (-1);
	if ((size_t)(e + 4 - c->resp) + len > c->resplen)
		return (0);
	*body = e + 4;
	(*body)[len] = '\0';
	return (1);
}

static void
handle(struct conn *c, uint32_t ev, double end)
{
	ssize_t	 n;
	int	 status, r;
	char	*body, *t, *q;

	if (c->reqoff < c->reqlen) {
		if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
			return;
		n = write(c->fd, c->req + c->reqoff, c->reqlen - c->reqoff);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			reconnect(c);
			return;
		}
		if (c->reqoff == 0)
			c->sent = now();
		c->reqoff += n;
		if (c->reqoff == c->reqlen)
			want(c, EPOLLIN, EPOLL_CTL_MOD);
		return;
	}
	n = read(c->fd, c->resp + c->resplen, RESP_MAX - c->resplen);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		/* The server closed: the request went unanswered; again. */
		reconnect(c);
		return;
	}
	c->resplen += n;
	if ((r = complete(c, &status, &body)) == 0)
		return;
	if (r == -1) {
		kill_chain(c, "malformed response");
		return;
	}
	if (status != 200) {
		kill_chain(c, body);
		if (c->dead)
			return;
	} else {
		if (counting) {
			nresp++;
			if (nlat < LAT_MAX)
				lat[nlat++] = now() - c->sent;
		}
		if (user == NULL) {
			if ((t = strstr(body, "\"refresh_token\"")) != NULL) {
				t += 15;
				t += strspn(t, " \t\r\n");
				if (*t == ':')
					t++;
				t += strspn(t, " \t\r\n");
			}
			if (t == NULL || *t != '"' ||
			    (q = strchr(t + 1, '"')) == NULL ||
			    (size_t)(q - t - 1) >= TOKEN_MAX) {
				kill_chain(c, "no refresh_token");
				return;
			}
			/* Count the answers that rotated the token. */
			if (counting && (strlen(c->token) != (size_t)(q - t - 1)
			    || memcmp(c->token, t + 1, q - t - 1) != 0))
				nrot++;
			memcpy(c->token, t + 1, q - t - 1);
			c->token[q - t - 1] = '\0';
		}
	}
	if (now() >= end)
		return;
	if (!build(c))
		errx(1, "request too long");
	want(c, EPOLLOUT, EPOLL_CTL_MOD);
}

static int
cmpd(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static void
usage(void)
{
	fprintf(stderr, "usage: token [-c conns] [-d seconds] [-w warmup] "
	    "-u client:secret [-s scope]\n"
	    "\thost port path (-r tokenfile | -p user:password)\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[64];
	struct conn		*conns;
	FILE			*f = NULL;
	const char		*auth = NULL, *tokfile = NULL;
	char			*p, line[TOKEN_MAX + 2];
	double			 t0, start, end, dur = 10, warm = 1;
	int			 ch, i, n, k = 16, alive;

	while ((ch = getopt(argc, argv, "c:d:p:r:s:u:w:")) != -1) {
		switch (ch) {
		case 'c':
			k = atoi(optarg);
			break;
		case 'd':
			dur = atof(optarg);
			break;
		case 'p':
			if (strlen(optarg) >= ARG_MAX_LEN ||
			    (p = strchr(optarg, ':')) == NULL)
				usage();
			*p = '\0';
			user = optarg;
			pass = p + 1;
			break;
		case 'r':
			tokfile = optarg;
			break;
		case 's':
			if (strlen(optarg) >= ARG_MAX_LEN)
				usage();
			scope = optarg;
			break;
		case 'u':
			if (strlen(optarg) >= ARG_MAX_LEN)
				usage();
			auth = optarg;
			break;
		case 'w':
			warm = atof(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3 || auth == NULL || (user == NULL) == (tokfile == NULL) ||
	    k < 1 || k > CONNS_MAX || dur <= 0 || warm < 0 ||
	    strlen(argv[2]) >= ARG_MAX_LEN)
		usage();
	memset(&sin4, 0, sizeof(sin4));
	sin4.sin_family = AF_INET;
	sin4.sin_port = htons(atoi(argv[1]));
	if (inet_pton(AF_INET, argv[0], &sin4.sin_addr) != 1)
		errx(1, "%s: not an IPv4 address", argv[0]);
	snprintf(hostport, sizeof(hostport), "%s:%s", argv[0], argv[1]);
	path = argv[2];
	b64(auth, basic, sizeof(basic));

	if ((conns = calloc(k, sizeof(*conns))) == NULL ||
	    (lat = calloc(LAT_MAX, sizeof(*lat))) == NULL)
		err(1, NULL);
	if (tokfile != NULL && (f = fopen(tokfile, "r")) == NULL)
		err(1, "%s", tokfile);
	if ((epfd = epoll_create1(0)) == -1)
		err(1, "epoll_create1");
	for (i = 0; i < k; i++) {
		if (f != NULL) {
			if (fgets(line, sizeof(line), f) == NULL)
				errx(1, "%s: fewer than %d tokens", tokfile, k);
			line[strcspn(line, "\r\n")] = '\0';
			if (strlen(line) >= TOKEN_MAX)
				errx(1, "%s: token too long", tokfile);
			memcpy(conns[i].token, line, strlen(line) + 1);
		}
		if (!build(&conns[i]))
			errx(1, "request too long");
		connect_one(&conns[i]);
	}
	if (f != NULL)
		fclose(f);

	t0 = now();
	start = t0 + warm;
	end = start + dur;
	for (;;) {
		double	t = now();

		if (!counting && t >= start)
			counting = 1;
		if (t >= end)
			break;
		n = epoll_wait(epfd, evs, 64, 50);
		if (n == -1 && errno != EINTR)
			err(1, "epoll_wait");
		for (i = 0; i < n; i++)
			handle(evs[i].data.ptr, evs[i].events, end);
		for (alive = 0, i = 0; i < k; i++)
			alive += !conns[i].dead;
		if (alive == 0)
			break;
	}
	qsort(lat, nlat, sizeof(*lat), cmpd);
	printf("responses %lu rotated %lu errors %lu seconds %.1f rate %.1f "
	    "p50 %.2f p99 %.2f\n", nresp, nrot, nerr, dur, nresp / dur,
	    nlat ? lat[nlat / 2] * 1e3 : 0.0,
	    nlat ? lat[(size_t)(nlat * 0.99)] * 1e3 : 0.0);
	for (i = 0; i < k; i++)
		if (conns[i].fd != -1)
			close(conns[i].fd);
	free(conns);
	free(lat);
	return (nresp > 0 ? 0 : 1);
}
