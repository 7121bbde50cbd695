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
# Cross-check jose.c with the npm package `jose', both ways: tokens and
# a JWKS made by t_jose must verify in node (and tampered copies must
# not), and tokens signed by node must verify in t_jose.  Prints TAP.
#
# Needs obj/test/t_jose (make unit; T_JOSE overrides) and node; runs `npm ci' in
# regress/node when node_modules is missing.

top=$(cd "$(dirname "$0")/../.." && pwd)
tester=${T_JOSE:-$top/obj/test/t_jose}
nodedir=$top/regress/node
n=0
fail=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

notok() {
	n=$((n + 1))
	fail=1
	echo "not ok $n - $1"
}

# Renumber the "ok"/"not ok" lines of a sub-test into ours.  Read from a
# file, not a pipe, so that the counters stay in this shell.
relay() {
	while IFS= read -r line; do
		case "$line" in
		"ok "*)
			ok "${line#ok * - }" ;;
		"not ok "*)
			notok "${line#not ok * - }" ;;
		"#"*)
			echo "$line" ;;
		esac
	done
}

finish() {
	rm -rf "$work"
	echo "1..$n"
	exit $fail
}

work=$(mktemp -d) || exit 1

if [ ! -x "$tester" ]; then
	notok "$tester missing: run make unit"
	finish
fi
if ! command -v node >/dev/null 2>&1; then
	notok "node not found"
	finish
fi
# Debian 12's own nodejs is 18: WebCrypto is global only behind a flag.
case "$(node --version)" in
v18.*) NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-global-webcrypto"
	export NODE_OPTIONS ;;
esac
if [ ! -d "$nodedir/node_modules/jose" ]; then
	if (cd "$nodedir" && npm ci --no-audit --no-fund) \
	    >"$work/npm.log" 2>&1; then
		ok "npm ci in regress/node"
	else
		sed 's/^/# /' "$work/npm.log" | tail -n 20
		notok "npm ci in regress/node"
		finish
	fi
fi

if (cd "$nodedir" && node jose-verify.mjs sign "$work") \
    >"$work/sign.log" 2>&1; then
	ok "node jose signed RS256, PS256, ES256, ES384 and EdDSA tokens"
else
	sed 's/^/# /' "$work/sign.log" | tail -n 20
	notok "node jose signing"
fi

# Only t_jose's checks of the files are relayed; its other checks are
# the unit test's business.
JOSE_OUT_DIR=$work JOSE_IN_DIR=$work "$tester" >"$work/t_jose.log" 2>&1
rc=$?
pat='tokens and JWKS written|node JWKS|.* signed by node'
grep -E "^(not )?ok .* - ($pat)" "$work/t_jose.log" >"$work/t_jose.tap"
relay <"$work/t_jose.tap"
if [ $rc -ne 0 ]; then
	grep -E '^not ok' "$work/t_jose.log" | head -n 20 | sed 's/^/# /'
	notok "t_jose exited with status $rc"
fi

if [ -f "$work/jwks.json" ]; then
	(cd "$nodedir" && node jose-verify.mjs "$work") >"$work/verify.log" \
	    2>&1
	rc=$?
	relay <"$work/verify.log"
	if [ $rc -ne 0 ]; then
		grep -v '^ok' "$work/verify.log" | tail -n 20 | sed 's/^/# /'
		notok "jose-verify.mjs exited with status $rc"
	fi
else
	notok "t_jose wrote no JWKS"
fi

finish
