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
# The client_credentials grant (Dex master's), the clients' own
# grantTypes and revocation (RFC 7009) at /token/revoke, with
# openid-client as the client (regress/node/grants.mjs): on a daemon
# whose oauth2.grantTypes lists client_credentials, and on one with
# the default grant set; then `oidcctl revoke token' with an access
# token.  Prints TAP.

OAUTH_CONFIG_LIB=1
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/oauth-config.sh"

nodedir=$top/regress/node

NODE_SCRIPT=grants.mjs


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

# grants_config FILE PORT: op_config's clients and four more, and
# oauth2.grantTypes with client_credentials.
grants_config() {
	op_config "$1" "$2"
	gc_tmp=$1.tmp
	awk '
	/^oauth2:$/ {
		print
		print "  grantTypes: [authorization_code, refresh_token, " \
		    "password, client_credentials]"
		next
	}
	/^staticClients:$/ {
		print
		print "- id: cc-app"
		print "  name: CC App"
		print "  secret: cc-secret"
		print "  redirectURIs: [\"http://127.0.0.1:5559/cb\"]"
		print "  grantTypes: [client_credentials]"
		print "  clientCredentialsClaims:"
		print "    groups: [robots, deployers]"
		print "- id: nocc-app"
		print "  name: No CC App"
		print "  secret: nocc-secret"
		print "  redirectURIs: [\"http://127.0.0.1:5560/cb\"]"
		print "  grantTypes: [authorization_code, refresh_token]"
		print "- id: norefresh-app"
		print "  name: No Refresh App"
		print "  secret: norefresh-secret"
		print "  redirectURIs: [\"http://127.0.0.1:5561/cb\"]"
		print "  grantTypes: [authorization_code]"
		next
	}
	{ print }' "$1" >"$gc_tmp" && mv "$gc_tmp" "$1"
	chmod 600 "$1"
}

if ! command -v node >/dev/null 2>&1; then
	not_ok "node not found"
	done_testing
	exit 1
fi
if [ ! -d "$nodedir/node_modules/openid-client" ]; then
	(cd "$nodedir" && npm ci --no-audit --no-fund) >"$scratch/npm.log" \
	    2>&1 || { not_ok "npm ci in regress/node"; done_testing; exit 1; }
fi

ensure_users

# client_credentials enabled, and revocation.
port=$(free_port)
iss=http://127.0.0.1:$port/dex
grants_config "$scratch/cc.yaml" "$port"
if "$OIDCD" -n -f "$scratch/cc.yaml" >"$scratch/cc-n.out" 2>&1; then
	ok "oidcd -n accepts grantTypes and clientCredentialsClaims"
else
	not_ok "oidcd -n accepts grantTypes and clientCredentialsClaims"
	sed 's/^/# /' "$scratch/cc-n.out" | head -n 10
fi
if start cc "$scratch/cc.yaml" "$port"; then
	run_node cc cc "$iss"
	log_on_failure "$scratch/log-cc"
	run_node revoke revoke "$iss"
	log_on_failure "$scratch/log-cc"

	# oidcctl revoke token takes an access token as well.
	sock=$scratch/state-$port/oidcd.sock
	run_node access access "$iss" "$scratch/access"
	at=$(cat "$scratch/access" 2>/dev/null)
	if [ -n "$at" ] &&
	    out=$("$OIDCCTL" -s "$sock" revoke token "$at" 2>&1); then
		ok "oidcctl revoke token with an access token: $out"
	else
		not_ok "oidcctl revoke token with an access token"
		diag "$out"
	fi
	code=$(curl -s -o /dev/null -w '%{http_code}' \
	    -H "Authorization: Bearer $at" "$iss/userinfo")
	[ "$code" = 401 ] && ok "userinfo after oidcctl revoke: 401" ||
	    not_ok "userinfo after oidcctl revoke: $code, want 401"
	if out=$("$OIDCCTL" -s "$sock" revoke token "x.y.z" 2>&1); then
		not_ok "oidcctl revoke token refuses a malformed JWT"
	else
		ok "oidcctl revoke token refuses a malformed JWT"
	fi
	log_on_failure "$scratch/log-cc"

	for s in cc-secret nocc-secret test-secret peer-secret; do
		if grep -qF -e "$s" "$scratch/log-cc"; then
			not_ok "the log does not hold $s"
		else
			ok "the log does not hold $s"
		fi
	done
	if [ -n "$at" ] && grep -qF -e "$at" "$scratch/log-cc"; then
		not_ok "the log does not hold the access token"
	else
		ok "the log does not hold the access token"
	fi
	stop_daemon "$daemon_pid"
	[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
fi

# The default grant set: no client_credentials.
port2=$(free_port)
op_config "$scratch/nocc.yaml" "$port2"
if start nocc "$scratch/nocc.yaml" "$port2"; then
	run_node nocc nocc "http://127.0.0.1:$port2/dex"
	log_on_failure "$scratch/log-nocc"
	stop_daemon "$daemon_pid"
fi

done_testing
