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
 * The process t_sandbox confines.  It is built without sanitizers, so
 * that what runs under each role's seccomp policy is what the daemon
 * runs, and not ASan's runtime (which opens /proc, forks a symbolizer
 * and maps its own memory when it reports).
 *
 *	sandbox_probe role action dir user
 *
 * Descriptor 3 is a socket to t_sandbox.  The probe sets its role up as
 * the daemon would (listeners, TLS config, keys, LMDB env, event base),
 * calls sandbox_privdrop() and sandbox_enter(), writes "R <privdrop
 * result> <landlock abi>", waits for one byte, then does the action
 * and writes one line about it:
 *
 *	work		the role's steady state; "OK" or "FAIL why"
 *	syslog		a few log lines through syslog(3); "OK"
 *	nproc		no sandbox_enter; fork() after the drop; "ERRNO e"
 *	landlock	only sandbox_landlock(); opens and connects; "LL ..."
 *	landlock0	the same, the connector given no ports
 *	open unixsock	soft failures; "ERRNO e"
 *	socket execve connect mmapexec mprotexec mmapshared fork kill
 *	sigsys		forbidden; the probe should die of SIGSYS
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/landlock.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <tls.h>

#include "log.h"
#include "sandbox.h"

#define REPORT_FD	3

struct probe {
	enum sandbox_role	 role;
	const char		*action;
	const char		*dir;
	int			 notroot;
	struct event_base	*base;
	EVP_PKEY		*rsa;
	EVP_PKEY		*ec;
	char			*cert;		/* PEM, CN and SAN localhost */
	size_t			 certlen;
	char			*key;
	size_t			 keylen;
	struct tls		*tls;		/* frontend: server context */
	struct tls_config	*tlscfg;
	int			 lsock;		/* frontend/control listener */
	int			 lsock2;	/* connector: unlisted port */
	uint16_t		 port;		/* connector: helper's TLS */
	uint16_t		 port2;
	uint16_t		 uport;		/* connector: helper's UDP */
	int			 sp[2];		/* imsg-like socketpair */
	int			 pp[2];		/* pipe passed over sp */
	MDB_env			*env;
	MDB_dbi			 dbi;
	pid_t			 ppid;
	int			 done;
	char			 why[128];
};

static void	 report(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 failx(struct probe *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));

static void
report(const char *fmt, ...)
{
	char	 buf[256];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(REPORT_FD, buf, n) != n)
		_exit(2);
}

static void
failx(struct probe *pr, const char *fmt, ...)
{
	va_list	 ap;

	if (pr->why[0] != '\0')
		return;
	va_start(ap, fmt);
	(void)vsnprintf(pr->why, sizeof(pr->why), fmt, ap);
	va_end(ap);
}

static EVP_PKEY *
genkey(int type)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pk = NULL;

	if ((ctx = EVP_PKEY_CTX_new_id(type, NULL)) == NULL)
		return (NULL);
	if (EVP_PKEY_keygen_init(ctx) <= 0 ||
	    (type == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) <= 0) ||
	    (type == EVP_PKEY_EC &&
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx,
	    NID_X9_62_prime256v1) <= 0) ||
	    EVP_PKEY_keygen(ctx, &pk) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return (pk);
}

static char *
bio_string(BIO *bio, size_t *len)
{
	char	*p, *s;
	long	 n;

	if ((n = BIO_get_mem_data(bio, &p)) <= 0)
		return (NULL);
	if ((s = malloc(n + 1)) == NULL)
		return (NULL);
	memcpy(s, p, n);
	s[n] = '\0';
	*len = n;
	return (s);
}

/* A self-signed certificate for localhost on the EC key. */
static int
mkcert(struct probe *pr)
{
	X509		*x;
	X509_NAME	*name;
	X509_EXTENSION	*ext;
	X509V3_CTX	 v3;
	BIO		*bc = NULL, *bk = NULL;
	int		 rc = -1;

	if ((x = X509_new()) == NULL)
		return (-1);
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) == NULL ||
	    !X509_set_pubkey(x, pr->ec) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name))
		goto done;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "DNS:localhost")) == NULL)
		goto done;
	if (!X509_add_ext(x, ext, -1)) {
		X509_EXTENSION_free(ext);
		goto done;
	}
	X509_EXTENSION_free(ext);
	if (!X509_sign(x, pr->ec, EVP_sha256()))
		goto done;
	if ((bc = BIO_new(BIO_s_mem())) == NULL ||
	    (bk = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bc, x) ||
	    !PEM_write_bio_PrivateKey(bk, pr->ec, NULL, NULL, 0, NULL, NULL))
		goto done;
	if ((pr->cert = bio_string(bc, &pr->certlen)) == NULL ||
	    (pr->key = bio_string(bk, &pr->keylen)) == NULL)
		goto done;
	rc = 0;
 done:
	BIO_free(bc);
	BIO_free(bk);
	X509_free(x);
	return (rc);
}

static int
listen_tcp(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 8) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		close(s);
		return (-1);
	}
	*port = ntohs(sin.sin_port);
	return (s);
}

static void
loopback(struct sockaddr_in *sin, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
}

static int
tls_finish_handshake(struct tls *t)
{
	int	 rc;

	do {
		rc = tls_handshake(t);
	} while (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT);
	return (rc);
}

/* Blocking sockets: TLS 1.3 tickets still make tls_read() say "again". */
static ssize_t
tls_readn(struct tls *t, void *buf, size_t len)
{
	ssize_t	 n;

	do {
		n = tls_read(t, buf, len);
	} while (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT);
	return (n);
}

static ssize_t
tls_writen(struct tls *t, const void *buf, size_t len)
{
	ssize_t	 n;

	do {
		n = tls_write(t, buf, len);
	} while (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT);
	return (n);
}

/* The frontend's peer: a TLS client that says ping and wants pong. */
static void
helper_frontend(struct probe *pr)
{
	struct tls_config	*cfg;
	struct tls		*t;
	struct sockaddr_in	 sin;
	char			 buf[8];
	int			 s;

	if ((cfg = tls_config_new()) == NULL ||
	    tls_config_set_ca_mem(cfg, (const uint8_t *)pr->cert,
	    pr->certlen) == -1 || (t = tls_client()) == NULL ||
	    tls_configure(t, cfg) == -1)
		_exit(1);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		_exit(1);
	loopback(&sin, pr->port);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    tls_connect_socket(t, s, "localhost") == -1 ||
	    tls_finish_handshake(t) == -1 ||
	    tls_writen(t, "ping", 4) != 4 ||
	    tls_readn(t, buf, 4) != 4 || memcmp(buf, "pong", 4) != 0)
		_exit(1);
	_exit(0);
}

/* The connector's peers: a DNS-like UDP echo, then a TLS server. */
static void
helper_connector(struct probe *pr, int us)
{
	struct tls_config	*cfg;
	struct tls		*srv, *t;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			 buf[64];
	ssize_t			 n;
	int			 s;

	if ((n = recvfrom(us, buf, sizeof(buf), 0, (struct sockaddr *)&ss,
	    &sslen)) <= 0 ||
	    sendto(us, buf, n, 0, (struct sockaddr *)&ss, sslen) != n)
		_exit(1);
	if ((cfg = tls_config_new()) == NULL ||
	    tls_config_set_keypair_mem(cfg, (const uint8_t *)pr->cert,
	    pr->certlen, (const uint8_t *)pr->key, pr->keylen) == -1 ||
	    (srv = tls_server()) == NULL || tls_configure(srv, cfg) == -1)
		_exit(1);
	if ((s = accept(pr->lsock, NULL, NULL)) == -1 ||
	    tls_accept_socket(srv, &t, s) == -1 ||
	    tls_finish_handshake(t) == -1 ||
	    tls_writen(t, "hello", 5) != 5 ||
	    tls_readn(t, buf, 2) != 2)
		_exit(1);
	_exit(0);
}

/* The control process's client, on an abstract unix socket. */
static void
helper_control(struct probe *pr, struct sockaddr_un *sun, socklen_t len)
{
	char	 buf[4];
	int	 s;

	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(s, (struct sockaddr *)sun, len) == -1 ||
	    write(s, "show", 4) != 4 || read(s, buf, 2) != 2)
		_exit(1);
	_exit(0);
}

static pid_t
spawn_helper(struct probe *pr)
{
	struct sockaddr_un	 sun;
	struct sockaddr_in	 sin;
	socklen_t		 len;
	pid_t			 pid;
	int			 us = -1;

	switch (pr->role) {
	case SANDBOX_FRONTEND:
		if ((pr->lsock = listen_tcp(&pr->port)) == -1)
			return (-1);
		break;
	case SANDBOX_CONNECTOR:
		if ((pr->lsock = listen_tcp(&pr->port)) == -1 ||
		    (pr->lsock2 = listen_tcp(&pr->port2)) == -1)
			return (-1);
		if ((us = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
			return (-1);
		loopback(&sin, 0);
		len = sizeof(sin);
		if (bind(us, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    getsockname(us, (struct sockaddr *)&sin, &len) == -1)
			return (-1);
		pr->uport = ntohs(sin.sin_port);
		break;
	case SANDBOX_CONTROL:
		if ((pr->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1)
			return (-1);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		/* Autobind: the kernel picks an abstract name. */
		len = sizeof(sun.sun_family);
		if (bind(pr->lsock, (struct sockaddr *)&sun, len) == -1 ||
		    listen(pr->lsock, 8) == -1)
			return (-1);
		len = sizeof(sun);
		if (getsockname(pr->lsock, (struct sockaddr *)&sun,
		    &len) == -1)
			return (-1);
		break;
	default:
		return (0);
	}

	/* The landlock action only connects; the backlog answers. */
	if (strcmp(pr->action, "work") != 0) {
		if (us != -1)
			close(us);
		return (0);
	}
	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		/* Dies with the probe, whatever happens to the probe. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() == 1)
			_exit(1);
		close(REPORT_FD);
		if (pr->role == SANDBOX_FRONTEND)
			helper_frontend(pr);
		else if (pr->role == SANDBOX_CONNECTOR)
			helper_connector(pr, us);
		else
			helper_control(pr, &sun, len);
		_exit(1);
	}
	if (us != -1)
		close(us);
	if (pr->role == SANDBOX_CONNECTOR) {
		/* The helper accepts; the probe only needs the port. */
		close(pr->lsock);
		pr->lsock = -1;
	}
	return (pid);
}

static int
sign_verify(EVP_PKEY *pk)
{
	EVP_MD_CTX		*md;
	unsigned char		 sig[512];
	size_t			 siglen = sizeof(sig);
	const unsigned char	 msg[] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0";
	int			 ok = 0;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return (0);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg) - 1) == 1 &&
	    EVP_MD_CTX_reset(md) == 1 &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg) - 1) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	return (ok);
}

static int
lmdb_open(struct probe *pr)
{
	MDB_txn		*txn;
	const char	*path = pr->notroot ? pr->dir : "/";
	unsigned int	 flags = 0;

	/* db.c maps the signer's env writable, storage's read-only. */
	if (pr->role == SANDBOX_SIGNER)
		flags |= MDB_WRITEMAP;

	if (mdb_env_create(&pr->env) != 0 ||
	    mdb_env_set_mapsize(pr->env, 64UL << 20) != 0 ||
	    mdb_env_set_maxdbs(pr->env, 4) != 0 ||
	    mdb_env_set_maxreaders(pr->env, 4) != 0 ||
	    mdb_env_open(pr->env, path, flags, 0600) != 0)
		return (-1);
	if (mdb_txn_begin(pr->env, NULL, 0, &txn) != 0)
		return (-1);
	if (mdb_dbi_open(txn, "probe", MDB_CREATE, &pr->dbi) != 0 ||
	    mdb_txn_commit(txn) != 0)
		return (-1);
	return (0);
}

/* A few durable write transactions, big enough to grow the file. */
static void
lmdb_work(struct probe *pr)
{
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	char		 key[32], *val;
	size_t		 n = 0;
	int		 i, j, dead;

	if ((val = calloc(1, 1 << 20)) == NULL) {
		failx(pr, "calloc");
		return;
	}
	for (i = 0; i < 5; i++) {
		if (mdb_txn_begin(pr->env, NULL, 0, &txn) != 0) {
			failx(pr, "mdb_txn_begin");
			goto out;
		}
		for (j = 0; j < 50; j++) {
			(void)snprintf(key, sizeof(key), "k%02d%03d", i, j);
			k.mv_data = key;
			k.mv_size = strlen(key);
			v.mv_data = val;
			v.mv_size = j == 0 ? 1 << 20 : 1024;
			if (mdb_put(txn, pr->dbi, &k, &v, 0) != 0) {
				failx(pr, "mdb_put");
				mdb_txn_abort(txn);
				goto out;
			}
		}
		if (i == 4 && (mdb_del(txn, pr->dbi, &k, NULL) != 0)) {
			failx(pr, "mdb_del");
			mdb_txn_abort(txn);
			goto out;
		}
		if (mdb_txn_commit(txn) != 0) {
			failx(pr, "mdb_txn_commit");
			goto out;
		}
	}
	if (mdb_env_sync(pr->env, 1) != 0) {
		failx(pr, "mdb_env_sync");
		goto out;
	}
	if (mdb_txn_begin(pr->env, NULL, MDB_RDONLY, &txn) != 0 ||
	    mdb_cursor_open(txn, pr->dbi, &cur) != 0) {
		failx(pr, "read txn");
		goto out;
	}
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0)
		n++;
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (n != 5 * 50 - 1)
		failx(pr, "lmdb has %zu records", n);
	if (mdb_reader_check(pr->env, &dead) != 0)
		failx(pr, "mdb_reader_check");
	/* Storage resizes the map when the config arrives (storage.c). */
	if (mdb_env_set_mapsize(pr->env, 128UL << 20) != 0)
		failx(pr, "mdb_env_set_mapsize");
 out:
	free(val);
}

/* The frontend: accept, TLS handshake, a request and a reply. */
static void
frontend_accept(int fd, short ev, void *arg)
{
	struct probe		*pr = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct tls		*t = NULL;
	char			 buf[8];
	int			 s, one = 1, fl;

	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN)
			failx(pr, "accept4: %s", strerror(errno));
		return;
	}
	len = sizeof(ss);
	if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1 ||
	    getpeername(s, (struct sockaddr *)&ss, &len) == -1 ||
	    getsockname(s, (struct sockaddr *)&ss, &len) == -1)
		failx(pr, "socket options: %s", strerror(errno));
	/* Blocking from here: the syscalls are the same, the code less. */
	if ((fl = fcntl(s, F_GETFL)) == -1 ||
	    fcntl(s, F_SETFL, fl & ~O_NONBLOCK) == -1)
		failx(pr, "fcntl: %s", strerror(errno));
	if (tls_accept_socket(pr->tls, &t, s) == -1 ||
	    tls_finish_handshake(t) == -1 ||
	    tls_readn(t, buf, 4) != 4 || memcmp(buf, "ping", 4) != 0 ||
	    tls_writen(t, "pong", 4) != 4)
		failx(pr, "tls server: %s", t != NULL && tls_error(t) ?
		    tls_error(t) : "?");
	if (t != NULL) {
		(void)tls_close(t);
		tls_free(t);
	}
	(void)shutdown(s, SHUT_RDWR);
	close(s);
	pr->done++;
}

static void
control_accept(int fd, short ev, void *arg)
{
	struct probe	*pr = arg;
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	char		 buf[4];
	int		 s;

	if ((s = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		failx(pr, "accept4: %s", strerror(errno));
		return;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		failx(pr, "SO_PEERCRED: %s", strerror(errno));
	else if (cred.uid != 0 && cred.uid != (uid_t)-1 && cred.pid <= 0)
		failx(pr, "SO_PEERCRED: bad pid");
	if (read(s, buf, 4) != 4 || write(s, "ok", 2) != 2)
		failx(pr, "control read/write");
	(void)shutdown(s, SHUT_RDWR);
	close(s);
	pr->done++;
}

/* The connector: after the datagram's answer, TCP then TLS upstream. */
static void
connector_connected(int s, short ev, void *arg)
{
	struct probe	*pr = arg;
	struct tls	*t = NULL;
	socklen_t	 len = sizeof(int);
	char		 buf[8];
	int		 err = 0, fl;

	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		failx(pr, "connect: %s", strerror(err ? err : errno));
		goto done;
	}
	if ((fl = fcntl(s, F_GETFL)) == -1 ||
	    fcntl(s, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		failx(pr, "fcntl: %s", strerror(errno));
		goto done;
	}
	if ((t = tls_client()) == NULL ||
	    tls_configure(t, pr->tlscfg) == -1 ||
	    tls_connect_socket(t, s, "localhost") == -1 ||
	    tls_finish_handshake(t) == -1 ||
	    tls_readn(t, buf, 5) != 5 || memcmp(buf, "hello", 5) != 0 ||
	    tls_writen(t, "ok", 2) != 2)
		failx(pr, "tls client: %s", t != NULL && tls_error(t) ?
		    tls_error(t) : "?");
 done:
	if (t != NULL) {
		(void)tls_close(t);
		tls_free(t);
	}
	close(s);
	pr->done++;
}

static void
connector_dns(int u, short ev, void *arg)
{
	struct probe		*pr = arg;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 buf[16];
	int			 s;

	if (recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&sin,
	    &len) != 4 || memcmp(buf, "dns?", 4) != 0)
		failx(pr, "recvfrom: %s", strerror(errno));
	close(u);

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP)) == -1) {
		failx(pr, "tcp socket: %s", strerror(errno));
		pr->done++;
		return;
	}
	loopback(&sin, pr->port);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		failx(pr, "connect: %s", strerror(errno));
		close(s);
		pr->done++;
		return;
	}
	if (event_base_once(pr->base, s, EV_WRITE, connector_connected, pr,
	    NULL) == -1)
		failx(pr, "event_base_once");
}

static void
connector_start(struct probe *pr)
{
	struct sockaddr_in	 sin;
	int			 u;

	/* IPv6 may be off in the test host; only the syscall matters. */
	if ((u = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1)
		close(u);
	if ((u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		failx(pr, "udp socket: %s", strerror(errno));
		pr->done++;
		return;
	}
	loopback(&sin, pr->uport);
	if (sendto(u, "dns?", 4, 0, (struct sockaddr *)&sin,
	    sizeof(sin)) != 4) {
		failx(pr, "sendto: %s", strerror(errno));
		close(u);
		pr->done++;
		return;
	}
	if (event_base_once(pr->base, u, EV_READ, connector_dns, pr,
	    NULL) == -1)
		failx(pr, "event_base_once");
}

/* imsg's way of passing a descriptor. */
static int
send_fd(int s, int fd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	char		 c = 'F';

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return (sendmsg(s, &msg, 0) == 1 ? 0 : -1);
}

static int
recv_fd(int s)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	char		 c;
	int		 fd = -1;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	if (recvmsg(s, &msg, MSG_CMSG_CLOEXEC) != 1)
		return (-1);
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET &&
		    cmsg->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return (fd);
}

static void
imsg_readable(int s, short ev, void *arg)
{
	struct probe	*pr = arg;
	char		 c;
	int		 fd;

	if ((fd = recv_fd(s)) == -1) {
		failx(pr, "recvmsg: %s", strerror(errno));
	} else {
		/* The passed write end works: the byte reaches the pipe. */
		if (write(fd, "x", 1) != 1 || read(pr->pp[0], &c, 1) != 1 ||
		    c != 'x')
			failx(pr, "passed descriptor");
		close(fd);
	}
	pr->done++;
}

/* A signal through libevent: its handler send()s to a socketpair. */
static void
signal_fired(int sig, short ev, void *arg)
{
	struct probe	*pr = arg;

	pr->done++;
}

static void
timer_fired(int fd, short ev, void *arg)
{
	struct probe	*pr = arg;
	struct evbuffer	*eb;
	unsigned char	 rnd[32];
	char		*small[64], *big;
	int		 i;

	/* malloc, small and big (mmap, mremap) */
	for (i = 0; i < 64; i++)
		if ((small[i] = malloc(16 + i * 8)) == NULL)
			failx(pr, "malloc");
	if ((big = malloc(4 << 20)) == NULL ||
	    (big = realloc(big, 16 << 20)) == NULL)
		failx(pr, "malloc big");
	else
		memset(big, 1, 16 << 20);
	free(big);
	for (i = 0; i < 64; i++)
		free(small[i]);

	/* randomness: the syscall, libbsd, libcrypto */
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		failx(pr, "getrandom");
	arc4random_buf(rnd, sizeof(rnd));
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		failx(pr, "RAND_bytes");

	/* JWT-like signatures */
	if (!sign_verify(pr->rsa) || !sign_verify(pr->ec))
		failx(pr, "EVP signatures");

	/* an evbuffer read (FIONREAD, readv), then a passed descriptor */
	if ((eb = evbuffer_new()) == NULL ||
	    write(pr->sp[0], "0123456789", 10) != 10 ||
	    evbuffer_read(eb, pr->sp[1], -1) != 10)
		failx(pr, "evbuffer_read");
	if (eb != NULL)
		evbuffer_free(eb);
	if (send_fd(pr->sp[0], pr->pp[1]) == -1)
		failx(pr, "sendmsg: %s", strerror(errno));
	if (event_base_once(pr->base, pr->sp[1], EV_READ, imsg_readable, pr,
	    NULL) == -1)
		failx(pr, "event_base_once");

	/* proc_run() turns SIGTERM and friends into events the same way. */
	if (raise(SIGUSR2) != 0)
		failx(pr, "raise");

	/* The signer makes keys when it rotates them. */
	if (pr->role == SANDBOX_SIGNER) {
		EVP_PKEY_free(pr->rsa);
		if ((pr->rsa = genkey(EVP_PKEY_RSA)) == NULL ||
		    !sign_verify(pr->rsa))
			failx(pr, "RSA key generation");
	}

	log_info("%s: steady state", sandbox_role_name(pr->role));
	if (pr->role == SANDBOX_STORAGE || pr->role == SANDBOX_SIGNER)
		lmdb_work(pr);
	if (pr->role == SANDBOX_CONNECTOR)
		connector_start(pr);
	pr->done++;
}

static void
check_done(int fd, short ev, void *arg)
{
	struct probe	*pr = arg;
	int		 want = 3;	/* timer, descriptor, signal */

	if (pr->role == SANDBOX_FRONTEND || pr->role == SANDBOX_CONNECTOR ||
	    pr->role == SANDBOX_CONTROL)
		want = 4;
	if (pr->done >= want || pr->why[0] != '\0')
		event_base_loopbreak(pr->base);
}

static void
work(struct probe *pr)
{
	struct timeval	 tv = { 0, 10000 }, tick = { 0, 5000 };
	struct event	*ev, *chk, *lev = NULL;

	if ((ev = evtimer_new(pr->base, timer_fired, pr)) == NULL ||
	    evtimer_add(ev, &tv) == -1 ||
	    (chk = event_new(pr->base, -1, EV_PERSIST, check_done,
	    pr)) == NULL || event_add(chk, &tick) == -1) {
		report("FAIL event setup");
		return;
	}
	/*
	 * TLS is configured confined, as in the daemon, where the
	 * certificates arrive over imsg after sandbox_enter().
	 */
	if (pr->role == SANDBOX_FRONTEND &&
	    ((pr->tlscfg = tls_config_new()) == NULL ||
	    tls_config_set_keypair_mem(pr->tlscfg, (const uint8_t *)pr->cert,
	    pr->certlen, (const uint8_t *)pr->key, pr->keylen) == -1 ||
	    (pr->tls = tls_server()) == NULL ||
	    tls_configure(pr->tls, pr->tlscfg) == -1)) {
		report("FAIL tls server setup");
		return;
	}
	if (pr->role == SANDBOX_CONNECTOR &&
	    ((pr->tlscfg = tls_config_new()) == NULL ||
	    tls_config_set_ca_mem(pr->tlscfg, (const uint8_t *)pr->cert,
	    pr->certlen) == -1)) {
		report("FAIL tls client setup");
		return;
	}
	if (pr->role == SANDBOX_FRONTEND || pr->role == SANDBOX_CONTROL) {
		lev = event_new(pr->base, pr->lsock, EV_READ | EV_PERSIST,
		    pr->role == SANDBOX_FRONTEND ? frontend_accept :
		    control_accept, pr);
		if (lev == NULL || event_add(lev, NULL) == -1) {
			report("FAIL event setup");
			return;
		}
	}
	if (event_base_dispatch(pr->base) == -1)
		failx(pr, "event_base_dispatch");
	if (lev != NULL)
		event_free(lev);
	event_free(ev);
	event_free(chk);
	if (pr->why[0] != '\0')
		report("FAIL %s", pr->why);
	else
		report("OK");
}

/* Landlock alone, no seccomp: what the kernel refuses by itself. */
static void
landlock_only(struct probe *pr, const struct sandbox_opts *so)
{
	struct sockaddr_in	 sin;
	int			 abi, fd, e_open = 0, e_ok = -1, e_other = -1;
	int			 s;

	if ((abi = sandbox_landlock(pr->role, so)) == -1) {
		report("FAIL sandbox_landlock");
		return;
	}
	if ((fd = open(pr->notroot ? pr->dir : "/", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		e_open = errno;
	else
		close(fd);
	if (pr->role == SANDBOX_CONNECTOR) {
		/* An allowed port, then one that is not in the list. */
		loopback(&sin, pr->port);
		if ((s = socket(AF_INET, SOCK_STREAM, 0)) != -1) {
			e_ok = connect(s, (struct sockaddr *)&sin,
			    sizeof(sin)) == -1 ? errno : 0;
			close(s);
		}
		loopback(&sin, pr->port2);
		if ((s = socket(AF_INET, SOCK_STREAM, 0)) != -1) {
			e_other = connect(s, (struct sockaddr *)&sin,
			    sizeof(sin)) == -1 ? errno : 0;
			close(s);
		}
	}
	report("LL %d %d %d %d", abi, e_open, e_ok, e_other);
}

static void
forbidden(struct probe *pr)
{
	const char		*a = pr->action;
	char			*argv[] = { "sh", "-c", "true", NULL };
	struct sockaddr_in	 sin;
	void			*p;
	int			 fd;

	errno = 0;
	if (strcmp(a, "open") == 0) {
		fd = open("/etc/passwd", O_RDONLY);
		report("ERRNO %d", fd == -1 ? errno : 0);
		return;
	} else if (strcmp(a, "unixsock") == 0) {
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		report("ERRNO %d", fd == -1 ? errno : 0);
		return;
	} else if (strcmp(a, "socket") == 0) {
		(void)socket(AF_INET, SOCK_STREAM, 0);
	} else if (strcmp(a, "execve") == 0) {
		(void)execve("/bin/sh", argv, NULL);
	} else if (strcmp(a, "connect") == 0) {
		loopback(&sin, 1);
		(void)connect(REPORT_FD, (struct sockaddr *)&sin, sizeof(sin));
	} else if (strcmp(a, "mmapexec") == 0) {
		(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else if (strcmp(a, "mprotexec") == 0) {
		if ((p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED)
			(void)mprotect(p, 4096, PROT_READ | PROT_EXEC);
	} else if (strcmp(a, "mmapshared") == 0) {
		(void)mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	} else if (strcmp(a, "fork") == 0) {
		if (fork() == 0)
			_exit(0);
	} else if (strcmp(a, "kill") == 0) {
		(void)kill(pr->ppid, 0);
	} else if (strcmp(a, "sigsys") == 0) {
		(void)signal(SIGSYS, SIG_IGN);
	} else {
		report("FAIL unknown action %s", a);
		exit(1);
	}
	report("ALIVE %d", errno);
	exit(3);
}

static int
role_byname(const char *name)
{
	int	 r;

	for (r = 0; r < SANDBOX_NROLES; r++)
		if (strcmp(sandbox_role_name(r), name) == 0)
			return (r);
	return (-1);
}

int
main(int argc, char *argv[])
{
	struct probe		 pr;
	struct sandbox_opts	 so;
	struct event		*sev;
	uint16_t		 ports[1];
	char			 go;
	int			 r, pd, abi, need_tls, fd;

	if (argc != 5 || (r = role_byname(argv[1])) == -1) {
		fprintf(stderr, "usage: sandbox_probe role action dir user\n");
		return (1);
	}
	memset(&pr, 0, sizeof(pr));
	pr.role = r;
	pr.action = argv[2];
	pr.dir = argv[3];
	pr.lsock = pr.lsock2 = -1;
	pr.ppid = getppid();
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(pr.action, "syslog") == 0)
		log_init(0, LOG_DAEMON);
	else
		log_init(1, LOG_DAEMON);
	log_setverbose(2);
	log_procinit(argv[1]);

	/* Everything that reads files or needs root, as the daemon does. */
	need_tls = strcmp(pr.action, "work") == 0 &&
	    (r == SANDBOX_FRONTEND || r == SANDBOX_CONNECTOR);
	if (strcmp(pr.action, "work") == 0) {
		if ((pr.rsa = genkey(EVP_PKEY_RSA)) == NULL ||
		    (pr.ec = genkey(EVP_PKEY_EC)) == NULL ||
		    mkcert(&pr) == -1) {
			report("FAIL keys");
			return (1);
		}
	}
	/* libtls reads openssl.cnf once; the daemon does it in main(). */
	if (need_tls && tls_init() == -1) {
		report("FAIL tls_init");
		return (1);
	}
	if ((strcmp(pr.action, "work") == 0 ||
	    strncmp(pr.action, "landlock", 8) == 0) &&
	    spawn_helper(&pr) == -1) {
		report("FAIL helper: %s", strerror(errno));
		return (1);
	}
	if (pr.role == SANDBOX_FRONTEND && pr.lsock != -1 &&
	    fcntl(pr.lsock, F_SETFL, O_NONBLOCK) == -1) {
		report("FAIL fcntl");
		return (1);
	}

	if ((pd = sandbox_privdrop(pr.role, pr.dir, argv[4], 0)) == -1) {
		report("FAIL sandbox_privdrop");
		return (1);
	}
	pr.notroot = (pd & SANDBOX_NOTROOT) != 0;
	abi = (int)syscall(444, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		abi = 0;

	if (strcmp(pr.action, "nproc") == 0) {
		report("R %d %d", pd, abi);
		if (read(REPORT_FD, &go, 1) != 1)
			return (1);
		errno = 0;
		if ((fd = fork()) == 0)
			_exit(0);
		report("ERRNO %d", fd == -1 ? errno : 0);
		return (0);
	}

	/* Role init after the drop, as proc_run() does. */
	if ((pr.base = event_base_new()) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, pr.sp) == -1 || pipe2(pr.pp, O_CLOEXEC) == -1) {
		report("FAIL init");
		return (1);
	}
	if ((sev = evsignal_new(pr.base, SIGUSR2, signal_fired, &pr)) ==
	    NULL || evsignal_add(sev, NULL) == -1) {
		report("FAIL evsignal");
		return (1);
	}
	if ((r == SANDBOX_STORAGE || r == SANDBOX_SIGNER) &&
	    lmdb_open(&pr) == -1) {
		report("FAIL lmdb open");
		return (1);
	}

	memset(&so, 0, sizeof(so));
	if (r == SANDBOX_CONNECTOR && pr.port != 0 &&
	    strcmp(pr.action, "landlock0") != 0) {
		ports[0] = pr.port;
		so.so_ports = ports;
		so.so_nports = 1;
	}
	if (strncmp(pr.action, "landlock", 8) == 0) {
		report("R %d %d", pd, abi);
		if (read(REPORT_FD, &go, 1) != 1)
			return (1);
		landlock_only(&pr, &so);
		return (0);
	}
	if (sandbox_enter(pr.role, &so) == -1) {
		report("FAIL sandbox_enter");
		return (1);
	}
	report("R %d %d", pd, abi);
	if (read(REPORT_FD, &go, 1) != 1)
		return (1);

	if (strcmp(pr.action, "work") == 0) {
		work(&pr);
		/* Teardown puts signal handlers back: rt_sigaction. */
		event_free(sev);
		event_base_free(pr.base);
	}
	else if (strcmp(pr.action, "syslog") == 0) {
		log_info("a line for syslog");
		log_warnx("another line for syslog");
		report("OK");
	} else
		forbidden(&pr);
	/* exit(), not _exit(): the atexit handlers run confined too. */
	exit(0);
}
