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
 * oidcctl: the control program, in relayctl's shape.  parse() turns
 * argv into an action; we connect to the control socket, send one
 * request imsg and print the replies until IMSG_CTL_END, IMSG_CTL_OK or
 * a failure.  Every reply is size-checked before it is looked at, and
 * text from the daemon is printed with control characters masked.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "oidcd.h"
#include "jose.h"
#include "parser.h"

/* The one request oidcctl sends, prepared before it connects. */
struct request {
	uint32_t	 type;
	struct iovec	 iov[2];
	int		 iovcnt;
	struct sign_req	 sr;
	int32_t		 level;
	char		*buf;
};

__dead static void	 usage(void);
static int		 ctl_connect(const char *);
static char		*revoke_request(struct parse_result *);
static void		 show_json_row(struct imsg *, const char **, int);
static void		 ctl_request(struct parse_result *, struct request *);
static size_t		 read_claims(const char *, char *, size_t);
static char		*abs_path(const char *);
static int		 show_reply(struct parse_result *, struct imsg *,
			    int *);
static void		 show_status(struct imsg *, int);
static void		 show_key(struct imsg *, int);
static void		 show_fail(struct imsg *);
static void		 show_text(FILE *, const char *, const void *, size_t);
static void		 mask(char *);
static void		 show_jws(struct imsg *);
static const char	*fmt_uptime(uint64_t, char *, size_t);
static const char	*fmt_time(uint64_t, char *, size_t);

extern char		*__progname;

__dead static void
usage(void)
{
	fprintf(stderr, "usage: %s [-s socket] command [argument ...]\n",
	    __progname);
	fprintf(stderr, "commands: show status | show keys | show clients | "
	    "show sessions [user] |\n"
	    "          key rotate | reload [file] | log verbose | log brief | "
	    "gc |\n"
	    "          revoke user|token|session arg | "
	    "token sign id|access file\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct parse_result	*res;
	struct request		 req;
	struct imsgbuf		 ibuf;
	struct imsg		 imsg;
	struct pollfd		 pfd;
	const char		*sockname = OIDCCTL_SOCKET;
	ssize_t			 n;
	int			 ch, fd, done = 0, failed = 0, nitems = 0;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		switch (ch) {
		case 's':
			sockname = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();

	if ((res = parse(argc, argv)) == NULL)
		exit(1);

	/* Read files first: their errors come before the daemon's. */
	ctl_request(res, &req);

	fd = ctl_connect(sockname);
	if (imsgbuf_init(&ibuf, fd) == -1 ||
	    imsgbuf_set_maxsize(&ibuf, CTL_MAX_IMSGSIZE) == -1)
		err(1, "imsgbuf_init");
	if (imsg_composev(&ibuf, req.type, 0, 0, -1, req.iov,
	    req.iovcnt) == -1)
		err(1, "imsg_composev");
	if (imsgbuf_flush(&ibuf) == -1)
		err(1, "write to %s", sockname);
	free(req.buf);

	while (!done) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		switch (poll(&pfd, 1, OIDCCTL_TIMEOUT * 1000)) {
		case -1:
			if (errno == EINTR)
				continue;
			err(1, "poll");
		case 0:
			errx(1, "no answer from oidcd in %d seconds",
			    OIDCCTL_TIMEOUT);
		}
		switch (imsgbuf_read(&ibuf)) {
		case -1:
			err(1, "read from %s", sockname);
		case 0:
			errx(1, "oidcd closed the connection");
		}
		while (!done) {
			if ((n = imsg_get(&ibuf, &imsg)) == -1)
				err(1, "bad message from oidcd");
			if (n == 0)
				break;
			if (++nitems > OIDCCTL_MAX_REPLIES)
				errx(1, "more than %d replies from oidcd",
				    OIDCCTL_MAX_REPLIES);
			done = show_reply(res, &imsg, &failed);
			imsg_free(&imsg);
		}
	}

	imsgbuf_clear(&ibuf);
	close(fd);
	return (failed ? 1 : 0);
}

static int
ctl_connect(const char *sockname)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, sockname, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "socket name too long: %s", sockname);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/* The daemon not running is the common case: say so. */
		if (errno == ENOENT || errno == ECONNREFUSED)
			errx(1, "cannot connect to %s: is oidcd running? (%s)",
			    sockname, strerror(errno));
		err(1, "cannot connect to %s", sockname);
	}
	return (fd);
}

static void
ctl_request(struct parse_result *res, struct request *req)
{
	size_t	 len;

	memset(req, 0, sizeof(*req));
	switch (res->action) {
	case SHOW_STATUS:
		req->type = IMSG_CTL_SHOW_STATUS;
		break;
	case SHOW_KEYS:
		req->type = IMSG_CTL_KEY_SHOW;
		break;
	case KEY_ROTATE:
		req->type = IMSG_CTL_KEY_ROTATE;
		break;
	case RELOAD:
		req->type = IMSG_CTL_RELOAD;
		if (res->path == NULL)
			break;
		/* The daemon runs in another directory: send a full path. */
		req->buf = abs_path(res->path);
		req->iov[0].iov_base = req->buf;
		req->iov[0].iov_len = strlen(req->buf);
		req->iovcnt = 1;
		break;
	case LOG_VERBOSE:
	case LOG_BRIEF:
		req->type = IMSG_CTL_LOG_VERBOSE;
		req->level = res->action == LOG_VERBOSE ? 2 : 1;
		req->iov[0].iov_base = &req->level;
		req->iov[0].iov_len = sizeof(req->level);
		req->iovcnt = 1;
		break;
	case GC:
		req->type = IMSG_CTL_GC;
		break;
	case SHOW_CLIENTS:
		req->type = IMSG_CTL_SHOW_CLIENTS;
		break;
	case SHOW_SESSIONS:
		req->type = IMSG_CTL_SHOW_SESSIONS;
		if (res->arg == NULL)
			break;
		if (strlen(res->arg) > OIDCCTL_MAX_ARG)
			errx(1, "user id too long");
		if ((req->buf = strdup(res->arg)) == NULL)
			err(1, NULL);
		req->iov[0].iov_base = req->buf;
		req->iov[0].iov_len = strlen(req->buf);
		req->iovcnt = 1;
		break;
	case REVOKE_USER:
	case REVOKE_TOKEN:
	case REVOKE_FAMILY:
		req->type = IMSG_CTL_REVOKE;
		req->buf = revoke_request(res);
		req->iov[0].iov_base = req->buf;
		req->iov[0].iov_len = strlen(req->buf);
		req->iovcnt = 1;
		break;
	case TOKEN_SIGN:
		req->type = IMSG_SIGN_JWT;
		if ((req->buf = malloc(SIGN_PAYLOAD_MAX + 1)) == NULL)
			err(1, NULL);
		len = read_claims(res->path, req->buf, SIGN_PAYLOAD_MAX + 1);
		req->sr.sr_type = res->token_type;
		req->sr.sr_len = len;
		req->iov[0].iov_base = &req->sr;
		req->iov[0].iov_len = sizeof(req->sr);
		req->iov[1].iov_base = req->buf;
		req->iov[1].iov_len = len;
		req->iovcnt = 2;
		break;
	case NONE:
		errx(1, "no action");
	}
}

/*
 * Read the claims of "token sign" from a file or, for "-", from the
 * standard input; at most SIGN_PAYLOAD_MAX bytes, trailing white space
 * dropped so that the signed payload is exactly the JSON text.
 */
static size_t
read_claims(const char *path, char *buf, size_t bufsz)
{
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", path);

	while (len < bufsz) {
		if ((n = read(fd, buf + len, bufsz - len)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s", path);
		}
		if (n == 0)
			break;
		len += n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (len >= bufsz)
		errx(1, "%s: claims larger than %d bytes", path,
		    SIGN_PAYLOAD_MAX);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (len == 0)
		errx(1, "%s: no claims", path);
	return (len);
}

static char *
abs_path(const char *path)
{
	char	 cwd[PATH_MAX];
	char	*full;

	if (strlen(path) >= OIDCCTL_MAX_PATH)
		errx(1, "file name too long");
	if (path[0] == '/') {
		if ((full = strdup(path)) == NULL)
			err(1, NULL);
		return (full);
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		err(1, "getcwd");
	if (asprintf(&full, "%s/%s", cwd, path) == -1)
		err(1, NULL);
	if (strlen(full) >= OIDCCTL_MAX_PATH)
		errx(1, "file name too long");
	return (full);
}

/*
 * An access token: {"jti", "exp"} from its payload.  Its signature is
 * not checked here (oidcctl has no keys, and only root may revoke): a
 * forged one could only revoke the token whose jti it names.
 */
static json_t *
revoke_access(const char *tok)
{
	struct jose_jws	 jws;
	json_t		*claims, *jti, *exp, *o;

	if (strlen(tok) > OIDCCTL_MAX_TOKEN)
		errx(1, "token too long");
	memset(&jws, 0, sizeof(jws));
	if (jose_jws_parse(tok, strlen(tok), &jws) == -1 ||
	    (claims = jose_json_object(jws.payload, jws.payload_len)) ==
	    NULL)
		errx(1, "not a refresh token nor a JWT");
	jose_jws_free(&jws);
	jti = json_object_get(claims, "jti");
	exp = json_object_get(claims, "exp");
	if (!json_is_string(jti) || !json_is_integer(exp))
		errx(1, "the access token has no jti or no exp");
	if ((o = json_pack("{s:O, s:O}", "jti", jti, "exp", exp)) == NULL)
		errx(1, "cannot build the request");
	json_decref(claims);
	return (o);
}

/*
 * {"user": id}, {"refreshToken": t}, {"family": hex} or {"jti", "exp"}
 * of an access token, as storage takes them.
 */
static char *
revoke_request(struct parse_result *res)
{
	const char	*key;
	json_t		*o;
	char		*s;

	if (res->action == REVOKE_TOKEN && strchr(res->arg, '.') != NULL) {
		o = revoke_access(res->arg);
		if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
			errx(1, "cannot build the request");
		json_decref(o);
		return (s);
	}
	if (strlen(res->arg) > OIDCCTL_MAX_ARG)
		errx(1, "argument too long");
	key = res->action == REVOKE_USER ? "user" :
	    res->action == REVOKE_TOKEN ? "refreshToken" : "family";
	if ((o = json_pack("{s:s}", key, res->arg)) == NULL ||
	    (s = json_dumps(o, JSON_COMPACT)) == NULL)
		errx(1, "cannot build the request");
	json_decref(o);
	return (s);
}

/* One JSON object per line, the members the daemon chose, as text. */
static void
show_json_row(struct imsg *imsg, const char **cols, int header)
{
	json_t		*o, *v;
	char		*t;
	int		 i;

	if (header) {
		for (i = 0; cols[i] != NULL; i++)
			printf("%s%s", i ? "\t" : "", cols[i]);
		printf("\n");
	}
	if (imsg_get_len(imsg) == 0 || imsg_get_len(imsg) > CTL_MAX_IMSGSIZE ||
	    (o = json_loadb(imsg->data, imsg_get_len(imsg), 0, NULL)) == NULL)
		errx(1, "bad reply from oidcd");
	for (i = 0; cols[i] != NULL; i++) {
		v = json_object_get(o, cols[i]);
		if (json_is_string(v))
			t = strdup(json_string_value(v));
		else if (v == NULL || json_is_null(v))
			t = strdup("-");
		else
			t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (t == NULL)
			err(1, NULL);
		mask(t);
		printf("%s%s", i ? "\t" : "", t);
		free(t);
	}
	printf("\n");
	json_decref(o);
}

/* Print one reply; returns 1 when it was the last one. */
static int
show_reply(struct parse_result *res, struct imsg *imsg, int *failed)
{
	static int	 header;
	uint32_t	 type = imsg_get_type(imsg);

	switch (type) {
	case IMSG_CTL_STATUS:
		if (res->action != SHOW_STATUS)
			break;
		show_status(imsg, !header++);
		return (0);
	case IMSG_CTL_KEY:
		if (res->action != SHOW_KEYS)
			break;
		show_key(imsg, !header++);
		return (0);
	case IMSG_CTL_CLIENT:
		if (res->action != SHOW_CLIENTS)
			break;
		show_json_row(imsg, (const char *[]){ "id", "name", "public",
		    "redirectURIs", NULL }, !header++);
		return (0);
	case IMSG_CTL_SESSION:
		if (res->action != SHOW_SESSIONS)
			break;
		show_json_row(imsg, (const char *[]){ "family", "clientId",
		    "connectorId", "userId", "email", "created", "lastUsed",
		    "expires", "kind", NULL }, !header++);
		return (0);
	case IMSG_CTL_END:
		if (res->action != SHOW_STATUS && res->action != SHOW_KEYS &&
		    res->action != SHOW_CLIENTS && res->action != SHOW_SESSIONS)
			break;
		if (imsg_get_len(imsg) != 0)
			errx(1, "bad IMSG_CTL_END from oidcd");
		return (1);
	case IMSG_CTL_OK:
		if (res->action == SHOW_STATUS || res->action == SHOW_KEYS ||
		    res->action == SHOW_CLIENTS ||
		    res->action == SHOW_SESSIONS || res->action == TOKEN_SIGN)
			break;
		show_text(stdout, NULL, imsg->data, imsg_get_len(imsg));
		return (1);
	case IMSG_CTL_FAIL:
		show_fail(imsg);
		*failed = 1;
		return (1);
	case IMSG_SIGN_RESULT:
		if (res->action != TOKEN_SIGN)
			break;
		show_jws(imsg);
		return (1);
	case IMSG_SIGN_FAIL:
		if (res->action != TOKEN_SIGN)
			break;
		show_text(stderr, "oidcctl: refused: ", imsg->data,
		    imsg_get_len(imsg));
		*failed = 1;
		return (1);
	}
	errx(1, "unexpected reply type %u from oidcd", type);
}

static void
show_status(struct imsg *imsg, int header)
{
	struct ctl_status	 cs;
	struct passwd		*pw;
	char			 user[32], up[32];

	if (imsg_get_data(imsg, &cs, sizeof(cs)) == -1)
		errx(1, "bad IMSG_CTL_STATUS from oidcd");
	cs.cs_title[sizeof(cs.cs_title) - 1] = '\0';
	cs.cs_info[sizeof(cs.cs_info) - 1] = '\0';

	if ((pw = getpwuid(cs.cs_uid)) != NULL && strlen(pw->pw_name) <= 10)
		(void)strlcpy(user, pw->pw_name, sizeof(user));
	else
		(void)snprintf(user, sizeof(user), "%d", cs.cs_uid);

	if (header)
		printf("%-10s %4s %7s %-10s %10s %5s %s\n", "ROLE", "INST",
		    "PID", "USER", "UPTIME", "GEN", "INFO");
	mask(cs.cs_title);
	mask(cs.cs_info);
	printf("%-10s %4u %7d %-10s %10s %5llu %s\n", cs.cs_title,
	    cs.cs_instance, cs.cs_pid, user,
	    fmt_uptime(cs.cs_started, up, sizeof(up)),
	    (unsigned long long)cs.cs_generation, cs.cs_info);
}

static void
show_key(struct imsg *imsg, int header)
{
	struct ctl_key	 ck;
	char		 c[32], p[32], r[32];

	if (imsg_get_data(imsg, &ck, sizeof(ck)) == -1)
		errx(1, "bad IMSG_CTL_KEY from oidcd");
	ck.ck_kid[sizeof(ck.ck_kid) - 1] = '\0';
	ck.ck_alg[sizeof(ck.ck_alg) - 1] = '\0';

	if (header)
		printf("%-40s %-5s %-7s %-16s %-16s %-16s %s\n", "KID",
		    "ALG", "STATE", "CREATED (UTC)", "PROMOTED", "RETIRE-AT",
		    "SIGNATURES");
	mask(ck.ck_kid);
	mask(ck.ck_alg);
	printf("%-40s %-5s %-7s %-16s %-16s %-16s %llu\n", ck.ck_kid,
	    ck.ck_alg, key_state_name(ck.ck_state),
	    fmt_time(ck.ck_created, c, sizeof(c)),
	    fmt_time(ck.ck_promoted, p, sizeof(p)),
	    fmt_time(ck.ck_retire, r, sizeof(r)),
	    (unsigned long long)ck.ck_signatures);
}

static void
show_fail(struct imsg *imsg)
{
	struct ctl_fail	 cf;
	const char	*msg;
	size_t		 len = imsg_get_len(imsg);

	if (len < sizeof(cf))
		errx(1, "bad IMSG_CTL_FAIL from oidcd");
	memcpy(&cf, imsg->data, sizeof(cf));
	if (cf.cf_msglen != len - sizeof(cf))
		errx(1, "bad IMSG_CTL_FAIL from oidcd");
	msg = (const char *)imsg->data + sizeof(cf);
	len = cf.cf_msglen;
	while (len > 0 && (msg[len - 1] == '\0' || msg[len - 1] == '\n'))
		len--;

	if (len == 0)
		fprintf(stderr, "oidcctl: %s\n", cf.cf_error != 0 ?
		    strerror(cf.cf_error) : "failed");
	else if (memchr(msg, '\n', len) == NULL)
		show_text(stderr, "oidcctl: ", msg, len);
	else
		/* Several lines: parse errors as FILE:LINE:COL: text. */
		show_text(stderr, NULL, msg, len);
}

static void
show_jws(struct imsg *imsg)
{
	uint32_t	 jwslen;
	const char	*jws;
	size_t		 len = imsg_get_len(imsg), i, dots = 0;

	if (len < sizeof(jwslen))
		errx(1, "bad IMSG_SIGN_RESULT from oidcd");
	memcpy(&jwslen, imsg->data, sizeof(jwslen));
	if (jwslen == 0 || jwslen != len - sizeof(jwslen))
		errx(1, "bad IMSG_SIGN_RESULT from oidcd");
	jws = (const char *)imsg->data + sizeof(jwslen);
	for (i = 0; i < jwslen; i++) {
		if (jws[i] == '.')
			dots++;
		else if (!((jws[i] >= 'A' && jws[i] <= 'Z') ||
		    (jws[i] >= 'a' && jws[i] <= 'z') ||
		    (jws[i] >= '0' && jws[i] <= '9') ||
		    jws[i] == '-' || jws[i] == '_'))
			errx(1, "IMSG_SIGN_RESULT is not a compact JWS");
	}
	if (dots != 2)
		errx(1, "IMSG_SIGN_RESULT is not a compact JWS");
	printf("%.*s\n", (int)jwslen, jws);
}

/*
 * Print a counted text from the daemon on one stream, after an optional
 * prefix, with control characters other than newline and tab shown as
 * '?' so that a reply cannot drive the terminal; end with a newline.
 * An empty text without a prefix prints nothing.
 */
static void
show_text(FILE *fp, const char *prefix, const void *data, size_t len)
{
	const unsigned char	*s = data;
	size_t			 i;

	while (len > 0 && (s[len - 1] == '\0' || s[len - 1] == '\n'))
		len--;
	if (len == 0 && prefix == NULL)
		return;
	if (prefix != NULL)
		fputs(prefix, fp);
	for (i = 0; i < len; i++) {
		if (s[i] == '\n' || s[i] == '\t' ||
		    (s[i] >= 0x20 && s[i] != 0x7f))
			putc(s[i], fp);
		else
			putc('?', fp);
	}
	putc('\n', fp);
}

/* Mask control characters in a NUL-terminated field of a reply. */
static void
mask(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static const char *
fmt_uptime(uint64_t started, char *buf, size_t len)
{
	time_t		 now = time(NULL);
	uint64_t	 up;

	if (started == 0 || (uint64_t)now < started)
		return ("-");
	up = (uint64_t)now - started;
	if (up < 86400)
		(void)snprintf(buf, len, "%02llu:%02llu:%02llu",
		    (unsigned long long)(up / 3600),
		    (unsigned long long)(up / 60 % 60),
		    (unsigned long long)(up % 60));
	else
		(void)snprintf(buf, len, "%llud%02lluh%02llum",
		    (unsigned long long)(up / 86400),
		    (unsigned long long)(up / 3600 % 24),
		    (unsigned long long)(up / 60 % 60));
	return (buf);
}

static const char *
fmt_time(uint64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt;

	if (t == 0 || t > (uint64_t)INT64_MAX)
		return ("-");
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
		return ("?");
	return (buf);
}
