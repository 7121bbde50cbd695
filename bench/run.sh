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
#
# make bench: idle memory, then discovery and JWKS throughput against
# nginx.  Both print their figures; neither passes or fails anything.
# The exit status says only whether both could run.

top=$(cd "$(dirname "$0")/.." && pwd)
rc=0
echo "== idle memory (bench/memory.sh)"
sh "$top/bench/memory.sh" || rc=1
echo
echo "== discovery and /keys against nginx (bench/discovery.sh)"
sh "$top/bench/discovery.sh" || rc=1
echo
echo "== token endpoint against the signing limit (bench/token.sh)"
sh "$top/bench/token.sh" || rc=1
echo
echo "== federated logins through an upstream (bench/federation.sh)"
sh "$top/bench/federation.sh" || rc=1
exit $rc
