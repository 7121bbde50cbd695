#!/bin/sh
#
# The user's scenario: Dex's config from the seed (etc/dex-config.yaml,
# copied verbatim) loads and runs unchanged, and serves discovery with
# the issuer exactly as written.  It listens on 0.0.0.0:5556 and keeps
# its state in the default places, so it runs only as root and only
# when port 5556 is free.

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
if wait_ready "http://localhost:5556/dex/healthz/ready"; then
	ok "the seed config runs"
else
	not_ok "the seed config runs"
	sed 's/^/# /' "$scratch/log"
fi
iss=$(curl -s http://localhost:5556/dex/.well-known/openid-configuration |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["issuer"])')
[ "$iss" = "http://localhost:5556/dex" ] && ok "discovery issuer is exactly http://localhost:5556/dex" || not_ok "issuer: $iss"
check "memory storage: nothing in /var/lib/oidcd/db" sh -c '! ls /var/lib/oidcd/db/data.mdb 2>/dev/null'
check "/keys serves keys" sh -c "curl -s http://localhost:5556/dex/keys | grep -q '\"kid\"'"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
check "memory storage removed at exit" sh -c '! ls -d /var/lib/oidcd/oidcd-memory.* 2>/dev/null | grep -q .'
done_testing
