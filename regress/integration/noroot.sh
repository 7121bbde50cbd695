#!/bin/sh
#
# Without root (DESIGN.md §0.4, `make run` on a laptop): every process
# is still separate, with no_new_privs and its seccomp filter, but
# cannot change users or chroot, and the daemon says so once.  Run as
# nobody here, when we are root.

. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	skip "needs root (to become nobody) and setpriv"
	done_testing
	exit 0
fi
port=$(free_port)
conf=$scratch/oidcd.yaml
write_config "$conf" "$port"
chown -R nobody "$scratch"
iss=http://127.0.0.1:$port/dex
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$OIDCD" -d -f "$conf" >"$scratch/log" 2>&1 &
daemon_pid=$!
daemon_pids=$daemon_pid
wait_ready "$iss/healthz/ready" && ok "runs as nobody" || not_ok "runs as nobody"
n=$(grep -c "not running as root" "$scratch/log")
[ "$n" -eq 1 ] && ok "says once that it cannot change users or chroot" || not_ok "warning lines: $n"
nobody=$(id -u nobody)
for p in $(children_of "$daemon_pid"); do
	role=$(role_of "$p")
	s=$(awk '/^Seccomp:/ { print $2 }' "/proc/$p/status")
	u=$(awk '/^Uid:/ { print $2 }' "/proc/$p/status")
	[ "$s" = 2 ] && [ "$u" = "$nobody" ] && ok "$role[$p]: Seccomp 2 as nobody" || not_ok "$role[$p]: Seccomp $s uid $u"
done
check "discovery served" curl -sf "$iss/.well-known/openid-configuration"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
if grep -q 'fatal\|lost child' "$scratch/log"; then
	not_ok "a quiet shutdown"
	grep 'fatal\|lost' "$scratch/log" | sed 's/^/# /'
else
	ok "a quiet shutdown"
fi
done_testing
