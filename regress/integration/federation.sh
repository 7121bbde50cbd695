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
# Federation: oidcd in front of real upstream OpenID Providers (the npm
# oidc-provider, playing Authentik at /application/o/dex/, over HTTP
# and over HTTPS with a CA made here), openid-client as the relying
# party (regress/node/federation.mjs).  The whole login, claims mapped
# from upstream, refresh through to the upstream, a revoked upstream
# grant, token exchange, two upstreams side by side, an upstream down at
# startup and then up, and every upstream failure: denied, bad code,
# down, slow, bad signature, wrong issuer.  Prints TAP.

. "$(dirname "$0")/../lib.sh"

need_upstream || { done_testing; exit 0; }
ensure_users

port=$(free_port)
issuer=http://127.0.0.1:$port/dex
cb=$issuer/callback
redirect=http://127.0.0.1:5555/callback
# fedrun MODE ARGS...: a federation.mjs mode, its TAP lines renumbered.
fedrun() {
	NODE_EXTRA_CA_CERTS=$scratch/ca.pem
	export NODE_EXTRA_CA_CERTS
	mode=$1
	shift
	node "$nodedir/federation.mjs" "$mode" "$issuer" test-app \
	    test-secret "$redirect" "$@" >"$scratch/fed.tap" 2>&1
	relay <"$scratch/fed.tap"
}

# A CA and a certificate for 127.0.0.1, for the HTTPS upstream.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=test CA" \
    -keyout "$scratch/ca.key" -out "$scratch/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$scratch/up.key" -out "$scratch/up.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$scratch/up.ext"
openssl x509 -req -in "$scratch/up.csr" -CA "$scratch/ca.pem" \
    -CAkey "$scratch/ca.key" -CAcreateserial -days 1 \
    -extfile "$scratch/up.ext" -out "$scratch/up.pem" >/dev/null 2>&1

# A connector config the connector would refuse fails the load, with
# its place in the file.
CONF_EXTRA="connectors:
- type: oidc
  id: wrongcb
  name: Wrong callback
  config:
    issuer: http://127.0.0.1:9/x/
    clientID: oidcd
    redirectURI: http://127.0.0.1:$port/elsewhere/callback"
write_config "$scratch/bad.yaml" "$port"
out=$("$OIDCD" -n -f "$scratch/bad.yaml" 2>&1)
case "$out" in
*"bad.yaml:"[0-9]*": connector wrongcb: config.redirectURI must be \"$cb\""*)
	ok "oidcd -n: a wrong redirectURI is an error at its connector" ;;
*)	not_ok "oidcd -n on a wrong redirectURI: $out" ;;
esac

clients="--client oidcd:oidcd-secret:$cb --client direct:direct-secret:$cb"
start_upstream a --alg RS256 $clients || not_ok "upstream a starts"
up_a=$up_issuer
start_upstream b --alg ES256 $clients || not_ok "upstream b starts"
up_b=$up_issuer
start_upstream e --alg EdDSA $clients || not_ok "upstream e starts"
up_e=$up_issuer
start_upstream s --alg PS256 --tls-cert "$scratch/up.pem" \
    --tls-key "$scratch/up.key" $clients || not_ok "https upstream starts"
up_s=$up_issuer
diag "upstreams: $up_a $up_b $up_e $up_s"

late_port=$(free_port)
up_late=http://127.0.0.1:$late_port/application/o/dex/
closed_port=$(free_port)
hole_port=$(free_port)
python3 -c 'import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", '"$hole_port"'))
s.listen(64)
time.sleep(300)' &
hole_pid=$!
daemon_pids="$daemon_pids $hole_pid"

# conn ID ISSUER [EXTRA LINES]: one oidc connector of the config.
conn() {
	printf -- '- type: oidc\n  id: %s\n  name: %s\n  config:\n' "$1" "$1"
	printf '    issuer: %s\n    clientID: oidcd\n' "$2"
	printf '    clientSecret: oidcd-secret\n    redirectURI: %s\n' "$cb"
	printf '    scopes: [openid, profile, email, groups, offline_access]\n'
	printf '    insecureEnableGroups: true\n'
	[ -n "${3:-}" ] && printf '%s\n' "$3"
	return 0
}
CONF_EXTRA="connectors:
$(conn authentik "$up_a")
$(conn second "$up_b")
$(conn edwards "$up_e")
$(conn secure "$up_s" "    rootCAs: [$scratch/ca.pem]")
$(conn secure-noca "$up_s")
$(conn secure-insecure "$up_s" "    insecureSkipVerify: true")
$(conn withinfo "$up_e" "    getUserInfo: true")
$(conn late "$up_late")
$(conn wrongiss "${up_a%/}")
$(conn down "$up_a" "    providerDiscoveryOverrides:
      tokenURL: http://127.0.0.1:$closed_port/token")
$(conn slow "$up_a" "    providerDiscoveryOverrides:
      tokenURL: http://127.0.0.1:$hole_port/token")
$(conn badsig "$up_a" "    providerDiscoveryOverrides:
      jwksURL: ${up_b}jwks")
- type: oauth
  id: generic
  name: Generic OAuth2
  config:
    clientID: oidcd
    clientSecret: oidcd-secret
    redirectURI: $cb
    authorizationURL: ${up_a}auth
    tokenURL: ${up_a}token
    userInfoURL: ${up_a}me
    scopes: [openid, profile, email, groups]
    userIDKey: sub
    claimMapping:
      userNameKey: name
      preferredUsernameKey: preferred_username
      emailVerifiedKey: email_verified
"
write_config "$scratch/oidcd.yaml" "$port"
start_daemon "$scratch/oidcd.yaml" "$scratch/oidcd.log"
if ! wait_ready "http://127.0.0.1:$port/dex/healthz/live"; then
	not_ok "oidcd starts with upstream connectors"
	sed 's/^/# /' "$scratch/oidcd.log" | tail -30
	done_testing
	exit 1
fi
ok "oidcd starts although upstreams are down or wrong"

# Readiness: the broken ones are named, the good ones are not.
i=0
while [ $i -lt 50 ]; do
	curl -s "http://127.0.0.1:$port/dex/healthz/ready" >"$scratch/ready"
	grep -q 'connector secure:\|connector authentik:\|starting\|keys' \
	    "$scratch/ready" || break
	sleep 0.2
	i=$((i + 1))
done
code=$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$port/dex/healthz/ready")
[ "$code" = 503 ] && ok "/healthz/ready: 503 while a connector is down" ||
    not_ok "/healthz/ready: $code, want 503"
for c in late wrongiss secure-noca; do
	grep -q "connector $c:" "$scratch/ready" &&
	    ok "/healthz/ready names connector $c" ||
	    not_ok "/healthz/ready does not name $c: $(cat "$scratch/ready")"
done
grep -q 'connector wrongiss:.*issuer' "$scratch/ready" &&
    ok "/healthz/ready: wrongiss says the issuer does not match" ||
    not_ok "wrongiss: $(grep wrongiss "$scratch/ready")"
for c in authentik second edwards secure secure-insecure withinfo down slow \
    badsig; do
	grep -q "connector $c:" "$scratch/ready" &&
	    not_ok "/healthz/ready names the good connector $c" ||
	    ok "connector $c is ready"
done

"$OIDCCTL" -s "$scratch/state-$port/oidcd.sock" show status \
    >"$scratch/status" 2>&1
grep -q 'connector.*upstreams, [0-9]* ready; not ready: .*late (' \
    "$scratch/status" && ok "oidcctl show status: which upstreams are not ready" ||
    not_ok "oidcctl show status: $(grep connector "$scratch/status")"

# The whole flow, over HTTP (RS256) and HTTPS with our CA (PS256).
fedrun flow "$up_a" authentik "http RS256" direct direct-secret
fedrun flow "$up_s" secure "https PS256"
fedrun login "$up_e" edwards "EdDSA upstream"
FED_USERINFO=1
export FED_USERINFO
fedrun login "$up_e" withinfo "getUserInfo"
unset FED_USERINFO
fedrun login "$up_s" secure-insecure "insecureSkipVerify"
fedrun two "$up_a" authentik "$up_b" second
fedrun oauth "$up_a" generic

# Every failure ends at the client with an OAuth error.
fedrun fail "$up_a" wrongiss server_error "not available"
fedrun fail "$up_s" secure-noca server_error "not available"
fedrun fail "$up_a" down server_error "cannot be reached"
fedrun fail "$up_a" slow server_error ""
fedrun fail "$up_a" badsig server_error ""
fedrun callback "$up_a" authentik
grep -q 'connector badsig: login failed' "$scratch/oidcd.log" &&
    ok "the log says why badsig failed" || not_ok "no log line for badsig"

# The late upstream comes up: the connector gets ready by itself.
start_upstream late --port "$late_port" --alg RS256 $clients ||
    not_ok "late upstream starts"
i=0
while [ $i -lt 100 ]; do
	curl -s "http://127.0.0.1:$port/dex/healthz/ready" >"$scratch/ready"
	grep -q 'connector late:' "$scratch/ready" || break
	sleep 0.2
	i=$((i + 1))
done
grep -q 'connector late:' "$scratch/ready" &&
    not_ok "connector late is still not ready" ||
    ok "connector late is ready once its upstream is up"
fedrun login "$up_late" late "late upstream"

stop_daemon "$daemon_pid"
[ "$rc" -eq 0 ] && ok "oidcd stops cleanly" || not_ok "oidcd exit $rc"
if grep -q 'oidcd-secret\|direct-secret' "$scratch/oidcd.log"; then
	not_ok "a client secret of the upstream reached the log"
else
	ok "no upstream client secret in the log"
fi

done_testing
