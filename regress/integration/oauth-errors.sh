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
# Every error path of the OpenID Provider with its exact error code
# (regress/node/errors.mjs): bad clients and redirect URIs get an error
# page and are never redirected, request errors go back to the client,
# code replay, client authentication, PKCE, CSRF, the password grant,
# public clients, userinfo; an expired auth request on a daemon with
# expiry.authRequests 2s; and the password lockout last, on its own
# daemon, since it locks out the test's address too.  Prints TAP.

OAUTH_CONFIG_LIB=1
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/oauth-config.sh"

nodedir=$top/regress/node

NODE_SCRIPT=errors.mjs

# start NAME CONFIG PORT: a daemon, ready, or a failure.
start() {
	start_daemon "$2" "$scratch/log-$1"
	if wait_ready "http://127.0.0.1:$3/dex/healthz/ready"; then
		return 0
	fi
	not_ok "$1 daemon ready"
	tail -n 20 "$scratch/log-$1" | sed 's/^/# /'
	return 1
}

if [ ! -d "$nodedir/node_modules/openid-client" ]; then
	(cd "$nodedir" && npm ci --no-audit --no-fund) >"$scratch/npm.log" \
	    2>&1 || { not_ok "npm ci in regress/node"; done_testing; exit 1; }
fi

ensure_users
port=$(free_port)
op_config "$scratch/main.yaml" "$port"
if start main "$scratch/main.yaml" "$port"; then
	run_node main main "http://127.0.0.1:$port/dex"
	log_on_failure "$scratch/log-main"
	for s in test-secret peer-secret "password=password"; do
		if grep -qF -e "$s" "$scratch/log-main"; then
			not_ok "the log does not hold $s"
		else
			ok "the log does not hold $s"
		fi
	done
	stop_daemon "$daemon_pid"
	[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
fi

port=$(free_port)
OP_AUTHREQ=2s op_config "$scratch/short.yaml" "$port"
if start short "$scratch/short.yaml" "$port"; then
	run_node expired expired "http://127.0.0.1:$port/dex"
	log_on_failure "$scratch/log-short"
	stop_daemon "$daemon_pid"
fi

port=$(free_port)
op_config "$scratch/lock.yaml" "$port"
if start lock "$scratch/lock.yaml" "$port"; then
	run_node ratelimit ratelimit "http://127.0.0.1:$port/dex"
	log_on_failure "$scratch/log-lock"
	stop_daemon "$daemon_pid"
fi

done_testing
