#!/bin/sh
#
# HTTPS with a CA and a server certificate made here: discovery over
# TLS verified against the test CA, HTTP and HTTPS listeners side by
# side, TLS 1.3 only when tlsMinVersion says so, HSTS on TLS.

. "$(dirname "$0")/../lib.sh"

ensure_users
pki=$scratch/pki
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=oidcd test CA" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$pki/ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 2 -extfile "$pki/ext" -out "$pki/server.crt" 2>/dev/null
chmod 600 "$pki/server.key"
check "test CA and server certificate generated" test -s "$pki/server.crt"

port=$(free_port)
tport=$(free_port)
conf=$scratch/oidcd.yaml
WEB_EXTRA="  https: 127.0.0.1:$tport
  tlsCert: $pki/server.crt
  tlsKey: $pki/server.key
  tlsMinVersion: \"1.3\""
write_config "$conf" "$port"
sed -i "s|^issuer: .*|issuer: https://127.0.0.1:$tport/dex|" "$conf"
iss=https://127.0.0.1:$tport/dex
start_daemon "$conf" "$scratch/log"
if wait_ready "http://127.0.0.1:$port/dex/healthz/ready"; then
	ok "daemon ready"
else
	not_ok "daemon ready"
	sed 's/^/# /' "$scratch/log"
fi

out=$(curl -s --cacert "$pki/ca.crt" -D "$scratch/h" "$iss/.well-known/openid-configuration")
iss_got=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["issuer"])' 2>/dev/null)
[ "$iss_got" = "$iss" ] && ok "discovery over HTTPS, verified against the test CA" || not_ok "discovery over HTTPS: $out"
check "HSTS on the TLS listener" grep -qi '^strict-transport-security:' "$scratch/h"
if curl -s -o /dev/null "$iss/keys" 2>/dev/null; then
	not_ok "a client without the CA refuses the certificate"
else
	ok "a client without the CA refuses the certificate"
fi
if curl -s --cacert "$pki/ca.crt" --tls-max 1.2 -o /dev/null "$iss/keys" 2>/dev/null; then
	not_ok "TLS 1.2 refused with tlsMinVersion 1.3"
else
	ok "TLS 1.2 refused with tlsMinVersion 1.3"
fi
check "the HTTP listener serves too" curl -sf "http://127.0.0.1:$port/dex/keys"
# Keep-alive over TLS: several requests on one connection.
n=$(curl -s --cacert "$pki/ca.crt" -w '%{num_connects}\n' -o /dev/null -o /dev/null -o /dev/null \
    "$iss/keys" "$iss/keys" "$iss/keys" | awk '{ n += $1 } END { print n + 0 }')
[ "$n" = 1 ] && ok "three requests over one TLS connection" || not_ok "connections for three requests: $n"

# A renewed certificate is picked up by a reload.
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 1 -extfile "$pki/ext" -out "$pki/server.crt" 2>/dev/null
serial=$(openssl x509 -in "$pki/server.crt" -noout -serial)
kill -HUP "$daemon_pid"
sleep 1
got=$(echo | openssl s_client -connect "127.0.0.1:$tport" -CAfile "$pki/ca.crt" 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null)
[ "$got" = "$serial" ] && ok "reload serves the renewed certificate" || not_ok "serial $got, want $serial"

stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
done_testing
