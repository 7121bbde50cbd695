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
# RP-initiated logout (regress/node/logout.mjs with openid-client's
# buildEndSessionUrl): a valid id_token_hint and a registered
# post_logout_redirect_uri end the browser session and redirect with
# state; an unregistered URI, a forged hint or a client_id that is not
# the hint's audience get an error page and no redirect; an expired hint
# is accepted; no hint shows the signed-out page.  Back-channel logout:
# a small receiver in the node script gets a logout token for every
# client of the ended session and verifies it with jose against /keys.
# Prints TAP.

OAUTH_CONFIG_LIB=1
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/oauth-config.sh"

nodedir=$top/regress/node
if ! command -v node >/dev/null 2>&1; then
	not_ok "node not found"
	done_testing
	exit 1
fi
if [ ! -d "$nodedir/node_modules/openid-client" ]; then
	(cd "$nodedir" && npm ci --no-audit --no-fund) >"$scratch/npm.log" 2>&1
fi

NODE_SCRIPT=logout.mjs

# logout_config FILE PORT BCPORT: op_config, test-app with a post-logout
# URI, test-app and lonely-app with back-channel logout URIs on BCPORT,
# ID tokens that expire soon (for the expired hint).
logout_config() {
	op_config "$1" "$2"
	sed -i -e 's|^  - http://127.0.0.1:5555/callback$|&\n  postLogoutRedirectURIs:\n  - http://127.0.0.1:5555/logged-out\n  backchannelLogoutURI: http://127.0.0.1:'"$3"'/bc/test-app|' \
	    -e 's|^  - http://127.0.0.1:5557/callback$|&\n  backchannelLogoutURI: http://127.0.0.1:'"$3"'/bc/lonely-app|' \
	    -e 's|^expiry:$|&\n  idTokens: 3s|' "$1"
}

ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
bcport=$(free_port)
logout_config "$conf" "$port" "$bcport"
iss=http://127.0.0.1:$port/dex
start_daemon "$conf" "$scratch/log"
wait_ready "$iss/healthz/ready" && ok "daemon ready" || not_ok "daemon ready"
run_node main main "$iss" "$bcport"
if grep -q dex_session "$scratch/log"; then
	not_ok "the cookie does not show up in the log"
else
	ok "the cookie does not show up in the log"
fi
check "the log says a session ended" \
    grep -q 'logout: browser session of user' "$scratch/log"
check "the connector logs the back-channel logouts" \
    grep -q 'back-channel logout of client lonely-app: done' "$scratch/log"
log_on_failure "$scratch/log"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"

# sessions.absoluteLifetime 2s: a hint expired 3 s ago names no session.
port=$(free_port)
iss=http://127.0.0.1:$port/dex
logout_config "$conf" "$port" "$bcport"
printf 'sessions:\n  absoluteLifetime: 2s\n' >>"$conf"
start_daemon "$conf" "$scratch/log-stale"
wait_ready "$iss/healthz/ready" && ok "daemon with short sessions ready" ||
    not_ok "daemon with short sessions ready"
run_node stale stale "$iss" "$bcport"
stop_daemon "$daemon_pid"

# A session from an oidc connector with an end_session_endpoint (here
# the receiver, by providerDiscoveryOverrides.endSessionURL).
need_upstream || { done_testing; exit 0; }
port=$(free_port)
iss=http://127.0.0.1:$port/dex
start_upstream u --client "oidcd:oidcd-secret:$iss/callback" ||
    not_ok "upstream starts"
OP_CONNECTORS="connectors:
- type: oidc
  id: up
  name: up
  config:
    issuer: $up_issuer
    clientID: oidcd
    clientSecret: oidcd-secret
    redirectURI: $iss/callback
    providerDiscoveryOverrides:
      endSessionURL: http://127.0.0.1:$bcport/upstream-logout"
logout_config "$conf" "$port" "$bcport"
start_daemon "$conf" "$scratch/log2"
wait_ready "$iss/healthz/ready" && ok "daemon with an upstream ready" ||
    not_ok "daemon with an upstream ready"
run_node upstream upstream "$iss" "$bcport" "$up_issuer"
check "the log says the user went to the upstream" \
    grep -q "sent to the upstream's end_session_endpoint" "$scratch/log2"
log_on_failure "$scratch/log2"
stop_daemon "$daemon_pid"
stop_upstream
done_testing
