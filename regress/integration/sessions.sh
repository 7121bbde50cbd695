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
# Browser sessions (regress/node/sessions.mjs with openid-client and a
# cookie jar): a first login through the password page sets the session
# cookie (HttpOnly, SameSite=Lax, Secure over HTTPS); a second client
# signs in from it without the password page; prompt=none, prompt=login,
# max_age, id_token_hint; auth_time and sid in the ID tokens; oidcctl
# show sessions lists the browser session, and revoke session and revoke
# user end it; sessions.enabled false turns them off.  Prints TAP.

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

NODE_SCRIPT=sessions.mjs


ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
op_config "$conf" "$port"
iss=http://127.0.0.1:$port/dex
sock=$scratch/state-$port/oidcd.sock
admin=08a8684b-db88-4b73-90a9-3cd1661f5466
start_daemon "$conf" "$scratch/log"
wait_ready "$iss/healthz/ready" && ok "daemon ready" || not_ok "daemon ready"

mkdir -p "$scratch/b"
run_node main main "$iss" "$scratch/b"
log_on_failure "$scratch/log"
sid=$(cat "$scratch/b/sid" 2>/dev/null)

# oidcctl: the browser session, marked as such, with its clients.
"$OIDCCTL" -s "$sock" show sessions "$admin" >"$scratch/s" 2>&1
row=$(grep "^$sid	" "$scratch/s")
case "$row" in
*browser*)	ok "show sessions USER: the browser session, by its sid" ;;
*)		not_ok "show sessions: no browser row for '$sid'"
		sed 's/^/# /' "$scratch/s" ;;
esac
case "$row" in
*test-app*lonely-app*|*lonely-app*test-app*)
		ok "show sessions: the clients it signed in" ;;
*)		not_ok "show sessions: clients: $row" ;;
esac
check "show sessions: the header names the kind" \
    grep -q 'kind$' "$scratch/s"
if grep -q dex_session "$scratch/s" "$scratch/log"; then
	not_ok "the cookie shows up neither in oidcctl nor in the log"
else
	ok "the cookie shows up neither in oidcctl nor in the log"
fi

# revoke session SID ends it: the next prompt=none gets login_required.
run_node alive alive "$iss" "$scratch/b"
"$OIDCCTL" -s "$sock" revoke session "$sid" >"$scratch/r" 2>&1
check "revoke session SID: one revoked" \
    grep -q '^1 session revoked' "$scratch/r"
run_node dead dead "$iss" "$scratch/b"
"$OIDCCTL" -s "$sock" show sessions "$admin" >"$scratch/s" 2>&1
if grep -q "^$sid	" "$scratch/s"; then
	not_ok "a revoked session is no longer listed"
else
	ok "a revoked session is no longer listed"
fi

# revoke user ends the user's browser sessions too.
rm -f "$scratch/b/jar"
run_node login login "$iss" "$scratch/b"
run_node alive alive "$iss" "$scratch/b"
"$OIDCCTL" -s "$sock" revoke user "$admin" >"$scratch/r" 2>&1
check "revoke user: says so" grep -q 'revoked' "$scratch/r"
run_node dead dead "$iss" "$scratch/b"
log_on_failure "$scratch/log"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"

# Over HTTPS the cookie is Secure.
pki=$scratch/pki
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
    -subj "/CN=oidcd test CA" -keyout "$pki/ca.key" -out "$pki/ca.crt" \
    2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
    >"$pki/ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" \
    -CAkey "$pki/ca.key" -CAcreateserial -days 2 -extfile "$pki/ext" \
    -out "$pki/server.crt" 2>/dev/null
chmod 600 "$pki/server.key"
port=$(free_port)
tport=$(free_port)
op_config "$conf" "$port"
tls="  https: 127.0.0.1:$tport\n  tlsCert: $pki/server.crt"
tls="$tls\n  tlsKey: $pki/server.key"
sed -i -e "s|^issuer: .*|issuer: https://127.0.0.1:$tport/dex|" \
    -e "s|^  http: .*|&\n$tls|" "$conf"
start_daemon "$conf" "$scratch/log2"
wait_ready "http://127.0.0.1:$port/dex/healthz/ready" &&
    ok "HTTPS daemon ready" || not_ok "HTTPS daemon ready"
NODE_EXTRA_CA_CERTS=$pki/ca.crt \
    run_node secure secure "https://127.0.0.1:$tport/dex"
log_on_failure "$scratch/log2"
stop_daemon "$daemon_pid"

# sessions.enabled: false turns them off.
port=$(free_port)
op_config "$conf" "$port"
printf 'sessions:\n  enabled: false\n' >>"$conf"
start_daemon "$conf" "$scratch/log3"
wait_ready "http://127.0.0.1:$port/dex/healthz/ready" &&
    ok "daemon without sessions ready" || not_ok "daemon without sessions"
run_node off off "http://127.0.0.1:$port/dex"
log_on_failure "$scratch/log3"
stop_daemon "$daemon_pid"
done_testing
