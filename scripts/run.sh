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
# make run: start oidcd in the foreground (-d: stderr, debug) on
# etc/oidcd.yaml from the top of the source tree.  That file keeps its
# state, keys and control socket under ./var.  As root the system users
# are created when missing; without root oidcd still splits into its
# processes but all of them keep your user.
#
# Usage: sh scripts/run.sh [config-file]

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
conf=${1:-etc/oidcd.yaml}

if [ ! -x oidcd/oidcd ]; then
	echo "run.sh: oidcd/oidcd is not built; run make first" >&2
	exit 1
fi
if [ ! -r "$conf" ]; then
	echo "run.sh: cannot read $conf" >&2
	exit 1
fi

mkdir -p var || exit 1

if [ "$(id -u)" -eq 0 ]; then
	for u in _oidcd _oidcdkey _oidcddb; do
		if ! getent passwd "$u" >/dev/null; then
			sh scripts/users.sh || exit 1
			break
		fi
	done
else
	echo "run.sh: not root: oidcd runs without separate users" \
	    "(its processes are still split and sandboxed)."
fi

# The first value of a top-level or oidcd: key, for the banner only.
value() {
	sed -n "s/^[[:space:]]*$1:[[:space:]]*\"\{0,1\}\([^\"#[:space:]]*\).*/\1/p" \
	    "$conf" | head -n 1
}
issuer=$(value issuer)
sock=$(value controlSocket)
[ -n "$sock" ] || sock=/run/oidcd.sock

cat <<EOT

  oidcd on $conf
  issuer     $issuer
  discovery  $issuer/.well-known/openid-configuration
  keys       $issuer/keys
  health     $issuer/healthz
  login      admin@example.com / password
  control    oidcctl/oidcctl -s $sock show status

  Stop with ^C.

EOT

# The file holds a client secret and a password hash: oidcd warns when
# others can read it, so keep it to ourselves (git keeps no modes but x).
chmod go-rwx "$conf" 2>/dev/null
exec oidcd/oidcd -d -f "$conf"
