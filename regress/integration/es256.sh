#!/bin/sh
#
# signer.config.algorithm ES256: P-256 keys in /keys, discovery says
# ES256, and a token signed by the signer verifies with jose.

. "$(dirname "$0")/../lib.sh"

ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
CONF_EXTRA="signer:
  type: local
  config:
    keysRotationPeriod: 6h
    algorithm: ES256"
write_config "$conf" "$port"
iss=http://127.0.0.1:$port/dex
sock=$scratch/state-$port/oidcd.sock
start_daemon "$conf" "$scratch/log"
wait_ready "$iss/healthz/ready" && ok "daemon ready" || not_ok "daemon ready"
algs=$(curl -s "$iss/.well-known/openid-configuration" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id_token_signing_alg_values_supported"])')
[ "$algs" = "['ES256']" ] && ok "discovery: ES256" || not_ok "discovery algs: $algs"
curl -s "$iss/keys" | python3 -c '
import json, sys
k = json.load(sys.stdin)["keys"]
assert len(k) >= 2
for j in k:
    assert j["kty"] == "EC" and j["crv"] == "P-256" and j["alg"] == "ES256", j
    assert len(j["x"]) == 43 and len(j["y"]) == 43 and "d" not in j
' && ok "/keys: P-256 keys" || not_ok "/keys: P-256 keys"
now=$(date +%s)
echo "{\"iss\":\"$iss\",\"sub\":\"x\",\"aud\":\"test-app\",\"iat\":$now,\"exp\":$((now + 60))}" >"$scratch/c.json"
"$OIDCCTL" -s "$sock" token sign access "$scratch/c.json" >"$scratch/token" 2>&1
if node "$top/regress/node/verify-jwt.mjs" "$iss" test-app "$scratch/token" >"$scratch/v" 2>&1; then
	ok "an ES256 token verifies with jose"
else
	not_ok "an ES256 token verifies with jose: $(cat "$scratch/v")"
fi
check "its header says ES256" grep -q '"alg":"ES256"' "$scratch/v"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
done_testing
