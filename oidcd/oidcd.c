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
 * oidcd: main() and the parent process.  The parent reads the config,
 * opens the listening and control sockets and the TLS files as root,
 * starts the children, hands each its part of the config and then only
 * supervises: reload on SIGHUP or `oidcctl reload`, shutdown on
 * SIGTERM/SIGINT, and a child that dies takes the daemon down.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "oidcd.h"
#include "conf.h"
#include "db.h"
#include "jose.h"
#include "upstream.h"

#define PARENT_MAX_LISTENERS	2
#define PARENT_TLS_FILE_MAX	(1024 * 1024)

struct parent_listener {
	int			 pl_fd;
	int			 pl_tls;
	char			 pl_addr[128];
};

struct oidcd {
	struct privsep		 sc_ps;
	struct oidcd_conf	*sc_conf;
	const char		*sc_conffile;
	int			 sc_reload;	/* acks still awaited */
	uint32_t		 sc_reload_peer;	/* control request */
	int			 sc_reload_ctl;
	int			 sc_started;
	uint64_t		 sc_generation;
	char			 sc_conn_status[256];	/* for show status */
	time_t			 sc_start_time;
	struct parent_listener	 sc_listeners[PARENT_MAX_LISTENERS];
	int			 sc_nlisteners;
	int			 sc_control_fd;
	char			*sc_memdir;	/* storage type memory */
	char			*sc_dbdir;
	gid_t			 sc_show_gid;
	uint8_t			*sc_tls_cert;
	size_t			 sc_tls_certlen;
	uint8_t			*sc_tls_key;
	size_t			 sc_tls_keylen;
	struct config_templates	 sc_templates;	/* frontend.dir */
	struct asset_set	 sc_assets;	/* frontend.dir, until sent */
};

static struct oidcd	*oidcd_env;

static void	 parent_conn_status(struct oidcd *, struct imsg *);
static int	 parent_dispatch_child(int, struct privsep_proc *,
		    struct imsg *);
static int	 parent_dispatch_control(int, struct privsep_proc *,
		    struct imsg *);
static void	 parent_configure(struct oidcd *);
static void	 parent_shutdown(struct oidcd *, int);
static int	 parent_reload(struct oidcd *, const char *, char **);
static void	 parent_cleanup(struct privsep *);

static struct privsep_proc procs[] = {
	{ "frontend",	PROC_FRONTEND,	parent_dispatch_child, frontend },
	{ "connector",	PROC_CONNECTOR,	parent_dispatch_child, connector },
	{ "signer",	PROC_SIGNER,	parent_dispatch_child, signer },
	{ "storage",	PROC_STORAGE,	parent_dispatch_child, storage },
	{ "control",	PROC_CONTROL,	parent_dispatch_control, control },
};

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-dFnv] [-f file]\n", __progname);
	exit(1);
}

static void
parent_sig_handler(int sig, short event, void *arg)
{
	struct oidcd	*env = arg;
	char		*err = NULL;

	switch (sig) {
	case SIGHUP:
		log_info("reload requested with SIGHUP");
		if (parent_reload(env, NULL, &err) == -1) {
			log_warnx("reload failed, still running on the "
			    "previous configuration:\n%s", err ? err : "");
			free(err);
		}
		break;
	case SIGTERM:
	case SIGINT:
		log_info("terminating on signal %d", sig);
		parent_shutdown(env, 0);
		break;
	default:
		break;
	}
}

/* Split "host:port", "[v6]:port" or ":port" and resolve numerically. */
static int
parent_parse_addr(const char *addr, struct addrinfo **res)
{
	struct addrinfo	 hints;
	char		 host[256], *port;
	const char	*h;
	int		 error;

	if (strlcpy(host, addr, sizeof(host)) >= sizeof(host))
		return (-1);
	if ((port = strrchr(host, ':')) == NULL)
		return (-1);
	*port++ = '\0';
	h = host;
	if (host[0] == '[') {
		size_t l = strlen(host);
		if (l < 2 || host[l - 1] != ']')
			return (-1);
		host[l - 1] = '\0';
		h = host + 1;
	}
	if (*h == '\0')
		h = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	/* Names like localhost are allowed: we are not chrooted yet. */
	if ((error = getaddrinfo(h, port, &hints, res)) != 0) {
		log_warnx("%s: %s", addr, gai_strerror(error));
		return (-1);
	}
	return (0);
}

static int
parent_listen(const char *addr)
{
	struct addrinfo	*res;
	int		 fd, on = 1;

	if (parent_parse_addr(addr, &res) == -1) {
		log_warnx("cannot parse listen address %s", addr);
		return (-1);
	}
	if ((fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket for %s", addr);
		freeaddrinfo(res);
		return (-1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 1024) == -1) {
		log_warn("cannot listen on %s", addr);
		close(fd);
		freeaddrinfo(res);
		return (-1);
	}
	freeaddrinfo(res);
	return (fd);
}

static int
parent_readfile(const char *path, uint8_t **buf, size_t *len)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", path);
		return (-1);
	}
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size > PARENT_TLS_FILE_MAX) {
		log_warnx("%s: bad size", path);
		close(fd);
		return (-1);
	}
	if ((*buf = malloc(st.st_size)) == NULL)
		fatal("%s: malloc", __func__);
	if ((n = read(fd, *buf, st.st_size)) != st.st_size) {
		log_warnx("%s: short read", path);
		freezero(*buf, st.st_size);
		*buf = NULL;
		close(fd);
		return (-1);
	}
	close(fd);
	*len = st.st_size;
	return (0);
}

/*
 * Open the listeners the config names, reusing the sockets we already
 * have for addresses that did not change, so a reload loses nothing.
 */
static int
parent_open_listeners(struct oidcd *env, struct oidcd_conf *cf)
{
	struct parent_listener	 nl[PARENT_MAX_LISTENERS];
	const char		*addrs[PARENT_MAX_LISTENERS];
	int			 i, j, n = 0;

	memset(nl, 0, sizeof(nl));
	if (cf->cf_web_http != NULL)
		addrs[n++] = cf->cf_web_http;
	if (cf->cf_web_https != NULL)
		addrs[n++] = cf->cf_web_https;
	for (i = 0; i < n; i++) {
		nl[i].pl_fd = -1;
		nl[i].pl_tls = addrs[i] == cf->cf_web_https;
		(void)strlcpy(nl[i].pl_addr, addrs[i], sizeof(nl[i].pl_addr));
		for (j = 0; j < env->sc_nlisteners; j++) {
			if (env->sc_listeners[j].pl_fd != -1 &&
			    strcmp(env->sc_listeners[j].pl_addr,
			    addrs[i]) == 0) {
				nl[i].pl_fd = env->sc_listeners[j].pl_fd;
				env->sc_listeners[j].pl_fd = -1;
			}
		}
		if (nl[i].pl_fd == -1 &&
		    (nl[i].pl_fd = parent_listen(addrs[i])) == -1) {
			for (j = 0; j < i; j++)
				close(nl[j].pl_fd);
			return (-1);
		}
	}
	for (j = 0; j < env->sc_nlisteners; j++)
		if (env->sc_listeners[j].pl_fd != -1)
			close(env->sc_listeners[j].pl_fd);
	memcpy(env->sc_listeners, nl, sizeof(nl));
	env->sc_nlisteners = n;
	return (0);
}

/*
 * The upstream connectors' configs through the connector's own rules
 * (upstream.c), so that a bad one fails the start, -n and a reload
 * with its place in the file, not the connector process later.
 */
static int
parent_check_connectors(const struct oidcd_conf *cf, char *err,
    size_t errlen)
{
	struct conf_connector	*cn;
	struct upstream_conf	*uc;
	char			 why[UPSTREAM_ERR_MAX];

	TAILQ_FOREACH(cn, &cf->cf_connectors, cn_entry) {
		if (strcmp(cn->cn_type, "oidc") != 0 &&
		    strcmp(cn->cn_type, "oauth") != 0)
			continue;
		if (upstream_config_load(cn->cn_config, cn->cn_type,
		    cn->cn_id, cf->cf_issuer, &uc, why, sizeof(why)) == -1) {
			(void)snprintf(err, errlen, "%s:%d: connector %s: %s",
			    cf->cf_file, cn->cn_line, cn->cn_id, why);
			return (-1);
		}
		upstream_conf_free(uc);
	}
	return (0);
}

/*
 * The key that seals what the connector hands out (upstream refresh
 * tokens, login state): kept in stateDir so that sealed tokens in lmdb
 * storage outlive a restart; made on first use.
 */
static int
parent_seal_key(struct oidcd_conf *cf)
{
	uint8_t	 key[CFG_SEAL_KEY_LEN];
	char	 path[PATH_MAX];
	ssize_t	 n;
	int	 fd;

	if (snprintf(path, sizeof(path), "%s/%s", cf->cf_state_dir,
	    CFG_SEAL_KEY_FILE) >= (int)sizeof(path)) {
		log_warnx("%s: path too long", cf->cf_state_dir);
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		n = read(fd, key, sizeof(key));
		close(fd);
		if (n != (ssize_t)sizeof(key)) {
			log_warnx("%s: not a %d-byte key", path,
			    CFG_SEAL_KEY_LEN);
			return (-1);
		}
	} else if (errno == ENOENT) {
		arc4random_buf(key, sizeof(key));
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600)) == -1 ||
		    write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
		    fsync(fd) == -1) {
			log_warn("%s", path);
			if (fd != -1)
				close(fd);
			explicit_bzero(key, sizeof(key));
			return (-1);
		}
		close(fd);
		log_info("made a new connector sealing key in %s", path);
	} else {
		log_warn("%s", path);
		return (-1);
	}
	cf->cf_seal_key = jose_b64url_encode(key, sizeof(key));
	explicit_bzero(key, sizeof(key));
	return (cf->cf_seal_key == NULL ? -1 : 0);
}

/* The system's CA roots, for connectors that talk to HTTPS upstreams. */
static void
parent_send_cas(struct privsep *ps, const struct oidcd_conf *cf)
{
	struct stat	 st;
	uint8_t		*buf;
	ssize_t		 n;
	int		 fd;

	if (cf->cf_nconnectors == 0)
		return;
	if ((fd = open(CFG_CA_BUNDLE, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s (HTTPS upstreams need rootCAs)", CFG_CA_BUNDLE);
		return;
	}
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size > CFG_CA_BUNDLE_MAX ||
	    (buf = malloc(st.st_size)) == NULL) {
		log_warnx("%s: cannot read it", CFG_CA_BUNDLE);
		close(fd);
		return;
	}
	n = read(fd, buf, st.st_size);
	close(fd);
	if (n == st.st_size)
		config_settls(ps, PROC_CONNECTOR, 0, CFG_TLS_CA, buf, n);
	else
		log_warnx("%s: short read", CFG_CA_BUNDLE);
	free(buf);
}

static int
parent_load_tls(struct oidcd *env, struct oidcd_conf *cf)
{
	uint8_t	*cert = NULL, *key = NULL;
	size_t	 certlen = 0, keylen = 0;

	if (cf->cf_web_https == NULL)
		goto done;
	if (parent_readfile(cf->cf_web_tls_cert, &cert, &certlen) == -1)
		return (-1);
	if (parent_readfile(cf->cf_web_tls_key, &key, &keylen) == -1) {
		free(cert);
		return (-1);
	}
 done:
	free(env->sc_tls_cert);
	freezero(env->sc_tls_key, env->sc_tls_keylen);
	env->sc_tls_cert = cert;
	env->sc_tls_certlen = certlen;
	env->sc_tls_key = key;
	env->sc_tls_keylen = keylen;
	return (0);
}

static int
parent_control_socket(const char *path, gid_t gid)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("control socket");
		return (-1);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", path);
		close(fd);
		return (-1);
	}
	old = umask(S_IXUSR | S_IXGRP | S_IWOTH | S_IROTH | S_IXOTH);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", path);
		umask(old);
		close(fd);
		return (-1);
	}
	umask(old);
	if (chmod(path, 0660) == -1 ||
	    (geteuid() == 0 && chown(path, 0, gid) == -1)) {
		log_warn("chmod/chown %s", path);
		close(fd);
		(void)unlink(path);
		return (-1);
	}
	if (listen(fd, 16) == -1) {
		log_warn("listen %s", path);
		close(fd);
		(void)unlink(path);
		return (-1);
	}
	return (fd);
}

/* Make a directory with an owner and mode, or check the one there. */
static void
parent_mkdir(const char *path, uid_t uid, gid_t gid, mode_t mode, int root)
{
	struct stat	 st;

	if (mkdir(path, mode) == -1 && errno != EEXIST)
		fatal("mkdir %s", path);
	if (stat(path, &st) == -1)
		fatal("stat %s", path);
	if (!S_ISDIR(st.st_mode))
		fatalx("%s: not a directory", path);
	if (!root)
		return;
	if ((st.st_uid != uid || st.st_gid != gid) &&
	    chown(path, uid, gid) == -1)
		fatal("chown %s", path);
	if ((st.st_mode & 07777) != mode && chmod(path, mode) == -1)
		fatal("chmod %s", path);
}

static struct passwd *
parent_getpw(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("user %s does not exist: create it with `make install`"
		    " or scripts/users.sh (see oidcd(8))", user);
	return (pw);
}

/* State directories with the owners and modes of DESIGN.md §1. */
static void
parent_dirs(struct oidcd *env, struct oidcd_conf *cf, int root)
{
	struct passwd	*pw;
	uid_t		 key_uid = 0, db_uid = 0;
	gid_t		 key_gid = 0, db_gid = 0;
	char		 tmpl[PATH_MAX];

	/* getpwnam() returns static storage: copy what we need. */
	if (root) {
		(void)parent_getpw(cf->cf_user);
		pw = parent_getpw(cf->cf_key_user);
		key_uid = pw->pw_uid;
		key_gid = pw->pw_gid;
		pw = parent_getpw(cf->cf_db_user);
		db_uid = pw->pw_uid;
		db_gid = pw->pw_gid;
	}
	parent_mkdir(cf->cf_state_dir, 0, 0, 0755, root);
	parent_mkdir(cf->cf_empty_dir, 0, 0, 0755, root);
	parent_mkdir(cf->cf_key_dir, key_uid, key_gid, 0700, root);
	if (cf->cf_storage_type == CONF_STORAGE_MEMORY) {
		/* Nothing of it survives: a private dir, removed at exit. */
		if (db_tmpdir_create(cf->cf_state_dir, tmpl, sizeof(tmpl)) ==
		    -1)
			fatal("cannot create a directory for memory storage "
			    "in %s", cf->cf_state_dir);
		if ((env->sc_memdir = strdup(tmpl)) == NULL)
			fatal("strdup");
		if (root && chown(tmpl, db_uid, db_gid) == -1)
			fatal("chown %s", tmpl);
		env->sc_dbdir = env->sc_memdir;
	} else {
		parent_mkdir(cf->cf_storage_path, db_uid, db_gid, 0700, root);
		if ((env->sc_dbdir = strdup(cf->cf_storage_path)) == NULL)
			fatal("strdup");
	}
}

static void
parent_log_config(struct oidcd_conf *cf, int debug, int verbose)
{
	int	 v = verbose;

	if (cf->cf_log_level <= CONF_LOG_DEBUG && v < 2)
		v = 2;
	log_setverbose(debug ? (v > 1 ? v : 1) : v);
	log_setformat(cf->cf_log_format == CONF_LOGFMT_JSON ?
	    LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	log_setquiet(cf->cf_log_level >= CONF_LOG_WARN);
}

int
main(int argc, char *argv[])
{
	struct oidcd		*env;
	struct privsep		*ps;
	struct conf_msgs	 msgs;
	struct oidcd_conf	*cf;
	struct group		*gr;
	const char		*conffile = OIDCD_CONF_FILE, *errstr;
	const char		*title = NULL, *root = NULL, *user = NULL;
	char			*cargv[10], exe[PATH_MAX], vbuf[8];
	char			 errbuf[512];
	enum privsep_procid	 id;
	unsigned int		 i;
	int			 ch, debug = 0, foreground = 0, noaction = 0;
	int			 verbose = 0, instance = 0, nfrontends = 1;
	int			 cargc, isroot, json = 0, quiet = 0;
	ssize_t			 n;

	while ((ch = getopt(argc, argv, "dFf:I:jnN:P:qR:U:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'F':
			foreground = 1;
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'P':
			title = optarg;
			break;
		case 'I':
			instance = strtonum(optarg, 0, PROC_MAX_INSTANCES - 1,
			    &errstr);
			if (errstr != NULL)
				fatalx("bad instance %s: %s", optarg, errstr);
			break;
		case 'N':
			nfrontends = strtonum(optarg, 1, PROC_MAX_INSTANCES,
			    &errstr);
			if (errstr != NULL)
				fatalx("bad frontend count %s: %s", optarg,
				    errstr);
			break;
		case 'R':
			root = optarg;
			break;
		case 'U':
			user = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc > 0)
		usage();

	if ((env = calloc(1, sizeof(*env))) == NULL)
		fatal("calloc");
	oidcd_env = env;
	ps = &env->sc_ps;
	ps->ps_env = env;
	ps->ps_debug = debug;
	ps->ps_verbose = verbose;
	for (i = 0; i < PROC_MAX; i++)
		ps->ps_instances[i] = 1;

	/* A child: become the role it was started as. */
	if (title != NULL) {
		log_init(debug, LOG_DAEMON);
		log_setverbose(verbose);
		log_setformat(json ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
		log_setquiet(quiet);
		if ((id = proc_getid(procs, 0, title)) == PROC_MAX ||
		    id == PROC_PARENT)
			fatalx("unknown process %s", title);
		ps->ps_id = id;
		ps->ps_instance = instance;
		ps->ps_instances[PROC_FRONTEND] = nfrontends;
		ps->ps_root = root;
		ps->ps_user = user;
		for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
			if (procs[i].p_id == id) {
				procs[i].p_ps = ps;
				procs[i].p_init(ps, &procs[i]);
			}
		fatalx("%s: returned", title);
	}

	log_init(1, LOG_DAEMON);
	TAILQ_INIT(&msgs);
	cf = conf_parse_file(conffile, &msgs);
	(void)conf_msgs_print(stderr, &msgs);
	conf_msgs_free(&msgs);
	if (cf == NULL)
		exit(1);
	if (parent_check_connectors(cf, errbuf, sizeof(errbuf)) == -1) {
		fprintf(stderr, "%s\n", errbuf);
		exit(1);
	}
	if (config_loadtemplates(cf->cf_fe_dir, &env->sc_templates, errbuf,
	    sizeof(errbuf)) == -1) {
		fprintf(stderr, "%s: frontend.dir: %s\n", conffile, errbuf);
		exit(1);
	}
	if (config_loadassets(cf->cf_fe_dir, cf->cf_fe_theme,
	    &env->sc_assets, errbuf, sizeof(errbuf)) == -1) {
		fprintf(stderr, "%s: frontend.dir: %s\n", conffile, errbuf);
		exit(1);
	}
	if (noaction) {
		fprintf(stderr, "configuration OK\n");
		config_freeassets(&env->sc_assets);
		conf_free(cf);
		exit(0);
	}
	(void)conf_check_secrecy(conffile, cf);
	env->sc_conf = cf;
	env->sc_conffile = conffile;

	isroot = geteuid() == 0;
	if (!isroot)
		log_warnx("not running as root: every process is still "
		    "separate and sandboxed, but they cannot change users "
		    "or chroot");
	env->sc_show_gid = getegid();
	if (isroot) {
		if ((gr = getgrnam(cf->cf_user)) != NULL)
			env->sc_show_gid = gr->gr_gid;
		else
			env->sc_show_gid = parent_getpw(cf->cf_user)->pw_gid;
	}
	parent_dirs(env, cf, isroot);

	if (parent_open_listeners(env, cf) == -1)
		exit(1);
	if (parent_load_tls(env, cf) == -1 || parent_seal_key(cf) == -1)
		exit(1);
	if ((env->sc_control_fd = parent_control_socket(cf->cf_control_socket,
	    env->sc_show_gid)) == -1)
		exit(1);

	/* Children are started from our own executable. */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	exe[n] = '\0';
	ps->ps_argv0 = exe;

	log_init(debug, LOG_DAEMON);
	parent_log_config(cf, debug, verbose);
	if (!debug && !foreground && daemon(1, 0) == -1)
		fatal("daemon");
	log_procinit("parent");
	env->sc_start_time = time(NULL);

	ps->ps_id = PROC_PARENT;
	ps->ps_cleanup = parent_cleanup;
	ps->ps_instances[PROC_FRONTEND] = cf->cf_frontends;
	if ((ps->ps_evbase = event_base_new()) == NULL)
		fatalx("event_base_new");

	for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		switch (procs[i].p_id) {
		case PROC_SIGNER:
			procs[i].p_chroot = cf->cf_key_dir;
			procs[i].p_user = cf->cf_key_user;
			break;
		case PROC_STORAGE:
			procs[i].p_chroot = env->sc_dbdir;
			procs[i].p_user = cf->cf_db_user;
			break;
		default:
			procs[i].p_chroot = cf->cf_empty_dir;
			procs[i].p_user = cf->cf_user;
			break;
		}
	}
	cargc = 0;
	cargv[cargc++] = exe;
	if (debug)
		cargv[cargc++] = "-d";
	else if (foreground)
		cargv[cargc++] = "-F";
	if (log_getverbose() > 0) {
		(void)snprintf(vbuf, sizeof(vbuf), "-%.*s",
		    log_getverbose() > 4 ? 4 : log_getverbose(), "vvvv");
		cargv[cargc++] = vbuf;
	}
	/* Internal: logger.format json and logger.level warn|error. */
	if (log_getformat() == LOG_FORMAT_JSON)
		cargv[cargc++] = "-j";
	if (log_getquiet())
		cargv[cargc++] = "-q";
	cargv[cargc] = NULL;
	proc_init(ps, procs, sizeof(procs) / sizeof(procs[0]), cargc, cargv,
	    PROC_PARENT);
	proc_connect(ps);

	ps->ps_evsig[0] = evsignal_new(ps->ps_evbase, SIGHUP,
	    parent_sig_handler, env);
	ps->ps_evsig[1] = evsignal_new(ps->ps_evbase, SIGTERM,
	    parent_sig_handler, env);
	ps->ps_evsig[2] = evsignal_new(ps->ps_evbase, SIGINT,
	    parent_sig_handler, env);
	for (i = 0; i < 3; i++)
		if (ps->ps_evsig[i] == NULL ||
		    evsignal_add(ps->ps_evsig[i], NULL) == -1)
			fatalx("evsignal");
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);

	log_info("startup: issuer %s, %d frontend%s", cf->cf_issuer,
	    cf->cf_frontends, cf->cf_frontends == 1 ? "" : "s");
	parent_configure(env);

	event_base_dispatch(ps->ps_evbase);
	parent_shutdown(env, 0);
	return (0);
}

/* Send every child its config, then IMSG_CFG_DONE; count the acks. */
static void
parent_configure(struct oidcd *env)
{
	struct privsep		*ps = &env->sc_ps;
	struct oidcd_conf	*cf = env->sc_conf;
	struct cfg_listen	 cl;
	int			 i, id, fd;

	env->sc_generation++;
	for (id = PROC_FRONTEND; id < PROC_MAX; id++)
		config_setglobal(ps, id, cf, env->sc_show_gid);
	config_settemplates(ps, &env->sc_templates);
	/*
	 * The frontends keep their copy; the parent loads the files
	 * again at each reload, so it need not hold them meanwhile.
	 */
	config_setassets(ps, &env->sc_assets);
	config_freeassets(&env->sc_assets);
	parent_send_cas(ps, cf);

	for (i = 0; i < env->sc_nlisteners; i++) {
		memset(&cl, 0, sizeof(cl));
		cl.cl_id = i;
		cl.cl_tls = env->sc_listeners[i].pl_tls;
		(void)strlcpy(cl.cl_addr, env->sc_listeners[i].pl_addr,
		    sizeof(cl.cl_addr));
		if (cl.cl_tls) {
			config_settls(ps, PROC_FRONTEND, i, CFG_TLS_CERT,
			    env->sc_tls_cert, env->sc_tls_certlen);
			config_settls(ps, PROC_FRONTEND, i, CFG_TLS_KEY,
			    env->sc_tls_key, env->sc_tls_keylen);
		}
		if ((fd = dup(env->sc_listeners[i].pl_fd)) == -1)
			fatal("dup");
		/* One descriptor per frontend instance (proc_compose dups). */
		if (proc_compose_imsg(ps, PROC_FRONTEND, -1, IMSG_CFG_LISTEN,
		    0, fd, &cl, sizeof(cl)) == -1)
			fatal("%s: compose", __func__);
	}
	if (!env->sc_started) {
		memset(&cl, 0, sizeof(cl));
		(void)strlcpy(cl.cl_addr, cf->cf_control_socket,
		    sizeof(cl.cl_addr));
		if ((fd = dup(env->sc_control_fd)) == -1)
			fatal("dup");
		if (proc_compose_imsg(ps, PROC_CONTROL, -1, IMSG_CFG_LISTEN,
		    0, fd, &cl, sizeof(cl)) == -1)
			fatal("%s: compose", __func__);
	}

	env->sc_reload = 0;
	for (id = PROC_FRONTEND; id < PROC_MAX; id++) {
		proc_compose(ps, id, IMSG_CFG_DONE, NULL, 0);
		env->sc_reload += ps->ps_instances[id];
	}
	/* The TLS key has been handed on; the parent keeps no copy. */
	freezero(env->sc_tls_key, env->sc_tls_keylen);
	env->sc_tls_key = NULL;
	env->sc_tls_keylen = 0;
}

static void
parent_configure_done(struct oidcd *env)
{
	struct privsep	*ps = &env->sc_ps;
	char		 msg[128];
	int		 id;

	if (env->sc_reload <= 0)
		fatalx("%s: unexpected IMSG_CFG_DONE", __func__);
	if (--env->sc_reload > 0)
		return;
	for (id = PROC_FRONTEND; id < PROC_MAX; id++)
		proc_compose(ps, id, IMSG_CTL_START, NULL, 0);
	if (!env->sc_started) {
		env->sc_started = 1;
		log_info("ready");
		return;
	}
	(void)snprintf(msg, sizeof(msg), "reloaded %s: configuration "
	    "generation %llu", env->sc_conffile,
	    (unsigned long long)env->sc_generation);
	log_info("%s", msg);
	if (env->sc_reload_ctl) {
		proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_OK,
		    env->sc_reload_peer, -1, msg, strlen(msg));
		env->sc_reload_ctl = 0;
	}
}

static int
parent_dispatch_child(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_CFG_DONE:
		parent_configure_done(oidcd_env);
		break;
	case IMSG_CONN_STATUS:
		if (p->p_id != PROC_CONNECTOR)
			return (-1);
		parent_conn_status(oidcd_env, imsg);
		break;
	default:
		return (-1);
	}
	return (0);
}

/*
 * The connector's word on its upstreams, kept as one line for
 * "oidcctl show status": how many are ready, and which are not, why.
 */
static void
parent_conn_status(struct oidcd *env, struct imsg *imsg)
{
	json_t		*st, *v;
	const char	*id;
	char		 line[sizeof(((struct ctl_status *)0)->cs_info)];
	char		 down[sizeof(line)];
	size_t		 n = 0, ready = 0;

	if (imsg_get_len(imsg) == 0 || imsg_get_len(imsg) > STORE_JSON_MAX ||
	    (st = jose_json_object(imsg->data, imsg_get_len(imsg))) == NULL)
		fatalx("%s: bad IMSG_CONN_STATUS", __func__);
	down[0] = '\0';
	json_object_foreach(st, id, v) {
		n++;
		if (json_string_length(v) == 0)
			ready++;
		else if (strlen(down) < sizeof(down) - 1)
			(void)snprintf(down + strlen(down), sizeof(down) -
			    strlen(down), "%s%s (%s)", down[0] ? ", " : "",
			    id, json_string_value(v));
	}
	json_decref(st);
	(void)snprintf(line, sizeof(line), "%zu upstream%s, %zu ready%s%s", n,
	    n == 1 ? "" : "s", ready, down[0] ? "; not ready: " : "", down);
	(void)strlcpy(env->sc_conn_status, line, sizeof(env->sc_conn_status));
}

/* What can change on reload, and what needs a restart. */
static const char *
parent_reload_check(struct oidcd_conf *o, struct oidcd_conf *n)
{
	if (strcmp(o->cf_issuer, n->cf_issuer) != 0)
		return ("issuer");
	if (o->cf_frontends != n->cf_frontends)
		return ("oidcd.frontends");
	if (strcmp(o->cf_user, n->cf_user) != 0 ||
	    strcmp(o->cf_key_user, n->cf_key_user) != 0 ||
	    strcmp(o->cf_db_user, n->cf_db_user) != 0)
		return ("users");
	if (strcmp(o->cf_state_dir, n->cf_state_dir) != 0 ||
	    strcmp(o->cf_empty_dir, n->cf_empty_dir) != 0 ||
	    strcmp(o->cf_key_dir, n->cf_key_dir) != 0 ||
	    strcmp(o->cf_control_socket, n->cf_control_socket) != 0)
		return ("directories or control socket");
	if (o->cf_storage_type != n->cf_storage_type ||
	    (o->cf_storage_path != NULL && n->cf_storage_path != NULL &&
	    strcmp(o->cf_storage_path, n->cf_storage_path) != 0))
		return ("storage");
	return (NULL);
}

/* Collect the parser's messages into one string for oidcctl. */
static char *
parent_msgs_string(struct conf_msgs *msgs)
{
	struct conf_msg	*m;
	char		*s = NULL, *t;

	TAILQ_FOREACH(m, msgs, m_entry) {
		if (asprintf(&t, "%s%s%s", s ? s : "", s ? "\n" : "",
		    m->m_text) == -1)
			fatal("asprintf");
		free(s);
		s = t;
		if (strlen(s) > CTL_MAX_IMSGSIZE / 2)
			break;
	}
	return (s);
}

/*
 * Reload: parse into a new config; on any error keep the running one
 * (unlike httpd, which carries on with a partial config) and say why.
 */
static int
parent_reload(struct oidcd *env, const char *file, char **err)
{
	struct privsep		*ps = &env->sc_ps;
	struct conf_msgs	 msgs;
	struct oidcd_conf	*cf;
	struct config_templates	 tmpl;
	struct asset_set	 assets;
	const char		*what;
	char			 tbuf[512];
	int			 id;

	*err = NULL;
	if (env->sc_reload != 0) {
		*err = strdup("a reload is already in progress");
		return (-1);
	}
	if (file == NULL)
		file = env->sc_conffile;
	TAILQ_INIT(&msgs);
	cf = conf_parse_file(file, &msgs);
	if (cf == NULL) {
		*err = parent_msgs_string(&msgs);
		conf_msgs_free(&msgs);
		return (-1);
	}
	conf_msgs_free(&msgs);
	if (parent_check_connectors(cf, tbuf, sizeof(tbuf)) == -1) {
		*err = strdup(tbuf);
		conf_free(cf);
		return (-1);
	}
	if ((what = parent_reload_check(env->sc_conf, cf)) != NULL) {
		if (asprintf(err, "%s: changing %s needs a restart", file,
		    what) == -1)
			*err = NULL;
		conf_free(cf);
		return (-1);
	}
	if (parent_open_listeners(env, cf) == -1) {
		*err = strdup("cannot open the listeners; see the log");
		conf_free(cf);
		return (-1);
	}
	if (parent_load_tls(env, cf) == -1) {
		*err = strdup("cannot read the TLS files; see the log");
		conf_free(cf);
		return (-1);
	}
	if (parent_seal_key(cf) == -1) {
		*err = strdup("cannot read the connector sealing key; see the "
		    "log");
		conf_free(cf);
		return (-1);
	}
	if (config_loadtemplates(cf->cf_fe_dir, &tmpl, tbuf,
	    sizeof(tbuf)) == -1) {
		if (asprintf(err, "frontend.dir: %s", tbuf) == -1)
			*err = NULL;
		conf_free(cf);
		return (-1);
	}
	if (config_loadassets(cf->cf_fe_dir, cf->cf_fe_theme, &assets, tbuf,
	    sizeof(tbuf)) == -1) {
		if (asprintf(err, "frontend.dir: %s", tbuf) == -1)
			*err = NULL;
		config_freetemplates(&tmpl);
		conf_free(cf);
		return (-1);
	}
	config_freetemplates(&env->sc_templates);
	env->sc_templates = tmpl;
	config_freeassets(&env->sc_assets);
	env->sc_assets = assets;
	(void)conf_check_secrecy(file, cf);
	conf_free(env->sc_conf);
	env->sc_conf = cf;
	if (file != env->sc_conffile && (env->sc_conffile = strdup(file)) ==
	    NULL)
		fatal("strdup");
	parent_log_config(cf, ps->ps_debug, ps->ps_verbose);
	for (id = PROC_FRONTEND; id < PROC_MAX; id++)
		proc_compose(ps, id, IMSG_CTL_RESET, NULL, 0);
	parent_configure(env);
	return (0);
}

static int
parent_proc_uid(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*fp;
	int	 uid = -1;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Uid:\t%d", &uid) == 1)
			break;
	fclose(fp);
	return (uid);
}

static void
parent_show_status(struct oidcd *env, uint32_t peerid)
{
	struct privsep		*ps = &env->sc_ps;
	struct ctl_status	 cs;
	unsigned int		 n;
	int			 id;

	memset(&cs, 0, sizeof(cs));
	cs.cs_procid = PROC_PARENT;
	cs.cs_pid = getpid();
	cs.cs_uid = geteuid();
	cs.cs_started = env->sc_start_time;
	cs.cs_generation = env->sc_generation;
	(void)strlcpy(cs.cs_title, "parent", sizeof(cs.cs_title));
	(void)snprintf(cs.cs_info, sizeof(cs.cs_info), "config %s, issuer %s",
	    env->sc_conffile, env->sc_conf->cf_issuer);
	proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_STATUS, peerid, -1,
	    &cs, sizeof(cs));
	for (id = PROC_FRONTEND; id < PROC_MAX; id++) {
		for (n = 0; n < ps->ps_instances[id]; n++) {
			memset(&cs, 0, sizeof(cs));
			cs.cs_procid = id;
			cs.cs_instance = n;
			cs.cs_pid = ps->ps_pids[id][n];
			cs.cs_uid = parent_proc_uid(cs.cs_pid);
			cs.cs_started = env->sc_start_time;
			cs.cs_generation = env->sc_generation;
			(void)strlcpy(cs.cs_title, proc_title(id),
			    sizeof(cs.cs_title));
			switch (id) {
			case PROC_SIGNER:
				(void)snprintf(cs.cs_info, sizeof(cs.cs_info),
				    "keys in %s", env->sc_conf->cf_key_dir);
				break;
			case PROC_CONNECTOR:
				(void)strlcpy(cs.cs_info, env->sc_conn_status,
				    sizeof(cs.cs_info));
				break;
			case PROC_STORAGE:
				(void)snprintf(cs.cs_info, sizeof(cs.cs_info),
				    "%s storage in %s",
				    env->sc_memdir ? "memory" : "lmdb",
				    env->sc_dbdir);
				break;
			default:
				break;
			}
			proc_compose_imsg(ps, PROC_CONTROL, 0,
			    IMSG_CTL_STATUS, peerid, -1, &cs, sizeof(cs));
		}
	}
	proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_END, peerid, -1,
	    NULL, 0);
}

/* The static clients, without secrets. */
static void
parent_show_clients(struct oidcd *env, uint32_t peerid)
{
	struct conf_client	*cl;
	json_t			*o, *uris;
	char			*s;
	size_t			 i;

	TAILQ_FOREACH(cl, &env->sc_conf->cf_clients, cl_entry) {
		if ((uris = json_array()) == NULL)
			fatal("%s: json_array", __func__);
		for (i = 0; i < cl->cl_redirect_uris.sv_n; i++)
			json_array_append_new(uris,
			    json_string(cl->cl_redirect_uris.sv_v[i]));
		o = json_pack("{s:s, s:s, s:b, s:o}", "id", cl->cl_id,
		    "name", cl->cl_name ? cl->cl_name : "",
		    "public", cl->cl_public, "redirectURIs", uris);
		if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
			fatalx("%s: json", __func__);
		json_decref(o);
		if (strlen(s) < CTL_MAX_IMSGSIZE - 64)
			proc_compose_imsg(&env->sc_ps, PROC_CONTROL, 0,
			    IMSG_CTL_CLIENT, peerid, -1, s, strlen(s));
		free(s);
	}
	proc_compose_imsg(&env->sc_ps, PROC_CONTROL, 0, IMSG_CTL_END, peerid,
	    -1, NULL, 0);
}

static void
parent_ctl_fail(struct oidcd *env, uint32_t peerid, int error,
    const char *msg)
{
	struct ctl_fail	 cf;
	struct iovec	 iov[2];

	cf.cf_error = error;
	cf.cf_msglen = msg ? strlen(msg) : 0;
	if (cf.cf_msglen > CTL_MAX_IMSGSIZE - 256)
		cf.cf_msglen = CTL_MAX_IMSGSIZE - 256;
	iov[0].iov_base = &cf;
	iov[0].iov_len = sizeof(cf);
	iov[1].iov_base = (void *)(uintptr_t)msg;
	iov[1].iov_len = cf.cf_msglen;
	proc_composev_imsg(&env->sc_ps, PROC_CONTROL, 0, IMSG_CTL_FAIL,
	    peerid, -1, iov, 2);
}

static int
parent_dispatch_control(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct oidcd	*env = oidcd_env;
	struct privsep	*ps = p->p_ps;
	char		*file = NULL, *err = NULL;
	int32_t		 level;
	int		 v;

	switch (imsg_get_type(imsg)) {
	case IMSG_CFG_DONE:
		parent_configure_done(env);
		break;
	case IMSG_CTL_SHOW_STATUS:
		parent_show_status(env, imsg_get_id(imsg));
		break;
	case IMSG_CTL_SHOW_CLIENTS:
		parent_show_clients(env, imsg_get_id(imsg));
		break;
	case IMSG_CTL_RELOAD:
		if (imsg_get_len(imsg) > PATH_MAX ||
		    imsg_get_string(imsg, 0, &file) == -1)
			fatalx("%s: bad IMSG_CTL_RELOAD", __func__);
		log_info("reload requested by control%s%s",
		    *file ? " with " : "", file);
		if (parent_reload(env, *file ? file : NULL, &err) == -1) {
			log_warnx("reload failed, still running on the "
			    "previous configuration:\n%s", err ? err : "");
			parent_ctl_fail(env, imsg_get_id(imsg), EINVAL, err);
		} else {
			env->sc_reload_ctl = 1;
			env->sc_reload_peer = imsg_get_id(imsg);
		}
		free(err);
		free(file);
		break;
	case IMSG_CTL_LOG_VERBOSE:
		if (imsg_get_data(imsg, &level, sizeof(level)) == -1 ||
		    level < 0 || level > 4)
			fatalx("%s: bad IMSG_CTL_LOG_VERBOSE", __func__);
		v = level;
		log_setverbose(v);
		ps->ps_verbose = v;
		for (level = PROC_FRONTEND; level < PROC_MAX; level++)
			proc_compose(ps, level, IMSG_CTL_VERBOSE, &v,
			    sizeof(v));
		log_info("log level set to %s", v > 1 ? "verbose" : "brief");
		proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_OK,
		    imsg_get_id(imsg), -1, NULL, 0);
		break;
	default:
		return (-1);
	}
	return (0);
}

/* What the parent leaves behind: the control socket, memory storage. */
static void
parent_cleanup(struct privsep *ps)
{
	struct oidcd	*env = ps->ps_env;

	if (env->sc_conf != NULL)
		(void)unlink(env->sc_conf->cf_control_socket);
	if (env->sc_memdir != NULL)
		(void)db_tmpdir_remove(env->sc_memdir);
}

static void
parent_shutdown(struct oidcd *env, int code)
{
	proc_kill(&env->sc_ps);
	parent_cleanup(&env->sc_ps);
	log_info("parent terminating");
	exit(code);
}
