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
# The login pages in headless Chromium (regress/node/pages.mjs, Debian's
# chromium through playwright-core): the connector chooser with one and
# with two connectors, the password form, the approval page and an error
# page, each checked and saved as a PNG in regress/out/screenshots/.
# Prints TAP.

OAUTH_CONFIG_LIB=1
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/oauth-config.sh"

nodedir=$top/regress/node
shots=${SCREENSHOTS:-$top/regress/out/screenshots}
chromium=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
	not_ok "$chromium missing: sh scripts/deps.sh install-test"
	done_testing
	exit 1
fi
if [ ! -d "$nodedir/node_modules/playwright-core" ]; then
	(cd "$nodedir" && npm ci --no-audit --no-fund) >"$scratch/npm.log" \
	    2>&1 || { not_ok "npm ci in regress/node"; done_testing; exit 1; }
fi
mkdir -p "$shots"
rm -f "$shots"/*.png

ensure_users
port=$(free_port)
iss=http://127.0.0.1:$port/dex
OP_SKIP=false OP_ALWAYS=true op_config "$scratch/pages.yaml" "$port"
start_daemon "$scratch/pages.yaml" "$scratch/log"
pid1=$daemon_pid
if wait_ready "$iss/healthz/ready"; then
	ok "daemon ready"
else
	not_ok "daemon ready"
	tail -n 20 "$scratch/log" | sed 's/^/# /'
	done_testing
	exit 1
fi

port2=$(free_port)
iss2=http://127.0.0.1:$port2/dex
OP_ALWAYS=true OP_CONNECTORS=$OP_DEAD_OIDC \
    op_config "$scratch/chooser.yaml" "$port2"
start_daemon "$scratch/chooser.yaml" "$scratch/log2"
pid2=$daemon_pid
if wait_ready "$iss2/healthz"; then
	ok "daemon with two connectors ready"
else
	not_ok "daemon with two connectors ready"
	tail -n 10 "$scratch/log2" | sed 's/^/# /'
	iss2=-
fi

CHROMIUM=$chromium node "$nodedir/pages.mjs" "$iss" "$iss2" "$shots" \
    >"$scratch/pages.tap" 2>&1
prc=$?
relay <"$scratch/pages.tap"
if [ $prc -ne 0 ] && ! grep -q '^not ok' "$scratch/pages.tap"; then
	not_ok "pages.mjs exited $prc"
	tail -n 15 "$scratch/pages.tap" | sed 's/^/# /'
fi
if [ "$t_failed" -gt 0 ]; then
	diag "last lines of the daemon's log:"
	tail -n 25 "$scratch/log" | sed 's/^/#   /'
fi
for f in chooser password password-failed approval error; do
	check "screenshot $f.png saved" test -s "$shots/$f.png"
done

stop_daemon "$pid1"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
[ "$iss2" = - ] || stop_daemon "$pid2"
done_testing
