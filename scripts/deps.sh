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
# The Debian packages oidcd needs, checked with one dpkg-query and
# installed with apt-get when something is missing.
#
# Usage: sh scripts/deps.sh check|install|install-test|install-bench
#
#	check		build packages (make calls this on every build)
#	install		the same, under its own name (make deps)
#	install-test	build and test packages, then npm ci in regress/node
#	install-bench	build packages and the tools bench/ runs
#
# As root the missing packages are installed (apt-get update first, unless
# the package lists are less than an hour old); otherwise the script
# prints the exact apt-get line and exits 1.  A package whose name is also
# a command on PATH counts as present (npm ships inside some nodejs builds).

# Building oidcd and oidcctl.  Add one package per line.
BUILD_PKGS="
	gcc
	make
	pkg-config
	libbsd-dev
	libcrypt-dev
	libevent-dev
	libjansson-dev
	liblmdb-dev
	libseccomp-dev
	libssl-dev
	libtls-dev
	libyaml-dev
"

# make test: libFuzzer (clang), the Node.js checks, manual lint, the tools
# the integration scripts call.  Add one package per line.
TEST_PKGS="
	clang
	libclang-rt-dev
	nodejs
	npm
	mandoc
	openssl
	lmdb-utils
	procps
	curl
	chromium
"

# make bench: nginx to compare with, wrk to load, taskset to pin CPUs.
BENCH_PKGS="
	curl
	nginx-light
	procps
	util-linux
	wrk
"

top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	echo "usage: sh scripts/deps.sh" \
	    "check|install|install-test|install-bench" >&2
	exit 2
}

# Print the packages of "$@" that are not installed.
missing() {
	installed=" $(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' \
	    "$@" 2>/dev/null | awk '$2 == "ii" { printf "%s ", $1 }')"
	for p in "$@"; do
		case "$installed" in
		*" $p "*)	continue ;;
		esac
		command -v "$p" >/dev/null 2>&1 && continue
		echo "$p"
	done
}

# Install "$@" as root, or say how.
install_pkgs() {
	[ $# -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "oidcd needs these Debian packages; run:" >&2
		echo "  sudo apt-get install -y $*" >&2
		exit 1
	fi
	echo "deps.sh: installing $*" >&2
	export DEBIAN_FRONTEND=noninteractive
	# .ci/run has just updated; a fresh container has no lists at all.
	if ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1 || [ -z \
	    "$(find /var/lib/apt/lists /var/cache/apt/pkgcache.bin \
	    -maxdepth 0 -mmin -60 2>/dev/null)" ]; then
		apt-get update || exit 1
	fi
	apt-get install -y "$@" || exit 1
}

npm_ci() {
	[ -f "$top/regress/node/package.json" ] || return 0
	[ -d "$top/regress/node/node_modules" ] && return 0
	echo "deps.sh: npm ci in regress/node" >&2
	(cd "$top/regress/node" && npm ci --no-audit --no-fund) || exit 1
}

[ $# -eq 1 ] || usage
case "$1" in
check|install)
	pkgs=$BUILD_PKGS
	;;
install-test)
	pkgs="$BUILD_PKGS $TEST_PKGS"
	;;
install-bench)
	pkgs="$BUILD_PKGS $BENCH_PKGS"
	;;
*)
	usage
	;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: not a Debian system; make sure these are installed:" \
	    "$pkgs" | tr -s ' \t\n' ' ' >&2
	echo >&2
	[ "$1" = install-test ] && npm_ci
	exit 0
fi

# Package names never hold blanks: split the lists on purpose.
# shellcheck disable=SC2046,SC2086
install_pkgs $(missing $pkgs)
[ "$1" = install-test ] && npm_ci
exit 0
