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
# The authorization code flow end to end, with openid-client as the
# relying party (regress/node/flow.mjs): discovery, login through the
# password page, code, ID token checked against /keys, userinfo, refresh
# rotation and reuse detection, introspection; the approval page; idle
# and absolute refresh token expiry; a refresh token surviving a restart
# with lmdb storage and not with memory storage; ES256.  Prints TAP.

OAUTH_CONFIG_LIB=1
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/oauth-config.sh"

nodedir=$top/regress/node

NODE_SCRIPT=flow.mjs


if ! command -v node >/dev/null 2>&1; then
	not_ok "node not found"
	done_testing
	exit 1
fi
if [ ! -d "$nodedir/node_modules/openid-client" ]; then
	if (cd "$nodedir" && npm ci --no-audit --no-fund) \
	    >"$scratch/npm.log" 2>&1; then
		ok "npm ci in regress/node"
	else
		tail -n 20 "$scratch/npm.log" | sed 's/^/# /'
		not_ok "npm ci in regress/node"
		done_testing
		exit 1
	fi
fi

ensure_users
port=$(free_port)
iss=http://127.0.0.1:$port/dex
conf=$scratch/oidcd.yaml
op_config "$conf" "$port"
start_daemon "$conf" "$scratch/log1"
pid1=$daemon_pid
if wait_ready "$iss/healthz/ready"; then
	ok "daemon ready"
else
	not_ok "daemon ready"
	tail -n 20 "$scratch/log1" | sed 's/^/# /'
	done_testing
	exit 1
fi

mkdir -p "$scratch/rp"
run_node main main "$iss" "$scratch/rp"
log_on_failure "$scratch/log1"
if [ -s "$scratch/rp/refresh" ]; then
	ok "a live refresh token saved for the restart"
else
	not_ok "a live refresh token saved for the restart"
fi

# Secrets never reach the log, even at debug level.
if grep -q 'test-secret' "$scratch/log1"; then
	not_ok "the client secret is not in the log"
else
	ok "the client secret is not in the log"
fi
if [ -s "$scratch/rp/refresh" ] &&
    grep -qF -e "$(cat "$scratch/rp/refresh")" "$scratch/log1"; then
	not_ok "the refresh token is not in the log"
else
	ok "the refresh token is not in the log"
fi

stop_daemon "$pid1"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"

# lmdb: the refresh token survives a restart.
start_daemon "$conf" "$scratch/log2"
pid2=$daemon_pid
wait_ready "$iss/healthz/ready" && ok "restarted on lmdb" ||
    not_ok "restarted on lmdb"
if [ -s "$scratch/rp/refresh" ]; then
	run_node restart-lmdb refresh "$iss" "$scratch/rp" ok
else
	not_ok "no refresh token to try after the lmdb restart"
fi
log_on_failure "$scratch/log2"
stop_daemon "$pid2"

# memory: nothing survives a restart.
OP_STORAGE=memory op_config "$scratch/memory.yaml" "$port"
start_daemon "$scratch/memory.yaml" "$scratch/log3"
pid3=$daemon_pid
wait_ready "$iss/healthz/ready" && ok "started on memory storage" ||
    not_ok "started on memory storage"
mkdir -p "$scratch/rpm"
# The whole flow again, for its refresh token; its checks were made above.
node "$nodedir/flow.mjs" main "$iss" "$scratch/rpm" >"$scratch/memory-main.tap" 2>&1
if [ -s "$scratch/rpm/refresh" ]; then
	ok "memory storage: a refresh token issued"
	stop_daemon "$pid3"
	start_daemon "$scratch/memory.yaml" "$scratch/log4"
	pid4=$daemon_pid
	wait_ready "$iss/healthz/ready" && ok "restarted on memory" ||
	    not_ok "restarted on memory"
	run_node restart-memory refresh "$iss" "$scratch/rpm" dead
	log_on_failure "$scratch/log4"
	stop_daemon "$pid4"
else
	not_ok "memory storage: a refresh token issued"
	grep '^not ok' "$scratch/memory-main.tap" | head -n 10 |
	    sed 's/^/# /'
	log_on_failure "$scratch/log3"
	stop_daemon "$pid3"
fi

# The approval page, and short lifetimes, on a second daemon each.
port2=$(free_port)
iss2=http://127.0.0.1:$port2/dex
OP_SKIP=false op_config "$scratch/approval.yaml" "$port2"
start_daemon "$scratch/approval.yaml" "$scratch/log5"
pid5=$daemon_pid
if wait_ready "$iss2/healthz/ready"; then
	run_node approval approval "$iss2"
else
	not_ok "approval daemon ready"
fi
log_on_failure "$scratch/log5"
stop_daemon "$pid5"

port3=$(free_port)
iss3=http://127.0.0.1:$port3/dex
OP_REUSE=0s OP_IDLE=3s OP_ABSOLUTE=6s op_config "$scratch/short.yaml" "$port3"
start_daemon "$scratch/short.yaml" "$scratch/log6"
pid6=$daemon_pid
if wait_ready "$iss3/healthz/ready"; then
	run_node expiry expiry "$iss3"
else
	not_ok "short-lifetime daemon ready"
fi
log_on_failure "$scratch/log6"
stop_daemon "$pid6"

port4=$(free_port)
iss4=http://127.0.0.1:$port4/dex
OP_ALG=ES256 op_config "$scratch/es256.yaml" "$port4"
start_daemon "$scratch/es256.yaml" "$scratch/log7"
pid7=$daemon_pid
if wait_ready "$iss4/healthz/ready"; then
	run_node es256 es256 "$iss4"
else
	not_ok "ES256 daemon ready"
fi
log_on_failure "$scratch/log7"
stop_daemon "$pid7"

done_testing
