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
 * The HTTP/1.1 layer of the frontend: a strict request parser (bytes
 * in, struct out, no sockets), a query and form decoder, a response
 * writer into an evbuffer, and the server engine (server.c) that runs
 * listeners and connections on io.c and hands complete requests to a
 * handler.
 */

#ifndef HTTP_H
#define HTTP_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "io.h"

struct evbuffer;
struct event_base;

/* Request limits (DESIGN.md §8). */
#define HTTP_MAX_REQLINE	8192	/* request line, without CRLF */
#define HTTP_MAX_HEADERBLOCK	16384	/* header lines, final CRLF */
#define HTTP_MAX_HEADERS	64
#define HTTP_MAX_BODY		65536
#define HTTP_MAX_METHOD		32
/* Leading empty lines tolerated before a request line (RFC 9112 2.2). */
#define HTTP_MAX_LEADING_CRLF	4

/* Query and form limits. */
#define HTTP_MAX_PARAMS		64
#define HTTP_MAX_PARAMVALUE	8192	/* decoded, per name or value */
#define HTTP_MAX_PARAMSINPUT	HTTP_MAX_BODY

/* http_request_parse() results; errors are the HTTP status to answer. */
#define HTTP_PARSE_OK		0
#define HTTP_PARSE_MORE		1

enum http_method {
	HTTP_METHOD_NONE = 0,
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_PATCH
};

struct http_header {
	const char	*name;
	const char	*value;		/* OWS trimmed */
};

struct http_request {
	enum http_method	 method;
	const char		*method_str;
	const char		*target;	/* raw request-target */
	const char		*path;		/* percent-decoded */
	const char		*query;		/* raw, after '?' */
	size_t			 querylen;
	int			 version;	/* 10 or 11 */
	int			 keepalive;
	const char		*host;		/* NULL if absent */
	struct http_header	 hdrs[HTTP_MAX_HEADERS];
	size_t			 nhdrs;
	const char		*body;		/* NUL-terminated */
	size_t			 bodylen;
	int			 expect_continue;
	size_t			 need;		/* MORE: total length */
	const char		*error;		/* why parsing failed */

	/* private: storage for the strings above, reused */
	char			*buf;
	size_t			 bufsz;
};

struct http_param {
	const char	*name;
	const char	*value;
	size_t		 valuelen;
};

/* http_params_parse() results */
#define HTTP_PARAMS_OK		0
#define HTTP_PARAMS_EINVAL	1	/* bad escape, NUL, over limits */
#define HTTP_PARAMS_EDUP	2	/* a name given twice */
#define HTTP_PARAMS_EMANY	3	/* more than HTTP_MAX_PARAMS */

struct http_params {
	struct http_param	 p[HTTP_MAX_PARAMS];
	size_t			 n;
	const char		*error;
	const char		*dup;		/* the repeated name */

	/* private */
	char			*buf;
	size_t			 bufsz;
};

/* A header to send: name and value, both without CR or LF. */
struct http_kv {
	const char	*key;
	const char	*value;
};

/* http_response_write() flags */
#define HTTP_RESP_NOSTORE	0x01	/* Cache-Control: no-store */
#define HTTP_RESP_CLOSE		0x02	/* Connection: close */
#define HTTP_RESP_KEEPALIVE	0x04	/* Connection: keep-alive */
#define HTTP_RESP_HEAD		0x08	/* no body (HEAD request) */

struct http_response {
	int			 status;
	const char		*ctype;		/* NULL: none */
	const struct http_kv	*hdrs;
	size_t			 nhdrs;
	const void		*body;
	size_t			 bodylen;
	int			 flags;
};

/* http.c */
extern const unsigned char http_tchar[256];

void		 http_request_init(struct http_request *);
void		 http_request_free(struct http_request *);
int		 http_request_parse(struct http_request *, const char *,
		    size_t, size_t *);
const char	*http_header(const struct http_request *, const char *);
const char	*http_method_name(enum http_method);
int		 http_pct_decode(char *, size_t, const char *, size_t, int,
		    size_t *);
void		 http_params_init(struct http_params *);
void		 http_params_free(struct http_params *);
int		 http_params_parse(struct http_params *, const char *,
		    size_t);
const char	*http_param(const struct http_params *, const char *);
const char	*http_status_text(int);
int		 http_header_block(char **, size_t *, const struct http_kv *,
		    size_t, const char *);
int		 http_response_write(struct evbuffer *,
		    const struct http_response *, const char *, size_t);
int		 http_error_write(struct evbuffer *, int, int, const char *,
		    size_t);

/*
 * The server engine (server.c).
 */

/* Defaults for struct http_server_conf fields left 0. */
#define HTTP_SERVER_MAX_CONNS		4096
#define HTTP_SERVER_MAX_REQUESTS	100	/* per connection */
#define HTTP_SERVER_HEADER_TIMEOUT	10000	/* msec, whole request */
#define HTTP_SERVER_IDLE_TIMEOUT	30000	/* msec, keep-alive wait */
#define HTTP_SERVER_IO_TIMEOUT		10000	/* msec, write, TLS */
#define HTTP_SERVER_RESPONSE_TIMEOUT	10000	/* msec, then 503 */
#define HTTP_SERVER_LINGER		2000	/* msec, after an error */
#define HTTP_SERVER_FD_RESERVE		32
#define HTTP_SERVER_MAX_LISTENERS	16
/* Queued output above which no further pipelined request is read. */
#define HTTP_SERVER_MAX_OUTPUT		(256 * 1024)
/* Unparsed input kept at most while a response is pending. */
#define HTTP_SERVER_MAX_INPUT	\
	(HTTP_MAX_REQLINE + HTTP_MAX_HEADERBLOCK + HTTP_MAX_BODY + 1024)
/* Pause in msec of accept(2) after EMFILE/ENFILE. */
#define HTTP_SERVER_ACCEPT_PAUSE	1000
#define HTTP_SERVER_HSTS_DEFAULT	"max-age=31536000"
#define HTTP_MAX_EXTRA_HEADERS		32	/* web.headers */

struct http_server_conf {
	int			 max_conns;
	int			 max_requests;
	int			 header_timeout;
	int			 idle_timeout;
	int			 io_timeout;
	int			 response_timeout;
	int			 linger;
	int			 fd_reserve;
	int			 max_fds;	/* 0: RLIMIT_NOFILE */
	const struct http_kv	*headers;	/* e.g. web.headers */
	size_t			 nheaders;
};

struct http_tls_conf {
	const uint8_t		*cert;		/* PEM chain */
	size_t			 certlen;
	uint8_t			*key;		/* PEM, caller freezero()s */
	size_t			 keylen;
	const char		*min_version;	/* "1.2" (default) */
	const char		*max_version;	/* "1.3" (default) */
	const char		*hsts;		/* NULL: default */
	const unsigned char	*session_id;	/* shared by all frontends */
	size_t			 session_idlen;	/* 0: none */
};

struct http_server;
struct http_conn;

typedef void	(*http_handler)(struct http_conn *, struct http_request *,
		    void *);

/* server.c */
struct http_server	*http_server_new(struct event_base *,
			    const struct http_server_conf *, http_handler,
			    void *);
int			 http_server_listen(struct http_server *, int,
			    const struct http_tls_conf *);
void			 http_server_free(struct http_server *);
void			 http_server_unlisten(struct http_server *);
size_t			 http_server_nconns(const struct http_server *);
struct http_conn	*http_server_conn_byid(struct http_server *,
			    uint32_t);
uint32_t		 http_conn_id(const struct http_conn *);
int			 http_conn_is_tls(const struct http_conn *);
const struct sockaddr_storage *http_conn_peer(const struct http_conn *);
const char		*http_conn_peer_str(const struct http_conn *);
struct http_request	*http_conn_request(struct http_conn *);
int			 http_conn_respond(struct http_conn *, int,
			    const char *, const struct http_kv *, size_t,
			    const void *, size_t, int);
int			 http_conn_respond_error(struct http_conn *, int);

#endif /* HTTP_H */
