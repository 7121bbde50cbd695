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
 * process and its config; the upstream protocols come with them.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oidcd.h"

struct connector_env {
	struct privsep		*cn_ps;
	json_t			*cn_config;
	int			 cn_configured;
};

static struct connector_env	*env;

static int	 connector_dispatch_parent(int, struct privsep_proc *,
		    struct imsg *);
static int	 connector_dispatch_frontend(int, struct privsep_proc *,
		    struct imsg *);
static int	 connector_dispatch_storage(int, struct privsep_proc *,
		    struct imsg *);

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
	proc_run(ps, p, procs, sizeof(procs) / sizeof(procs[0]), NULL, NULL);
}

static int
connector_dispatch_parent(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep	*ps = p->p_ps;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_RESET:
		json_decref(env->cn_config);
		env->cn_config = NULL;
		break;
	case IMSG_CFG_GLOBAL:
		json_decref(env->cn_config);
		env->cn_config = config_getglobal(imsg);
		break;
	case IMSG_CFG_DONE:
		env->cn_configured = 1;
		proc_compose(ps, PROC_PARENT, IMSG_CFG_DONE, NULL, 0);
		break;
	case IMSG_CTL_START:
		log_debug("%zu upstream connector(s) configured",
		    json_array_size(json_object_get(env->cn_config,
		    "connectors")));
		break;
	default:
		return (-1);
	}
	return (0);
}

static int
connector_dispatch_frontend(int fd, struct privsep_proc *p,
    struct imsg *imsg)
{
	return (-1);
}

static int
connector_dispatch_storage(int fd, struct privsep_proc *p,
    struct imsg *imsg)
{
	return (-1);
}
