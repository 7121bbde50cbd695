#!/bin/sh
#
# Key rotation with short test periods: every key that signs a token
# was published in /keys at least the publish-ahead time before; old
# keys stay published while tokens they signed are valid; the keys
# survive a restart.

. "$(dirname "$0")/../lib.sh"

ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
OIDCD_EXTRA="  jwksMaxAge: 1s
  keysPublishAhead: 2s"
CONF_EXTRA="expiry:
  idTokens: 4s
signer:
  type: local
  config:
    keysRotationPeriod: 3s"
write_config "$conf" "$port"
iss=http://127.0.0.1:$port/dex
sock=$scratch/state-$port/oidcd.sock
start_daemon "$conf" "$scratch/log"
wait_ready "$iss/healthz/ready" && ok "daemon ready" || not_ok "daemon ready"

python3 - "$iss" "$OIDCCTL" "$sock" "$scratch" <<'EOP'
import base64, json, subprocess, sys, time, urllib.request
iss, ctl, sock, scratch = sys.argv[1:5]
first_seen = {}
last_seen = {}
signed = []
fail = 0
def tap(cond, msg):
    global fail
    print(("ok" if cond else "not ok") + " - " + msg)
    if not cond:
        fail += 1
t0 = time.time()
while time.time() - t0 < 13:
    now = time.time()
    keys = json.load(urllib.request.urlopen(iss + "/keys"))["keys"]
    for k in keys:
        first_seen.setdefault(k["kid"], now)
        last_seen[k["kid"]] = now
    iat = int(time.time())
    claims = {"iss": iss, "sub": "x", "aud": "test-app", "iat": iat, "exp": iat + 4}
    f = scratch + "/c.json"
    open(f, "w").write(json.dumps(claims))
    p = subprocess.run([ctl, "-s", sock, "token", "sign", "access", f],
        capture_output=True, text=True)
    if p.returncode == 0:
        hdr = json.loads(base64.urlsafe_b64decode(p.stdout.split(".")[0] + "=="))
        signed.append((time.time(), hdr["kid"]))
    time.sleep(0.25)
kids = sorted(set(k for _, k in signed))
tap(len(signed) > 30, "tokens signed during the run: %d" % len(signed))
tap(len(kids) >= 3, "the signing key rotated: %d keys signed" % len(kids))
early = [(t, k) for t, k in signed if k not in first_seen or first_seen[k] > t - 1.5]
# The first key signs at once on a fresh start (no JWKS can be cached).
early = [e for e in early if e[1] != signed[0][1]]
tap(not early, "every rotated-in key was in /keys >= 1.5 s before it signed")
for kid in kids[1:]:
    pass
# A key that signed stays published until its tokens expire (4 s).
lastuse = {}
for t, k in signed:
    lastuse[k] = t
gone_early = [k for k, t in lastuse.items()
    if last_seen.get(k, 0) < min(t + 3.5, time.time() - 1)]
tap(not gone_early, "keys stay in /keys while their tokens are valid")
sys.exit(1 if fail else 0)
EOP
[ $? -eq 0 ] || diag "see $scratch/log"
check "the signer logged rotations" grep -q "rotated: key" "$scratch/log"

# Keys survive a restart: the active key before is still published.
active=$("$OIDCCTL" -s "$sock" show keys | awk '/active/ { print $1 }')
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
start_daemon "$conf" "$scratch/log2"
wait_ready "$iss/healthz/ready" && ok "restarted" || not_ok "restarted"
check "the key active before the restart is still published" sh -c "curl -s '$iss/keys' | grep -q '$active'"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
done_testing
