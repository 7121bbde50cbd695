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
#
# Throughput of GET discovery and GET /keys: oidcd against nginx serving
# the same bytes, in the same run, per core.  oidcd runs with one
# frontend and nginx with one worker, both pinned to CPU 1; wrk runs on
# CPU 0.  Prints requests per second and the ratio oidcd/nginx; wrk's
# full output goes to bench/out/.  Not a test: no pass or fail.
#
# Usage: sh bench/discovery.sh
# Environment: DURATION (10s), CONNS (32), THREADS (1), OIDCD_PORT
# (15556), NGINX_PORT (15557).

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
. bench/lib.sh

DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
OIDCD_PORT=${OIDCD_PORT:-15556}
NGINX_PORT=${NGINX_PORT:-15557}

bench_need || exit 1
bench_setup discovery || exit 1

if [ "$(nproc)" -ge 2 ]; then
	srv="taskset -c 1"
	cli="taskset -c 0"
else
	srv=""
	cli=""
	echo "discovery.sh: one CPU only: server and wrk share it" >&2
fi

# The make run config on our port and directory, one frontend, and no
# debug logging in the measured path.
bench_config "$OIDCD_PORT" "$tmp/oidcd.yaml" 1 info || exit 1
issuer=http://127.0.0.1:$OIDCD_PORT/dex
# shellcheck disable=SC2086
$srv oidcd/oidcd -d -f "$tmp/oidcd.yaml" >"$tmp/oidcd.log" 2>&1 &
opid=$!
bench_wait "$issuer/keys" || { tail "$tmp/oidcd.log" >&2; exit 1; }

# The same bytes, from nginx.
www=$tmp/www
mkdir -p "$www/dex/.well-known"
curl -sf -o "$www/dex/.well-known/openid-configuration" \
    "$issuer/.well-known/openid-configuration" || exit 1
curl -sf -o "$www/dex/keys" "$issuer/keys" || exit 1
chmod -R a+rX "$www"
sed -e "s#@DIR@#$tmp#g" -e "s#@ROOT@#$www#g" -e "s#@PORT@#$NGINX_PORT#g" \
    bench/nginx.conf >"$tmp/nginx.conf"
# shellcheck disable=SC2086
$srv nginx -c "$tmp/nginx.conf" -p "$tmp/" >"$tmp/nginx.log" 2>&1 &
npid=$!
bench_wait "http://127.0.0.1:$NGINX_PORT/dex/keys" ||
    { cat "$tmp/nginx-error.log" "$tmp/nginx.log" >&2; exit 1; }

for p in .well-known/openid-configuration keys; do
	curl -sf "http://127.0.0.1:$NGINX_PORT/dex/$p" | cmp -s - "$www/dex/$p" ||
	    { echo "discovery.sh: nginx serves other bytes for $p" >&2; exit 1; }
done

echo "oidcd $(git rev-parse --short HEAD 2>/dev/null), $(uname -r)," \
    "$(nproc) CPUs: $(awk -F': ' '/^model name/ { print $2; exit }' \
    /proc/cpuinfo)"
echo "wrk -t$THREADS -c$CONNS -d$DURATION; servers on CPU 1, wrk on CPU 0"
printf '%-40s %12s %12s %12s\n' path "oidcd req/s" "nginx req/s" \
    oidcd/nginx

# Run wrk on one URL; print its requests per second.
run_wrk() {
	name=$1
	url=$2
	# shellcheck disable=SC2086
	$cli wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url" \
	    >"$out/discovery-$name.txt" 2>&1
	if grep -q 'Non-2xx' "$out/discovery-$name.txt"; then
		echo "discovery.sh: $name: non-2xx responses, see" \
		    "bench/out/discovery-$name.txt" >&2
	fi
	awk '/^Requests\/sec:/ { print $2 }' "$out/discovery-$name.txt"
}

for p in .well-known/openid-configuration keys; do
	n=$(echo "$p" | tr -c 'a-z\n' '_')
	# A short warm-up of each, then the measured runs.
	# shellcheck disable=SC2086
	$cli wrk -t1 -c"$CONNS" -d1s "$issuer/$p" >/dev/null 2>&1
	# shellcheck disable=SC2086
	$cli wrk -t1 -c"$CONNS" -d1s "http://127.0.0.1:$NGINX_PORT/dex/$p" \
	    >/dev/null 2>&1
	o=$(run_wrk "oidcd-$n" "$issuer/$p")
	g=$(run_wrk "nginx-$n" "http://127.0.0.1:$NGINX_PORT/dex/$p")
	printf '%-40s %12s %12s %12s\n' "/dex/$p" "${o:-?}" "${g:-?}" \
	    "$(awk -v o="${o:-0}" -v g="${g:-0}" \
	    'BEGIN { if (g > 0) printf "%.2f", o / g; else print "?" }')"
done
