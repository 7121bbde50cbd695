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
# Token endpoint throughput against the signing limit, per core.
#
# For RS256 and ES256: oidcd with one frontend and lmdb storage (durable,
# under /var/tmp, not tmpfs), pinned to CPU 1; bench/token.c (built here
# with cc) on CPU 0 holds CONNS keep-alive connections, each running its
# own refresh_token chain, for DURATION seconds after a second of
# warm-up.  reuseInterval is off, so that every refresh rotates the
# token: a write committed to disk before each answer.  `openssl speed`
# on CPU 1 just before and just after the refresh run gives sign/s (the
# mean of the two: a shared host drifts by a few percent); each token
# response costs two signatures (ID token and access token), so the
# limit is sign/s / 2 and the ratio is tokens/s over that limit.
# Then the password grant, where bcrypt (cost 10, Dex's minimum) and not
# signing is the bound: reported on its own.
#
# SPLIT=1 measures the deployment bound instead: the signer alone on
# CPU 1, every other oidcd process with the driver on CPU 0, so that the
# one signer process, and not the sum of all the work, sets the rate.
#
# PASSWORD=0 leaves the password grant out; OIDCD names another build
# of the daemon, for comparing two builds in turn.
#
# Usage: sh bench/token.sh	(DURATION, CONNS, PORT, LEVEL, ALGS, SPLIT,
#				 PASSWORD, OIDCD)

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
. bench/lib.sh

DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
PORT=${PORT:-15560}
LEVEL=${LEVEL:-info}
ALGS=${ALGS:-RS256 ES256}
SPLIT=${SPLIT:-0}
PASSWORD=${PASSWORD:-1}
OIDCD=${OIDCD:-oidcd/oidcd}

bench_need || exit 1
bench_setup token || exit 1
state=$(mktemp -d /var/tmp/oidcd-bench-token.XXXXXX) || exit 1
trap 'bench_cleanup; rm -rf "$state"' EXIT

if [ "$(nproc)" -ge 2 ]; then
	srv="taskset -c 1"
	cli="taskset -c 0"
else
	srv=""
	cli=""
	echo "token.sh: one CPU only: server and driver share it" >&2
fi

cc -O2 -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -o "$tmp/token" \
    bench/token.c || exit 1

# sign/s of one core, as openssl measures it.
speed() {
	# shellcheck disable=SC2086
	$srv openssl speed -seconds 5 "$1" 2>/dev/null | awk -v w="$2" '
	    w == "rsa" && /^rsa 2048 bits/ { print $6 }
	    w == "ec" && /ecdsa \(nistp256\)/ { print $7 }'
}

# The config: one client, one user with a cost-10 hash ("password").
config() {
	cat >"$2" <<EOC
issuer: http://127.0.0.1:$PORT/dex
storage:
  type: lmdb
  config:
    path: $state/$1/db
web:
  http: 127.0.0.1:$PORT
logger:
  level: $LEVEL
expiry:
  refreshTokens:
    reuseInterval: 0s
oauth2:
  skipApprovalScreen: true
  passwordConnector: local
signer:
  type: local
  config:
    keysRotationPeriod: 6h
    algorithm: $1
enablePasswordDB: true
staticPasswords:
- email: admin@example.com
  hash: "\$2b\$10\$IBkBdqjsXzKMeGPwrBTvC.03P47ffC4G5iD8wzwg9Ee89rmereTie"
  username: admin
  userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
staticClients:
- id: test-app
  name: Test App
  secret: test-secret
  redirectURIs:
  - http://127.0.0.1:5555/callback
oidcd:
  frontends: 1
  stateDir: $state/$1
  emptyDir: $state/$1/empty
  controlSocket: $state/$1/oidcd.sock
EOC
	chmod 600 "$2"
	mkdir -p "$state/$1"
}

# CONNS refresh tokens from password grants, one a line.
seed_tokens() {
	i=0
	: >"$1"
	while [ $i -lt "$CONNS" ]; do
		curl -sf -u test-app:test-secret \
		    -d grant_type=password -d username=admin@example.com \
		    -d password=password \
		    --data-urlencode \
		    'scope=openid email profile groups offline_access' \
		    "http://127.0.0.1:$PORT/dex/token" |
		    python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])' \
		    >>"$1" 2>/dev/null || return 1
		i=$((i + 1))
	done
}

field() {
	awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'
}

echo "oidcd $(git rev-parse --short HEAD 2>/dev/null), $(uname -r)," \
    "$(nproc) CPUs: $(awk -F': ' '/^model name/ { print $2; exit }' \
    /proc/cpuinfo)"
if [ "$SPLIT" = 1 ]; then
	where="the signer alone on CPU 1, the rest of oidcd and the driver on CPU 0"
else
	where="oidcd (1 frontend, lmdb) on CPU 1, driver on CPU 0"
fi
echo "token driver: $CONNS connections, ${DURATION}s after 1s warm-up;" \
    "$where, logger $LEVEL"
printf '%-6s %-24s %10s %10s %10s %7s %8s %8s\n' alg grant tokens/s \
    sign/s limit ratio p50ms p99ms

failed=0
for alg in $ALGS; do
	case $alg in
	RS256)	what="rsa2048 rsa" ;;
	ES256)	what="ecdsap256 ec" ;;
	*)	echo "token.sh: unknown alg $alg" >&2; exit 1 ;;
	esac
	# shellcheck disable=SC2086
	sign0=$(speed $what)
	config "$alg" "$tmp/$alg.yaml"
	# shellcheck disable=SC2086
	$srv "$OIDCD" -d -f "$tmp/$alg.yaml" >"$tmp/$alg.log" 2>&1 &
	opid=$!
	bench_wait "http://127.0.0.1:$PORT/dex/keys" ||
	    { tail "$tmp/$alg.log" >&2; exit 1; }
	if ! seed_tokens "$tmp/$alg.tokens"; then
		echo "token.sh: $alg: no refresh token from the password" \
		    "grant" >&2
		tail "$tmp/$alg.log" >&2
		kill "$opid"
		wait "$opid"
		opid=""
		failed=1
		continue
	fi

	if [ "$SPLIT" = 1 ] && [ -n "$cli" ]; then
		for p in $opid $(pgrep -P "$opid"); do
			case "$(tr '\0' ' ' <"/proc/$p/cmdline")" in
			*" -P signer "*) ;;
			*) taskset -p -c 0 "$p" >/dev/null ;;
			esac
		done
	fi
	cpu_snapshot "$opid" >"$tmp/cpu0"
	# shellcheck disable=SC2086
	$cli "$tmp/token" -c "$CONNS" -d "$DURATION" -w 1 \
	    -u test-app:test-secret -r "$tmp/$alg.tokens" \
	    127.0.0.1 "$PORT" /dex/token >"$out/token-$alg-refresh.txt" 2>&1
	cpu_snapshot "$opid" >"$tmp/cpu1"
	# Again after the run (oidcd idles): the limit is the mean of the
	# two, since a shared host's speed drifts by a few percent.
	# shellcheck disable=SC2086
	sign1=$(speed $what)
	sign=$(awk -v a="${sign0:-0}" -v b="${sign1:-0}" \
	    'BEGIN { printf "%.1f", (a + b) / 2 }')
	echo "$alg openssl speed before and after the refresh run:" \
	    "$sign0 and $sign1 sign/s" >>"$tmp/cpu.txt"
	r=$(field rate <"$out/token-$alg-refresh.txt" | tail -n 1)
	printf '%-6s %-24s %10s %10s %10s %7s %8s %8s\n' "$alg" \
	    "refresh_token" "${r:-?}" "$sign" \
	    "$(awk -v s="$sign" 'BEGIN { printf "%.0f", s / 2 }')" \
	    "$(awk -v r="${r:-0}" -v s="${sign:-0}" \
	    'BEGIN { if (s > 0) printf "%.2f", r / (s / 2); else print "?" }')" \
	    "$(field p50 <"$out/token-$alg-refresh.txt" | tail -n 1)" \
	    "$(field p99 <"$out/token-$alg-refresh.txt" | tail -n 1)"
	grep -v '^responses' "$out/token-$alg-refresh.txt" | head -n 5 >&2
	echo "$alg refresh, share of a core by role: $(cpu_share "$tmp/cpu0" \
	    "$tmp/cpu1" $((DURATION + 1)))" >>"$tmp/cpu.txt"
	rot=$(field rotated <"$out/token-$alg-refresh.txt" | tail -n 1)
	n=$(field responses <"$out/token-$alg-refresh.txt" | tail -n 1)
	[ "${rot:-0}" = "${n:-0}" ] || echo "token.sh: $alg: only" \
	    "${rot:-0} of ${n:-0} refreshes rotated the token" >&2

	if [ "$PASSWORD" = 0 ]; then
		kill "$opid"
		wait "$opid"
		opid=""
		continue
	fi
	# shellcheck disable=SC2086
	$cli "$tmp/token" -c "$CONNS" -d "$DURATION" -w 1 \
	    -u test-app:test-secret -p admin@example.com:password \
	    -s 'openid email profile groups' \
	    127.0.0.1 "$PORT" /dex/token >"$out/token-$alg-password.txt" 2>&1
	r=$(field rate <"$out/token-$alg-password.txt" | tail -n 1)
	e=$(field errors <"$out/token-$alg-password.txt" | tail -n 1)
	printf '%-6s %-24s %10s %10s %10s %7s %8s %8s\n' "$alg" \
	    "password (bcrypt 10)" "${r:-?}" "" "" "" \
	    "$(field p50 <"$out/token-$alg-password.txt" | tail -n 1)" \
	    "$(field p99 <"$out/token-$alg-password.txt" | tail -n 1)"
	[ "${e:-0}" = 0 ] || echo "token.sh: $alg password: $e non-200" \
	    "answers (rate limiting?)" >&2

	kill "$opid"
	wait "$opid"
	opid=""
done
[ -f "$tmp/cpu.txt" ] && cat "$tmp/cpu.txt"
exit $failed
