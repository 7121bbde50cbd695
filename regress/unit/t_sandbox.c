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
 * sandbox.c: the privilege drop, Landlock and the seccomp policy of
 * every role.
 *
 * This tester is built with ASan, whose runtime makes syscalls no role
 * allows (it reads /proc, forks a symbolizer, maps shadow memory).  So
 * the confined processes are not this program but sandbox_probe, built
 * without sanitizers from regress/unit/sandbox_probe.c and the same
 * sandbox.c: the policy under test is the one the daemon runs, with no
 * test-only syscalls in it.  The probe is taken from $SANDBOX_PROBE, or
 * obj/test/sandbox_probe (the Makefile), or built here with cc.
 *
 * As root each probe drops to $SANDBOX_TEST_USER, default "nobody":
 * it exists on every Debian system, the test creates no user, and
 * sharing its uid with other processes is harmless because
 * RLIMIT_NPROC 0 only binds the process that set it (checked below).
 * Not root, the checks that need root print "ok - # SKIP".
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "tap.h"

#define PROBE_TIMEOUT	15000		/* ms, per line from a probe */

struct run {
	pid_t		 pid;
	int		 sock;		/* our end of the probe's fd 3 */
	int		 err;		/* the probe's stderr */
	int		 status;
	char		 ready[128];	/* "R <privdrop> <landlock abi>" */
	char		 result[256];	/* the line after "G" */
	char		 errtext[2048];
	int		 pd;
	int		 abi;
};

static char		 probe[PATH_MAX];
static char		 topdir[] = "/tmp/t_sandbox.XXXXXX";
static const char	*user;
static struct passwd	 pw;
static int		 isroot;

static void
skip(const char *what, const char *why)
{
	ok(1, "%s # SKIP %s", what, why);
}

/* Read one line, waiting at most PROBE_TIMEOUT. */
static int
readline(int fd, char *buf, size_t sz)
{
	struct pollfd	 pfd;
	size_t		 n = 0;
	char		 c;

	buf[0] = '\0';
	while (n + 1 < sz) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, PROBE_TIMEOUT) <= 0)
			return (-1);
		if (read(fd, &c, 1) != 1)
			break;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return (n > 0 ? 0 : -1);
}

static void
readall(int fd, char *buf, size_t sz)
{
	struct pollfd	 pfd;
	size_t		 n = 0;
	ssize_t		 r;

	while (n + 1 < sz) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, PROBE_TIMEOUT) <= 0)
			break;
		if ((r = read(fd, buf + n, sz - 1 - n)) <= 0)
			break;
		n += r;
	}
	buf[n] = '\0';
}

/* Make the directory a role is chrooted to. */
static char *
mkroot(const char *role)
{
	static char	 path[PATH_MAX];
	int		 db;

	db = strcmp(role, "storage") == 0 || strcmp(role, "signer") == 0;
	(void)snprintf(path, sizeof(path), "%s/%s.%d", topdir, role,
	    (int)random());
	if (mkdir(path, db ? 0700 : 0755) == -1)
		return (NULL);
	if (isroot && db && chown(path, pw.pw_uid, pw.pw_gid) == -1)
		return (NULL);
	return (path);
}

/* Start a probe and wait until it is confined (or failed to be). */
static int
start(struct run *r, const char *role, const char *action, int debug)
{
	char	*dir, *argv[6];
	int	 sv[2], ep[2];

	memset(r, 0, sizeof(*r));
	r->pd = r->abi = -1;
	if ((dir = mkroot(role)) == NULL)
		return (-1);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(ep, O_CLOEXEC) == -1)
		return (-1);
	fflush(stdout);
	if ((r->pid = fork()) == -1)
		return (-1);
	if (r->pid == 0) {
		if (dup2(sv[1], 3) == -1 || dup2(ep[1], 2) == -1)
			_exit(126);
		closefrom(4);
		if (debug)
			setenv(SANDBOX_DEBUG_ENV, "1", 1);
		else
			unsetenv(SANDBOX_DEBUG_ENV);
		argv[0] = probe;
		argv[1] = (char *)role;
		argv[2] = (char *)action;
		argv[3] = dir;
		argv[4] = (char *)user;
		argv[5] = NULL;
		execv(probe, argv);
		_exit(127);
	}
	close(sv[1]);
	close(ep[1]);
	r->sock = sv[0];
	r->err = ep[0];
	if (readline(r->sock, r->ready, sizeof(r->ready)) == -1 ||
	    sscanf(r->ready, "R %d %d", &r->pd, &r->abi) != 2)
		return (-1);
	return (0);
}

/* Let the probe go on, collect its line, its stderr and its status. */
static void
finish(struct run *r)
{
	if (r->pid <= 0)
		return;
	if (write(r->sock, "G", 1) == 1)
		(void)readline(r->sock, r->result, sizeof(r->result));
	readall(r->err, r->errtext, sizeof(r->errtext));
	if (waitpid(r->pid, &r->status, 0) == -1)
		r->status = -1;
	close(r->sock);
	close(r->err);
	r->pid = 0;
}

static void
kill_run(struct run *r)
{
	if (r->pid > 0) {
		(void)kill(r->pid, SIGKILL);
		(void)waitpid(r->pid, NULL, 0);
		close(r->sock);
		close(r->err);
		r->pid = 0;
	}
}

/* The exit code of a child, or -1 if it did not exit. */
static int
exit_code(pid_t pid)
{
	int	 st;

	if (pid <= 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return (-1);
	return (WEXITSTATUS(st));
}

static int
died_of(const struct run *r, int sig)
{
	return (r->status != -1 && WIFSIGNALED(r->status) &&
	    WTERMSIG(r->status) == sig);
}

static int
exited(const struct run *r, int code)
{
	return (r->status != -1 && WIFEXITED(r->status) &&
	    WEXITSTATUS(r->status) == code);
}

/* The value of one row of /proc/<pid>/limits, soft and hard. */
static int
limit_is(pid_t pid, const char *row, const char *want)
{
	char	 path[64], line[256], soft[32], hard[32];
	FILE	*fp;
	int	 found = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, row, strlen(row)) != 0)
			continue;
		if (sscanf(line + 26, "%31s %31s", soft, hard) == 2 &&
		    strcmp(soft, want) == 0 && strcmp(hard, want) == 0)
			found = 1;
	}
	fclose(fp);
	return (found);
}

static int
same_link(const char *a, const char *b)
{
	char	 la[PATH_MAX], lb[PATH_MAX];
	ssize_t	 na, nb;

	if ((na = readlink(a, la, sizeof(la) - 1)) == -1 ||
	    (nb = readlink(b, lb, sizeof(lb) - 1)) == -1)
		return (-1);
	la[na] = lb[nb] = '\0';
	return (strcmp(la, lb) == 0);
}

/*
 * RLIMIT_NPROC 0 in a probe running as the test user must not stop
 * another process of the same uid from forking.
 */
static int
other_uid_process_forks(void)
{
	pid_t	 pid, c;
	int	 st;

	if ((pid = fork()) == -1)
		return (0);
	if (pid == 0) {
		if (setgroups(1, &pw.pw_gid) == -1 ||
		    setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) == -1 ||
		    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) == -1)
			_exit(2);
		if ((c = fork()) == -1)
			_exit(1);
		if (c == 0)
			_exit(0);
		_exit(waitpid(c, &st, 0) == c && WIFEXITED(st) ? 0 : 3);
	}
	return (waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
}

/* A role's steady state under its full sandbox. */
static void
test_role(const char *role, int db, int netns)
{
	struct sandbox_status	 ss;
	struct stat		 sb;
	struct run		 r;
	char			 path[64], link[PATH_MAX], real[PATH_MAX];
	char			 dir[PATH_MAX];
	ssize_t			 n;
	int			 i, idsok, rc;

	if (start(&r, role, "work", 0) == -1) {
		ok(0, "%s: probe confined (got \"%s\")", role, r.ready);
		kill_run(&r);
		finish(&r);
		diag("stderr: %s", r.errtext);
		return;
	}
	ok(1, "%s: probe confined", role);
	is_int(r.pd & SANDBOX_NOTROOT, isroot ? 0 : SANDBOX_NOTROOT,
	    "%s: privdrop says whether it could drop", role);

	rc = sandbox_status(r.pid, &ss);
	is_int(rc, 0, "%s: /proc status parsed", role);
	is_int(ss.ss_seccomp, 2, "%s: Seccomp: 2", role);
	is_int(ss.ss_nonewprivs, 1, "%s: NoNewPrivs: 1", role);

	/* Non-dumpable: the kernel gives /proc/<pid> files to root. */
	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)r.pid);
	ok(stat(path, &sb) == 0 && sb.st_uid == 0 &&
	    (!isroot || ss.ss_uid[0] != 0), "%s: not dumpable", role);

	ok(limit_is(r.pid, "Max core file size", "0"),
	    "%s: RLIMIT_CORE 0", role);
	ok(limit_is(r.pid, "Max processes", "0"), "%s: RLIMIT_NPROC 0", role);
	ok(limit_is(r.pid, "Max file size", db ? "unlimited" : "0"),
	    "%s: RLIMIT_FSIZE %s", role, db ? "unlimited" : "0");

	if (isroot) {
		idsok = 1;
		for (i = 0; i < 4; i++)
			if (ss.ss_uid[i] != pw.pw_uid ||
			    ss.ss_gid[i] != pw.pw_gid)
				idsok = 0;
		ok(idsok, "%s: Uid and Gid lines all %u/%u", role,
		    (unsigned int)pw.pw_uid, (unsigned int)pw.pw_gid);

		(void)snprintf(path, sizeof(path), "/proc/%d/root",
		    (int)r.pid);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		(void)snprintf(dir, sizeof(dir), "%s", topdir);
		ok(n > 0 && strncmp(link, topdir, strlen(topdir)) == 0 &&
		    strstr(link + strlen(topdir), role) != NULL &&
		    realpath(link, real) != NULL && strcmp(real, link) == 0,
		    "%s: root is its directory (%s)", role, link);

		(void)snprintf(path, sizeof(path), "/proc/%d/ns/net",
		    (int)r.pid);
		is_int(same_link(path, "/proc/self/ns/net"), !netns,
		    "%s: %s network namespace", role,
		    netns ? "own" : "the host's");
		if (strcmp(role, "frontend") == 0)
			ok(other_uid_process_forks(),
			    "another process of uid %u still forks",
			    (unsigned int)pw.pw_uid);
	} else {
		skip("uid/gid drop", "not root");
		skip("chroot", "not root");
		skip("network namespace", "not root");
	}

	finish(&r);
	is_str(r.result, "OK", "%s: steady state works confined", role);
	ok(exited(&r, 0), "%s: exits 0 (status 0x%x)", role, r.status);
	if (!exited(&r, 0) || strcmp(r.result, "OK") != 0)
		diag("stderr: %s", r.errtext);
}

/* A forbidden call: SIGSYS; a soft one: the errno on the probe's line. */
static void
test_deny(const char *role, const char *action, int want_errno, int debug)
{
	struct run	 r;
	char		 want[32];

	if (start(&r, role, action, debug) == -1) {
		ok(0, "%s %s: probe confined (got \"%s\")", role, action,
		    r.ready);
		kill_run(&r);
		return;
	}
	finish(&r);
	if (want_errno == 0) {
		ok(died_of(&r, SIGSYS), "%s: %s killed by SIGSYS%s "
		    "(status 0x%x, \"%s\")", role, action,
		    debug ? " in debug mode" : "", r.status, r.result);
		if (debug)
			ok(strstr(r.errtext, "seccomp denied syscall ") !=
			    NULL && strstr(r.errtext, action) != NULL,
			    "%s: debug handler names %s", role, action);
	} else {
		(void)snprintf(want, sizeof(want), "ERRNO %d", want_errno);
		is_str(r.result, want, "%s: %s fails with %s", role, action,
		    strerror(want_errno));
		ok(exited(&r, 0), "%s: %s survives", role, action);
	}
}

static void
test_landlock(const char *role, int db, int noports)
{
	struct run	 r;
	int		 abi, e_open, e_ok, e_other;

	if (start(&r, role, noports ? "landlock0" : "landlock", 0) == -1) {
		ok(0, "%s landlock: probe started (\"%s\")", role, r.ready);
		kill_run(&r);
		return;
	}
	finish(&r);
	if (sscanf(r.result, "LL %d %d %d %d", &abi, &e_open, &e_ok,
	    &e_other) != 4) {
		ok(0, "%s landlock: result (\"%s\")", role, r.result);
		return;
	}
	if (abi == 0) {
		skip("landlock", "the kernel has no Landlock");
		return;
	}
	is_int(e_open, db ? 0 : EACCES, "%s: landlock %s its root (abi %d)",
	    role, db ? "opens" : "cannot open", abi);
	if (strcmp(role, "connector") != 0)
		return;
	if (noports) {
		ok(e_ok == 0 && e_other == 0,
		    "connector: no port list, landlock leaves connect alone");
		return;
	}
	is_int(e_ok, 0, "connector: landlock lets it connect to its port");
	if (abi >= 4)
		is_int(e_other, EACCES,
		    "connector: landlock refuses another TCP port");
	else
		skip("landlock TCP", "Landlock ABI < 4");
}

static void
test_local(void)
{
	struct sandbox_status	 ss;
	struct sandbox_opts	 so;
	uint16_t		 ports[SANDBOX_MAX_PORTS + 1];
	const char		*good = "Name:\tx\nUid:\t1\t2\t3\t4\n"
	    "Gid:\t5\t6\t7\t8\nNoNewPrivs:\t1\nSeccomp:\t2\n"
	    "Seccomp_filters:\t3\n";
	pid_t			 pid;
	int			 code;

	is_str(sandbox_role_name(SANDBOX_STORAGE), "storage", "role name");
	is_str(sandbox_role_name((enum sandbox_role)42), "unknown",
	    "role name out of range");

	is_int(sandbox_status_parse(good, strlen(good), &ss), 0,
	    "status text parsed");
	ok(ss.ss_uid[0] == 1 && ss.ss_uid[3] == 4 && ss.ss_gid[0] == 5 &&
	    ss.ss_gid[3] == 8 && ss.ss_nonewprivs == 1 &&
	    ss.ss_seccomp == 2 && ss.ss_nfilters == 3, "status fields");
	is_int(sandbox_status_parse(good, strlen(good) - 32, &ss), -1,
	    "status without Seccomp refused");
	is_int(sandbox_status_parse("Uid:\t1\t2\nGid:\t1\t1\t1\t1\n"
	    "Seccomp:\t0\n", 37, &ss), -1, "short Uid line refused");
	is_int(sandbox_status_parse("Uid:\t1\t1\t1\t99999999999\n"
	    "Gid:\t1\t1\t1\t1\nSeccomp:\t0\n", 48, &ss), -1,
	    "out of range uid refused");

	is_int(sandbox_status(0, &ss), 0, "own status");
	ok(ss.ss_seccomp == 0 && ss.ss_uid[0] == getuid() &&
	    ss.ss_gid[1] == getegid(), "own status: no filter, our ids");
	is_int(sandbox_status(-5, &ss), -1, "status of no process");

	/* Bad arguments are refused before anything is applied. */
	memset(&so, 0, sizeof(so));
	memset(ports, 0, sizeof(ports));
	fflush(stdout);
	if ((pid = fork()) == 0) {
		int	 bad = 0;

		ports[0] = 443;
		so.so_ports = ports;
		so.so_nports = SANDBOX_MAX_PORTS + 1;
		if (sandbox_enter(SANDBOX_CONNECTOR, &so) != -1 ||
		    errno != EINVAL)
			bad |= 1;
		so.so_nports = 2;	/* ports[1] is 0 */
		if (sandbox_enter(SANDBOX_CONNECTOR, &so) != -1 ||
		    errno != EINVAL)
			bad |= 2;
		if (sandbox_enter((enum sandbox_role)9, NULL) != -1)
			bad |= 4;
		if (sandbox_privdrop((enum sandbox_role)9, "/", "nobody",
		    0) != -1)
			bad |= 8;
		if (isroot && sandbox_privdrop(SANDBOX_FRONTEND, "/",
		    "no-such-user-oidcd", 0) != -1)
			bad |= 16;
		if (isroot && sandbox_privdrop(SANDBOX_FRONTEND, "/",
		    "root", 0) != -1)
			bad |= 32;
		/* None of that may have confined us. */
		if (sandbox_status(0, &ss) == -1 || ss.ss_seccomp != 0)
			bad |= 64;
		_exit(bad);
	}
	code = exit_code(pid);
	ok(code == 0, "bad arguments refused, nothing applied "
	    "(0x%x)", code);
}

/*
 * sandbox_privdrop() in this process's children, without seccomp: the
 * not-root path (which root takes too, after dropping by hand, so that
 * it is tested everywhere) and SANDBOX_PD_NOUNSHARE.
 */
static void
test_privdrop(void)
{
	struct rlimit	 rl;
	struct stat	 before, after;
	char		*dir, path[PATH_MAX];
	pid_t		 pid;
	int		 code, bad, rc, nsfd, fd;

	if ((dir = mkroot("control")) == NULL) {
		ok(0, "mkroot");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		bad = 0;
		/* Not a file: a stderr file keeps RLIMIT_FSIZE (below). */
		if ((fd = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(0x80);
		if (isroot && (setgroups(1, &pw.pw_gid) == -1 ||
		    setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) == -1 ||
		    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) == -1))
			_exit(0x80);
		/* The uid change cleared it; the sandbox must do it itself. */
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1)
			_exit(0x80);
		if ((rc = sandbox_privdrop(SANDBOX_CONTROL, dir, user, 0)) !=
		    SANDBOX_NOTROOT)
			bad |= 1;
		if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			bad |= 2;
		if (getrlimit(RLIMIT_CORE, &rl) == -1 || rl.rlim_cur != 0 ||
		    getrlimit(RLIMIT_FSIZE, &rl) == -1 || rl.rlim_cur != 0 ||
		    getrlimit(RLIMIT_NPROC, &rl) == -1 || rl.rlim_cur != 0)
			bad |= 4;
		if (fork() != -1 || errno != EAGAIN)
			bad |= 8;
		if (access(topdir, F_OK) == -1)		/* no chroot */
			bad |= 16;
		_exit(bad);
	}
	code = exit_code(pid);
	ok(code == 0, "not root: no chroot, not dumpable, "
	    "limits 0, fork fails (0x%x)", code);

	/* oidcd -d 2> file must not die of SIGXFSZ at its first line. */
	if ((dir = mkroot("frontend")) == NULL) {
		ok(0, "mkroot");
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/stderr", topdir);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666)) ==
		    -1 || dup2(fd, STDERR_FILENO) == -1)
			_exit(0x80);
		if (sandbox_privdrop(SANDBOX_FRONTEND, dir, user, 0) == -1)
			_exit(1);
		if (getrlimit(RLIMIT_FSIZE, &rl) == -1 || rl.rlim_cur == 0)
			_exit(2);
		log_warnx("a line to a file");
		_exit(0);
	}
	code = exit_code(pid);
	ok(code == 0, "stderr is a file: RLIMIT_FSIZE left alone (0x%x)",
	    code);

	if (!isroot) {
		skip("SANDBOX_PD_NOUNSHARE", "not root");
		return;
	}
	if ((dir = mkroot("frontend")) == NULL ||
	    stat("/proc/self/ns/net", &before) == -1) {
		ok(0, "mkroot");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		bad = 0;
		if ((nsfd = open("/proc/self/ns", O_PATH | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			_exit(0x80);
		if (sandbox_privdrop(SANDBOX_FRONTEND, dir, user,
		    SANDBOX_PD_NOUNSHARE) != 0)
			bad |= 1;
		if (fstatat(nsfd, "net", &after, 0) == -1 ||
		    after.st_ino != before.st_ino)
			bad |= 2;
		if (getuid() != pw.pw_uid || access(topdir, F_OK) != -1)
			bad |= 4;
		_exit(bad);
	}
	code = exit_code(pid);
	ok(code == 0, "SANDBOX_PD_NOUNSHARE keeps the network "
	    "namespace (0x%x)", code);
}

/* The probe: given, made by the Makefile, or built now. */
static int
find_probe(void)
{
	const char	*env, *cc;
	char		 cmd[PATH_MAX + 1024];
	int		 n;

	if ((env = getenv("SANDBOX_PROBE")) != NULL && *env != '\0') {
		(void)snprintf(probe, sizeof(probe), "%s", env);
		return (access(probe, X_OK));
	}
	(void)snprintf(probe, sizeof(probe), "obj/test/sandbox_probe");
	if (access(probe, X_OK) == 0)
		return (0);
	if ((cc = getenv("CC")) == NULL || *cc == '\0')
		cc = "cc";
	(void)snprintf(probe, sizeof(probe), "%s/sandbox_probe", topdir);
	n = snprintf(cmd, sizeof(cmd),
	    "%s -O2 -g -std=gnu11 -D_GNU_SOURCE -Ioidcd -Iregress/unit "
	    "$(pkg-config --cflags libevent libtls lmdb libseccomp "
	    "libcrypto libbsd-overlay) -o %s regress/unit/sandbox_probe.c "
	    "oidcd/sandbox.c oidcd/log.c $(pkg-config --libs libevent "
	    "libtls lmdb libseccomp libcrypto libbsd-overlay) >&2",
	    cc, probe);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return (-1);
	diag("building %s", probe);
	fflush(stdout);
	if (system(cmd) != 0)
		return (-1);
	return (access(probe, X_OK));
}

int
main(void)
{
	struct passwd	*p;
	char		 cmd[PATH_MAX + 16];

	log_init(1, 0);
	isroot = geteuid() == 0;
	/* The probes' helpers end up here when their probe is gone. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		diag("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	srandom(getpid());
	if (mkdtemp(topdir) == NULL || chmod(topdir, 0755) == -1) {
		ok(0, "mkdtemp");
		return (tap_done());
	}
	if ((user = getenv("SANDBOX_TEST_USER")) == NULL || *user == '\0')
		user = "nobody";
	if ((p = getpwnam(user)) != NULL) {
		pw = *p;
	} else if (isroot) {
		ok(0, "test user %s exists", user);
		goto done;
	}

	test_local();
	test_privdrop();

	if (!ok(find_probe() == 0, "probe at %s", probe))
		goto done;

	test_role("frontend", 0, 1);
	test_role("connector", 0, 0);
	test_role("signer", 1, 1);
	test_role("storage", 1, 1);
	test_role("control", 0, 1);

	test_deny("frontend", "socket", 0, 0);
	test_deny("frontend", "execve", 0, 0);
	test_deny("frontend", "fork", 0, 0);
	test_deny("frontend", "kill", 0, 0);
	test_deny("frontend", "sigsys", 0, 0);
	test_deny("frontend", "mmapexec", 0, 0);
	test_deny("frontend", "mprotexec", 0, 0);
	test_deny("frontend", "mmapshared", 0, 0);
	test_deny("frontend", "open", EACCES, 0);
	test_deny("frontend", "unixsock", EACCES, 0);
	test_deny("storage", "connect", 0, 0);
	test_deny("signer", "socket", 0, 0);
	test_deny("control", "connect", 0, 0);
	test_deny("connector", "execve", 0, 0);
	test_deny("frontend", "socket", 0, 1);
	test_deny("storage", "nproc", EAGAIN, 0);

	test_landlock("frontend", 0, 0);
	test_landlock("storage", 1, 0);
	test_landlock("connector", 0, 0);
	test_landlock("connector", 0, 1);

	/* syslog(3) with no /dev/log in the chroot must not kill. */
	{
		struct run	 r;

		if (start(&r, "control", "syslog", 0) == 0) {
			finish(&r);
			ok(strcmp(r.result, "OK") == 0 && exited(&r, 0),
			    "control: syslog in the sandbox (\"%s\", 0x%x)",
			    r.result, r.status);
		} else {
			ok(0, "control: syslog probe started");
			kill_run(&r);
		}
	}

 done:
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		continue;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", topdir);
	if (system(cmd) != 0)
		diag("could not remove %s", topdir);
	return (tap_done());
}
