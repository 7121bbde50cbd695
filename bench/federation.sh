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
# Federated logins per second, and oidcd's own CPU time per login.
#
# oidcd (one frontend, lmdb storage under /var/tmp, RS256) is pinned to
# CPU 1; the upstream (regress/node/upstream.mjs, oidc-provider playing
# Authentik) and the driver (bench/fedlogin.mjs: CONC workers, each
# logging in again and again: /auth, the upstream's login and consent,
# /callback, the code at /token) share CPU 0.  The upstream's CPU is
# excluded by construction: oidcd's is read from /proc for its processes
# only, before and after, and divided by the logins done.
#
# Usage: sh bench/federation.sh	(DURATION, CONC, PORT, LEVEL)

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
. bench/lib.sh

DURATION=${DURATION:-10}
CONC=${CONC:-8}
PORT=${PORT:-15562}
LEVEL=${LEVEL:-info}

bench_need || exit 1
if ! (cd regress/node && { [ -d node_modules/oidc-provider ] ||
    npm ci --no-audit --no-fund >/dev/null 2>&1; }); then
	echo "federation.sh: npm ci in regress/node failed" >&2
	exit 1
fi
bench_setup federation || exit 1
state=$(mktemp -d /var/tmp/oidcd-bench-fed.XXXXXX) || exit 1
upid=""
trap 'kill $upid 2>/dev/null; bench_cleanup; rm -rf "$state"' EXIT

if [ "$(nproc)" -ge 2 ]; then
	srv="taskset -c 1"
	cli="taskset -c 0"
else
	srv=""
	cli=""
	echo "federation.sh: one CPU only: everything shares it" >&2
fi

issuer=http://127.0.0.1:$PORT/dex
# shellcheck disable=SC2086
$cli node regress/node/upstream.mjs --port 0 --alg RS256 \
    --client "oidcd:oidcd-secret:$issuer/callback" \
    --ready-file "$tmp/up.ready" >"$tmp/up.log" 2>&1 &
upid=$!
i=0
while [ ! -s "$tmp/up.ready" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
up=$(cat "$tmp/up.ready")
[ -n "$up" ] || { cat "$tmp/up.log" >&2; exit 1; }

cat >"$tmp/oidcd.yaml" <<EOC
issuer: $issuer
storage:
  type: lmdb
  config:
    path: $state/db
web:
  http: 127.0.0.1:$PORT
logger:
  level: $LEVEL
oauth2:
  skipApprovalScreen: true
connectors:
- type: oidc
  id: authentik
  name: Authentik
  config:
    issuer: $up
    clientID: oidcd
    clientSecret: oidcd-secret
    redirectURI: $issuer/callback
staticClients:
- id: bench-app
  name: Bench App
  secret: bench-secret
  redirectURIs:
  - http://127.0.0.1:5555/callback
oidcd:
  frontends: 1
  stateDir: $state
  emptyDir: $state/empty
  controlSocket: $state/oidcd.sock
EOC
chmod 600 "$tmp/oidcd.yaml"
# shellcheck disable=SC2086
$srv oidcd/oidcd -d -f "$tmp/oidcd.yaml" >"$tmp/oidcd.log" 2>&1 &
opid=$!
bench_wait "$issuer/healthz/ready" || { tail "$tmp/oidcd.log" >&2; exit 1; }

echo "oidcd $(git rev-parse --short HEAD 2>/dev/null), $(uname -r)," \
    "$(nproc) CPUs: $(awk -F': ' '/^model name/ { print $2; exit }' \
    /proc/cpuinfo)"
echo "federated logins: $CONC workers, ${DURATION}s after 2s warm-up;" \
    "oidcd (1 frontend, lmdb, RS256) on CPU 1; upstream and driver on" \
    "CPU 0; logger $LEVEL"
hz=$(getconf CLK_TCK)
# The snapshots bracket the counted seconds: the driver warms up first.
# shellcheck disable=SC2086
$cli node bench/fedlogin.mjs "$issuer" "$up" bench-app bench-secret \
    http://127.0.0.1:5555/callback authentik "$CONC" "$DURATION" 2 \
    >"$out/federation.txt" 2>&1 &
dpid=$!
sleep 2
cpu_snapshot "$opid" >"$tmp/cpu0"
sleep "$DURATION"
cpu_snapshot "$opid" >"$tmp/cpu1"
wait "$dpid"
cat "$out/federation.txt"
n=$(awk '/^logins/ { print $2 }' "$out/federation.txt")
awk -v n="${n:-0}" -v hz="$hz" '
    NR == FNR { a[$1] = $2; next }
    { d = $2 - a[$1]; t += d; per[$1] = d }
    END {
	if (n == 0) { print "no logins"; exit 1 }
	printf "oidcd CPU per login: %.2f ms (", 1000 * t / hz / n
	sep = ""
	for (r in per) { printf "%s%s %.2f", sep, r, 1000 * per[r] / hz / n;
	    sep = ", " }
	print ")"
    }' "$tmp/cpu0" "$tmp/cpu1"
echo "oidcd CPU 1 share: $(cpu_share "$tmp/cpu0" "$tmp/cpu1" "$DURATION")"
