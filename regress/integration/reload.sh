#!/bin/sh
#
# Reload: SIGHUP with a broken file keeps the daemon serving on the old
# config and logs FILE:LINE:COL; `oidcctl reload` reports the error back
# and exits 1; a good file is taken, and what changed is served.

. "$(dirname "$0")/../lib.sh"

ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
write_config "$conf" "$port"
iss=http://127.0.0.1:$port/dex
sock=$scratch/state-$port/oidcd.sock
start_daemon "$conf" "$scratch/log"
wait_ready "$iss/healthz/ready" && ok "daemon ready" || not_ok "daemon ready"
gen() {
	"$OIDCCTL" -s "$sock" show status | awk '$1 == "parent" { print $6 }'
}

cp "$conf" "$scratch/good.yaml"
# A bad duration on a known line.
sed 's/^  skipApprovalScreen: true/  skipApprovalScreen: maybe/' "$scratch/good.yaml" >"$conf"
line=$(grep -n 'skipApprovalScreen' "$conf" | cut -d: -f1)
kill -HUP "$daemon_pid"
sleep 1
check "SIGHUP with a broken file: the daemon is still running" kill -0 "$daemon_pid"
check "the log says the reload failed" grep -q "reload failed" "$scratch/log"
check "the log names FILE:LINE:COL" grep -q "$conf:$line:[0-9]*:" "$scratch/log"
check "still serving discovery" curl -sf "$iss/.well-known/openid-configuration"

out=$("$OIDCCTL" -s "$sock" reload 2>&1)
rc=$?
[ $rc -ne 0 ] && ok "oidcctl reload of a broken file exits non-zero" || not_ok "oidcctl reload exit $rc"
case "$out" in
*"$conf:$line:"*) ok "oidcctl reload prints the parse error" ;;
*) not_ok "oidcctl reload printed: $out" ;;
esac

# A good change: response types grow, discovery follows.
cp "$scratch/good.yaml" "$conf"
sed -i 's/^  skipApprovalScreen: true/  skipApprovalScreen: true\n  responseTypes: [code, id_token, token]/' "$conf"
g1=$(gen)
out=$("$OIDCCTL" -s "$sock" reload 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "oidcctl reload of a good file succeeds: $out" || not_ok "oidcctl reload: $out"
sleep 0.5
g2=$(gen)
[ -n "$g1" ] && [ -n "$g2" ] && [ "$g2" -gt "$g1" ] && ok "config generation went from $g1 to $g2" || not_ok "generation $g1 -> $g2"
rt=$(curl -s "$iss/.well-known/openid-configuration" | python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["response_types_supported"]))')
[ "$rt" = "code,id_token,token" ] && ok "discovery shows the new response types" || not_ok "response types: $rt"
gt=$(curl -s "$iss/.well-known/openid-configuration" | python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["grant_types_supported"]))')
case "$gt" in *implicit*) ok "implicit advertised with a token response type" ;; *) not_ok "grant types: $gt" ;; esac

# A change that needs a restart is refused.
sed "s|^issuer: .*|issuer: http://127.0.0.1:$port/other|" "$conf" >"$scratch/other.yaml"
out=$("$OIDCCTL" -s "$sock" reload "$scratch/other.yaml" 2>&1)
rc=$?
case "$out" in
*restart*) [ $rc -ne 0 ] && ok "changing the issuer needs a restart" || not_ok "issuer change rc $rc" ;;
*) not_ok "issuer change: $out" ;;
esac

# A local user's refresh follows the password database as reloaded:
# the claims change with the entry; a user who is gone is refused, and
# the token is not spent by the refusal.
sed 's/^  skipApprovalScreen: true/  skipApprovalScreen: true\n  passwordConnector: local/' \
    "$scratch/good.yaml" >"$scratch/pw.yaml"
"$OIDCCTL" -s "$sock" reload "$scratch/pw.yaml" >/dev/null 2>&1
sleep 0.5
tokfield() {
	python3 -c 'import json,sys
r = json.load(sys.stdin)
f = sys.argv[1]
if f == "name":
	import base64
	p = r["id_token"].split(".")[1]
	print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["name"])
else:
	print(r.get(f, ""))' "$1"
}
refresh() {
	curl -s -o "$scratch/refresh.json" -w '%{http_code}' \
	    -u test-app:test-secret -d grant_type=refresh_token \
	    --data-urlencode "refresh_token=$1" "$iss/token"
}
rt=$(curl -s -u test-app:test-secret -d grant_type=password \
    -d username=admin@example.com -d password=password \
    --data-urlencode 'scope=openid profile email offline_access' \
    "$iss/token" | tokfield refresh_token)
[ -n "$rt" ] && ok "password grant: a refresh token" || not_ok "no refresh token"
sed 's/^  username: admin$/  username: root-admin/' "$scratch/pw.yaml" \
    >"$scratch/renamed.yaml"
"$OIDCCTL" -s "$sock" reload "$scratch/renamed.yaml" >/dev/null 2>&1
sleep 0.5
st=$(refresh "$rt")
name=$(tokfield name <"$scratch/refresh.json")
[ "$st" = 200 ] && [ "$name" = root-admin ] &&
    ok "a renamed local user's refresh carries the new name" ||
    not_ok "renamed: $st name=$name $(cat "$scratch/refresh.json")"
rt=$(tokfield refresh_token <"$scratch/refresh.json")
sed 's/^- email: admin@example.com$/- email: other@example.com/' \
    "$scratch/renamed.yaml" >"$scratch/gone.yaml"
"$OIDCCTL" -s "$sock" reload "$scratch/gone.yaml" >/dev/null 2>&1
sleep 0.5
st=$(refresh "$rt")
err=$(tokfield error <"$scratch/refresh.json")
desc=$(tokfield error_description <"$scratch/refresh.json")
[ "$st" = 400 ] && [ "$err" = invalid_grant ] &&
    [ "$desc" = "User not found." ] &&
    ok "a local user who is gone: 400 invalid_grant, User not found." ||
    not_ok "gone: $st $(cat "$scratch/refresh.json")"
"$OIDCCTL" -s "$sock" reload "$scratch/renamed.yaml" >/dev/null 2>&1
sleep 0.5
st=$(refresh "$rt")
[ "$st" = 200 ] && ok "back again: the refused token was not spent" ||
    not_ok "back again: $st $(cat "$scratch/refresh.json")"

# Many reloads in a row leave no descriptor behind in the frontends.
for p in $(children_of "$daemon_pid"); do
	[ "$(role_of "$p")" = frontend ] && fe=$p
done
n1=$(ls "/proc/$fe/fd" | wc -l)
for i in 1 2 3 4 5; do
	"$OIDCCTL" -s "$sock" reload >/dev/null 2>&1
	sleep 0.3
done
sleep 1.5
n2=$(ls "/proc/$fe/fd" | wc -l)
[ "$n2" -le "$n1" ] && ok "no descriptor leak over five reloads ($n1 -> $n2)" || not_ok "descriptors $n1 -> $n2"
check "still serving after the reloads" curl -sf "$iss/keys"

stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
done_testing
