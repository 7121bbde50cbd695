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
 * expiry garbage collection.  Record kinds and their requests come with
 * the flows that need them.
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

struct storage_env {
	struct privsep		*st_ps;
	struct db		*st_db;
	struct event		*st_gc_ev;
	int			 st_configured;
	int			 st_memory;
	uint64_t		 st_gc_interval;	/* seconds */
	size_t			 st_mapsize;
	char			*st_issuer;
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
	return (-1);
}

static int
storage_dispatch_connector(int fd, struct privsep_proc *p,
    struct imsg *imsg)
{
	return (-1);
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
	default:
		return (-1);
	}
	return (0);
}
