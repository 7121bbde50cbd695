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
 * Linux hardening for the children (DESIGN.md section 7).
 *
 * sandbox_privdrop() runs as root early in proc_run(): private network
 * and IPC namespaces, chroot, the user change and the limits.
 * sandbox_enter() runs when the role's initialization is done and
 * before the first peer message: no-new-privs, Landlock where the
 * kernel has it, and the seccomp allowlist of the role, which covers
 * only what the process does in steady state.
 *
 * Not root (DESIGN.md 0.4): there is no chroot, no namespace and no
 * user change; the caller learns it from the SANDBOX_NOTROOT bit and
 * says so once.  We deliberately do not fall back to an unprivileged
 * user namespace: it would give the process every capability inside
 * the namespace, which widens the kernel surface it can reach, and
 * distributions restrict it in different ways (Ubuntu's AppArmor
 * rules), so it would not behave the same everywhere.  Landlock, which
 * needs no privilege, still takes the files and TCP away.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "sandbox.h"

/*
 * Debian 12's kernel headers describe Landlock ABI 2 at most; the
 * later rights and the network rule have fixed values in the kernel
 * ABI, so spell them out here.
 */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset	444
#define __NR_landlock_add_rule		445
#define __NR_landlock_restrict_self	446
#endif
#define LL_FS_ABI1		((1ULL << 13) - 1)	/* EXECUTE..MAKE_SYM */
#define LL_FS_REFER		(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)		/* ABI 5 */
#define LL_NET_BIND_TCP		(1ULL << 0)		/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)		/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)
#define LL_RULE_PATH_BENEATH	1
#define LL_RULE_NET_PORT	2

/* The kernel's struct landlock_ruleset_attr as of ABI 6. */
struct sandbox_ll_ruleset {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;
	uint64_t	 scoped;
};

struct sandbox_ll_beneath {
	uint64_t	 allowed_access;
	int32_t		 parent_fd;
} __attribute__((packed));

struct sandbox_ll_port {
	uint64_t	 allowed_access;
	uint64_t	 port;
};

#define R_FE		(1U << SANDBOX_FRONTEND)
#define R_CN		(1U << SANDBOX_CONNECTOR)
#define R_SG		(1U << SANDBOX_SIGNER)
#define R_ST		(1U << SANDBOX_STORAGE)
#define R_CT		(1U << SANDBOX_CONTROL)
#define R_ALL		(R_FE | R_CN | R_SG | R_ST | R_CT)
#define R_NET		(R_FE | R_CN | R_CT)	/* sockets beyond imsg */
#define R_DB		(R_SG | R_ST)		/* an LMDB env */

/*
 * Harmless probes by libraries (a config file looked for, a stat of
 * a path, syslog's reconnect) fail with EACCES instead of killing.
 */
#define SOFTFAIL	SCMP_ACT_ERRNO(EACCES)

struct sandbox_rule {
	const char		*sr_name;
	unsigned int		 sr_roles;
	uint32_t		 sr_action;
	unsigned int		 sr_argc;
	struct scmp_arg_cmp	 sr_arg[2];
};

#define ALLOW(n, r)		{ (n), (r), SCMP_ACT_ALLOW, 0, { { 0 } } }
#define ALLOW1(n, r, a)		{ (n), (r), SCMP_ACT_ALLOW, 1, { a } }
#define ALLOW2(n, r, a, b)	{ (n), (r), SCMP_ACT_ALLOW, 2, { a, b } }
#define SOFT(n, r)		{ (n), (r), SOFTFAIL, 0, { { 0 } } }
#define SOFT1(n, r, a)		{ (n), (r), SOFTFAIL, 1, { a } }
#define EQ(i, v)		{ (i), SCMP_CMP_EQ, (v), 0 }
#define NE(i, v)		{ (i), SCMP_CMP_NE, (v), 0 }
#define MASKEQ(i, m, v)		{ (i), SCMP_CMP_MASKED_EQ, (m), (v) }

static const struct sandbox_rule sandbox_rules[] = {
	/* imsg over socketpairs with SCM_RIGHTS, stderr in -d mode */
	ALLOW("read", R_ALL),
	ALLOW("write", R_ALL),
	ALLOW("readv", R_ALL),
	ALLOW("writev", R_ALL),
	ALLOW("close", R_ALL),
	ALLOW("recvmsg", R_ALL),
	ALLOW("sendmsg", R_ALL),
	ALLOW("recvfrom", R_ALL),
	/*
	 * send() on a connected socket (syslog on the /dev/log socket
	 * opened before chroot, recv/send in libraries); only the
	 * connector addresses datagrams (DNS).
	 */
	ALLOW1("sendto", R_ALL & ~R_CN, EQ(4, 0)),
	ALLOW("sendto", R_CN),
	ALLOW("sendmmsg", R_CN),
	ALLOW("recvmmsg", R_CN),
	ALLOW1("ioctl", R_ALL, EQ(1, FIONREAD)),

	/* libevent; timerfd only with EVENT_BASE_FLAG_PRECISE_TIMER */
	ALLOW("epoll_wait", R_ALL),
	ALLOW("epoll_pwait", R_ALL),
	ALLOW("epoll_ctl", R_ALL),
	ALLOW("timerfd_settime", R_ALL),

	/* malloc; never executable memory; shared maps only for LMDB */
	ALLOW("brk", R_ALL),
	ALLOW("munmap", R_ALL),
	ALLOW("mremap", R_ALL),
	ALLOW("madvise", R_ALL),
	ALLOW2("mmap", R_ALL & ~R_DB, MASKEQ(2, PROT_EXEC, 0),
	    MASKEQ(3, MAP_SHARED, 0)),
	ALLOW1("mmap", R_DB, MASKEQ(2, PROT_EXEC, 0)),
	ALLOW1("mprotect", R_ALL, MASKEQ(2, PROT_EXEC, 0)),

	/* time (the vDSO may still fall back), randomness, ids, signals */
	ALLOW("clock_gettime", R_ALL),
	ALLOW("clock_getres", R_ALL),
	ALLOW("gettimeofday", R_ALL),
	ALLOW("time", R_ALL),
	ALLOW("getrandom", R_ALL),
	ALLOW("getpid", R_ALL),
	ALLOW("gettid", R_ALL),
	ALLOW("futex", R_ALL),
	ALLOW("rt_sigprocmask", R_ALL),
	/*
	 * libevent puts the old handler back when a signal event goes
	 * away; SIGSYS stays ours, so that debug mode keeps its handler.
	 */
	ALLOW1("rt_sigaction", R_ALL, NE(0, SIGSYS)),
	ALLOW("rt_sigreturn", R_ALL),
	ALLOW("restart_syscall", R_ALL),
	ALLOW("exit", R_ALL),
	ALLOW("exit_group", R_ALL),

	/* descriptor flags (libevent, imsg); locks for LMDB only */
	ALLOW1("fcntl", R_ALL, EQ(1, F_GETFL)),
	ALLOW1("fcntl", R_ALL, EQ(1, F_SETFL)),
	ALLOW1("fcntl", R_ALL, EQ(1, F_GETFD)),
	ALLOW1("fcntl", R_ALL, EQ(1, F_SETFD)),
	ALLOW1("fcntl", R_DB, EQ(1, F_GETLK)),
	ALLOW1("fcntl", R_DB, EQ(1, F_SETLK)),
	ALLOW1("fcntl", R_DB, EQ(1, F_SETLKW)),
	ALLOW1("fcntl", R_DB, EQ(1, F_OFD_GETLK)),
	ALLOW1("fcntl", R_DB, EQ(1, F_OFD_SETLK)),
	ALLOW1("fcntl", R_DB, EQ(1, F_OFD_SETLKW)),

	/*
	 * fstat() is fstatat(fd, "", AT_EMPTY_PATH) in glibc; a stat of a
	 * path fails softly.
	 */
	ALLOW("fstat", R_ALL),
	ALLOW1("newfstatat", R_ALL, MASKEQ(3, AT_EMPTY_PATH, AT_EMPTY_PATH)),
	SOFT1("newfstatat", R_ALL, MASKEQ(3, AT_EMPTY_PATH, 0)),
	SOFT("open", R_ALL),
	SOFT("openat", R_ALL),
	SOFT("stat", R_ALL),
	SOFT("lstat", R_ALL),
	SOFT("statx", R_ALL),
	SOFT("access", R_ALL),
	SOFT("faccessat", R_ALL),
	SOFT("faccessat2", R_ALL),
	SOFT("readlink", R_ALL),
	SOFT("readlinkat", R_ALL),
	/*
	 * glibc's qsort() asks sysinfo() for the memory size when it
	 * sorts a large array (OpenSSL's cipher lists, at TLS setup) and
	 * copes when it cannot know.
	 */
	SOFT("sysinfo", R_ALL),

	/*
	 * glibc's syslog() opens a new AF_UNIX socket when the old one
	 * broke; from a chroot it could not reach /dev/log anyway, so let
	 * it fail before it tries connect().
	 */
	SOFT1("socket", R_ALL, EQ(0, AF_UNIX)),

	/* sockets handed over by the parent or made by the connector */
	ALLOW("accept4", R_FE | R_CT),
	ALLOW("getsockname", R_NET),
	ALLOW("getpeername", R_NET),
	ALLOW("shutdown", R_NET),
	ALLOW("connect", R_CN),
	ALLOW2("getsockopt", R_FE | R_CN, EQ(1, SOL_SOCKET), EQ(2, SO_ERROR)),
	ALLOW2("getsockopt", R_CT, EQ(1, SOL_SOCKET), EQ(2, SO_PEERCRED)),
	ALLOW2("getsockopt", R_CT, EQ(1, SOL_SOCKET), EQ(2, SO_ERROR)),
	ALLOW2("setsockopt", R_NET, EQ(1, IPPROTO_TCP), EQ(2, TCP_NODELAY)),
	ALLOW2("setsockopt", R_NET, EQ(1, SOL_SOCKET), EQ(2, SO_KEEPALIVE)),
	ALLOW2("setsockopt", R_NET, EQ(1, SOL_SOCKET), EQ(2, SO_SNDBUF)),
	ALLOW2("setsockopt", R_NET, EQ(1, SOL_SOCKET), EQ(2, SO_RCVBUF)),
	ALLOW2("setsockopt", R_NET, EQ(1, SOL_SOCKET), EQ(2, SO_LINGER)),

	/*
	 * LMDB in steady state: lseek and writev flush dirty pages (the
	 * file grows that way), pwrite64 writes the meta page, fdatasync;
	 * MDB_WRITEMAP (signer) syncs with msync and grows the file with
	 * ftruncate when mdb_env_set_mapsize() remaps it on a config
	 * change; the reader table takes fcntl locks.
	 */
	ALLOW("pread64", R_DB),
	ALLOW("pwrite64", R_DB),
	ALLOW("lseek", R_DB),
	ALLOW("fdatasync", R_DB),
	ALLOW("fsync", R_DB),
	ALLOW("msync", R_DB),
	ALLOW("ftruncate", R_DB),
};

/* The connector's sockets: domain, type and protocol. */
static const int sandbox_sock_domain[] = { AF_INET, AF_INET6 };
static const int sandbox_sock_type[][3] = {
	{ SOCK_STREAM, 0, IPPROTO_TCP },
	{ SOCK_DGRAM, 0, IPPROTO_UDP }
};

static const char *sandbox_roles[SANDBOX_NROLES] = {
	"frontend", "connector", "signer", "storage", "control"
};

/* Is stderr a regular file (logging of -d redirected to a file)? */
static int
sandbox_stderr_is_file(void)
{
	struct stat	 st;

	return (fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode));
}

/* The chroot root, kept open for storage and signer's Landlock rule. */
static int		 sandbox_rootfd = -1;

/* Debug mode: names resolved before the filter, for the handler. */
static char		*sandbox_sysname[SANDBOX_MAX_SYSNO];
static const char	*sandbox_curname = "?";

static int	sandbox_checkopts(enum sandbox_role,
		    const struct sandbox_opts *);
static int	sandbox_seccomp(enum sandbox_role, int);
static int	sandbox_debug_init(enum sandbox_role);
static void	sandbox_sigsys(int, siginfo_t *, void *);

const char *
sandbox_role_name(enum sandbox_role role)
{
	if ((unsigned int)role >= SANDBOX_NROLES)
		return ("unknown");
	return (sandbox_roles[role]);
}

/*
 * As root: namespaces, chroot, user, limits.  Returns -1 on error (the
 * caller fatal()s), else SANDBOX_NOTROOT and SANDBOX_NONS bits.
 */
int
sandbox_privdrop(enum sandbox_role role, const char *root,
    const char *user, int flags)
{
	struct rlimit	 rl;
	struct passwd	*pw;
	uid_t		 ruid, euid, suid, uid;
	gid_t		 rgid, egid, sgid, gid, groups[2];
	int		 ret = 0;

	if ((unsigned int)role >= SANDBOX_NROLES) {
		errno = EINVAL;
		return (-1);
	}
	memset(&rl, 0, sizeof(rl));

	if (geteuid() != 0) {
		ret |= SANDBOX_NOTROOT;
		if ((role == SANDBOX_STORAGE || role == SANDBOX_SIGNER) &&
		    root != NULL && (sandbox_rootfd = open(root,
		    O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
			log_warn("%s: %s", __func__, root);
			return (-1);
		}
		/* No process may be created; see the comment below. */
		if (setrlimit(RLIMIT_NPROC, &rl) == -1) {
			log_warn("%s: setrlimit RLIMIT_NPROC", __func__);
			return (-1);
		}
		goto limits;
	}

	if (root == NULL || user == NULL) {
		log_warnx("%s: %s: need a root directory and a user",
		    __func__, sandbox_role_name(role));
		errno = EINVAL;
		return (-1);
	}
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("%s: user %s does not exist", __func__, user);
		errno = ENOENT;
		return (-1);
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_warnx("%s: refusing to run %s as user %s (uid or gid 0)",
		    __func__, sandbox_role_name(role), user);
		errno = EPERM;
		return (-1);
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;

	/*
	 * An empty network namespace: descriptors opened before (the
	 * listeners, the syslog socket) keep working, nothing new reaches
	 * a network.  The connector needs the real one.  A container may
	 * forbid unshare(); that weakens, but does not stop, the daemon.
	 */
	if (role != SANDBOX_CONNECTOR && !(flags & SANDBOX_PD_NOUNSHARE) &&
	    unshare(CLONE_NEWNET | CLONE_NEWIPC) == -1) {
		log_debug("%s: %s: unshare: %s", __func__,
		    sandbox_role_name(role), strerror(errno));
		ret |= SANDBOX_NONS;
	}

	if (chroot(root) == -1) {
		log_warn("%s: chroot %s", __func__, root);
		return (-1);
	}
	if (chdir("/") == -1) {
		log_warn("%s: chdir /", __func__);
		return (-1);
	}
	if ((role == SANDBOX_STORAGE || role == SANDBOX_SIGNER) &&
	    (sandbox_rootfd = open("/", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		log_warn("%s: open /", __func__);
		return (-1);
	}

	/*
	 * No child ever forks, so no process may be created: with
	 * RLIMIT_NPROC 0 fork() and pthread_create() fail with EAGAIN.
	 * The limit is this process's own; other processes of the same
	 * uid keep theirs, and only count toward the total this process
	 * sees.  It is set before setresuid() on purpose: the kernel
	 * does not fail setresuid() over the limit, it marks the process
	 * so that a later execve() fails with EAGAIN when the uid already
	 * had other processes.
	 */
	if (setrlimit(RLIMIT_NPROC, &rl) == -1) {
		log_warn("%s: setrlimit RLIMIT_NPROC", __func__);
		return (-1);
	}

	if (setgroups(1, &gid) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		log_warn("%s: cannot drop privileges to %s", __func__, user);
		return (-1);
	}
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid ||
	    getgroups(2, groups) != 1 || groups[0] != gid) {
		log_warnx("%s: privileges not dropped to %s", __func__, user);
		errno = EPERM;
		return (-1);
	}
	if (setuid(0) != -1 || setgid(0) != -1) {
		log_warnx("%s: could regain root after the drop", __func__);
		errno = EPERM;
		return (-1);
	}

 limits:
	if (setrlimit(RLIMIT_CORE, &rl) == -1) {
		log_warn("%s: setrlimit RLIMIT_CORE", __func__);
		return (-1);
	}
	/*
	 * Only storage and signer write files.  A stderr redirected to a
	 * regular file (oidcd -d > log) would die of SIGXFSZ at the first
	 * log line, so then the limit is left alone.
	 */
	if (role != SANDBOX_STORAGE && role != SANDBOX_SIGNER &&
	    !sandbox_stderr_is_file() && setrlimit(RLIMIT_FSIZE, &rl) == -1) {
		log_warn("%s: setrlimit RLIMIT_FSIZE", __func__);
		return (-1);
	}
	/* After the uid change, which resets it: no core, no ptrace. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		log_warn("%s: PR_SET_DUMPABLE", __func__);
		return (-1);
	}
	return (ret);
}

static int
sandbox_checkopts(enum sandbox_role role, const struct sandbox_opts *so)
{
	size_t	 i;

	if ((unsigned int)role >= SANDBOX_NROLES)
		goto bad;
	if (so == NULL)
		return (0);
	if (so->so_nports > SANDBOX_MAX_PORTS ||
	    (so->so_nports > 0 && so->so_ports == NULL))
		goto bad;
	for (i = 0; i < so->so_nports; i++)
		if (so->so_ports[i] == 0)
			goto bad;
	return (0);
 bad:
	errno = EINVAL;
	return (-1);
}

/*
 * Landlock, best effort: returns the ABI level applied, 0 if the
 * kernel has none, -1 on error.  Every filesystem right the kernel
 * knows is handled, so a role without a rule can open nothing;
 * storage and signer keep their root.  From ABI 4 TCP bind and
 * connect are handled too, and only the connector gets ports: the
 * ports of its upstreams (and 53 if DNS may fall back to TCP).
 */
int
sandbox_landlock(enum sandbox_role role, const struct sandbox_opts *so)
{
	struct sandbox_ll_ruleset	 attr;
	struct sandbox_ll_beneath	 pb;
	struct sandbox_ll_port		 np;
	size_t				 attrsz, i;
	long				 abi;
	int				 fd = -1, saved_errno;

	if (sandbox_checkopts(role, so) == -1)
		return (-1);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("%s: PR_SET_NO_NEW_PRIVS", __func__);
		return (-1);
	}

	abi = syscall(__NR_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi <= 0) {
		log_debug("%s: %s: no landlock (%s)", __func__,
		    sandbox_role_name(role), strerror(errno));
		abi = 0;
		goto done;
	}

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LL_FS_ABI1;
	attrsz = sizeof(attr.handled_access_fs);
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4) {
		/*
		 * A connector given no ports keeps TCP connect: an empty
		 * list would only mean it cannot reach any upstream.
		 */
		attr.handled_access_net = LL_NET_BIND_TCP;
		if (role != SANDBOX_CONNECTOR ||
		    (so != NULL && so->so_nports > 0))
			attr.handled_access_net |= LL_NET_CONNECT_TCP;
		attrsz = offsetof(struct sandbox_ll_ruleset, scoped);
	}
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 6) {
		/* No abstract unix sockets or signals out of the domain. */
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		attrsz = sizeof(attr);
	}

	fd = syscall(__NR_landlock_create_ruleset, &attr, attrsz, 0);
	if (fd == -1) {
		log_warn("%s: landlock_create_ruleset", __func__);
		goto fail;
	}
	if (sandbox_rootfd != -1) {
		memset(&pb, 0, sizeof(pb));
		pb.allowed_access = attr.handled_access_fs;
		pb.parent_fd = sandbox_rootfd;
		if (syscall(__NR_landlock_add_rule, fd, LL_RULE_PATH_BENEATH,
		    &pb, 0) == -1) {
			log_warn("%s: landlock_add_rule path", __func__);
			goto fail;
		}
	}
	if (role == SANDBOX_CONNECTOR && abi >= 4 && so != NULL) {
		for (i = 0; i < so->so_nports; i++) {
			memset(&np, 0, sizeof(np));
			np.allowed_access = LL_NET_CONNECT_TCP;
			np.port = so->so_ports[i];
			if (syscall(__NR_landlock_add_rule, fd,
			    LL_RULE_NET_PORT, &np, 0) == -1) {
				log_warn("%s: landlock_add_rule port %u",
				    __func__, so->so_ports[i]);
				goto fail;
			}
		}
	}
	if (syscall(__NR_landlock_restrict_self, fd, 0) == -1) {
		log_warn("%s: landlock_restrict_self", __func__);
		goto fail;
	}
	close(fd);
	log_debug("%s: %s: landlock abi %ld", __func__,
	    sandbox_role_name(role), abi);
 done:
	if (sandbox_rootfd != -1) {
		close(sandbox_rootfd);
		sandbox_rootfd = -1;
	}
	return ((int)abi);
 fail:
	saved_errno = errno;
	if (fd != -1)
		close(fd);
	errno = saved_errno;
	return (-1);
}

static int
sandbox_addrule(scmp_filter_ctx ctx, const char *name, uint32_t action,
    unsigned int argc, const struct scmp_arg_cmp *arg)
{
	int	 nr, rc;

	/* A name this architecture lacks (open on arm64) is no rule. */
	if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR ||
	    nr < 0)
		return (0);
	if ((rc = seccomp_rule_add_array(ctx, action, nr, argc, arg)) < 0) {
		log_warnx("%s: %s: %s", __func__, name, strerror(-rc));
		return (-1);
	}
	return (0);
}

static int
sandbox_seccomp(enum sandbox_role role, int debug)
{
	scmp_filter_ctx		 ctx;
	struct scmp_arg_cmp	 arg[3];
	const struct sandbox_rule *sr;
	unsigned int		 bit = 1U << role;
	size_t			 i, j, k;
	pid_t			 pid = getpid();
	int			 rc;

	if ((ctx = seccomp_init(debug ? SCMP_ACT_TRAP :
	    SCMP_ACT_KILL_PROCESS)) == NULL) {
		log_warnx("%s: seccomp_init failed", __func__);
		return (-1);
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0) {
		log_warnx("%s: seccomp_attr_set: %s", __func__,
		    strerror(-rc));
		goto fail;
	}

	for (i = 0; i < sizeof(sandbox_rules) / sizeof(sandbox_rules[0]);
	    i++) {
		sr = &sandbox_rules[i];
		if ((sr->sr_roles & bit) == 0)
			continue;
		if (sandbox_addrule(ctx, sr->sr_name, sr->sr_action,
		    sr->sr_argc, sr->sr_arg) == -1)
			goto fail;
	}

	/* abort() and raise() signal this process, and nothing else. */
	memset(arg, 0, sizeof(arg));
	arg[0].arg = 0;
	arg[0].op = SCMP_CMP_EQ;
	arg[0].datum_a = (scmp_datum_t)pid;
	if (sandbox_addrule(ctx, "tgkill", SCMP_ACT_ALLOW, 1, arg) == -1 ||
	    sandbox_addrule(ctx, "kill", SCMP_ACT_ALLOW, 1, arg) == -1)
		goto fail;

	/*
	 * The connector's own sockets: TCP and UDP over IPv4 and IPv6,
	 * the type compared with SOCK_NONBLOCK and SOCK_CLOEXEC masked
	 * off, and the protocol pinned so that no other module is loaded.
	 */
	for (i = 0; role == SANDBOX_CONNECTOR && i <
	    sizeof(sandbox_sock_domain) / sizeof(sandbox_sock_domain[0]);
	    i++) {
		for (j = 0; j < sizeof(sandbox_sock_type) /
		    sizeof(sandbox_sock_type[0]); j++) {
			for (k = 1; k < 3; k++) {
				memset(arg, 0, sizeof(arg));
				arg[0].arg = 0;
				arg[0].op = SCMP_CMP_EQ;
				arg[0].datum_a = sandbox_sock_domain[i];
				arg[1].arg = 1;
				arg[1].op = SCMP_CMP_MASKED_EQ;
				arg[1].datum_a = ~(scmp_datum_t)(SOCK_NONBLOCK |
				    SOCK_CLOEXEC);
				arg[1].datum_b = sandbox_sock_type[j][0];
				arg[2].arg = 2;
				arg[2].op = SCMP_CMP_EQ;
				arg[2].datum_a = sandbox_sock_type[j][k];
				if (sandbox_addrule(ctx, "socket",
				    SCMP_ACT_ALLOW, 3, arg) == -1)
					goto fail;
			}
		}
	}

	if ((rc = seccomp_load(ctx)) < 0) {
		log_warnx("%s: seccomp_load: %s", __func__, strerror(-rc));
		goto fail;
	}
	seccomp_release(ctx);
	return (0);
 fail:
	seccomp_release(ctx);
	errno = EINVAL;
	return (-1);
}

/*
 * Debug mode (-vvv or OIDCD_SECCOMP_DEBUG): a denied syscall traps
 * instead of killing, and the handler names it on stderr before the
 * process dies of SIGSYS all the same.  The names are resolved now
 * because the handler may not call malloc(), and
 * seccomp_syscall_resolve_num_arch() does.
 */
static int
sandbox_debug_init(enum sandbox_role role)
{
	struct sigaction	 sa;
	int			 nr;

	sandbox_curname = sandbox_role_name(role);
	for (nr = 0; nr < SANDBOX_MAX_SYSNO; nr++)
		if (sandbox_sysname[nr] == NULL)
			sandbox_sysname[nr] = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, nr);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	/* Back to the default action on entry, so the re-raise kills. */
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1) {
		log_warn("%s: sigaction", __func__);
		return (-1);
	}
	return (0);
}

/* Only async-signal-safe calls from here: strlcat, write, raise. */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char		 msg[160], num[16];
	const char	*name = NULL;
	int		 nr = si->si_syscall, saved_errno = errno;
	unsigned int	 u = nr < 0 ? 0 : (unsigned int)nr;
	size_t		 n = sizeof(num) - 1;

	(void)sig;
	(void)uctx;
	if (nr >= 0 && nr < SANDBOX_MAX_SYSNO)
		name = sandbox_sysname[nr];
	num[n] = '\0';
	do {
		num[--n] = '0' + u % 10;
		u /= 10;
	} while (u != 0 && n > 0);

	msg[0] = '\0';
	(void)strlcat(msg, "sandbox: ", sizeof(msg));
	(void)strlcat(msg, sandbox_curname, sizeof(msg));
	(void)strlcat(msg, ": seccomp denied syscall ", sizeof(msg));
	(void)strlcat(msg, name != NULL ? name : "?", sizeof(msg));
	(void)strlcat(msg, " (", sizeof(msg));
	(void)strlcat(msg, num + n, sizeof(msg));
	(void)strlcat(msg, ")\n", sizeof(msg));
	if (write(STDERR_FILENO, msg, strlen(msg)) == -1) {
		/* nowhere else to say it */
	}

	/* Blocked until we return, then the default action: death. */
	(void)raise(SIGSYS);
	errno = saved_errno;
}

/*
 * After the role's initialization, before the first peer message:
 * no-new-privs, Landlock, then the seccomp allowlist of the role.
 */
int
sandbox_enter(enum sandbox_role role, const struct sandbox_opts *so)
{
	const char	*env;
	int		 abi, debug = 0;

	if (sandbox_checkopts(role, so) == -1)
		return (-1);
	if (so != NULL && (so->so_flags & SANDBOX_DEBUG))
		debug = 1;
	if ((env = getenv(SANDBOX_DEBUG_ENV)) != NULL && *env != '\0' &&
	    strcmp(env, "0") != 0)
		debug = 1;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("%s: PR_SET_NO_NEW_PRIVS", __func__);
		return (-1);
	}
	if ((abi = sandbox_landlock(role, so)) == -1)
		return (-1);
	if (debug && sandbox_debug_init(role) == -1)
		return (-1);
	if (sandbox_seccomp(role, debug) == -1)
		return (-1);
	log_debug("%s: %s: landlock abi %d, seccomp %s", __func__,
	    sandbox_role_name(role), abi, debug ? "trap (debug)" : "kill");
	return (0);
}

/* Parse the numbers after "Key:" in a status line. */
static int
sandbox_status_field(const char *line, const char *key, long long *v,
    int nv)
{
	const char	*p;
	char		*end;
	size_t		 klen = strlen(key);
	int		 i;

	if (strncmp(line, key, klen) != 0 || line[klen] != ':')
		return (0);
	p = line + klen + 1;
	for (i = 0; i < nv; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			return (-1);
		errno = 0;
		v[i] = strtoll(p, &end, 10);
		if (errno != 0 || v[i] < 0 || v[i] > UINT32_MAX)
			return (-1);
		p = end;
	}
	return (1);
}

/* Parse a /proc/<pid>/status text; -1 if a line we need is missing. */
int
sandbox_status_parse(const char *buf, size_t len, struct sandbox_status *ss)
{
	char		 line[256];
	long long	 v[4];
	const char	*p, *end, *nl;
	size_t		 n;
	int		 i, seen = 0, rc;

	memset(ss, 0, sizeof(*ss));
	ss->ss_nfilters = -1;
	if (len > SANDBOX_STATUS_MAX)
		len = SANDBOX_STATUS_MAX;
	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		n = nl - p;
		if (n >= sizeof(line))
			continue;
		memcpy(line, p, n);
		line[n] = '\0';

		if ((rc = sandbox_status_field(line, "Uid", v, 4)) == 1) {
			for (i = 0; i < 4; i++)
				ss->ss_uid[i] = (uid_t)v[i];
			seen |= 0x1;
		} else if (rc == 0 &&
		    (rc = sandbox_status_field(line, "Gid", v, 4)) == 1) {
			for (i = 0; i < 4; i++)
				ss->ss_gid[i] = (gid_t)v[i];
			seen |= 0x2;
		} else if (rc == 0 &&
		    (rc = sandbox_status_field(line, "Seccomp", v, 1)) == 1) {
			ss->ss_seccomp = (int)v[0];
			seen |= 0x4;
		} else if (rc == 0 && (rc = sandbox_status_field(line,
		    "Seccomp_filters", v, 1)) == 1)
			ss->ss_nfilters = (int)v[0];
		else if (rc == 0 && (rc = sandbox_status_field(line,
		    "NoNewPrivs", v, 1)) == 1)
			ss->ss_nonewprivs = (int)v[0];
		if (rc == -1)
			return (-1);
	}
	return (seen == 0x7 ? 0 : -1);
}

/* What the kernel says of a process (0: this one) in /proc. */
int
sandbox_status(pid_t pid, struct sandbox_status *ss)
{
	char		 path[64], buf[SANDBOX_STATUS_MAX];
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd, saved_errno;

	if (pid == 0)
		(void)strlcpy(path, "/proc/self/status", sizeof(path));
	else
		(void)snprintf(path, sizeof(path), "/proc/%ld/status",
		    (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while (len < sizeof(buf) &&
	    (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	saved_errno = errno;
	close(fd);
	if (len == 0) {
		errno = saved_errno != 0 ? saved_errno : EIO;
		return (-1);
	}
	if (sandbox_status_parse(buf, len, ss) == -1) {
		errno = EINVAL;
		return (-1);
	}
	return (0);
}
