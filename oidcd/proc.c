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
 * The privsep engine, in the shape of httpd's proc.c: the parent
 * fork+execs itself once per child instance with -P <role> -I <n>, so
 * every child starts from a fresh address space; then it hands every
 * pair of children that talk to each other their own socketpair
 * (IMSG_CTL_PROCFD).  Each child drops privileges and enters its
 * sandbox before it reads its first message.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oidcd.h"
#include "sandbox.h"

/* Which children get a pipe to which (DESIGN.md §1). */
static const struct {
	enum privsep_procid	a;
	enum privsep_procid	b;
} proc_peers[] = {
	{ PROC_FRONTEND,	PROC_CONNECTOR },
	{ PROC_FRONTEND,	PROC_SIGNER },
	{ PROC_FRONTEND,	PROC_STORAGE },
	{ PROC_CONNECTOR,	PROC_STORAGE },
	{ PROC_CONTROL,		PROC_SIGNER },
	{ PROC_CONTROL,		PROC_STORAGE },
};

static const char *proc_titles[PROC_MAX] = {
	"parent", "frontend", "connector", "signer", "storage", "control"
};

static struct privsep_proc	*proc_table;	/* peers of this process */
static unsigned int		 proc_ntable;

static void	 proc_flush(int, short, void *);
static void	 proc_lost(struct privsep *, struct imsgev *);
static void	 imsg_event_arm(struct imsgev *);
static void	 proc_setup_iev(struct privsep *, enum privsep_procid,
		    unsigned int, int);

const char *
proc_title(enum privsep_procid id)
{
	if (id < 0 || id >= PROC_MAX)
		return ("unknown");
	return (proc_titles[id]);
}

enum privsep_procid
proc_getid(struct privsep_proc *procs, unsigned int nproc,
    const char *title)
{
	int	 i;

	(void)procs;
	(void)nproc;
	for (i = 0; i < PROC_MAX; i++)
		if (strcmp(title, proc_titles[i]) == 0)
			return (i);
	return (PROC_MAX);
}

static int
proc_alloc_ievs(struct privsep *ps, enum privsep_procid id)
{
	unsigned int	 n = ps->ps_instances[id], i;

	if (ps->ps_ievs[id] != NULL)
		return (0);
	if ((ps->ps_ievs[id] = calloc(n, sizeof(struct imsgev))) == NULL)
		return (-1);
	for (i = 0; i < n; i++)
		ps->ps_ievs[id][i].ibuf.fd = -1;
	return (0);
}

/*
 * Parent: start every child.  argv is the child command line up to
 * the role options, which are appended here.
 */
void
proc_init(struct privsep *ps, struct privsep_proc *procs, unsigned int nproc,
    int argc, char **argv, enum privsep_procid self)
{
	static char	*env[4];
	char		*nargv[64], num[16], inst[16];
	char		 envdebug[64];
	unsigned int	 i, n;
	int		 j, fds[2], nargc;
	pid_t		 pid;
	const char	*dbg;

	proc_table = procs;
	proc_ntable = nproc;
	ps->ps_id = self;

	/*
	 * Children get a clean environment: secretEnv and friends are
	 * the parent's business only.
	 */
	j = 0;
	if ((dbg = getenv("OIDCD_SECCOMP_DEBUG")) != NULL) {
		(void)snprintf(envdebug, sizeof(envdebug),
		    "OIDCD_SECCOMP_DEBUG=%s", dbg);
		env[j++] = envdebug;
	}
	env[j++] = "PATH=/usr/bin:/bin";
	env[j] = NULL;

	for (i = 0; i < nproc; i++) {
		enum privsep_procid id = procs[i].p_id;

		procs[i].p_ps = ps;
		if (proc_alloc_ievs(ps, id) == -1)
			fatal("%s: calloc", __func__);
		if ((ps->ps_pids[id] = calloc(ps->ps_instances[id],
		    sizeof(pid_t))) == NULL)
			fatal("%s: calloc", __func__);
		for (n = 0; n < ps->ps_instances[id]; n++) {
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
			    0, fds) == -1)
				fatal("%s: socketpair", __func__);

			nargc = 0;
			for (j = 0; j < argc && nargc < 40; j++)
				nargv[nargc++] = argv[j];
			nargv[nargc++] = "-P";
			nargv[nargc++] = (char *)proc_titles[id];
			(void)snprintf(inst, sizeof(inst), "%u", n);
			nargv[nargc++] = "-I";
			nargv[nargc++] = inst;
			(void)snprintf(num, sizeof(num), "%u",
			    ps->ps_instances[PROC_FRONTEND]);
			nargv[nargc++] = "-N";
			nargv[nargc++] = num;
			if (procs[i].p_chroot != NULL) {
				nargv[nargc++] = "-R";
				nargv[nargc++] = (char *)procs[i].p_chroot;
			}
			if (procs[i].p_user != NULL) {
				nargv[nargc++] = "-U";
				nargv[nargc++] = (char *)procs[i].p_user;
			}
			nargv[nargc] = NULL;

			switch (pid = fork()) {
			case -1:
				fatal("%s: fork", __func__);
			case 0:
				/*
				 * Our own process group: ^C at a terminal
				 * or a kill of the group reaches the parent
				 * alone, which stops the children in order.
				 */
				(void)setpgid(0, 0);
				if (fds[1] == PROC_PARENT_SOCK_FILENO) {
					if (fcntl(fds[1], F_SETFD, 0) == -1)
						fatal("%s: fcntl", __func__);
				} else if (dup2(fds[1],
				    PROC_PARENT_SOCK_FILENO) == -1)
					fatal("%s: dup2", __func__);
				closefrom(PROC_PARENT_SOCK_FILENO + 1);
				execve(ps->ps_argv0, nargv, env);
				fatal("%s: execve %s", __func__,
				    ps->ps_argv0);
			default:
				break;
			}
			close(fds[1]);
			ps->ps_pids[id][n] = pid;
			proc_setup_iev(ps, id, n, fds[0]);
		}
	}
}

static void
proc_setup_iev(struct privsep *ps, enum privsep_procid id, unsigned int n,
    int fd)
{
	struct imsgev	*iev = &ps->ps_ievs[id][n];
	unsigned int	 i;
	int		 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal("%s: fcntl", __func__);
	if (imsgbuf_init(&iev->ibuf, fd) == -1)
		fatal("%s: imsgbuf_init", __func__);
	if (imsgbuf_set_maxsize(&iev->ibuf, PROC_MAX_IMSGSIZE) == -1)
		fatal("%s: imsgbuf_set_maxsize", __func__);
	/* Descriptors only travel from the parent down. */
	if (id == PROC_PARENT || ps->ps_id == PROC_PARENT)
		imsgbuf_allow_fdpass(&iev->ibuf);
	iev->proc = NULL;
	for (i = 0; i < proc_ntable; i++)
		if (proc_table[i].p_id == id)
			iev->proc = &proc_table[i];
	if (iev->proc == NULL)
		fatalx("%s: %s has no dispatcher for %s", __func__,
		    proc_title(ps->ps_id), proc_title(id));
	iev->proc->p_ps = ps;
	iev->data = iev;
	iev->handler = proc_dispatch;
	iev->events = EV_READ | EV_PERSIST;
	if ((iev->ev = event_new(ps->ps_evbase, fd, iev->events,
	    iev->handler, iev)) == NULL ||
	    (iev->ev_flush = event_new(ps->ps_evbase, -1, 0, proc_flush,
	    iev)) == NULL)
		fatal("%s: event_new", __func__);
	iev->flush_pending = 0;
	if (event_add(iev->ev, NULL) == -1)
		fatal("%s: event_add", __func__);
}

/* Parent: give every pair of peers a socketpair of its own. */
void
proc_connect(struct privsep *ps)
{
	struct privsep_fd	 pf;
	unsigned int		 p, i, j;
	int			 fds[2];
	enum privsep_procid	 a, b;

	for (p = 0; p < sizeof(proc_peers) / sizeof(proc_peers[0]); p++) {
		a = proc_peers[p].a;
		b = proc_peers[p].b;
		for (i = 0; i < ps->ps_instances[a]; i++) {
			for (j = 0; j < ps->ps_instances[b]; j++) {
				if (socketpair(AF_UNIX, SOCK_STREAM |
				    SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) ==
				    -1)
					fatal("%s: socketpair", __func__);
				pf.pf_procid = b;
				pf.pf_instance = j;
				if (proc_compose_imsg(ps, a, i,
				    IMSG_CTL_PROCFD, 0, fds[0], &pf,
				    sizeof(pf)) == -1)
					fatal("%s: compose", __func__);
				pf.pf_procid = a;
				pf.pf_instance = i;
				if (proc_compose_imsg(ps, b, j,
				    IMSG_CTL_PROCFD, 0, fds[1], &pf,
				    sizeof(pf)) == -1)
					fatal("%s: compose", __func__);
				/*
				 * Flush now so descriptors do not pile
				 * up in the parent.
				 */
				if (proc_flush_imsg(ps, a, i) == -1 ||
				    proc_flush_imsg(ps, b, j) == -1)
					fatal("%s: flush", __func__);
			}
		}
	}
}

/* Parent: stop every child and wait for it. */
void
proc_kill(struct privsep *ps)
{
	unsigned int	 n;
	int		 id, status;
	pid_t		 pid;

	/* Every pipe first, so that no child takes a peer's exit for a crash. */
	for (id = 0; id < PROC_MAX; id++) {
		if (ps->ps_pids[id] == NULL || ps->ps_ievs[id] == NULL)
			continue;
		for (n = 0; n < ps->ps_instances[id]; n++) {
			if (ps->ps_ievs[id][n].ibuf.fd != -1) {
				close(ps->ps_ievs[id][n].ibuf.fd);
				ps->ps_ievs[id][n].ibuf.fd = -1;
			}
		}
	}
	for (id = 0; id < PROC_MAX; id++) {
		if (ps->ps_pids[id] == NULL)
			continue;
		for (n = 0; n < ps->ps_instances[id]; n++)
			if (ps->ps_pids[id][n] > 0)
				(void)kill(ps->ps_pids[id][n], SIGTERM);
	}
	for (id = 0; id < PROC_MAX; id++) {
		if (ps->ps_pids[id] == NULL)
			continue;
		for (n = 0; n < ps->ps_instances[id]; n++) {
			if ((pid = ps->ps_pids[id][n]) <= 0)
				continue;
			while (waitpid(pid, &status, 0) == -1 &&
			    errno == EINTR)
				;
			ps->ps_pids[id][n] = 0;
			if (WIFSIGNALED(status) &&
			    WTERMSIG(status) != SIGTERM)
				log_warnx("%s[%u] pid %d killed by signal "
				    "%d", proc_titles[id], n, pid,
				    WTERMSIG(status));
		}
	}
}

static void
proc_child_sig(int sig, short event, void *arg)
{
	struct privsep	*ps = arg;

	switch (sig) {
	case SIGINT:
	case SIGTERM:
		event_base_loopexit(ps->ps_evbase, NULL);
		break;
	default:
		break;
	}
}

static enum sandbox_role
proc_sandbox_role(enum privsep_procid id)
{
	switch (id) {
	case PROC_FRONTEND:
		return (SANDBOX_FRONTEND);
	case PROC_CONNECTOR:
		return (SANDBOX_CONNECTOR);
	case PROC_SIGNER:
		return (SANDBOX_SIGNER);
	case PROC_STORAGE:
		return (SANDBOX_STORAGE);
	case PROC_CONTROL:
	default:
		return (SANDBOX_CONTROL);
	}
}

/*
 * Child: drop privileges, set up the event loop and the parent pipe,
 * let the role initialise (open its database...), enter the sandbox,
 * then serve until the parent goes away or says stop.
 */
void
proc_run(struct privsep *ps, struct privsep_proc *p,
    struct privsep_proc *procs, unsigned int nproc,
    void (*run)(struct privsep *, struct privsep_proc *, void *), void *arg)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE,
	    SIGUSR1, SIGCHLD };
	struct sandbox_opts	 sopts;
	unsigned int		 i;
	int			 r;

	proc_table = procs;
	proc_ntable = nproc;
	log_procinit(p->p_title);

	/* Signals the event loop does not own are ignored. */
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);

	/*
	 * Without root there is no chroot: work from the role's
	 * directory so that "." means the same in both cases.
	 */
	if (geteuid() != 0 && ps->ps_root != NULL && chdir(ps->ps_root) == -1)
		fatal("%s: chdir %s", __func__, ps->ps_root);
	r = sandbox_privdrop(proc_sandbox_role(ps->ps_id), ps->ps_root,
	    ps->ps_user, 0);
	if (r == -1)
		fatalx("%s: cannot drop privileges", __func__);
	if (r & SANDBOX_NOTROOT)
		ps->ps_noroot = 1;
	if (r & SANDBOX_NONS)
		log_debug("%s: no private namespaces", p->p_title);

	if ((ps->ps_evbase = event_base_new()) == NULL)
		fatalx("%s: event_base_new", __func__);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ps->ps_evsig[i] = evsignal_new(ps->ps_evbase, sigs[i],
		    proc_child_sig, ps);
		if (ps->ps_evsig[i] == NULL ||
		    evsignal_add(ps->ps_evsig[i], NULL) == -1)
			fatalx("%s: evsignal", __func__);
	}

	for (i = 0; i < nproc; i++) {
		procs[i].p_ps = ps;
		procs[i].p_env = procs;
		if (proc_alloc_ievs(ps, procs[i].p_id) == -1)
			fatal("%s: calloc", __func__);
	}
	proc_setup_iev(ps, PROC_PARENT, 0, PROC_PARENT_SOCK_FILENO);

	if (run != NULL)
		run(ps, p, arg);

	memset(&sopts, 0, sizeof(sopts));
	if (ps->ps_verbose > 2)
		sopts.so_flags |= SANDBOX_DEBUG;
	if (sandbox_enter(proc_sandbox_role(ps->ps_id), &sopts) == -1)
		fatalx("%s: cannot enter the sandbox", __func__);

	event_base_dispatch(ps->ps_evbase);

	if (p->p_shutdown != NULL)
		(*p->p_shutdown)();
	log_debug("%s exiting, pid %d", p->p_title, getpid());
	exit(0);
}

/*
 * What was composed during this pass of the event loop, written at its
 * end: every callback that ran in the pass has added its messages by
 * then, so they leave in one sendmsg, and the pipe, almost always
 * writable, needs no EV_WRITE and no epoll_ctl to arm and disarm it.
 * Only a pipe that is full waits for EV_WRITE.
 */
static void
proc_flush(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;

	iev->flush_pending = 0;
	if (iev->ibuf.fd == -1 || imsgbuf_queuelen(&iev->ibuf) == 0)
		return;
	if (imsgbuf_write(&iev->ibuf) == -1) {
		if (errno == EPIPE || errno == ECONNRESET) {
			proc_lost(iev->proc->p_ps, iev);
			return;
		}
		fatal("%s: imsgbuf_write to %s", __func__,
		    iev->proc->p_title);
	}
	imsg_event_arm(iev);
}

void
imsg_event_add(struct imsgev *iev)
{
	if (iev->ibuf.fd == -1)
		return;
	if (iev->ev_flush != NULL && imsgbuf_queuelen(&iev->ibuf) > 0 &&
	    !(iev->events & EV_WRITE)) {
		if (!iev->flush_pending) {
			iev->flush_pending = 1;
			event_active(iev->ev_flush, EV_WRITE, 1);
		}
		return;
	}
	imsg_event_arm(iev);
}

/* Wait for EV_WRITE while anything is queued, for EV_READ always. */
static void
imsg_event_arm(struct imsgev *iev)
{
	short	 events = EV_READ | EV_PERSIST;

	if (iev->ibuf.fd == -1)
		return;
	if (imsgbuf_queuelen(&iev->ibuf) > 0)
		events |= EV_WRITE;
	/*
	 * Persistent events, re-armed only when the wish to write
	 * changes: a busy pipe then costs no epoll_ctl per message.
	 */
	if (events == iev->events && event_pending(iev->ev, EV_READ, NULL))
		return;
	iev->events = events;
	event_del(iev->ev);
	event_assign(iev->ev, event_get_base(iev->ev), iev->ibuf.fd,
	    iev->events, iev->handler, iev->data);
	event_add(iev->ev, NULL);
}

static void
proc_log_death(enum privsep_procid id, unsigned int n, pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		log_warnx("lost child: %s[%u] pid %d killed by signal %d (%s)",
		    proc_titles[id], n, pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		log_warnx("lost child: %s[%u] pid %d exited with status %d",
		    proc_titles[id], n, pid, WEXITSTATUS(status));
}

static void
proc_lost_timeout(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct privsep	*ps = iev->proc->p_ps;
	enum privsep_procid id = iev->proc->p_id;

	fatalx("lost %s[%u]", proc_titles[id],
	    (unsigned int)(iev - ps->ps_ievs[id]));
}

/*
 * A process we depend on is gone: the whole daemon goes down.
 *
 * In a child, the loss of the parent means stop, quietly.  The loss of
 * a peer is fatal unless the parent stops us meanwhile: at shutdown
 * the parent closes every pipe, and a peer may see another child exit
 * before its own parent pipe closes.  So a peer's loss is fatal after a
 * grace second; the pipe to it is closed at once.
 *
 * In the parent, say how every child that has died ended: the one
 * whose pipe closed first is not always the one that failed first.
 */
static void
proc_lost(struct privsep *ps, struct imsgev *iev)
{
	enum privsep_procid	 id = iev->proc->p_id;
	unsigned int		 n = iev - ps->ps_ievs[id], i;
	int			 status, tries, child;
	struct timeval		 tv;
	pid_t			 pid;

	if (ps->ps_id != PROC_PARENT) {
		if (id == PROC_PARENT)
			exit(0);
		event_del(iev->ev);
		close(iev->ibuf.fd);
		iev->ibuf.fd = -1;
		timerclear(&tv);
		tv.tv_sec = 1;
		if (event_base_once(ps->ps_evbase, -1, EV_TIMEOUT,
		    proc_lost_timeout, iev, &tv) == -1)
			fatalx("lost %s[%u]", proc_titles[id], n);
		return;
	}
	pid = ps->ps_pids[id][n];
	ps->ps_pids[id][n] = 0;
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		proc_log_death(id, n, pid, status);
	for (tries = 0; tries < 20; tries++) {
		for (child = PROC_FRONTEND; child < PROC_MAX; child++) {
			if (ps->ps_pids[child] == NULL)
				continue;
			for (i = 0; i < ps->ps_instances[child]; i++) {
				pid = ps->ps_pids[child][i];
				if (pid > 0 && waitpid(pid, &status,
				    WNOHANG) == pid) {
					ps->ps_pids[child][i] = 0;
					proc_log_death(child, i, pid, status);
				}
			}
		}
		usleep(10000);
	}
	proc_kill(ps);
	if (ps->ps_cleanup != NULL)
		ps->ps_cleanup(ps);
	log_warnx("parent terminating");
	exit(1);
}

void
proc_dispatch(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct privsep_proc	*p = iev->proc;
	struct privsep		*ps = p->p_ps;
	struct imsgbuf		*ibuf = &iev->ibuf;
	struct imsg		 imsg;
	struct privsep_fd	 pf;
	ssize_t			 n;
	int			 verbose, pfd;

	if (event & EV_READ) {
		n = imsgbuf_read(ibuf);
		if (n == -1 && errno != ECONNRESET)
			fatal("%s: imsgbuf_read from %s", __func__,
			    p->p_title);
		if (n <= 0) {
			proc_lost(ps, iev);
			return;
		}
	}
	if (event & EV_WRITE) {
		if (imsgbuf_write(ibuf) == -1) {
			if (errno == EPIPE || errno == ECONNRESET) {
				proc_lost(ps, iev);
				return;
			}
			fatal("%s: imsgbuf_write to %s", __func__,
			    p->p_title);
		}
	}

	for (;;) {
		if ((n = imsg_get(ibuf, &imsg)) == -1)
			fatal("%s: imsg_get from %s", __func__, p->p_title);
		if (n == 0)
			break;

		if (p->p_cb != NULL && (*p->p_cb)(fd, p, &imsg) == 0) {
			/*
			 * Configured: give back what parsing the config
			 * freed, since a daemon mostly sits idle.
			 */
			if (imsg_get_type(&imsg) == IMSG_CTL_START)
				(void)malloc_trim(0);
			imsg_free(&imsg);
			continue;
		}

		switch (imsg_get_type(&imsg)) {
		case IMSG_CTL_VERBOSE:
			if (imsg_get_data(&imsg, &verbose,
			    sizeof(verbose)) == -1)
				fatalx("%s: bad IMSG_CTL_VERBOSE", __func__);
			log_setverbose(verbose);
			ps->ps_verbose = verbose;
			break;
		case IMSG_CTL_PROCFD:
			if (ps->ps_id == PROC_PARENT ||
			    p->p_id != PROC_PARENT ||
			    imsg_get_data(&imsg, &pf, sizeof(pf)) == -1 ||
			    pf.pf_procid <= PROC_PARENT ||
			    pf.pf_procid >= PROC_MAX ||
			    pf.pf_instance >= ps->ps_instances[pf.pf_procid] ||
			    (pfd = imsg_get_fd(&imsg)) == -1)
				fatalx("%s: bad IMSG_CTL_PROCFD", __func__);
			if (ps->ps_ievs[pf.pf_procid] == NULL ||
			    ps->ps_ievs[pf.pf_procid][pf.pf_instance].ibuf.fd
			    != -1)
				fatalx("%s: unexpected pipe to %s[%u]",
				    __func__, proc_titles[pf.pf_procid],
				    pf.pf_instance);
			proc_setup_iev(ps, pf.pf_procid, pf.pf_instance,
			    pfd);
			break;
		default:
			fatalx("%s: %s got unexpected imsg %u from %s",
			    __func__, proc_titles[ps->ps_id],
			    imsg_get_type(&imsg), p->p_title);
		}
		imsg_free(&imsg);
	}
	imsg_event_add(iev);
}

struct imsgev *
proc_iev(struct privsep *ps, enum privsep_procid id, int n)
{
	if (id < 0 || id >= PROC_MAX || ps->ps_ievs[id] == NULL ||
	    n < 0 || (unsigned int)n >= ps->ps_instances[id] ||
	    ps->ps_ievs[id][n].ibuf.fd == -1)
		return (NULL);
	return (&ps->ps_ievs[id][n]);
}

struct imsgbuf *
proc_ibuf(struct privsep *ps, enum privsep_procid id, int n)
{
	struct imsgev	*iev;

	if ((iev = proc_iev(ps, id, n)) == NULL)
		return (NULL);
	return (&iev->ibuf);
}

int
imsg_compose_event(struct imsgev *iev, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const void *data, size_t datalen)
{
	int	 ret;

	if ((ret = imsg_compose(&iev->ibuf, type, peerid, pid, fd, data,
	    datalen)) == -1)
		return (ret);
	imsg_event_add(iev);
	return (ret);
}

int
imsg_composev_event(struct imsgev *iev, uint32_t type, uint32_t peerid,
    pid_t pid, int fd, const struct iovec *iov, int iovcnt)
{
	int	 ret;

	if ((ret = imsg_composev(&iev->ibuf, type, peerid, pid, fd, iov,
	    iovcnt)) == -1)
		return (ret);
	imsg_event_add(iev);
	return (ret);
}

/*
 * Send to instance n of a process, or to every instance with n == -1.
 * The pid field carries our own instance + 1 so that replies find
 * their way back to the right frontend.
 */
int
proc_composev_imsg(struct privsep *ps, enum privsep_procid id, int n,
    uint32_t type, uint32_t peerid, int fd, const struct iovec *iov,
    int iovcnt)
{
	struct imsgev	*iev;
	int		 i, dupfd;

	if (n == -1) {
		for (i = 0; i < (int)ps->ps_instances[id]; i++) {
			dupfd = -1;
			if (fd != -1 && (dupfd = dup(fd)) == -1)
				return (-1);
			if (proc_composev_imsg(ps, id, i, type, peerid,
			    dupfd, iov, iovcnt) == -1)
				return (-1);
		}
		if (fd != -1)
			close(fd);
		return (0);
	}
	if ((iev = proc_iev(ps, id, n)) == NULL) {
		if (fd != -1)
			close(fd);
		errno = EBADF;
		return (-1);
	}
	return (imsg_composev_event(iev, type, peerid, ps->ps_instance + 1,
	    fd, iov, iovcnt));
}

int
proc_compose_imsg(struct privsep *ps, enum privsep_procid id, int n,
    uint32_t type, uint32_t peerid, int fd, const void *data, size_t datalen)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = datalen;
	return (proc_composev_imsg(ps, id, n, type, peerid, fd, &iov,
	    datalen ? 1 : 0));
}

int
proc_compose(struct privsep *ps, enum privsep_procid id, uint32_t type,
    const void *data, size_t datalen)
{
	return (proc_compose_imsg(ps, id, -1, type, 0, -1, data, datalen));
}

int
proc_composev(struct privsep *ps, enum privsep_procid id, uint32_t type,
    const struct iovec *iov, int iovcnt)
{
	return (proc_composev_imsg(ps, id, -1, type, 0, -1, iov, iovcnt));
}

int
proc_forward_imsg(struct privsep *ps, struct imsg *imsg,
    enum privsep_procid id, int n)
{
	return (proc_compose_imsg(ps, id, n, imsg_get_type(imsg),
	    imsg_get_id(imsg), imsg_get_fd(imsg), imsg->data,
	    imsg_get_len(imsg)));
}

int
proc_flush_imsg(struct privsep *ps, enum privsep_procid id, int n)
{
	struct imsgbuf	*ibuf;
	int		 i;

	if (n == -1) {
		for (i = 0; i < (int)ps->ps_instances[id]; i++)
			if (proc_flush_imsg(ps, id, i) == -1)
				return (-1);
		return (0);
	}
	if ((ibuf = proc_ibuf(ps, id, n)) == NULL)
		return (-1);
	return (imsgbuf_flush(ibuf));
}
