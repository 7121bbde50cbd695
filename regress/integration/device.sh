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
# The device authorization grant (RFC 8628) end to end, with openid-client
# as the device and the browser half by hand (regress/node/device.mjs):
# a public and a confidential client, PKCE, slow_down, a wrong user
# code, CSRF, denial, a used device code, a wrong client secret, a code
# of another login; expired_token on a daemon with a 2 s
# expiry.deviceRequests; and the grant turned off by oauth2.grantTypes.
# Prints TAP.

OAUTH_CONFIG_LIB=1
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/oauth-config.sh"

nodedir=$top/regress/node

# device_config FILE PORT [DEVICE_EXPIRY [GRANT_TYPES]]: op_config with
# the approval page, two confidential clients, one that registered the
# absolute <issuer>/device/callback and one Dex's literal
# /device/callback, and expiry.deviceRequests and oauth2.grantTypes when
# given.
device_config() {
	OP_SKIP=false op_config "$1" "$2"
	awk -v port="$2" -v dexp="${3:-}" -v gt="${4:-}" '
	{ print }
	/^expiry:$/ && dexp != "" { print "  deviceRequests: " dexp }
	/^oauth2:$/ && gt != "" { print "  grantTypes: " gt }
	/^staticClients:$/ {
		print "- id: tv-app"
		print "  name: TV App"
		print "  secret: tv-secret"
		print "  redirectURIs:"
		print "  - http://127.0.0.1:" port "/dex/device/callback"
		print "- id: cli-app"
		print "  name: CLI App"
		print "  secret: cli-secret"
		print "  redirectURIs:"
		print "  - /device/callback"
	}' "$1" >"$1.new" && mv "$1.new" "$1"
	chmod 600 "$1"
}

NODE_SCRIPT=device.mjs


if ! command -v node >/dev/null 2>&1; then
	skip "node not found"
	done_testing
	exit 0
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

# The flows, on a daemon with Dex's default 5 minutes.
port=$(free_port)
iss=http://127.0.0.1:$port/dex
device_config "$scratch/main.yaml" "$port"
start_daemon "$scratch/main.yaml" "$scratch/log1"
pid1=$daemon_pid
if wait_ready "$iss/healthz/ready"; then
	ok "daemon ready"
	mkdir -p "$scratch/rp"
	run_node main main "$iss" "$scratch/rp"
	for s in devcode refresh; do
		if [ ! -s "$scratch/rp/$s" ]; then
			not_ok "the $s is not in the log (none seen)"
		elif grep -qF -e "$(cat "$scratch/rp/$s")" "$scratch/log1"; then
			not_ok "the $s is not in the log"
		else
			ok "the $s is not in the log"
		fi
	done
	check "the client secret is not in the log" \
	    sh -c "! grep -q tv-secret '$scratch/log1'"
else
	not_ok "daemon ready"
	tail -n 20 "$scratch/log1" | sed 's/^/# /'
fi
log_on_failure "$scratch/log1"
stop_daemon "$pid1"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"

# expired_token, with a 2 s expiry.deviceRequests.
port2=$(free_port)
iss2=http://127.0.0.1:$port2/dex
device_config "$scratch/short.yaml" "$port2" 2s
start_daemon "$scratch/short.yaml" "$scratch/log2"
pid2=$daemon_pid
if wait_ready "$iss2/healthz/ready"; then
	run_node expiry expiry "$iss2"
else
	not_ok "short-expiry daemon ready"
fi
log_on_failure "$scratch/log2"
stop_daemon "$pid2"

# oauth2.grantTypes without the device grant: no endpoint, no grant.
port3=$(free_port)
iss3=http://127.0.0.1:$port3/dex
device_config "$scratch/off.yaml" "$port3" "" \
    "[authorization_code, refresh_token]"
start_daemon "$scratch/off.yaml" "$scratch/log3"
pid3=$daemon_pid
if wait_ready "$iss3/healthz/ready"; then
	run_node off off "$iss3"
else
	not_ok "grant-off daemon ready"
fi
log_on_failure "$scratch/log3"
stop_daemon "$pid3"

done_testing
