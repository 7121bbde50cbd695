#!/bin/sh
#
# Sessions through oidcctl: refresh tokens from the password grant show
# up in `oidcctl show sessions` (never the token itself), several per
# user and client, and `oidcctl revoke` by session, by user and by token
# makes the refresh tokens fail at once; `show clients` lists the
# clients without their secrets.

OAUTH_CONFIG_LIB=1
. "$(dirname "$0")/oauth-config.sh"
. "$(dirname "$0")/../lib.sh"

ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
OP_REUSE=0s op_config "$conf" "$port"
iss=http://127.0.0.1:$port/dex
sock=$scratch/state-$port/oidcd.sock
start_daemon "$conf" "$scratch/log"
wait_ready "$iss/healthz/ready" && ok "daemon ready" || not_ok "daemon ready"

# pwgrant USER: a refresh token from the password grant, on stdout
pwgrant() {
	curl -s -u test-app:test-secret -d grant_type=password \
	    --data-urlencode "username=$1" -d password=password \
	    --data-urlencode 'scope=openid email offline_access' "$iss/token" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])'
}
# refresh TOKEN: the new refresh token, or the OAuth error
refresh() {
	curl -s -u test-app:test-secret -d grant_type=refresh_token \
	    --data-urlencode "refresh_token=$1" "$iss/token" |
	    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("refresh_token", d.get("error")))'
}
# works VAR: refresh the token in $VAR, keep the new one; true if it did
works() {
	eval "wt=\$$1"
	wn=$(refresh "$wt")
	[ ${#wn} -eq 64 ] || return 1
	eval "$1=\$wn"
}

a1=$(pwgrant admin@example.com)
a2=$(pwgrant admin@example.com)
a3=$(pwgrant admin@example.com)
o1=$(pwgrant other@example.com)
[ ${#a1} -eq 64 ] && [ ${#o1} -eq 64 ] && ok "refresh tokens from the password grant" || not_ok "tokens: '$a1' '$o1'"

"$OIDCCTL" -s "$sock" show sessions >"$scratch/s" 2>&1
n=$(grep -c 'test-app' "$scratch/s")
[ "$n" -eq 4 ] && ok "show sessions: four sessions" || not_ok "show sessions: $n: $(cat "$scratch/s")"
"$OIDCCTL" -s "$sock" show sessions 08a8684b-db88-4b73-90a9-3cd1661f5466 >"$scratch/s1" 2>&1
n=$(grep -c 'test-app' "$scratch/s1")
[ "$n" -eq 3 ] && ok "show sessions USER: the user's three" || not_ok "sessions of admin: $n"
if grep -q -e "$a1" -e "$a2" -e "$o1" "$scratch/s"; then
	not_ok "show sessions never shows a token"
else
	ok "show sessions never shows a token"
fi

# Revoke one session by its id: the others of the user still work.
fam=$(awk 'NR > 1 && /admin@example.com/ { print $1; exit }' "$scratch/s1")
"$OIDCCTL" -s "$sock" revoke session "$fam" >"$scratch/r" 2>&1
check "revoke session says so" grep -q '1 session' "$scratch/r"
left=0
for v in a1 a2 a3; do
	works $v && left=$((left + 1))
done
[ $left -eq 2 ] && ok "one session revoked, two still refresh" || not_ok "after revoking one: $left work"

# Revoke by token.
works o1 && ok "other's session works" || not_ok "other's session"
"$OIDCCTL" -s "$sock" show sessions 2f1c3a5e-7d04-4f7b-9c1e-5a0b6d8e9f10 | grep -q test-app &&
    ok "other has a session" || not_ok "other has a session"
o2=$(curl -s -u test-app:test-secret -d grant_type=password -d username=other@example.com \
    -d password=password --data-urlencode 'scope=openid offline_access' "$iss/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])')
check "revoke token" "$OIDCCTL" -s "$sock" revoke token "$o2"
[ "$(refresh "$o2")" = invalid_grant ] && ok "a revoked token fails with invalid_grant" || not_ok "revoked token still works"

# Revoke every session of a user.
"$OIDCCTL" -s "$sock" revoke user 08a8684b-db88-4b73-90a9-3cd1661f5466 >"$scratch/r2" 2>&1
check "revoke user" grep -q 'revoked' "$scratch/r2"
left=0
for v in a1 a2 a3; do
	works $v && left=$((left + 1))
done
[ $left -eq 0 ] && ok "revoke user: no session of the user refreshes" || not_ok "after revoke user: $left work"
n=$("$OIDCCTL" -s "$sock" show sessions 08a8684b-db88-4b73-90a9-3cd1661f5466 | grep -c test-app)
[ "$n" -eq 0 ] && ok "revoke user: show sessions lists none" || not_ok "still listed: $n"
if "$OIDCCTL" -s "$sock" revoke session 00 >/dev/null 2>&1; then
	not_ok "revoking a malformed session id fails"
else
	ok "revoking a malformed session id fails"
fi
check "storage survived the bad request" kill -0 "$daemon_pid"
works o1 && ok "other's session is untouched by revoke user" || not_ok "other's session gone"

"$OIDCCTL" -s "$sock" show clients >"$scratch/c" 2>&1
check "show clients lists the clients" grep -q 'public-cli' "$scratch/c"
if grep -q 'secret' "$scratch/c"; then
	not_ok "show clients shows no secret"
else
	ok "show clients shows no secret"
fi
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
done_testing
