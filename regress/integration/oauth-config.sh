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
# The OpenID Provider tests' config: lib.sh's write_config has one client
# and a fixed staticClients list, and these tests need several clients
# (confidential, public, one trusting another), the password grant and
# short lifetimes.  oauth-flow.sh, oauth-errors.sh and pages.sh source
# this file after lib.sh with OAUTH_CONFIG_LIB=1; run on its own it is a
# test that every variant they use is accepted by `oidcd -n'.
#
# op_config FILE PORT writes the config.  Knobs, all optional:
#	OP_STORAGE	lmdb (default) or memory
#	OP_SKIP		oauth2.skipApprovalScreen, default true
#	OP_ALWAYS	oauth2.alwaysShowLoginScreen, default false
#	OP_AUTHREQ	expiry.authRequests, default 24h
#	OP_REUSE, OP_IDLE, OP_ABSOLUTE	expiry.refreshTokens
#	OP_ALG		signer algorithm, default RS256
#	OP_FRONTENDS	oidcd.frontends, default 2
#	OP_LEVEL	logger.level, default debug
#	OP_CONNECTORS	a connectors: block, default none (local only)
#	OP_STATE	the state directory, default $scratch/state-PORT

# admin@example.com and other@example.com, password "password", cost 10.
OP_HASH='$2b$10$IBkBdqjsXzKMeGPwrBTvC.03P47ffC4G5iD8wzwg9Ee89rmereTie'

op_config() {
	opc_file=$1
	opc_port=$2
	opc_state=${OP_STATE:-$scratch/state-$opc_port}
	mkdir -p "$opc_state"
	if [ "${OP_STORAGE:-lmdb}" = memory ]; then
		opc_storage="storage:
  type: memory"
	else
		opc_storage="storage:
  type: lmdb
  config:
    path: $opc_state/db"
	fi
	cat >"$opc_file" <<EOC
issuer: http://127.0.0.1:$opc_port/dex
$opc_storage
web:
  http: 127.0.0.1:$opc_port
logger:
  level: ${OP_LEVEL:-debug}
expiry:
  authRequests: ${OP_AUTHREQ:-24h}
  refreshTokens:
    reuseInterval: ${OP_REUSE:-2s}
    validIfNotUsedFor: ${OP_IDLE:-168h}
    absoluteLifetime: ${OP_ABSOLUTE:-720h}
oauth2:
  skipApprovalScreen: ${OP_SKIP:-true}
  alwaysShowLoginScreen: ${OP_ALWAYS:-false}
  passwordConnector: local
frontend:
  issuer: oidcd test
signer:
  type: local
  config:
    keysRotationPeriod: 6h
    algorithm: ${OP_ALG:-RS256}
enablePasswordDB: true
staticPasswords:
- email: admin@example.com
  hash: "$OP_HASH"
  username: admin
  preferredUsername: admin
  userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
  groups:
  - admins
  - devs
- email: other@example.com
  hash: "$OP_HASH"
  username: other
  userID: 2f1c3a5e-7d04-4f7b-9c1e-5a0b6d8e9f10
staticClients:
- id: test-app
  name: Test App
  secret: test-secret
  redirectURIs:
  - http://127.0.0.1:5555/callback
- id: peer-app
  name: Peer App
  secret: peer-secret
  redirectURIs:
  - http://127.0.0.1:5556/callback
  trustedPeers:
  - test-app
- id: lonely-app
  name: Lonely App
  secret: lonely-secret
  redirectURIs:
  - http://127.0.0.1:5557/callback
- id: public-app
  name: Public App
  public: true
  redirectURIs:
  - http://127.0.0.1:5558/callback
- id: public-cli
  name: Public CLI
  public: true
$(printf '%s\n' "${OP_CONNECTORS:-}" | sed "s/@PORT@/$2/g")
oidcd:
  frontends: ${OP_FRONTENDS:-2}
  stateDir: $opc_state
  emptyDir: $opc_state/empty
  controlSocket: $opc_state/oidcd.sock
EOC
	chmod 600 "$opc_file"
}

# A second connector for the chooser page: an upstream nobody answers.
OP_DEAD_OIDC="connectors:
- type: oidc
  id: upstream
  name: Upstream IdP
  config:
    issuer: http://127.0.0.1:9/dead
    clientID: oidcd
    clientSecret: upstream-secret
    redirectURI: http://127.0.0.1:@PORT@/dex/callback"

[ -n "${OAUTH_CONFIG_LIB:-}" ] && return 0

. "$(dirname "$0")/../lib.sh"

port=$(free_port)
for v in default memory approval short es256 chooser; do
	(
		case $v in
		memory)	OP_STORAGE=memory ;;
		approval) OP_SKIP=false ;;
		short)	OP_AUTHREQ=2s OP_REUSE=0s OP_IDLE=3s OP_ABSOLUTE=6s ;;
		es256)	OP_ALG=ES256 OP_FRONTENDS=1 OP_LEVEL=info ;;
		chooser) OP_ALWAYS=true OP_CONNECTORS=$OP_DEAD_OIDC ;;
		esac
		op_config "$scratch/$v.yaml" "$port"
	)
	if "$OIDCD" -n -f "$scratch/$v.yaml" >"$scratch/$v.out" 2>&1; then
		ok "oidcd -n accepts the $v config"
	else
		not_ok "oidcd -n accepts the $v config"
		sed 's/^/# /' "$scratch/$v.out" | head -n 10
	fi
done
done_testing
