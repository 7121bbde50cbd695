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
# frontend.dir's static files and theme, as Dex serves them: static/...,
# theme/... (themes/<theme>/) and robots.txt come from the directory,
# with their type, bytes, ETag and 304; built-in assets fill the gaps;
# "..", "//" and encoded paths reach nothing; `oidcd -n` names a file
# over the limits; a reload serves changed files, refuses a bad set,
# follows frontend.theme, and without frontend.dir goes back to the
# built-ins.  Prints TAP.

. "$(dirname "$0")/../lib.sh"

ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
iss=http://127.0.0.1:$port/dex
sock=$scratch/state-$port/oidcd.sock
web=$scratch/web

# Dex's layout; templates/ may be empty (the built-in pages are used).
mkdir -p "$web/templates" "$web/static/img" "$web/themes/light" \
    "$web/themes/dark"
printf 'body { color: #123456; }\n' >"$web/static/main.css"
printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' >"$web/static/img/x.svg"
head -c 3000 /dev/urandom >"$web/themes/light/logo.png"
printf '.theme { color: red; }\n' >"$web/themes/light/styles.css"
head -c 500 /dev/urandom >"$web/themes/dark/logo.png"
printf 'User-agent: *\nDisallow: /oidcd-test\n' >"$web/robots.txt"
printf 'secret\n' >"$web/static/.hidden"
printf 'x\n' >"$web/static/notes.unknownext"
chmod -R a+rX "$web"

CONF_EXTRA="frontend:
  dir: $web"
write_config "$conf" "$port"

# A file one byte over the limit (ASSET_FILE_MAX, 1 MiB): oidcd -n names it.
head -c 1048577 /dev/zero >"$web/static/big.bin"
out=$("$OIDCD" -n -f "$conf" 2>&1)
rc=$?
case "$rc:$out" in
0:*) not_ok "oidcd -n with a file over the limit exits 0: $out" ;;
*static/big.bin*) ok "oidcd -n refuses a file over the limit and names it" ;;
*) not_ok "oidcd -n said: $out" ;;
esac
rm -f "$web/static/big.bin"
out=$("$OIDCD" -n -f "$conf" 2>&1)
[ $? -eq 0 ] && ok "oidcd -n is happy without it" || not_ok "oidcd -n: $out"

# A symbolic link is not followed, even to a file inside the dir.
ln -s ../robots.txt "$web/static/link.txt"
out=$("$OIDCD" -n -f "$conf" 2>&1)
case "$out" in
*static/link.txt*) ok "oidcd -n refuses a symbolic link and names it" ;;
*) not_ok "oidcd -n with a symlink said: $out" ;;
esac
rm -f "$web/static/link.txt"

start_daemon "$conf" "$scratch/log"
if wait_ready "$iss/healthz/ready"; then
	ok "daemon ready"
else
	not_ok "daemon ready"
	tail -n 20 "$scratch/log" | sed 's/^/# /'
	done_testing
	exit 1
fi

# get PATH [CURL ARGS]: the status in $st, headers in $scratch/h, body
# in $scratch/b.
get() {
	gp=$1
	shift
	# curl leaves the old file when there is no body.
	rm -f "$scratch/h" "$scratch/b"
	st=$(curl -s --path-as-is -D "$scratch/h" -o "$scratch/b" \
	    -w '%{http_code}' "$@" "$iss/$gp")
}
hdr() {
	tr -d '\r' <"$scratch/h" | awk -v k="$1" \
	    'tolower($0) ~ "^" tolower(k) ":" { sub(/^[^:]*: */, ""); print }'
}

# serves PATH FILE TYPE: 200, the same bytes, that type, an ETag that
# gives a 304 and a HEAD with the length.  Two frontends: ask a few
# times so that both answer.
serves() {
	sp=$1
	sf=$2
	sty=$3
	sgood=0
	for si in 1 2 3 4; do
		get "$sp"
		[ "$st" = 200 ] && cmp -s "$scratch/b" "$sf" &&
		    [ "$(hdr Content-Type)" = "$sty" ] && sgood=$((sgood + 1))
	done
	if [ $sgood -eq 4 ]; then
		ok "$sp: 200, $sty, the file's bytes"
	else
		not_ok "$sp: status $st, $(hdr Content-Type), $sgood/4 good"
	fi
	etag=$(hdr ETag)
	get "$sp" -H "If-None-Match: $etag"
	[ -n "$etag" ] && [ "$st" = 304 ] && [ ! -s "$scratch/b" ] &&
	    ok "$sp: ETag $etag gives 304" ||
	    not_ok "$sp: ETag '$etag' gave $st"
	# With -I, curl writes the headers as the output: nothing more.
	get "$sp" -I
	[ "$st" = 200 ] && cmp -s "$scratch/b" "$scratch/h" &&
	    [ "$(hdr Content-Length)" = "$(wc -c <"$sf" | tr -d ' ')" ] &&
	    ok "$sp: HEAD gives the length, no body" ||
	    not_ok "$sp: HEAD $st, length $(hdr Content-Length)"
}

serves static/main.css "$web/static/main.css" "text/css; charset=utf-8"
case "$(hdr Cache-Control)" in
max-age=*) ok "Cache-Control $(hdr Cache-Control)" ;;
*) not_ok "Cache-Control: $(hdr Cache-Control)" ;;
esac
serves static/img/x.svg "$web/static/img/x.svg" "image/svg+xml"
serves theme/logo.png "$web/themes/light/logo.png" "image/png"
serves theme/styles.css "$web/themes/light/styles.css" \
    "text/css; charset=utf-8"
serves robots.txt "$web/robots.txt" "text/plain; charset=utf-8"
get static/notes.unknownext
[ "$st" = 200 ] && [ "$(hdr Content-Type)" = application/octet-stream ] &&
    ok "an unknown extension is application/octet-stream" ||
    not_ok "unknown extension: $st $(hdr Content-Type)"

# A built-in asset that the dir does not override.
get theme/favicon.png
[ "$st" = 200 ] && cmp -s "$scratch/b" "$top/web/themes/light/favicon.png" &&
    ok "built-in theme/favicon.png still served" ||
    not_ok "built-in favicon: $st"

# Nothing else: unknown files, directories, hidden files, templates,
# and the ways around the table.
for p in static/nope.css static/ static/img static/img/ static/.hidden \
    theme/ themes/light/logo.png templates/login.html \
    static/../robots.txt static/img/../main.css static//main.css \
    static/%2e%2e/robots.txt static/img%2fx.svg static/main%2ecss \
    theme/..%2f..%2frobots.txt static/%2e%2e%2f%2e%2e%2ftemplates \
    theme/../../oidcd.yaml; do
	get "$p"
	[ "$st" = 404 ] && ok "/dex/$p is 404" || not_ok "/dex/$p gave $st"
done
# A path from outside the issuer's.
st=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$port/static/main.css")
[ "$st" = 404 ] && ok "/static/main.css outside the issuer path is 404" ||
    not_ok "/static/main.css gave $st"

# Reload with a changed file: the new bytes, a new ETag.
old_etag=$(get static/main.css; hdr ETag)
printf 'body { color: #654321; }\n/* changed */\n' >"$web/static/main.css"
out=$("$OIDCCTL" -s "$sock" reload 2>&1)
[ $? -eq 0 ] && ok "oidcctl reload: $out" || not_ok "oidcctl reload: $out"
sleep 0.5
serves static/main.css "$web/static/main.css" "text/css; charset=utf-8"
new_etag=$(hdr ETag)
[ -n "$new_etag" ] && [ "$new_etag" != "$old_etag" ] &&
    ok "the ETag changed with the file" ||
    not_ok "ETag $old_etag -> $new_etag"
get static/main.css -H "If-None-Match: $old_etag"
[ "$st" = 200 ] && ok "the old ETag gives 200" || not_ok "old ETag gave $st"

# A reload with a file over the limit fails, names it, and keeps the set.
head -c 1048577 /dev/zero >"$web/static/big.bin"
out=$("$OIDCCTL" -s "$sock" reload 2>&1)
rc=$?
case "$rc:$out" in
0:*) not_ok "reload with a file over the limit exits 0: $out" ;;
*static/big.bin*) ok "reload refuses a file over the limit, names it" ;;
*) not_ok "reload with big.bin said: $out" ;;
esac
rm -f "$web/static/big.bin"
serves static/main.css "$web/static/main.css" "text/css; charset=utf-8"

# frontend.theme picks themes/<theme>/.
CONF_EXTRA="frontend:
  dir: $web
  theme: dark"
write_config "$conf" "$port"
out=$("$OIDCCTL" -s "$sock" reload 2>&1)
[ $? -eq 0 ] && ok "reload with theme dark" || not_ok "reload: $out"
sleep 0.5
serves theme/logo.png "$web/themes/dark/logo.png" "image/png"
get theme/styles.css
[ "$st" = 200 ] && cmp -s "$scratch/b" "$top/web/themes/dark/styles.css" &&
    ok "theme/styles.css: the built-in dark one, not light's file" ||
    not_ok "dark styles.css: $st"

# Without frontend.dir: the built-ins again.
CONF_EXTRA=
write_config "$conf" "$port"
out=$("$OIDCCTL" -s "$sock" reload 2>&1)
[ $? -eq 0 ] && ok "reload without frontend.dir" || not_ok "reload: $out"
sleep 0.5
serves static/main.css "$top/web/static/main.css" "text/css; charset=utf-8"
serves robots.txt "$top/web/robots.txt" "text/plain; charset=utf-8"
get static/img/x.svg
[ "$st" = 404 ] && ok "static/img/x.svg is gone" || not_ok "x.svg gave $st"

check "the daemon is still running" kill -0 "$daemon_pid"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
done_testing
