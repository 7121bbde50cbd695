#!/bin/sh
#
# Run libFuzzer targets for a bounded time each (FUZZ_SECONDS, default 10)
# on their seed corpus and print TAP: one line per target.
#
# Usage: sh regress/fuzz/run.sh obj/fuzz/fuzz_x [...]

top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-10}
n=0
fail=0
for bin in "$@"; do
	n=$((n + 1))
	name=$(basename "$bin")
	seeds=$top/regress/fuzz/corpus/$name
	work=$(mktemp -d)
	[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null
	dict=
	[ -f "$top/regress/fuzz/$name.dict" ] && dict=-dict=$top/regress/fuzz/$name.dict
	if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	    -artifact_prefix="$work/" $dict "$work" >"$work.log" 2>&1; then
		echo "ok $n - $name ran ${secs}s without a crash ($(grep -c . "$work.log") log lines)"
	else
		echo "not ok $n - $name failed"
		tail -n 40 "$work.log" | sed 's/^/# /'
		fail=1
	fi
	rm -rf "$work" "$work.log"
done
echo "1..$n"
exit $fail
