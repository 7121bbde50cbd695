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
 * The connector process: the only one that talks to upstream identity
 * providers (DESIGN.md §4.3, §9).  It holds the upstream client
 * secrets and nothing of the downstream clients.  This file has the
 * process and its config, and the password database (Dex's "local"
 * connector, passwd.c); the upstream protocols come with them.
 *
 * A password check costs one bcrypt (50-100 ms at cost 10) and blocks
 * this process while it runs.  So the checks wait in a queue of their
 * own, run one per turn of the event loop (the pipes are served in
 * between), and a request that finds PASSWD_QUEUE_MAX others waiting,
 * or that waited longer than PASSWD_QUEUE_AGE_MS, is answered "busy"
 * without a bcrypt: a flood of logins costs a bounded queue, not an
 * unbounded backlog that every later login waits behind.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "oidcd.h"
#include "passwd.h"

#define CONN_LOG_NAME_MAX	64	/* bytes of a login name logged */
#define CONN_ERR_BUSY		"The login service is busy; try again later."

/* A password check waiting for its bcrypt. */
struct conn_req {
	TAILQ_ENTRY(conn_req)	 cr_entry;
	int			 cr_instance;	/* frontend instance */
	uint32_t		 cr_peerid;
	uint64_t		 cr_arrived;	/* ms, monotonic */
	char			*cr_data;	/* the JSON, with a password */
	size_t			 cr_len;
};
TAILQ_HEAD(conn_reqs, conn_req);

struct connector_env {
	struct privsep		*cn_ps;
	json_t			*cn_config;
	int			 cn_configured;
	struct passwd_db	*cn_passwd;	/* NULL without passwordDB */
	/* The counts of failures survive a reload. */
	struct passwd_rl	*cn_rl;
	struct conn_reqs	 cn_queue;
	size_t			 cn_queued;
	struct event		*cn_ev;		/* runs the next check */
	uint64_t		 cn_busy_logged;	/* ms */
	uint64_t		 cn_busy_count;
	char			*cn_ca;		/* system roots, from the parent */
	size_t			 cn_calen;
	size_t			 cn_catotal;
};

static struct connector_env	*env;

static void	 connector_init(struct privsep *, struct privsep_proc *,
		    void *);
static int	 connector_dispatch_parent(int, struct privsep_proc *,
		    struct imsg *);
static int	 connector_dispatch_frontend(int, struct privsep_proc *,
		    struct imsg *);
static int	 connector_dispatch_storage(int, struct privsep_proc *,
		    struct imsg *);
static void	 connector_configure(void);
static void	 connector_enqueue(struct imsg *, int);
static void	 connector_run(int, short, void *);
static void	 connector_password(struct conn_req *);
static void	 connector_refresh(struct imsg *, int);
static void	 connector_upstream(struct imsg *, int);
static int	 connector_known(const char *);
static const char *printable(const char *, char *, size_t);

static struct privsep_proc procs[] = {
	{ "parent",	PROC_PARENT,	connector_dispatch_parent },
	{ "frontend",	PROC_FRONTEND,	connector_dispatch_frontend },
	{ "storage",	PROC_STORAGE,	connector_dispatch_storage },
};

void
connector(struct privsep *ps, struct privsep_proc *p)
{
	if ((env = calloc(1, sizeof(*env))) == NULL)
		fatal("%s: calloc", __func__);
	env->cn_ps = ps;
	TAILQ_INIT(&env->cn_queue);
	proc_run(ps, p, procs, sizeof(procs) / sizeof(procs[0]),
	    connector_init, NULL);
}

/* Before the sandbox: the event, and the limiter's first HMAC. */
static void
connector_init(struct privsep *ps, struct privsep_proc *p, void *arg)
{
	if ((env->cn_ev = event_new(ps->ps_evbase, -1, 0, connector_run,
	    NULL)) == NULL)
		fatal("%s: event_new", __func__);
	if ((env->cn_rl = passwd_rl_new(PASSWD_RL_ENTRIES)) == NULL)
		fatal("%s: passwd_rl_new", __func__);
	/*
	 * libcrypto looks its digests up on first use, which may want
	 * files that the sandbox hides; use one now.
	 */
	(void)passwd_rl_check(env->cn_rl, "", NULL, 0);
	federation_init(ps);
}

/* The system's CA roots arrive in chunks (config_settls()). */
static void
connector_ca_chunk(struct imsg *imsg)
{
	struct cfg_tls	 ct;
	size_t		 len = imsg_get_len(imsg);

	if (len < sizeof(ct))
		fatalx("%s: short IMSG_CFG_TLS", __func__);
	memcpy(&ct, imsg->data, sizeof(ct));
	if (ct.ct_type != CFG_TLS_CA || ct.ct_total > CFG_CA_BUNDLE_MAX ||
	    ct.ct_len != len - sizeof(ct) ||
	    ct.ct_offset + ct.ct_len > ct.ct_total)
		fatalx("%s: bad IMSG_CFG_TLS", __func__);
	if (ct.ct_offset == 0) {
		free(env->cn_ca);
		if ((env->cn_ca = malloc(ct.ct_total)) == NULL)
			fatal("%s: malloc", __func__);
		env->cn_catotal = ct.ct_total;
		env->cn_calen = 0;
	}
	if (env->cn_ca == NULL || ct.ct_total != env->cn_catotal ||
	    ct.ct_offset != env->cn_calen)
		fatalx("%s: IMSG_CFG_TLS out of order", __func__);
	memcpy(env->cn_ca + ct.ct_offset, (char *)imsg->data + sizeof(ct),
	    ct.ct_len);
	env->cn_calen += ct.ct_len;
}

static int
connector_dispatch_parent(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep	*ps = p->p_ps;
	char		 err[256];

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_RESET:
		json_decref(env->cn_config);
		env->cn_config = NULL;
		break;
	case IMSG_CFG_GLOBAL:
		json_decref(env->cn_config);
		env->cn_config = config_getglobal(imsg);
		connector_configure();
		free(env->cn_ca);
		env->cn_ca = NULL;
		env->cn_calen = env->cn_catotal = 0;
		break;
	case IMSG_CFG_TLS:
		connector_ca_chunk(imsg);
		break;
	case IMSG_CFG_DONE:
		if (env->cn_calen != env->cn_catotal)
			fatalx("%s: CA roots cut short", __func__);
		if (federation_configure(env->cn_config, env->cn_ca,
		    env->cn_calen, err, sizeof(err)) == -1)
			fatalx("%s", err);
		/* Each connector keeps its own copy in its TLS config. */
		free(env->cn_ca);
		env->cn_ca = NULL;
		env->cn_calen = env->cn_catotal = 0;
		federation_start();
		env->cn_configured = 1;
		proc_compose(ps, PROC_PARENT, IMSG_CFG_DONE, NULL, 0);
		break;
	case IMSG_CTL_START:
		log_debug("%zu upstream connector(s) configured, password "
		    "database %s (%zu users)",
		    json_array_size(json_object_get(env->cn_config,
		    "connectors")), env->cn_passwd != NULL ? "on" : "off",
		    env->cn_passwd != NULL ?
		    passwd_db_count(env->cn_passwd) : 0);
		break;
	default:
		return (-1);
	}
	return (0);
}

/* The password database from a new config; the old one goes. */
static void
connector_configure(void)
{
	struct passwd_db	*db = NULL;

	if (json_is_true(json_object_get(env->cn_config, "passwordDB")) &&
	    (db = passwd_db_load(json_object_get(env->cn_config,
	    "passwords"))) == NULL)
		fatalx("%s: cannot load the password database", __func__);
	passwd_db_free(env->cn_passwd);
	env->cn_passwd = db;
}

static int
connector_dispatch_frontend(int fd, struct privsep_proc *p,
    struct imsg *imsg)
{
	struct privsep	*ps = p->p_ps;
	int		 n = imsg_get_pid(imsg) - 1;

	switch (imsg_get_type(imsg)) {
	case IMSG_CONN_PASSWORD:
	case IMSG_CONN_REFRESH:
	case IMSG_CONN_LOGIN:
	case IMSG_CONN_CALLBACK:
	case IMSG_CONN_EXCHANGE:
	case IMSG_CONN_LOGOUT:
	case IMSG_CONN_BACKCHANNEL:
		break;
	default:
		return (-1);
	}
	if (n < 0 || (unsigned int)n >= ps->ps_instances[PROC_FRONTEND])
		fatalx("%s: request from frontend instance %d", __func__, n);
	if (imsg_get_len(imsg) == 0 || imsg_get_len(imsg) > STORE_JSON_MAX) {
		connector_error(n, imsg_get_id(imsg), "invalid_request",
		    "Request too large.");
		goto done;
	}
	switch (imsg_get_type(imsg)) {
	case IMSG_CONN_PASSWORD:
		connector_enqueue(imsg, n);
		break;
	case IMSG_CONN_REFRESH:
		connector_refresh(imsg, n);
		break;
	default:
		connector_upstream(imsg, n);
		break;
	}
 done:
	/* The payload may hold a password; imsg_free() does not zero. */
	if (imsg->data != NULL)
		explicit_bzero(imsg->data, imsg_get_len(imsg));
	return (0);
}

static int
connector_dispatch_storage(int fd, struct privsep_proc *p,
    struct imsg *imsg)
{
	return (-1);
}

/* IMSG_CONN_RESULT to frontend n; o is consumed. */
void
connector_reply(int n, uint32_t peerid, json_t *o)
{
	char	*s;

	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(o);
	if (proc_compose_imsg(env->cn_ps, PROC_FRONTEND, n, IMSG_CONN_RESULT,
	    peerid, -1, s, strlen(s)) == -1)
		fatal("%s: compose", __func__);
	/* An identity may carry a sealed upstream token: wipe it. */
	freezero(s, strlen(s));
}

void
connector_error(int n, uint32_t peerid, const char *error,
    const char *desc)
{
	connector_reply(n, peerid, json_pack("{s:b, s:s, s:s}", "ok", 0,
	    "error", error, "error_description", desc));
}

/* A name fit for the log: cut, and nothing unprintable. */
static const char *
printable(const char *s, char *buf, size_t bufsz)
{
	size_t	i;

	if (s == NULL)
		return ("-");
	for (i = 0; s[i] != '\0' && i + 1 < bufsz; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ?
		    s[i] : '?';
	buf[i] = '\0';
	return (buf);
}

static void
connector_enqueue(struct imsg *imsg, int n)
{
	struct conn_req	*cr;
	uint64_t	 now = now_monotonic_ms();

	if (env->cn_queued >= PASSWD_QUEUE_MAX) {
		env->cn_busy_count++;
		/* One line a second at most: a flood must not flood. */
		if (now >= env->cn_busy_logged + 1000) {
			log_warnx("password checks: queue full, %" PRIu64
			    " login(s) refused busy", env->cn_busy_count);
			env->cn_busy_logged = now;
			env->cn_busy_count = 0;
		}
		connector_error(n, imsg_get_id(imsg), "server_error",
		    CONN_ERR_BUSY);
		return;
	}
	if ((cr = calloc(1, sizeof(*cr))) == NULL ||
	    (cr->cr_data = malloc(imsg_get_len(imsg))) == NULL)
		fatal("%s: calloc", __func__);
	cr->cr_instance = n;
	cr->cr_peerid = imsg_get_id(imsg);
	cr->cr_arrived = now;
	cr->cr_len = imsg_get_len(imsg);
	memcpy(cr->cr_data, imsg->data, cr->cr_len);
	TAILQ_INSERT_TAIL(&env->cn_queue, cr, cr_entry);
	env->cn_queued++;
	event_active(env->cn_ev, 0, 0);
}

/* One check per turn of the loop, so that the pipes are served. */
static void
connector_run(int fd, short ev, void *arg)
{
	struct conn_req	*cr;

	if ((cr = TAILQ_FIRST(&env->cn_queue)) == NULL)
		return;
	TAILQ_REMOVE(&env->cn_queue, cr, cr_entry);
	env->cn_queued--;
	if (now_monotonic_ms() > cr->cr_arrived + PASSWD_QUEUE_AGE_MS) {
		/* The frontend has given up on this one already. */
		connector_error(cr->cr_instance, cr->cr_peerid,
		    "server_error", CONN_ERR_BUSY);
		log_warnx("password check dropped after %d ms in the queue",
		    PASSWD_QUEUE_AGE_MS);
	} else
		connector_password(cr);
	freezero(cr->cr_data, cr->cr_len);
	free(cr);
	if (!TAILQ_EMPTY(&env->cn_queue))
		event_active(env->cn_ev, 0, 0);
}

static void
connector_password(struct conn_req *cr)
{
	json_t		*req, *pwj, *id = NULL, *o;
	const char	*cid, *user, *pw, *addr;
	char		 lu[CONN_LOG_NAME_MAX + 1];
	char		 la[PASSWD_ADDR_MAX + 1];
	size_t		 pwlen;
	uint64_t	 retry = 0;
	int		 n = cr->cr_instance, r;

	req = json_loadb(cr->cr_data, cr->cr_len, JSON_REJECT_DUPLICATES,
	    NULL);
	pwj = json_object_get(req, "password");
	cid = json_string_value(json_object_get(req, "connectorId"));
	user = json_string_value(json_object_get(req, "username"));
	pw = json_string_value(pwj);
	addr = json_string_value(json_object_get(req, "remoteAddr"));
	if (!json_is_object(req) || cid == NULL || user == NULL ||
	    pw == NULL) {
		connector_error(n, cr->cr_peerid, "invalid_request",
		    "Malformed password request.");
		goto done;
	}
	if (strcmp(cid, PASSWD_CONNECTOR_ID) != 0 || env->cn_passwd == NULL) {
		/* No upstream password connector (ldap, ...) exists yet. */
		connector_error(n, cr->cr_peerid, "invalid_request",
		    "Unsupported connector.");
		goto done;
	}
	pwlen = json_string_length(pwj);
	r = passwd_login(env->cn_passwd, env->cn_rl, user, pw, pwlen, addr,
	    now_monotonic_ms() / 1000, &id, &retry);
	printable(user, lu, sizeof(lu));
	printable(addr, la, sizeof(la));
	switch (r) {
	case PASSWD_OK:
		log_info("local login of \"%s\" from %s", lu, la);
		connector_reply(n, cr->cr_peerid, json_pack("{s:b, s:o}",
		    "ok", 1, "identity", id));
		id = NULL;
		break;
	case PASSWD_INVALID:
		log_info("local login failed for \"%s\" from %s", lu, la);
		connector_error(n, cr->cr_peerid, "access_denied",
		    PASSWD_ERR_INVALID);
		break;
	case PASSWD_LIMITED:
		log_info("local login refused for \"%s\" from %s: too many "
		    "failures, %" PRIu64 " s left", lu, la, retry);
		o = json_pack("{s:b, s:s, s:s, s:I}", "ok", 0,
		    "error", "access_denied",
		    "error_description", PASSWD_ERR_LIMITED,
		    "retryAfter", (json_int_t)retry);
		connector_reply(n, cr->cr_peerid, o);
		break;
	case PASSWD_BADHASH:
		/* passwd.c said why; Dex answers a server error too. */
		connector_error(n, cr->cr_peerid, "server_error",
		    PASSWD_ERR_LOGIN);
		break;
	default:
		connector_error(n, cr->cr_peerid, "server_error",
		    PASSWD_ERR_LOGIN);
		break;
	}
 done:
	/* jansson frees without zeroing: wipe the password first. */
	if (json_is_string(pwj))
		explicit_bzero((char *)(uintptr_t)json_string_value(pwj),
		    json_string_length(pwj));
	json_decref(id);
	json_decref(req);
}

/* Login, callback and token exchange: the upstream side's. */
static void
connector_upstream(struct imsg *imsg, int n)
{
	json_t		*req;
	uint32_t	 peerid = imsg_get_id(imsg);

	req = json_loadb(imsg->data, imsg_get_len(imsg),
	    JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(req)) {
		connector_error(n, peerid, "invalid_request",
		    "Malformed request.");
		json_decref(req);
		return;
	}
	switch (imsg_get_type(imsg)) {
	case IMSG_CONN_LOGIN:
		federation_login(req, n, peerid);
		break;
	case IMSG_CONN_CALLBACK:
		federation_callback(req, n, peerid);
		break;
	case IMSG_CONN_EXCHANGE:
		federation_exchange(req, n, peerid);
		break;
	case IMSG_CONN_LOGOUT:
		federation_logout(req, n, peerid);
		break;
	case IMSG_CONN_BACKCHANNEL:
		federation_backchannel(req, n, peerid);
		break;
	}
	json_decref(req);
}

/* An upstream connector of the config, by id. */
static int
connector_known(const char *cid)
{
	json_t	*c;
	size_t	 i;

	json_array_foreach(json_object_get(env->cn_config, "connectors"),
	    i, c)
		if (json_is_string(json_object_get(c, "id")) &&
		    strcmp(json_string_value(json_object_get(c, "id")),
		    cid) == 0)
			return (1);
	return (0);
}

/*
 * Dex's Refresh(): for the local connector, the user must still be
 * there with the same userId, and its claims are read again.  Dex
 * answers a failed connector refresh with a 500; the token endpoint
 * should say invalid_grant (dex.md §10), so that is what comes back.
 */
static void
connector_refresh(struct imsg *imsg, int n)
{
	json_t		*req, *old, *id = NULL;
	const char	*cid;
	char		 lu[CONN_LOG_NAME_MAX + 1];
	uint32_t	 peerid = imsg_get_id(imsg);

	req = json_loadb(imsg->data, imsg_get_len(imsg),
	    JSON_REJECT_DUPLICATES, NULL);
	cid = json_string_value(json_object_get(req, "connectorId"));
	old = json_object_get(req, "identity");
	if (!json_is_object(req) || cid == NULL || !json_is_object(old)) {
		connector_error(n, peerid, "invalid_request",
		    "Malformed refresh request.");
		goto done;
	}
	if (strcmp(cid, PASSWD_CONNECTOR_ID) == 0 && env->cn_passwd != NULL) {
		switch (passwd_refresh(env->cn_passwd, old, &id)) {
		case PASSWD_OK:
			connector_reply(n, peerid, json_pack("{s:b, s:o}",
			    "ok", 1, "identity", id));
			id = NULL;
			break;
		case PASSWD_NOTFOUND:
			log_info("refresh refused: local user \"%s\" is "
			    "gone", printable(json_string_value(
			    json_object_get(old, "email")), lu, sizeof(lu)));
			connector_error(n, peerid, "invalid_grant",
			    PASSWD_ERR_NOTFOUND);
			break;
		default:
			connector_error(n, peerid, "server_error",
			    PASSWD_ERR_LOGIN);
			break;
		}
	} else if (strcmp(cid, PASSWD_CONNECTOR_ID) != 0 &&
	    federation_has(cid)) {
		federation_refresh(req, n, peerid);
	} else if (strcmp(cid, PASSWD_CONNECTOR_ID) != 0 &&
	    connector_known(cid)) {
		/* Dex keeps the identity of a connector that cannot refresh. */
		connector_reply(n, peerid, json_pack("{s:b, s:O}", "ok", 1,
		    "identity", old));
	} else {
		log_info("refresh refused: connector \"%s\" is gone",
		    printable(cid, lu, sizeof(lu)));
		connector_error(n, peerid, "invalid_grant",
		    "Connector not found.");
	}
 done:
	json_decref(id);
	json_decref(req);
}
