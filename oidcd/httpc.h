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
 * The connector's outbound HTTP/1.1 client (DESIGN.md §9): discovery
 * documents, JWKS, the token endpoint and userinfo of an upstream
 * identity provider, over plain TCP or libtls, on the process's libevent
 * base, with libevent's evdns for names since getaddrinfo(3) does not
 * work inside an empty chroot.
 *
 * One struct httpc per upstream holds the TLS settings and a small pool
 * of idle keep-alive connections.  httpc_request() starts a request and
 * returns at once; the callback is called exactly once later from the
 * event loop (never from inside httpc_request()), with either a
 * response or an error string, unless the request is cancelled first.
 * The response and error live until the callback returns; copy what you
 * keep.  Redirects are not followed: a 3xx is a response like any other.
 *
 * Inside the callback the caller may start new requests, cancel other
 * requests, or free the whole client; cancelling the request whose
 * callback is running is a no-op.
 */

#ifndef HTTPC_H
#define HTTPC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct event_base;
struct evdns_base;

/* Defaults and limits. */
#define HTTPC_TIMEOUT_MS	10000	/* whole request, default */
#define HTTPC_TIMEOUT_MAX_MS	300000	/* largest timeout_ms accepted */
#define HTTPC_CONNECT_MS	5000	/* connect(2), per address; TLS */
#define HTTPC_IDLE_MS		30000	/* idle keep-alive connection */
#define HTTPC_IDLE_MAX		8	/* idle connections per client */
#define HTTPC_ADDRS_MAX		16	/* addresses tried per request */
#define HTTPC_URL_MAX		4096
#define HTTPC_HOST_MAX		255
#define HTTPC_REQ_HEADERS_MAX	16	/* caller headers per request */
#define HTTPC_REQ_HEADER_MAX	8192	/* one caller "Name: value" */
#define HTTPC_REQ_BODY_MAX	65536	/* POST body, and httpc_form_add() */
#define HTTPC_BODY_MAX		(1024 * 1024)	/* response body */
#define HTTPC_HEADERBLOCK_MAX	16384	/* status line, headers, CRLF */
#define HTTPC_STATUSLINE_MAX	1024
#define HTTPC_HEADERS_MAX	64	/* response header fields */
#define HTTPC_INTERIM_MAX	8	/* 1xx responses skipped */
#define HTTPC_CHUNKLINE_MAX	1024	/* chunk size and extensions */
#define HTTPC_ERR_MAX		256	/* error string */

/* Files read by httpc_dns_new(), before chroot. */
#define HTTPC_RESOLV_CONF	"/etc/resolv.conf"
#define HTTPC_HOSTS		"/etc/hosts"

struct httpc;
struct httpc_req;

struct httpc_config {
	const char	*ca_pem;	/* roots, PEM; NULL: https fails */
	size_t		 ca_len;	/* unless insecure_skip_verify */
	int		 insecure_skip_verify;
	int		 timeout_ms;	/* whole request; 0: HTTPC_TIMEOUT_MS */
	size_t		 max_body;	/* 0 or above: HTTPC_BODY_MAX */
};

struct httpc_response {
	int			 status;
	int			 version;	/* 10 or 11 */
	const struct http_kv	*headers;	/* in order received */
	size_t			 nheaders;
	const char		*body;		/* NUL-terminated, never NULL */
	size_t			 bodylen;
};

/* Exactly one of the response and the error is non-NULL. */
typedef void	(*httpc_cb)(struct httpc_req *, const struct httpc_response *,
		    const char *, void *);

struct httpc_url {
	int		 tls;			/* https */
	int		 literal;		/* host is an IP address */
	int		 family;		/* literal: AF_INET(6) */
	uint16_t	 port;
	char		 host[HTTPC_HOST_MAX + 1];	/* no brackets, lower */
	char		 path[HTTPC_URL_MAX + 1];	/* path and query */
};

/*
 * An application/x-www-form-urlencoded body being built: zero it, add
 * pairs, pass buf and len to httpc_request(), then httpc_form_free(),
 * which wipes it (token requests carry secrets).
 */
struct httpc_form {
	char		*buf;		/* NUL-terminated */
	size_t		 len;
	size_t		 size;
};

/*
 * The response parser: bytes in, struct httpc_response out, no sockets.
 * Feed it what arrived; it consumes a prefix (*used) and the caller
 * passes the rest again, followed by newer bytes, on the next call.
 * After DONE or ERROR it must not be fed again.  When the connection
 * ends, httpc_parser_eof() says whether that completed the response.
 */
#define HTTPC_PARSE_ERROR	-1	/* see error */
#define HTTPC_PARSE_MORE	0
#define HTTPC_PARSE_DONE	1	/* resp is complete */

struct httpc_parser {
	struct httpc_response	 resp;
	int			 keepalive;	/* DONE: may carry another */
	const char		*error;		/* ERROR: why */

	/* private */
	int			 state;
	int			 head;
	size_t			 max_body;
	size_t			 scan;		/* header lines seen so far */
	int			 ninterim;
	uint64_t		 remain;	/* body or chunk bytes left */
	size_t			 trailer;	/* trailer bytes so far */
	size_t			 ntrailers;
	char			*hdrbuf;
	size_t			 hdrsz;
	char			*body;
	size_t			 bodylen;
	size_t			 bodysz;
	struct http_kv		 hdrs[HTTPC_HEADERS_MAX];
};

/*
 * httpc.c
 *
 * httpc_dns_new()	evdns base from HTTPC_RESOLV_CONF and HTTPC_HOSTS;
 *			call before chroot; free with evdns_base_free(, 1)
 *			after every client using it.  _files(): other paths.
 * httpc_new()		a client; dns may be NULL (literal addresses only).
 *			NULL on a bad config.  The CA PEM is copied.
 * httpc_free()		cancels every request (no callbacks), closes all.
 * httpc_request()	method "GET", "HEAD" or "POST"; headers is a NULL-
 *			terminated list of "Name: value" or NULL; body only
 *			for POST.  Copied; the request in flight, or NULL.
 * httpc_cancel()	no callback follows; a no-op in its own callback.
 * httpc_idle_count()	idle keep-alive connections (for tests).
 * httpc_header()	first value of a response header, any case.
 * httpc_parse_url()	0, or -1 for what httpc_request() would refuse.
 * httpc_form_add()	-1 on an empty key or over HTTPC_REQ_BODY_MAX.
 * httpc_basic_auth()	"Authorization: Basic ..." to pass as a header;
 *			the caller freezero()s it.  NULL if too long.
 * httpc_parser_*()	the response parser, see struct httpc_parser.
 */
struct evdns_base	*httpc_dns_new(struct event_base *);
struct evdns_base	*httpc_dns_new_files(struct event_base *,
			    const char *, const char *);
struct httpc		*httpc_new(struct event_base *, struct evdns_base *,
			    const struct httpc_config *);
void			 httpc_free(struct httpc *);
struct httpc_req	*httpc_request(struct httpc *, const char *,
			    const char *, const char *const *, const void *,
			    size_t, httpc_cb, void *);
void			 httpc_cancel(struct httpc_req *);
size_t			 httpc_idle_count(const struct httpc *);
const char		*httpc_header(const struct httpc_response *,
			    const char *);
int			 httpc_parse_url(const char *, struct httpc_url *);
int			 httpc_form_add(struct httpc_form *, const char *,
			    const char *);
void			 httpc_form_free(struct httpc_form *);
char			*httpc_basic_auth(const char *, const char *);
void			 httpc_parser_init(struct httpc_parser *, int,
			    size_t);
int			 httpc_parser_feed(struct httpc_parser *,
			    const char *, size_t, size_t *);
int			 httpc_parser_eof(struct httpc_parser *);
void			 httpc_parser_free(struct httpc_parser *);

#endif /* HTTPC_H */
