#!/bin/sh
#
# The oidcd test runner.  Runs the C unit testers, the integration
# scripts and the fuzz smoke runs; every one prints TAP.  Adds up the
# "ok" and "not ok" lines and ends with the line "N passed, M failed".
# A test program that exits non-zero without a "not ok" line counts as
# one failure.
#
# Usage: sh regress/run.sh [pattern]

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=$top/regress/out
rm -rf "$out"
mkdir -p "$out"
pattern=${1:-}

passed=0
failed=0

run_one() {
	name=$1
	shift
	case "$name" in *"$pattern"*) ;; *) return 0 ;; esac
	log=$out/$(echo "$name" | tr '/ ' '__').log
	printf '%-50s ' "$name"
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" >>"$log"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name ran no test" >>"$log"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%4d ok %3d not ok  %3ss\n' "$p" "$f" $(($(date +%s) - start))
	if [ "$f" -ne 0 ]; then
		grep -E '^not ok |^#' "$log" | head -40 | sed 's/^/    /'
		tail -n 15 "$log" | grep -vE '^(ok|not ok) ' | sed 's/^/    | /'
	fi
}

for t in obj/test/t_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done

for t in regress/integration/*.sh; do
	[ -f "$t" ] || continue
	run_one "integration/$(basename "$t" .sh)" sh "$t"
done

for t in obj/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	run_one "fuzz/$(basename "$t")" sh regress/fuzz/run.sh "$t"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
