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
# Helpers for the benchmark scripts (sourced, not run; they set $top).
# shellcheck shell=sh disable=SC2154

# Make sure the benchmark tools are installed (scripts/deps.sh).
bench_need() {
	sh "$top/scripts/deps.sh" install-bench || return 1
	if [ ! -x "$top/oidcd/oidcd" ]; then
		echo "bench: oidcd/oidcd is not built; run make first" >&2
		return 1
	fi
}

# A temporary directory, removed with the servers we started at exit.
bench_setup() {
	out=$top/bench/out
	mkdir -p "$out" || return 1
	tmp=$(mktemp -d "/tmp/oidcd-bench-$1.XXXXXX") || return 1
	# nginx's worker runs as nobody and must read the files.
	chmod 755 "$tmp"
	opid=""
	npid=""
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM
}

bench_cleanup() {
	for p in $opid $npid; do
		kill "$p" 2>/dev/null
	done
	for p in $opid $npid; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}

# bench_config port file frontends level: the make run configuration
# on another port, with its state in $tmp; frontends and logger level
# replaced unless empty.
bench_config() {
	sed -e "s#127\.0\.0\.1:5556#127.0.0.1:$1#g" \
	    -e "s#\./var#$tmp/var#g" \
	    ${3:+-e "s/^\([[:space:]]*frontends:\).*/\1 $3/"} \
	    ${4:+-e "s/^\([[:space:]]*level:\).*/\1 $4/"} \
	    "$top/etc/oidcd.yaml" >"$2" || return 1
	# It holds a client secret: keep oidcd from warning about it.
	chmod 600 "$2"
	if ! grep -q "127.0.0.1:$1" "$2" ||
	    { [ -n "$3" ] && ! grep -q "frontends: $3\$" "$2"; }; then
		echo "bench: cannot adapt etc/oidcd.yaml" >&2
		return 1
	fi
}

# Wait up to 10 s for a URL to answer 200.
bench_wait() {
	i=0
	while [ $i -lt 50 ]; do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "bench: no answer from $1" >&2
	return 1
}

# CPU ticks used so far by oidcd and each child, "role ticks" a line.
cpu_snapshot() {
	for p in "$1" $(pgrep -P "$1"); do
		r=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
		    sed -n 's/.* -P \([a-z]*\) .*/\1/p')
		awk -v r="${r:-parent}" '{ print r, $14 + $15 }' \
		    "/proc/$p/stat" 2>/dev/null
	done | awk '{ t[$1] += $2 } END { for (r in t) print r, t[r] }' |
	    sort
}

# Share of one CPU each role used between two snapshots over SECONDS.
cpu_share() {
	hz=$(getconf CLK_TCK)
	join "$1" "$2" | awk -v s="$3" -v hz="$hz" '
	    { printf "%s%s %.0f%%", (NR > 1 ? ", " : ""), $1,
	    100 * ($3 - $2) / hz / s } END { print "" }'
}
