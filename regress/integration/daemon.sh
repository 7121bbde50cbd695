#!/bin/sh
#
# The daemon on loopback with a generated config: discovery with Dex's
# members and exact issuer, /keys, health, 404, CORS and web.headers,
# oidcctl commands, a token signed by the signer process that verifies
# with the npm package jose against /keys, clean shutdown.

. "$(dirname "$0")/../lib.sh"

ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
WEB_EXTRA="  allowedOrigins: ['https://app.example.com']
  headers:
    X-Frame-Options: DENY
    Strict-Transport-Security: max-age=1"
write_config "$conf" "$port"
iss=http://127.0.0.1:$port/dex
sock=$scratch/state-$port/oidcd.sock

check "oidcd -n accepts the config" sh -c "'$OIDCD' -n -f '$conf' 2>&1 | grep -q 'configuration OK'"

start_daemon "$conf" "$scratch/log"
if wait_ready "$iss/healthz/ready"; then
	ok "daemon ready"
else
	not_ok "daemon ready"
	sed 's/^/# /' "$scratch/log"
	done_testing
	exit 1
fi

curl -s -D "$scratch/h" -o "$scratch/disco" "$iss/.well-known/openid-configuration"
python3 - "$scratch/disco" "$iss" <<'EOP' && ok "discovery: Dex's members, in Dex's order, exact issuer, then ours" || not_ok "discovery: Dex's members, in Dex's order, exact issuer, then ours"
import json, sys
d = json.load(open(sys.argv[1]), object_pairs_hook=lambda kv: kv)
keys = [k for k, v in d]
want = ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
    "userinfo_endpoint", "device_authorization_endpoint",
    "introspection_endpoint", "grant_types_supported",
    "response_types_supported", "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "code_challenge_methods_supported", "scopes_supported",
    "token_endpoint_auth_methods_supported", "claims_supported",
    "revocation_endpoint", "end_session_endpoint",
    "backchannel_logout_supported", "backchannel_logout_session_supported"]
assert keys == want, keys
d = dict(d)
iss = sys.argv[2]
assert d["issuer"] == iss
assert d["authorization_endpoint"] == iss + "/auth"
assert d["token_endpoint"] == iss + "/token"
assert d["jwks_uri"] == iss + "/keys"
assert d["userinfo_endpoint"] == iss + "/userinfo"
assert d["introspection_endpoint"] == iss + "/token/introspect"
assert d["revocation_endpoint"] == iss + "/token/revoke"
assert d["end_session_endpoint"] == iss + "/logout"
assert d["backchannel_logout_supported"] is True
assert d["backchannel_logout_session_supported"] is True
assert d["grant_types_supported"] == ["authorization_code", "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange"], d["grant_types_supported"]
assert d["response_types_supported"] == ["code"]
assert d["subject_types_supported"] == ["public"]
assert d["id_token_signing_alg_values_supported"] == ["RS256"]
assert d["code_challenge_methods_supported"] == ["S256", "plain"]
assert d["scopes_supported"] == ["openid", "email", "groups", "profile", "offline_access"]
EOP
check "discovery is indented like Go's MarshalIndent" grep -q '^  "issuer": ' "$scratch/disco"
check "discovery Content-Type is application/json" grep -qi '^content-type: application/json' "$scratch/h"
check "web.headers: X-Frame-Options on every response" grep -qi '^x-frame-options: DENY' "$scratch/h"

curl -s -D "$scratch/kh" -o "$scratch/keys" "$iss/keys"
python3 - "$scratch/keys" <<'EOP' && ok "/keys: RSA keys with 40-hex kids, use sig, RS256" || not_ok "/keys: RSA keys with 40-hex kids, use sig, RS256"
import json, re, sys
k = json.load(open(sys.argv[1]))["keys"]
assert len(k) >= 2, "active and next key published"
for j in k:
    assert list(j.keys())[:3] == ["use", "kty", "kid"], list(j.keys())
    assert j["use"] == "sig" and j["kty"] == "RSA" and j["alg"] == "RS256"
    assert re.fullmatch(r"[0-9a-f]{40}", j["kid"])
    assert j["e"] == "AQAB" and "d" not in j and "p" not in j
EOP
check "/keys has Cache-Control max-age and must-revalidate" grep -qi '^cache-control: max-age=[0-9]*, must-revalidate' "$scratch/kh"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p' "$scratch/kh")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$iss/keys")
[ "$code" = 304 ] && ok "/keys answers 304 to a matching If-None-Match" || not_ok "/keys If-None-Match gave $code"

check "/healthz says Health check passed" sh -c "curl -sf '$iss/healthz' | grep -q 'Health check passed'"
check "/healthz/live is 200" curl -sf "$iss/healthz/live"
code=$(curl -s -o /dev/null -w '%{http_code}' "$iss/nothing-here")
[ "$code" = 404 ] && ok "unknown path under the issuer is 404" || not_ok "unknown path gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/.well-known/openid-configuration")
[ "$code" = 404 ] && ok "a path outside the issuer path is 404" || not_ok "outside issuer path gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$iss/keys")
[ "$code" = 405 ] && ok "DELETE /keys is 405" || not_ok "DELETE /keys gave $code"

curl -s -D "$scratch/ch" -o /dev/null -H 'Origin: https://app.example.com' "$iss/keys"
check "CORS: an allowed origin is echoed" grep -qi '^access-control-allow-origin: https://app.example.com' "$scratch/ch"
curl -s -D "$scratch/ch2" -o /dev/null -H 'Origin: https://evil.example.com' "$iss/keys"
if grep -qi '^access-control-allow-origin' "$scratch/ch2"; then
	not_ok "CORS: another origin gets no Allow-Origin"
else
	ok "CORS: another origin gets no Allow-Origin"
fi
curl -s -D "$scratch/ch3" -o /dev/null -X OPTIONS -H 'Origin: https://app.example.com' \
    -H 'Access-Control-Request-Method: GET' "$iss/.well-known/openid-configuration"
check "CORS preflight names the allowed headers" grep -qi '^access-control-allow-headers: Authorization' "$scratch/ch3"
curl -s -D "$scratch/ch4" -o /dev/null -H 'Origin: https://app.example.com' \
    -d grant_type=refresh_token -d refresh_token=x -u test-app:wrong "$iss/token"
check "CORS on /token answers too" grep -qi '^access-control-allow-origin: https://app.example.com' "$scratch/ch4"
curl -s -D "$scratch/ch5" -o /dev/null -H 'Origin: https://app.example.com' "$iss/userinfo"
check "CORS on /userinfo answers too" grep -qi '^access-control-allow-origin: https://app.example.com' "$scratch/ch5"

# oidcctl
"$OIDCCTL" -s "$sock" show status >"$scratch/status" 2>&1
for role in parent frontend connector signer storage control; do
	check "oidcctl show status lists $role" grep -q "$role" "$scratch/status"
done
n=$(grep -c frontend "$scratch/status")
[ "$n" -eq 2 ] && ok "two frontends, as oidcd.frontends says" || not_ok "frontends in status: $n"
"$OIDCCTL" -s "$sock" show keys >"$scratch/keys.txt" 2>&1
check "oidcctl show keys has an active key" grep -q active "$scratch/keys.txt"
check "oidcctl show keys has a next key" grep -q next "$scratch/keys.txt"
check "oidcctl log verbose" "$OIDCCTL" -s "$sock" log verbose
check "oidcctl log brief" "$OIDCCTL" -s "$sock" log brief
check "oidcctl gc" "$OIDCCTL" -s "$sock" gc

# A token signed through the signer verifies against /keys.
now=$(date +%s)
cat >"$scratch/claims.json" <<EOJ
{"iss":"$iss","sub":"CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs","aud":"test-app","iat":$now,"exp":$((now + 600)),"jti":"t1"}
EOJ
if "$OIDCCTL" -s "$sock" token sign id "$scratch/claims.json" >"$scratch/token" 2>"$scratch/sign.err"; then
	ok "oidcctl token sign returns a token"
else
	not_ok "oidcctl token sign returns a token: $(cat "$scratch/sign.err")"
fi
if node "$top/regress/node/verify-jwt.mjs" "$iss" test-app "$scratch/token" >"$scratch/verified" 2>&1; then
	ok "the token verifies with jose against jwks_uri"
else
	not_ok "the token verifies with jose against jwks_uri: $(cat "$scratch/verified")"
fi
kid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["header"]["kid"])' "$scratch/verified" 2>/dev/null)
active=$(awk '/active/ { print $1 }' "$scratch/keys.txt")
[ -n "$kid" ] && [ "$kid" = "$active" ] && ok "signed with the active key" || not_ok "signed with kid $kid, active $active"
check "the signer logged the signature" grep -q "signer: signed id token jti=t1" "$scratch/log"

# The signer's checks.
sed "s/\"aud\":\"test-app\"/\"aud\":\"unknown-app\"/" "$scratch/claims.json" >"$scratch/bad1.json"
if "$OIDCCTL" -s "$sock" token sign id "$scratch/bad1.json" >/dev/null 2>&1; then
	not_ok "an unknown audience is refused"
else
	ok "an unknown audience is refused"
fi
sed "s/\"exp\":[0-9]*/\"exp\":$((now + 90000))/" "$scratch/claims.json" >"$scratch/bad2.json"
if "$OIDCCTL" -s "$sock" token sign id "$scratch/bad2.json" >/dev/null 2>&1; then
	not_ok "a lifetime over expiry.idTokens is refused"
else
	ok "a lifetime over expiry.idTokens is refused"
fi
sed "s|\"iss\":\"[^\"]*\"|\"iss\":\"http://evil.example\"|" "$scratch/claims.json" >"$scratch/bad3.json"
if "$OIDCCTL" -s "$sock" token sign id "$scratch/bad3.json" >/dev/null 2>&1; then
	not_ok "another issuer is refused"
else
	ok "another issuer is refused"
fi
check "the signer logged the refusals" grep -q "refused to sign" "$scratch/log"

# Who may do what on the control socket.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	as_group="setpriv --reuid=nobody --regid=$(id -g _oidcd) --clear-groups"
	as_other="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	chmod 711 "$scratch" "$scratch/state-$port"
	check "the daemon's group may show status" $as_group "$OIDCCTL" -s "$sock" show status
	if $as_group "$OIDCCTL" -s "$sock" key rotate >"$scratch/perm" 2>&1; then
		not_ok "the daemon's group may not rotate keys"
	else
		grep -q "permission denied" "$scratch/perm" && ok "the daemon's group may not rotate keys" || not_ok "key rotate as group: $(cat "$scratch/perm")"
	fi
	if $as_other "$OIDCCTL" -s "$sock" show status >/dev/null 2>&1; then
		not_ok "other users cannot use the control socket"
	else
		ok "other users cannot use the control socket"
	fi
else
	skip "control socket permissions need root and setpriv"
fi

stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "SIGTERM: clean exit" || not_ok "SIGTERM: exit status $rc"
if grep -q 'test-secret\|IBkBdqjsXzKMeGPwrBTvC' "$scratch/log"; then
	not_ok "no client secret or password hash in the log"
else
	ok "no client secret or password hash in the log"
fi
[ ! -e "$sock" ] && ok "control socket removed at exit" || not_ok "control socket left behind"
out=$("$OIDCCTL" -s "$sock" show status 2>&1)
case "$out" in
*"is oidcd running"*) ok "oidcctl says when the daemon is not running" ;;
*) not_ok "oidcctl without daemon said: $out" ;;
esac

done_testing
