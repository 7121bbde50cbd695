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
 * Per-process hardening on Linux (DESIGN.md section 7): the privilege
 * drop every child does as root, then no-new-privs, Landlock and a
 * seccomp allowlist per role once its initialization is done.  This
 * header depends on nothing else of the daemon.
 */

#ifndef SANDBOX_H
#define SANDBOX_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

enum sandbox_role {
	SANDBOX_FRONTEND,
	SANDBOX_CONNECTOR,
	SANDBOX_SIGNER,
	SANDBOX_STORAGE,
	SANDBOX_CONTROL
};
#define SANDBOX_NROLES		5

/* TCP ports the connector may connect to (Landlock ABI >= 4). */
#define SANDBOX_MAX_PORTS	16
/* Longest /proc/<pid>/status read by sandbox_status(). */
#define SANDBOX_STATUS_MAX	8192
/* Syscall numbers the debug handler can name. */
#define SANDBOX_MAX_SYSNO	512

/* sandbox_privdrop() flags */
#define SANDBOX_PD_NOUNSHARE	0x01	/* keep the parent's namespaces */

/* sandbox_privdrop() result bits; the caller logs them once */
#define SANDBOX_NOTROOT		0x01	/* no chroot, no uid change */
#define SANDBOX_NONS		0x02	/* unshare() refused */

/* sandbox_opts.so_flags */
#define SANDBOX_DEBUG		0x01	/* trap, name the syscall, die */

/* The environment variable that turns SANDBOX_DEBUG on. */
#define SANDBOX_DEBUG_ENV	"OIDCD_SECCOMP_DEBUG"

struct sandbox_opts {
	int		 so_flags;
	const uint16_t	*so_ports;	/* connector: allowed TCP ports */
	size_t		 so_nports;
};

/* What /proc/<pid>/status says about a process. */
struct sandbox_status {
	int		 ss_seccomp;	/* 0 off, 1 strict, 2 filter */
	int		 ss_nfilters;	/* -1 if the kernel does not say */
	int		 ss_nonewprivs;
	uid_t		 ss_uid[4];	/* real, effective, saved, fs */
	gid_t		 ss_gid[4];
};

const char	*sandbox_role_name(enum sandbox_role);
int		 sandbox_privdrop(enum sandbox_role, const char *,
		    const char *, int);
int		 sandbox_landlock(enum sandbox_role,
		    const struct sandbox_opts *);
int		 sandbox_enter(enum sandbox_role, const struct sandbox_opts *);
int		 sandbox_status(pid_t, struct sandbox_status *);
int		 sandbox_status_parse(const char *, size_t,
		    struct sandbox_status *);

#endif /* SANDBOX_H */
