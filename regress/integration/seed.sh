#!/bin/sh
#
# The user's scenario, Parseable -> Dex -> Authentik: Dex's config from
# the seed (etc/dex-config.yaml, copied verbatim) loads and runs
# unchanged, serves discovery with the issuer exactly as written, and
# says the Authentik connector is not ready while nothing listens on
# localhost:9000.  Then the same file with only the upstream client's
# credentials filled in runs against oidc-provider playing Authentik at
# http://localhost:9000/application/o/dex/, and a Parseable-like client
# (parseable-app, its redirect_uri on localhost:8000) logs in through it
# and refreshes.  It listens on 0.0.0.0:5556 and keeps its state in the
# default places, so it runs only as root and only when port 5556 is
# free.

. "$(dirname "$0")/../lib.sh"

seed=$top/etc/dex-config.yaml
out=$("$OIDCD" -n -f "$seed" 2>&1)
case "$out" in
*"configuration OK"*) ok "oidcd -n: the seed's dex-config.yaml loads" ;;
*) not_ok "oidcd -n on the seed config: $out" ;;
esac
if [ "$(id -u)" -ne 0 ]; then
	skip "running the seed config unchanged needs root (default paths)"
	done_testing
	exit 0
fi
if ! python3 -c 'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 5556))' 2>/dev/null; then
	skip "port 5556 is in use"
	done_testing
	exit 0
fi
if [ -e /run/oidcd.sock ]; then
	skip "an oidcd already runs here (/run/oidcd.sock)"
	done_testing
	exit 0
fi
ensure_users
cp "$seed" "$scratch/dex-config.yaml"
chmod 600 "$scratch/dex-config.yaml"
cmp -s "$seed" "$scratch/dex-config.yaml" && ok "the config is used byte for byte" || not_ok "copy differs"
start_daemon "$scratch/dex-config.yaml" "$scratch/log"
if wait_ready "http://localhost:5556/dex/healthz/live"; then
	ok "the seed config runs"
else
	not_ok "the seed config runs"
	sed 's/^/# /' "$scratch/log"
fi
up9000=0
python3 -c 'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 9000))' 2>/dev/null && up9000=1
if [ $up9000 -eq 1 ]; then
	sleep 1
	ready=$(curl -s -w ' %{http_code}' http://localhost:5556/dex/healthz/ready)
	case "$ready" in
	*"connector authentik:"*503) ok "/healthz/ready: 503, Authentik is not up" ;;
	*) not_ok "/healthz/ready without Authentik: $ready" ;;
	esac
else
	skip "port 9000 is in use: Authentik's absence not checked"
fi
iss=$(curl -s http://localhost:5556/dex/.well-known/openid-configuration |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["issuer"])')
[ "$iss" = "http://localhost:5556/dex" ] && ok "discovery issuer is exactly http://localhost:5556/dex" || not_ok "issuer: $iss"
check "memory storage: nothing in /var/lib/oidcd/db" sh -c '! ls /var/lib/oidcd/db/data.mdb 2>/dev/null'
check "/keys serves keys" sh -c "curl -s http://localhost:5556/dex/keys | grep -q '\"kid\"'"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
check "memory storage removed at exit" sh -c '! ls -d /var/lib/oidcd/oidcd-memory.* 2>/dev/null | grep -q .'

# The same file with the upstream client's credentials filled in, and
# Authentik (oidc-provider) where the file says it is.
if [ $up9000 -ne 1 ]; then
	skip "port 9000 is in use: no federated login"
	done_testing
	exit 0
fi
need_upstream || { done_testing; exit 0; }
sed -e 's/YOUR_AUTHENTIK_CLIENT_ID/oidcd-broker/' \
    -e 's/YOUR_AUTHENTIK_CLIENT_SECRET/broker-secret-from-authentik/' \
    "$seed" >"$scratch/filled.yaml"
chmod 600 "$scratch/filled.yaml"
n=$(diff "$seed" "$scratch/filled.yaml" | grep -c '^>')
[ "$n" -eq 2 ] && ok "filled in: two lines differ, clientID and clientSecret" ||
    not_ok "filled in: $n lines differ"
if ! start_upstream authentik --host localhost --port 9000 --alg RS256 \
    --client "oidcd-broker:broker-secret-from-authentik:http://localhost:5556/dex/callback"; then
	not_ok "Authentik stand-in on localhost:9000"
	sed 's/^/# /' "$scratch/authentik.err"
	done_testing
	exit 1
fi
[ "$up_issuer" = "http://localhost:9000/application/o/dex/" ] &&
    ok "Authentik stand-in: issuer $up_issuer" || not_ok "issuer $up_issuer"
start_daemon "$scratch/filled.yaml" "$scratch/log2"
if wait_ready "http://localhost:5556/dex/healthz/ready"; then
	ok "ready once Authentik answers discovery"
else
	not_ok "not ready: $(curl -s http://localhost:5556/dex/healthz/ready)"
	sed 's/^/# /' "$scratch/log2" | tail -20
fi
FED_REUSE_INTERVAL=3 node "$top/regress/node/federation.mjs" login \
    http://localhost:5556/dex \
    parseable-app parseable-secret http://localhost:8000/api/v1/o/code \
    "$up_issuer" authentik "seed: Parseable via oidcd via Authentik" \
    >"$scratch/seed.tap" 2>&1
relay <"$scratch/seed.tap"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
grep -q 'broker-secret-from-authentik\|parseable-secret' "$scratch/log2" &&
    not_ok "a secret reached the log" || ok "no secret in the log"
done_testing
