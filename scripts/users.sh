#!/bin/sh
#
# Copyright (c) 2026 The oidcd authors
#
# Permission to use, copy, modify, and distribute this software for any
# purpose with or without fee is hereby granted, provided that the above
# copyright notice and this permission notice appear in all copies.
#
# THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
# WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
# MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
# ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
# WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
# ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
# OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
#
# Create oidcd's system users when they are missing: _oidcd (frontends,
# connector, control; its group owns the control socket), _oidcdkey (the
# signer) and _oidcddb (storage).  No home, no shell.  Debian's adduser
# refuses names that start with "_", hence useradd.  Other names may be
# given as arguments, in the same order, for an oidcd: block that renames
# them.  make install uses systemd-sysusers with etc/oidcd.sysusers
# instead when it is there.
#
# Usage: sh scripts/users.sh [user keyuser dbuser]

if [ $# -ne 0 ] && [ $# -ne 3 ]; then
	echo "usage: sh scripts/users.sh [user keyuser dbuser]" >&2
	exit 2
fi
[ $# -eq 0 ] && set -- _oidcd _oidcdkey _oidcddb

if [ "$(id -u)" -ne 0 ]; then
	echo "users.sh: only root can create the users $*" >&2
	exit 1
fi

nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false

for u in "$@"; do
	getent passwd "$u" >/dev/null && continue
	if getent group "$u" >/dev/null; then
		group="-g $u"
	else
		group="-U"
	fi
	# shellcheck disable=SC2086
	useradd --system --no-create-home --home-dir /var/empty \
	    --shell "$nologin" $group --comment "oidcd" "$u" || exit 1
	echo "users.sh: created user $u"
done
exit 0
