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
 * The storage process: the sole opener and writer of the main LMDB env
 * (DESIGN.md §5, option B).  Everyone else asks over imsg.  It checks
 * the schema version and the issuer the data belongs to, and runs the
 * expiry garbage collection.  The records and the rules of each request
 * are in store.c; this file is the glue: it checks each request, queues
 * it, and answers the whole queue after one commit (group commit,
 * DESIGN.md §0.9).
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oidcd.h"
#include "db.h"
#include "store.h"

/* A request waiting for the next batch. */
struct storage_req {
	TAILQ_ENTRY(storage_req) sr_entry;
	enum privsep_procid	 sr_proc;
	int			 sr_instance;
	uint32_t		 sr_peerid;
	int			 sr_type;
	json_t			*sr_req;
};
TAILQ_HEAD(storage_queue, storage_req);

struct storage_env {
	struct privsep		*st_ps;
	struct db		*st_db;
	struct event		*st_gc_ev;
	int			 st_configured;
	int			 st_memory;
	uint64_t		 st_gc_interval;	/* seconds */
	size_t			 st_mapsize;
	char			*st_issuer;
	struct store_policy	 st_policy;
	struct storage_queue	 st_queue;
	struct event		*st_batch_ev;
	int			 st_batch_pending;
	uint64_t		 st_batches;	/* commits of batches */
	uint64_t		 st_requests;	/* requests answered */
};

static struct storage_env	*env;

static int	 storage_dispatch_parent(int, struct privsep_proc *,
		    struct imsg *);
static int	 storage_dispatch_frontend(int, struct privsep_proc *,
		    struct imsg *);
static int	 storage_dispatch_connector(int, struct privsep_proc *,
		    struct imsg *);
static int	 storage_dispatch_control(int, struct privsep_proc *,
		    struct imsg *);
static void	 storage_run(struct privsep *, struct privsep_proc *, void *);
static int	 storage_request(struct privsep_proc *, struct imsg *);
static void	 storage_batch(int, short, void *);

static struct privsep_proc procs[] = {
	{ "parent",	PROC_PARENT,	storage_dispatch_parent },
	{ "frontend",	PROC_FRONTEND,	storage_dispatch_frontend },
	{ "connector",	PROC_CONNECTOR,	storage_dispatch_connector },
	{ "control",	PROC_CONTROL,	storage_dispatch_control },
};

void
storage(struct privsep *ps, struct privsep_proc *p)
{
	if ((env = calloc(1, sizeof(*env))) == NULL)
		fatal("%s: calloc", __func__);
	env->st_ps = ps;
	TAILQ_INIT(&env->st_queue);
	proc_run(ps, p, procs, sizeof(procs) / sizeof(procs[0]),
	    storage_run, NULL);
}

static void
storage_run(struct privsep *ps, struct privsep_proc *p, void *arg)
{
	struct db_config	 dc;

	/*
	 * The env is opened here, inside the chroot and before the
	 * sandbox, with the default map size; LMDB only reserves address
	 * space for it.
	 */
	memset(&dc, 0, sizeof(dc));
	dc.dc_kinds = DB_KINDS_STORAGE;
	if ((env->st_db = db_open(".", &dc)) == NULL)
		fatalx("%s: cannot open the database", __func__);

	/*
	 * Requests are answered from an event made active by the first
	 * request of a loop turn: it runs after every other callback
	 * that was ready in that turn, so it sees all their requests.
	 */
	if ((env->st_batch_ev = event_new(ps->ps_evbase, -1, 0,
	    storage_batch, NULL)) == NULL)
		fatal("%s: event_new", __func__);
}

/* One GC pass: delete what has expired, a bounded number per txn. */
static size_t
storage_gc(void)
{
	size_t	 deleted = 0;

	if (db_gc(env->st_db, now_realtime(), DB_GC_PER_TXN_DEFAULT,
	    &deleted) != DB_OK)
		log_warnx("garbage collection failed");
	else if (deleted > 0)
		log_info("garbage collection: %zu expired records deleted",
		    deleted);
	return (deleted);
}

static void
storage_gc_timer(int fd, short event, void *arg)
{
	struct timeval	 tv;

	(void)storage_gc();
	timerclear(&tv);
	tv.tv_sec = env->st_gc_interval;
	evtimer_add(env->st_gc_ev, &tv);
}

static void
storage_configure(struct imsg *imsg)
{
	json_t		*cfg;
	const char	*issuer;
	json_int_t	 mapsize, gc;
	int		 memory;
	char		 err[512];

	cfg = config_getglobal(imsg);
	if (json_unpack(cfg, "{s:s, s:I, s:I, s:b}", "issuer", &issuer,
	    "mapSize", &mapsize, "gcInterval", &gc, "memory", &memory) ==
	    -1 || gc <= 0 || mapsize <= 0)
		fatalx("%s: bad config", __func__);
	if (env->st_issuer == NULL) {
		/* The data belongs to one issuer; another is refused. */
		if (db_meta_check(env->st_db, issuer, err, sizeof(err)) !=
		    DB_OK)
			fatalx("%s", err);
		if ((env->st_issuer = strdup(issuer)) == NULL)
			fatal("%s: strdup", __func__);
	}
	if ((size_t)mapsize != env->st_mapsize &&
	    db_set_mapsize(env->st_db, mapsize) != DB_OK)
		fatalx("%s: cannot set the map size to %lld bytes", __func__,
		    (long long)mapsize);
	env->st_gc_interval = gc;
	env->st_mapsize = mapsize;
	env->st_memory = memory;
	store_policy_free(&env->st_policy);
	if (store_policy_parse(cfg, &env->st_policy) == -1)
		fatalx("%s: bad refresh token policy", __func__);
	json_decref(cfg);
}

static int
storage_dispatch_parent(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep	*ps = p->p_ps;
	struct timeval	 tv;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_RESET:
		break;
	case IMSG_CFG_GLOBAL:
		storage_configure(imsg);
		break;
	case IMSG_CFG_DONE:
		env->st_configured = 1;
		proc_compose(ps, PROC_PARENT, IMSG_CFG_DONE, NULL, 0);
		break;
	case IMSG_CTL_START:
		if (env->st_gc_ev == NULL) {
			if ((env->st_gc_ev = evtimer_new(ps->ps_evbase,
			    storage_gc_timer, NULL)) == NULL)
				fatal("%s: evtimer_new", __func__);
			/* Catch up with what expired while we were down. */
			(void)storage_gc();
		}
		evtimer_del(env->st_gc_ev);
		timerclear(&tv);
		tv.tv_sec = env->st_gc_interval;
		evtimer_add(env->st_gc_ev, &tv);
		break;
	default:
		return (-1);
	}
	return (0);
}

static int
storage_dispatch_frontend(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	return (storage_request(p, imsg));
}

static int
storage_dispatch_connector(int fd, struct privsep_proc *p,
    struct imsg *imsg)
{
	return (storage_request(p, imsg));
}

/*
 * Queue one storage request.  Its peer made it, so a malformed one is a
 * bug or a compromise there: fatal (DESIGN.md §1).  A well-formed one
 * with bad client data is answered with an error by store.c.
 */
static int
storage_request(struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep		*ps = p->p_ps;
	struct storage_req	*sr;
	json_error_t		 jerr;
	json_t			*req;
	size_t			 len = imsg_get_len(imsg);
	pid_t			 pid = imsg_get_pid(imsg);
	int			 type = imsg_get_type(imsg);

	switch (type) {
	case IMSG_STORE_AUTHREQ_PUT:
	case IMSG_STORE_AUTHREQ_GET:
	case IMSG_STORE_AUTHREQ_LOGIN:
	case IMSG_STORE_CODE_ISSUE:
	case IMSG_STORE_CODE_REDEEM:
	case IMSG_STORE_REFRESH_ISSUE:
	case IMSG_STORE_REFRESH_ROTATE:
	case IMSG_STORE_INTROSPECT:
	case IMSG_STORE_ACCESS_REVOKE:
	case IMSG_STORE_ACCESS_CHECK:
	case IMSG_STORE_REFRESH_REVOKE:
	case IMSG_STORE_DEVICE_CREATE:
	case IMSG_STORE_DEVICE_GET:
	case IMSG_STORE_DEVICE_COMPLETE:
	case IMSG_STORE_DEVICE_DENY:
	case IMSG_STORE_DEVICE_POLL:
	case IMSG_STORE_SESSION_CREATE:
	case IMSG_STORE_SESSION_LOGIN:
	case IMSG_STORE_SESSION_GET:
	case IMSG_STORE_SESSION_END:
		break;
	default:
		return (-1);
	}
	if (len == 0 || len > STORE_JSON_MAX)
		fatalx("%s: %s request of %zu bytes", __func__, p->p_title,
		    len);
	if (pid < 1 || (unsigned int)pid > ps->ps_instances[p->p_id])
		fatalx("%s: %s request from instance %d", __func__,
		    p->p_title, (int)pid - 1);
	req = json_loadb(imsg->data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL || store_request_check(type, req) == -1)
		fatalx("%s: malformed request %d from %s[%d]", __func__,
		    type, p->p_title, (int)pid - 1);

	if ((sr = calloc(1, sizeof(*sr))) == NULL)
		fatal("%s: calloc", __func__);
	sr->sr_proc = p->p_id;
	sr->sr_instance = pid - 1;
	sr->sr_peerid = imsg_get_id(imsg);
	sr->sr_type = type;
	sr->sr_req = req;
	TAILQ_INSERT_TAIL(&env->st_queue, sr, sr_entry);
	if (!env->st_batch_pending) {
		env->st_batch_pending = 1;
		event_active(env->st_batch_ev, EV_TIMEOUT, 0);
	}
	return (0);
}

static void
storage_reply(struct storage_req *sr, json_t *reply)
{
	char	*s;
	size_t	 len;

	if ((s = json_dumps(reply, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	len = strlen(s);
	if (proc_compose_imsg(env->st_ps, sr->sr_proc, sr->sr_instance,
	    IMSG_STORE_RESULT, sr->sr_peerid, -1, s, len) == -1)
		fatal("%s: compose", __func__);
	/* Replies carry codes and refresh tokens. */
	freezero(s, len);
}

/*
 * Run the queue: at most STORE_BATCH_MAX requests per write txn, each in
 * a child txn, one commit with its sync, then every reply.  The replies
 * wait for the sync, so a client never holds a token that a crash
 * could forget.
 */
static void
storage_batch(int fd, short event, void *arg)
{
	struct storage_req	*srs[STORE_BATCH_MAX];
	struct store_op		 ops[STORE_BATCH_MAX];
	struct storage_req	*sr;
	size_t			 i, n;
	int			 rc;

	env->st_batch_pending = 0;
	while (!TAILQ_EMPTY(&env->st_queue)) {
		n = 0;
		while (n < STORE_BATCH_MAX &&
		    (sr = TAILQ_FIRST(&env->st_queue)) != NULL) {
			TAILQ_REMOVE(&env->st_queue, sr, sr_entry);
			srs[n] = sr;
			ops[n].so_type = sr->sr_type;
			ops[n].so_req = sr->sr_req;
			n++;
		}
		rc = store_batch(env->st_db, &env->st_policy,
		    now_realtime(), ops, n);
		if (rc == DB_EFULL)
			log_warnx("database full: %zu requests failed; "
			    "raise storage.config mapSize", n);
		env->st_batches++;
		for (i = 0; i < n; i++) {
			storage_reply(srs[i], ops[i].so_reply);
			json_decref(ops[i].so_reply);
			json_decref(srs[i]->sr_req);
			free(srs[i]);
		}
		env->st_requests += n;
	}
}

struct storage_sessions {
	struct privsep	*ss_ps;
	uint32_t	 ss_peerid;
};

static int
storage_session_cb(json_t *o, void *arg)
{
	struct storage_sessions	*ss = arg;
	char			*s;

	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	if (proc_compose_imsg(ss->ss_ps, PROC_CONTROL, 0, IMSG_CTL_SESSION,
	    ss->ss_peerid, -1, s, strlen(s)) == -1)
		fatal("%s: compose", __func__);
	free(s);
	return (0);
}

static void
storage_ctl_fail(struct privsep *ps, uint32_t peerid, int error,
    const char *msg)
{
	struct ctl_fail	 cf;
	struct iovec	 iov[2];

	cf.cf_error = error;
	cf.cf_msglen = strlen(msg);
	iov[0].iov_base = &cf;
	iov[0].iov_len = sizeof(cf);
	iov[1].iov_base = (void *)(uintptr_t)msg;
	iov[1].iov_len = cf.cf_msglen;
	proc_composev_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_FAIL, peerid, -1,
	    iov, 2);
}

/* oidcctl show sessions [user]: one IMSG_CTL_SESSION per family. */
static void
storage_show_sessions(struct privsep *ps, struct imsg *imsg)
{
	struct storage_sessions	 ss;
	struct db_txn		*t;
	char			*user;

	if (imsg_get_len(imsg) > STORE_CTL_USER_MAX ||
	    imsg_get_string(imsg, 0, &user) == -1)
		fatalx("%s: bad request", __func__);
	ss.ss_ps = ps;
	ss.ss_peerid = imsg_get_id(imsg);
	if ((t = db_txn_begin(env->st_db, 0)) == NULL) {
		storage_ctl_fail(ps, ss.ss_peerid, EIO, "database error");
		free(user);
		return;
	}
	if (store_sessions(t, now_realtime(), user, storage_session_cb,
	    &ss) != DB_OK) {
		db_txn_abort(t);
		storage_ctl_fail(ps, ss.ss_peerid, EIO, "database error");
		free(user);
		return;
	}
	db_txn_abort(t);
	free(user);
	proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_END, ss.ss_peerid,
	    -1, NULL, 0);
}

/* oidcctl revoke: a write of its own, committed before the answer. */
static void
storage_revoke(struct privsep *ps, struct imsg *imsg)
{
	struct db_txn	*t;
	json_error_t	 jerr;
	json_t		*req;
	const char	*errstr;
	char		 msg[64];
	size_t		 len = imsg_get_len(imsg), n;
	uint32_t	 peerid = imsg_get_id(imsg);
	int		 rc, access;

	if (len == 0 || len > CTL_MAX_IMSGSIZE ||
	    (req = json_loadb(imsg->data, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL || !json_is_object(req))
		fatalx("%s: malformed request", __func__);
	if ((t = db_txn_begin(env->st_db, 1)) == NULL) {
		json_decref(req);
		storage_ctl_fail(ps, peerid, EIO, "database error");
		return;
	}
	access = json_object_get(req, "jti") != NULL;
	rc = store_revoke(t, now_realtime(), req, &n, &errstr);
	json_decref(req);
	if (rc == DB_OK)
		rc = db_txn_commit(t);
	else
		db_txn_abort(t);
	if (rc == DB_EINVAL || rc == DB_NOTFOUND) {
		storage_ctl_fail(ps, peerid, rc == DB_EINVAL ? EINVAL : ENOENT,
		    errstr != NULL ? errstr : "no such session");
		return;
	}
	if (rc != DB_OK) {
		storage_ctl_fail(ps, peerid, EIO, db_strerror(rc));
		return;
	}
	if (access)
		(void)strlcpy(msg, "access token revoked", sizeof(msg));
	else
		(void)snprintf(msg, sizeof(msg), "%zu session%s revoked", n,
		    n == 1 ? "" : "s");
	proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_OK, peerid, -1, msg,
	    strlen(msg));
}

static int
storage_dispatch_control(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep	*ps = p->p_ps;
	char		 msg[128];
	size_t		 n;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_GC:
		n = storage_gc();
		(void)snprintf(msg, sizeof(msg), "%zu expired records deleted",
		    n);
		proc_compose_imsg(ps, PROC_CONTROL, 0, IMSG_CTL_OK,
		    imsg_get_id(imsg), -1, msg, strlen(msg));
		break;
	case IMSG_CTL_SHOW_SESSIONS:
		storage_show_sessions(ps, imsg);
		break;
	case IMSG_CTL_REVOKE:
		storage_revoke(ps, imsg);
		break;
	default:
		return (-1);
	}
	return (0);
}
