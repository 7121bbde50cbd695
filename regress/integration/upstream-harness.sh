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
# The upstream IdP harness proves itself, without oidcd: upstream.mjs
# (oidc-provider playing Authentik) is started over HTTP and over HTTPS
# (a CA and a server certificate for 127.0.0.1 made here with openssl)
# with each signing algorithm, and upstream-selftest.mjs drives it with
# openid-client as the relying party and fedlib.mjs as the browser.
# Prints TAP; skips when node or the npm packages cannot be had.

. "$(dirname "$0")/../lib.sh"

nodedir=$top/regress/node
client_id=broker
client_secret=broker-secret
redirect=http://127.0.0.1:5555/callback

need_upstream || { done_testing; exit 0; }

# A bad command line is refused with status 2.
node "$nodedir/upstream.mjs" --port 0 >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] && ok "upstream.mjs without --client: exit 2" ||
    not_ok "upstream.mjs without --client: exit $rc, want 2"
node "$nodedir/upstream.mjs" --port 0 --alg HS256 \
    --client "$client_id:$client_secret:$redirect" >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] && ok "upstream.mjs --alg HS256: exit 2" ||
    not_ok "upstream.mjs --alg HS256: exit $rc, want 2"

# run_case SCHEME ALG: one upstream, the self-test against it, its exit.
run_case() {
	rc_name=$1-$2
	stub_port=$(free_port)
	rc_uris=$redirect,http://127.0.0.1:$stub_port/callback
	if ! start_upstream "$rc_name" --alg "$2" $tls_args \
	    --client "$client_id:$client_secret:$rc_uris"; then
		not_ok "$rc_name: upstream ready"
		sed 's/^/# /' "$scratch/$rc_name.err" | tail -n 15
		return
	fi
	case "$up_issuer" in
	"$1://127.0.0.1:"*/application/o/dex/)
		ok "$rc_name: upstream ready at $up_issuer" ;;
	*)	not_ok "$rc_name: upstream issuer $up_issuer" ;;
	esac
	if grep -qx "READY $up_issuer" "$scratch/$rc_name.out" &&
	    [ "$(wc -l <"$scratch/$rc_name.out")" -eq 1 ] &&
	    [ ! -s "$scratch/$rc_name.err" ]; then
		ok "$rc_name: one READY line, nothing else said"
	else
		not_ok "$rc_name: one READY line, nothing else said"
		cat "$scratch/$rc_name.out" "$scratch/$rc_name.err" |
		    head -n 10 | sed 's/^/# /'
	fi
	node "$nodedir/upstream-selftest.mjs" full "$up_issuer" "$2" \
	    "$client_id" "$client_secret" "$redirect" "$stub_port" \
	    >"$scratch/$rc_name.tap" 2>&1
	st_rc=$?
	relay <"$scratch/$rc_name.tap"
	if ! grep -q '^ok - ' "$scratch/$rc_name.tap" ||
	    { [ $st_rc -ne 0 ] && ! grep -q '^not ok' "$scratch/$rc_name.tap"; }
	then
		not_ok "$rc_name: upstream-selftest.mjs exited $st_rc"
		grep -v '^ok' "$scratch/$rc_name.tap" | tail -n 15 |
		    sed 's/^/# /'
	fi
	stop_upstream
	[ "$rc" = 0 ] && ok "$rc_name: upstream exits 0 on SIGTERM" ||
	    not_ok "$rc_name: upstream exit status $rc on SIGTERM"
}

tls_args=
for alg in RS256 ES256 PS256 EdDSA; do
	run_case http "$alg"
done

# run_variant NAME MODE CLIENT_SECRET ARGS...: an upstream started with
# ARGS, and the self-test in MODE against it.
run_variant() {
	rv_name=$1
	rv_mode=$2
	rv_secret=$3
	shift 3
	if ! start_upstream "$rv_name" --alg ES256 \
	    --client "$client_id:$rv_secret:$redirect" "$@"; then
		not_ok "$rv_name: upstream ready"
		sed 's/^/# /' "$scratch/$rv_name.err" | tail -n 15
		return
	fi
	node "$nodedir/upstream-selftest.mjs" "$rv_mode" "$up_issuer" \
	    ES256 "$client_id" "$rv_secret" "$redirect" \
	    >"$scratch/$rv_name.tap" 2>&1
	st_rc=$?
	relay <"$scratch/$rv_name.tap"
	if ! grep -q '^ok - ' "$scratch/$rv_name.tap" ||
	    { [ $st_rc -ne 0 ] && ! grep -q '^not ok' "$scratch/$rv_name.tap"; }
	then
		not_ok "$rv_name: upstream-selftest.mjs exited $st_rc"
		grep -v '^ok' "$scratch/$rv_name.tap" | tail -n 15 |
		    sed 's/^/# /'
	fi
	stop_upstream
}

run_variant post post "$client_secret" --no-rotate
cat >"$scratch/users.json" <<EOU
[{ "login": "dave", "password": "s3cret",
   "claims": { "sub": "dave-sub", "name": "Dave", "groups": ["x"] } }]
EOU
run_variant users users "" --users "$scratch/users.json"
echo '[{ "login": "eve" }]' >"$scratch/bad-users.json"
node "$nodedir/upstream.mjs" --port 0 --users "$scratch/bad-users.json" \
    --client "$client_id:$client_secret:$redirect" >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] && ok "--users: a user without claims.sub: exit 2" ||
    not_ok "--users: a user without claims.sub: exit $rc, want 2"

# HTTPS: our own CA, trusted by node through NODE_EXTRA_CA_CERTS only.
if ! command -v openssl >/dev/null 2>&1; then
	skip "openssl not found: no HTTPS runs"
	done_testing
	exit
fi
pki=$scratch/pki
mkdir -p "$pki"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 \
    -subj "/CN=oidcd test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign" >"$pki/log" 2>&1 &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$pki/server.key" -out "$pki/server.csr" \
    -subj "/CN=127.0.0.1" >>"$pki/log" 2>&1 &&
    printf '%s\n' "subjectAltName=IP:127.0.0.1" \
    "extendedKeyUsage=serverAuth" >"$pki/ext" &&
    openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" \
    -CAkey "$pki/ca.key" -CAcreateserial -days 2 -extfile "$pki/ext" \
    -out "$pki/server.pem" >>"$pki/log" 2>&1; then
	ok "a CA and a server certificate for 127.0.0.1"
else
	not_ok "a CA and a server certificate for 127.0.0.1"
	sed 's/^/# /' "$pki/log" | tail -n 10
	done_testing
	exit
fi

# Without the CA, the upstream is not trusted: the HTTPS runs below
# would prove nothing if this succeeded.
tls_args="--tls-cert $pki/server.pem --tls-key $pki/server.key"
if start_upstream untrusted $tls_args \
    --client "$client_id:$client_secret:$redirect"; then
	if env -u NODE_EXTRA_CA_CERTS node -e \
	    'fetch(process.argv[1]).then(() => process.exit(0),
	    () => process.exit(1))' \
	    "${up_issuer}.well-known/openid-configuration" 2>/dev/null; then
		not_ok "https: our CA untrusted without NODE_EXTRA_CA_CERTS"
	else
		ok "https: our CA untrusted without NODE_EXTRA_CA_CERTS"
	fi
	stop_upstream
else
	not_ok "https: upstream ready"
	sed 's/^/# /' "$scratch/untrusted.err" | tail -n 15
fi

NODE_EXTRA_CA_CERTS=$pki/ca.pem
export NODE_EXTRA_CA_CERTS
for alg in RS256 ES256 PS256 EdDSA; do
	run_case https "$alg"
done

done_testing
