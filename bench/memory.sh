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
# Idle memory: start oidcd on the make run configuration (its frontend
# count, on another port and directory), wait, and add up the
# proportional set size (Pss, /proc/PID/smaps_rollup) of the parent and
# every child: shared pages are counted once in all.  Prints the total in
# MB and one line per process.  Run as root: the children are not
# dumpable, so only root may read their smaps.  Not a test.
#
# Usage: sh bench/memory.sh
# Environment: SETTLE (seconds to wait, 2), OIDCD_PORT (15558),
# FRONTENDS (as in etc/oidcd.yaml).

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
. bench/lib.sh

SETTLE=${SETTLE:-2}
OIDCD_PORT=${OIDCD_PORT:-15558}

bench_need || exit 1
if [ "$(id -u)" -ne 0 ]; then
	echo "memory.sh: run as root to read the children's smaps" >&2
	exit 1
fi
bench_setup memory || exit 1
bench_config "$OIDCD_PORT" "$tmp/oidcd.yaml" "${FRONTENDS:-}" "" || exit 1

oidcd/oidcd -d -f "$tmp/oidcd.yaml" >"$tmp/oidcd.log" 2>&1 &
opid=$!
bench_wait "http://127.0.0.1:$OIDCD_PORT/dex/keys" ||
    { tail "$tmp/oidcd.log" >&2; exit 1; }
sleep "$SETTLE"

# One line per process: pid role Pss Rss Private (kB).
{
	for pid in $opid $(ps -o pid= --ppid "$opid"); do
		f=/proc/$pid/smaps_rollup
		[ -r "$f" ] || continue
		role=$(tr '\0' '\n' <"/proc/$pid/cmdline" |
		    awk 'p { print; exit } $0 == "-P" { p = 1 }')
		i=$(tr '\0' '\n' <"/proc/$pid/cmdline" |
		    awk 'p { print; exit } $0 == "-I" { p = 1 }')
		awk -v pid="$pid" -v role="${role:-parent}${i:+[$i]}" '
		    /^Pss:/ { pss = $2 }
		    /^Rss:/ { rss = $2 }
		    /^Private_(Clean|Dirty):/ { priv += $2 }
		    END { print pid, role, pss, rss, priv }' "$f"
	done
} >"$tmp/mem"

echo "oidcd $(git rev-parse --short HEAD 2>/dev/null), $(uname -r)," \
    "idle for ${SETTLE}s after start"
awk '
BEGIN { printf "%8s %-14s %10s %10s %10s\n", "PID", "ROLE", "PSS kB",
    "RSS kB", "PRIVATE kB" }
{ printf "%8s %-14s %10d %10d %10d\n", $1, $2, $3, $4, $5; t += $3; n++ }
END { printf "total Pss of %d processes: %.1f MB\n", n, t / 1024 }
' "$tmp/mem" | tee "$out/memory.txt"
