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
 * The control process (vmd's control.c shape): accepts oidcctl on the
 * control socket the parent bound, checks the peer's credentials on
 * every request, routes the request to the parent, the signer or
 * storage, and passes the replies back by connection id (peerid).
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "oidcd.h"

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 cc_entry;
	uint32_t		 cc_id;
	struct ucred		 cc_cred;
	struct imsgev		 cc_iev;
};
TAILQ_HEAD(ctl_conns, ctl_conn);

struct control_env {
	struct privsep		*ct_ps;
	struct ctl_conns	 ct_conns;
	int			 ct_nconns;
	uint32_t		 ct_nextid;
	int			 ct_fd;
	struct event		*ct_ev;
	struct event		*ct_pause;
	gid_t			 ct_show_gid;
	int			 ct_configured;
};

static struct control_env	*env;

static int	 control_dispatch_parent(int, struct privsep_proc *,
		    struct imsg *);
static int	 control_dispatch_peer(int, struct privsep_proc *,
		    struct imsg *);
static void	 control_accept(int, short, void *);
static void	 control_close(struct ctl_conn *);

static struct privsep_proc procs[] = {
	{ "parent",	PROC_PARENT,	control_dispatch_parent },
	{ "signer",	PROC_SIGNER,	control_dispatch_peer },
	{ "storage",	PROC_STORAGE,	control_dispatch_peer },
};

void
control(struct privsep *ps, struct privsep_proc *p)
{
	if ((env = calloc(1, sizeof(*env))) == NULL)
		fatal("%s: calloc", __func__);
	TAILQ_INIT(&env->ct_conns);
	env->ct_ps = ps;
	env->ct_fd = -1;
	proc_run(ps, p, procs, sizeof(procs) / sizeof(procs[0]), NULL, NULL);
}

static struct ctl_conn *
control_connbyid(uint32_t id)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &env->ct_conns, cc_entry)
		if (c->cc_id == id)
			return (c);
	return (NULL);
}

static void
control_pause_done(int fd, short event, void *arg)
{
	event_add(env->ct_ev, NULL);
}

static void
control_reply(struct ctl_conn *c, uint32_t type, const void *data,
    size_t len)
{
	imsg_compose_event(&c->cc_iev, type, 0, 0, -1, data, len);
}

static void
control_fail(struct ctl_conn *c, int error, const char *msg)
{
	struct ctl_fail	 cf;
	struct iovec	 iov[2];

	cf.cf_error = error;
	cf.cf_msglen = strlen(msg);
	iov[0].iov_base = &cf;
	iov[0].iov_len = sizeof(cf);
	iov[1].iov_base = (void *)(uintptr_t)msg;
	iov[1].iov_len = cf.cf_msglen;
	imsg_composev_event(&c->cc_iev, IMSG_CTL_FAIL, 0, 0, -1, iov, 2);
}

static int
control_may_show(struct ctl_conn *c)
{
	return (c->cc_cred.uid == 0 || c->cc_cred.gid == env->ct_show_gid);
}

/*
 * Storage treats a malformed request as a compromise and exits: make
 * sure a revocation is one JSON object with one string member.
 */
static int
control_json_ok(struct imsg *imsg)
{
	json_t		*o;
	const char	*k;
	json_t		*v;
	int		 ok;

	if ((o = json_loadb(imsg->data, imsg_get_len(imsg),
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return (0);
	ok = json_is_object(o) && json_object_size(o) == 1;
	json_object_foreach(o, k, v)
		if (!json_is_string(v) || (strcmp(k, "user") != 0 &&
		    strcmp(k, "refreshToken") != 0 && strcmp(k, "family") != 0))
			ok = 0;
	/* An access token: {"jti", "exp"}. */
	if (json_is_object(o) && json_object_size(o) == 2 &&
	    json_is_string(json_object_get(o, "jti")) &&
	    json_is_integer(json_object_get(o, "exp")))
		ok = 1;
	json_decref(o);
	return (ok);
}

/* Route one request from oidcctl. */
static void
control_request(struct ctl_conn *c, struct imsg *imsg)
{
	struct privsep		*ps = env->ct_ps;
	enum privsep_procid	 to;
	uint32_t		 type = imsg_get_type(imsg);
	int			 show = 0;

	switch (type) {
	case IMSG_CTL_SHOW_STATUS:
		to = PROC_PARENT;
		show = 1;
		break;
	case IMSG_CTL_KEY_SHOW:
		to = PROC_SIGNER;
		show = 1;
		break;
	case IMSG_CTL_SHOW_CLIENTS:
		to = PROC_PARENT;
		show = 1;
		break;
	case IMSG_CTL_SHOW_SESSIONS:
		to = PROC_STORAGE;
		show = 1;
		break;
	case IMSG_CTL_REVOKE:
		to = PROC_STORAGE;
		break;
	case IMSG_CTL_RELOAD:
	case IMSG_CTL_LOG_VERBOSE:
		to = PROC_PARENT;
		break;
	case IMSG_CTL_KEY_ROTATE:
	case IMSG_SIGN_JWT:
		to = PROC_SIGNER;
		break;
	case IMSG_CTL_GC:
		to = PROC_STORAGE;
		break;
	default:
		log_warnx("control: unknown request %u from uid %d, closing",
		    type, (int)c->cc_cred.uid);
		control_close(c);
		return;
	}
	if (show ? !control_may_show(c) : c->cc_cred.uid != 0) {
		log_warnx("control: denied request %u from uid %d", type,
		    (int)c->cc_cred.uid);
		control_fail(c, EPERM, "permission denied");
		return;
	}
	/* Checked here too: a short payload must not crash a peer. */
	if ((type == IMSG_CTL_LOG_VERBOSE && imsg_get_len(imsg) !=
	    sizeof(int32_t)) ||
	    (type == IMSG_SIGN_JWT && (imsg_get_len(imsg) <
	    sizeof(struct sign_req) || imsg_get_len(imsg) >
	    sizeof(struct sign_req) + SIGN_PAYLOAD_MAX)) ||
	    ((type == IMSG_CTL_SHOW_STATUS || type == IMSG_CTL_KEY_SHOW ||
	    type == IMSG_CTL_KEY_ROTATE || type == IMSG_CTL_GC ||
	    type == IMSG_CTL_SHOW_CLIENTS) && imsg_get_len(imsg) != 0) ||
	    (type == IMSG_CTL_SHOW_SESSIONS && imsg_get_len(imsg) > 1024) ||
	    (type == IMSG_CTL_REVOKE && (imsg_get_len(imsg) == 0 ||
	    imsg_get_len(imsg) > 2048 || !control_json_ok(imsg))) ||
	    (type == IMSG_CTL_RELOAD && imsg_get_len(imsg) > 4096)) {
		control_fail(c, EINVAL, "malformed request");
		return;
	}
	if (type == IMSG_SIGN_JWT) {
		struct sign_req sr;

		memcpy(&sr, imsg->data, sizeof(sr));
		if (sr.sr_len != imsg_get_len(imsg) - sizeof(sr) ||
		    sr.sr_len == 0) {
			control_fail(c, EINVAL, "malformed request");
			return;
		}
		log_info("control: token signing requested by uid %d",
		    (int)c->cc_cred.uid);
	}
	if (proc_compose_imsg(ps, to, 0, type, c->cc_id, -1, imsg->data,
	    imsg_get_len(imsg)) == -1)
		control_fail(c, EIO, "cannot reach the daemon");
}

static void
control_dispatch_client(int fd, short event, void *arg)
{
	struct ctl_conn	*c = arg;
	struct imsg	 imsg;
	ssize_t		 n;

	if (event & EV_READ) {
		if ((n = imsgbuf_read(&c->cc_iev.ibuf)) == -1 || n == 0) {
			control_close(c);
			return;
		}
	}
	if (event & EV_WRITE) {
		if (imsgbuf_write(&c->cc_iev.ibuf) == -1) {
			control_close(c);
			return;
		}
	}
	for (;;) {
		if ((n = imsg_get(&c->cc_iev.ibuf, &imsg)) == -1) {
			control_close(c);
			return;
		}
		if (n == 0)
			break;
		control_request(c, &imsg);
		imsg_free(&imsg);
		/* control_request may have closed the connection. */
		if (control_connbyid(c->cc_id) == NULL)
			return;
	}
	imsg_event_add(&c->cc_iev);
}

static void
control_accept(int fd, short event, void *arg)
{
	struct ctl_conn	*c;
	struct timeval	 tv;
	socklen_t	 len;
	int		 s;

	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* Or libevent will call us again at once. */
			event_del(env->ct_ev);
			timerclear(&tv);
			tv.tv_sec = 1;
			evtimer_add(env->ct_pause, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("%s: accept4", __func__);
		return;
	}
	if (env->ct_nconns >= CTL_MAX_CONNS) {
		log_warnx("control: too many connections");
		close(s);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s: calloc", __func__);
		close(s);
		return;
	}
	len = sizeof(c->cc_cred);
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &c->cc_cred, &len) == -1) {
		log_warn("%s: SO_PEERCRED", __func__);
		close(s);
		free(c);
		return;
	}
	if (imsgbuf_init(&c->cc_iev.ibuf, s) == -1 ||
	    imsgbuf_set_maxsize(&c->cc_iev.ibuf, CTL_MAX_IMSGSIZE) == -1) {
		close(s);
		free(c);
		return;
	}
	/* Ids are never 0 and are not reused while the daemon runs. */
	if (++env->ct_nextid == 0)
		env->ct_nextid = 1;
	c->cc_id = env->ct_nextid;
	c->cc_iev.handler = control_dispatch_client;
	c->cc_iev.data = c;
	c->cc_iev.events = EV_READ;
	if ((c->cc_iev.ev = event_new(env->ct_ps->ps_evbase, s, EV_READ,
	    control_dispatch_client, c)) == NULL)
		fatal("%s: event_new", __func__);
	event_add(c->cc_iev.ev, NULL);
	TAILQ_INSERT_TAIL(&env->ct_conns, c, cc_entry);
	env->ct_nconns++;
}

static void
control_close(struct ctl_conn *c)
{
	TAILQ_REMOVE(&env->ct_conns, c, cc_entry);
	env->ct_nconns--;
	event_free(c->cc_iev.ev);
	close(c->cc_iev.ibuf.fd);
	imsgbuf_clear(&c->cc_iev.ibuf);
	free(c);
	/* A pause for EMFILE may be over now that a descriptor is free. */
	if (env->ct_pause != NULL && evtimer_pending(env->ct_pause, NULL)) {
		evtimer_del(env->ct_pause);
		event_add(env->ct_ev, NULL);
	}
}

static int
control_dispatch_parent(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct privsep		*ps = p->p_ps;
	struct cfg_listen	 cl;
	json_t			*cfg;
	json_int_t		 gid;
	int			 s;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_RESET:
		break;
	case IMSG_CFG_GLOBAL:
		cfg = config_getglobal(imsg);
		if (json_unpack(cfg, "{s:I}", "showGroup", &gid) == -1)
			fatalx("%s: bad config", __func__);
		env->ct_show_gid = gid;
		json_decref(cfg);
		break;
	case IMSG_CFG_LISTEN:
		if (imsg_get_data(imsg, &cl, sizeof(cl)) == -1 ||
		    (s = imsg_get_fd(imsg)) == -1 || env->ct_fd != -1)
			fatalx("%s: bad IMSG_CFG_LISTEN", __func__);
		env->ct_fd = s;
		break;
	case IMSG_CFG_DONE:
		env->ct_configured = 1;
		proc_compose(ps, PROC_PARENT, IMSG_CFG_DONE, NULL, 0);
		break;
	case IMSG_CTL_START:
		if (env->ct_ev != NULL)
			break;
		if (env->ct_fd == -1)
			fatalx("%s: no control socket", __func__);
		if ((env->ct_ev = event_new(ps->ps_evbase, env->ct_fd,
		    EV_READ | EV_PERSIST, control_accept, NULL)) == NULL ||
		    (env->ct_pause = evtimer_new(ps->ps_evbase,
		    control_pause_done, NULL)) == NULL)
			fatal("%s: event_new", __func__);
		event_add(env->ct_ev, NULL);
		break;
	case IMSG_CTL_STATUS:
	case IMSG_CTL_CLIENT:
	case IMSG_CTL_END:
	case IMSG_CTL_OK:
	case IMSG_CTL_FAIL:
		return (control_dispatch_peer(fd, p, imsg));
	default:
		return (-1);
	}
	return (0);
}

/* A reply for one of our clients: pass it on if it is still there. */
static int
control_dispatch_peer(int fd, struct privsep_proc *p, struct imsg *imsg)
{
	struct ctl_conn	*c;

	switch (imsg_get_type(imsg)) {
	case IMSG_CTL_STATUS:
	case IMSG_CTL_KEY:
	case IMSG_CTL_CLIENT:
	case IMSG_CTL_SESSION:
	case IMSG_CTL_END:
	case IMSG_CTL_OK:
	case IMSG_CTL_FAIL:
	case IMSG_SIGN_RESULT:
	case IMSG_SIGN_FAIL:
		break;
	default:
		return (-1);
	}
	if (imsg_get_len(imsg) > CTL_MAX_IMSGSIZE - IMSG_HEADER_SIZE)
		fatalx("%s: oversized reply from %s", __func__, p->p_title);
	if ((c = control_connbyid(imsg_get_id(imsg))) == NULL)
		return (0);
	control_reply(c, imsg_get_type(imsg), imsg->data, imsg_get_len(imsg));
	return (0);
}
