#!/bin/sh
#
# Helpers for the integration tests: TAP output, a scratch directory, a
# config generated from a template, and starting and stopping the real
# daemon on loopback.  Source it from a test script.

top=$(cd "$(dirname "$0")/../.." && pwd)
OIDCD=${OIDCD:-$top/oidcd/oidcd}
OIDCCTL=${OIDCCTL:-$top/oidcctl/oidcctl}
t_n=0
t_failed=0

# Debian 12's own nodejs is 18, where WebCrypto (which jose and
# openid-client use) is global only behind a flag.
case "$(node --version 2>/dev/null)" in
v18.*) NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-global-webcrypto"
	export NODE_OPTIONS ;;
esac

ok() {
	t_n=$((t_n + 1))
	echo "ok $t_n - $*"
}

not_ok() {
	t_n=$((t_n + 1))
	t_failed=$((t_failed + 1))
	echo "not ok $t_n - $*"
}

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}

skip() {
	t_n=$((t_n + 1))
	echo "ok $t_n - # SKIP $*"
}

diag() {
	echo "# $*"
}

done_testing() {
	echo "1..$t_n"
	[ "$t_failed" -eq 0 ]
}

# A scratch directory under /var/tmp (not tmpfs: LMDB syncs there as in
# production), removed at exit with the daemons we started.
scratch=$(mktemp -d /var/tmp/oidcd-test.XXXXXX)
chmod 755 "$scratch"
daemon_pids=
cleanup() {
	for p in $daemon_pids; do
		kill "$p" 2>/dev/null
	done
	for p in $daemon_pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "${KEEP_SCRATCH:-}" ]; then
		echo "# scratch kept in $scratch"
	else
		rm -rf "$scratch"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Create the daemon's users when we are root and they are missing.
ensure_users() {
	[ "$(id -u)" -eq 0 ] || return 0
	sh "$top/scripts/users.sh" >/dev/null
}

# write_config FILE PORT: the test config: lmdb storage, one local user,
# one client, state under the scratch dir.  Lines in WEB_EXTRA go under
# web:, OIDCD_EXTRA under oidcd:, CONF_EXTRA at the top level.
write_config() {
	file=$1
	port=$2
	state=$scratch/state-$port
	mkdir -p "$state"
	cat >"$file" <<EOC
issuer: http://127.0.0.1:$port/dex
storage:
  type: lmdb
  config:
    path: $state/db
web:
  http: 127.0.0.1:$port
${WEB_EXTRA:-}
logger:
  level: debug
oauth2:
  skipApprovalScreen: true
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
  frontends: 2
  stateDir: $state
  emptyDir: $state/empty
  controlSocket: $state/oidcd.sock
${OIDCD_EXTRA:-}
${CONF_EXTRA:-}
EOC
	chmod 600 "$file"
}

# start_daemon CONFIG LOG [ARGS]: start oidcd -d in the background.
start_daemon() {
	conf=$1
	log=$2
	shift 2
	"$OIDCD" -d -f "$conf" "$@" >"$log" 2>&1 &
	daemon_pid=$!
	daemon_pids="$daemon_pids $daemon_pid"
}

# wait_ready URL: until it answers 200, at most 15 s.
wait_ready() {
	i=0
	while [ $i -lt 150 ]; do
		if curl -sf -o /dev/null "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stop_daemon PID: SIGTERM and wait; the exit status is left in $rc.
# (Not in a command substitution: a subshell cannot wait for our child.)
stop_daemon() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
	rc=$?
}

# The pids of a daemon's children, by role: children_of PARENT_PID
children_of() {
	for p in /proc/[0-9]*; do
		pp=$(awk '/^PPid:/ { print $2 }' "$p/status" 2>/dev/null)
		[ "$pp" = "$1" ] && basename "$p"
	done
}

# role_of PID: the -P argument of a child.
role_of() {
	tr '\0' ' ' <"/proc/$1/cmdline" | sed -n 's/.* -P \([a-z]*\) .*/\1/p'
}

# relay: renumber the TAP lines of a node check ("ok - ...") into ours.
relay() {
	while IFS= read -r line; do
		case "$line" in
		"ok - "*)	ok "${line#ok - }" ;;
		"not ok - "*)	not_ok "${line#not ok - }" ;;
		"#"*)		echo "$line" ;;
		esac
	done
}

# need_upstream: node, the npm packages of regress/node (npm ci when
# missing) and an oidc-provider that loads; else one SKIP line and 1.
need_upstream() {
	nodedir=$top/regress/node
	if ! command -v node >/dev/null 2>&1; then
		skip "node not found"
		return 1
	fi
	if [ ! -d "$nodedir/node_modules/oidc-provider" ] ||
	    [ ! -d "$nodedir/node_modules/openid-client" ]; then
		if ! (cd "$nodedir" && npm ci --no-audit --no-fund) \
		    >"$scratch/npm.log" 2>&1; then
			tail -n 5 "$scratch/npm.log" | sed 's/^/# /'
			skip "npm ci in regress/node failed"
			return 1
		fi
	fi
	# oidc-provider 9 wants URL.parse (node 20.18 and later).
	if ! (cd "$nodedir" && node --input-type=module \
	    -e 'await import("oidc-provider"); URL.parse("http://x/")') \
	    >"$scratch/node.log" 2>&1; then
		tail -n 5 "$scratch/node.log" | sed 's/^/# /'
		skip "oidc-provider does not load on node $(node --version)"
		return 1
	fi
	return 0
}

# start_upstream NAME ARGS...: upstream.mjs (oidc-provider playing
# Authentik) on a free port unless ARGS name one; sets $up_pid and
# $up_issuer, or fails after 10 s.
start_upstream() {
	su_name=$1
	shift
	rm -f "$scratch/$su_name.ready"
	node "$top/regress/node/upstream.mjs" --port 0 \
	    --ready-file "$scratch/$su_name.ready" "$@" \
	    >"$scratch/$su_name.out" 2>"$scratch/$su_name.err" &
	up_pid=$!
	daemon_pids="$daemon_pids $up_pid"
	i=0
	while [ ! -s "$scratch/$su_name.ready" ] && [ $i -lt 100 ]; do
		kill -0 "$up_pid" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	up_issuer=$(cat "$scratch/$su_name.ready" 2>/dev/null)
	[ -n "$up_issuer" ]
}

# stop_upstream [PID]: SIGTERM and wait, $rc its exit status; forgotten
# by the cleanup at exit, whose kill could otherwise hit a reused pid.
stop_upstream() {
	su_pid=${1:-$up_pid}
	stop_daemon "$su_pid"
	sp_left=
	for p in $daemon_pids; do
		[ "$p" = "$su_pid" ] || sp_left="$sp_left $p"
	done
	daemon_pids=$sp_left
}

# run_node NAME ARGS...: regress/node/$NODE_SCRIPT ARGS, its TAP lines
# relayed; a crash, or no line at all, is a failure.
run_node() {
	rn_name=$1
	shift
	node "$top/regress/node/$NODE_SCRIPT" "$@" >"$scratch/$rn_name.tap" \
	    2>&1
	rn_rc=$?
	relay <"$scratch/$rn_name.tap"
	if ! grep -q '^ok - ' "$scratch/$rn_name.tap" ||
	    { [ $rn_rc -ne 0 ] && ! grep -q '^not ok' "$scratch/$rn_name.tap"; }
	then
		not_ok "$NODE_SCRIPT $rn_name exited $rn_rc"
		grep -v '^ok' "$scratch/$rn_name.tap" | tail -n 15 |
		    sed 's/^/# /'
	fi
}

# log_on_failure LOG: the end of a daemon log when something failed
# since the last look.
t_seen=0
log_on_failure() {
	if [ "$t_failed" -gt "$t_seen" ]; then
		diag "last lines of $1:"
		grep -v ' debug ' "$1" | tail -n 25 | sed 's/^/#   /'
	fi
	t_seen=$t_failed
}
