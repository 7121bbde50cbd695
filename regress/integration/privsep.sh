#!/bin/sh
#
# Privilege separation as the kernel sees it: each child's uid, root
# directory, seccomp mode and no_new_privs from /proc; the signing
# key's bytes are in the signer's memory and in no frontend's; kill -9
# of a child takes the daemon down with a log line naming the role.

. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	skip "privsep checks need root"
	done_testing
	exit 0
fi
ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
write_config "$conf" "$port"
iss=http://127.0.0.1:$port/dex
state=$scratch/state-$port
start_daemon "$conf" "$scratch/log"
wait_ready "$iss/healthz/ready" && ok "daemon ready" || not_ok "daemon ready"
curl -s "$iss/keys" >/dev/null

uid_of() { id -u "$1"; }
for p in $(children_of "$daemon_pid"); do
	role=$(role_of "$p")
	[ -n "$role" ] || continue
	case $role in
	signer) user=_oidcdkey root=$state/keys ;;
	storage) user=_oidcddb root=$state/db ;;
	*) user=_oidcd root=$state/empty ;;
	esac
	want=$(uid_of $user)
	uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$p/status")
	[ "$uids" = "$want $want $want $want" ] && ok "$role[$p]: every uid is $user" || not_ok "$role[$p]: uids $uids, want $want"
	gids=$(awk '/^Gid:/ { print $2 }' "/proc/$p/status")
	[ "$gids" = "$(id -g $user)" ] && ok "$role[$p]: gid of $user" || not_ok "$role[$p]: gid $gids"
	r=$(readlink "/proc/$p/root")
	[ "$r" = "$root" ] && ok "$role[$p]: root directory is $root" || not_ok "$role[$p]: root is $r, want $root"
	s=$(awk '/^Seccomp:/ { print $2 }' "/proc/$p/status")
	[ "$s" = 2 ] && ok "$role[$p]: Seccomp: 2" || not_ok "$role[$p]: Seccomp: $s"
	n=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$p/status")
	[ "$n" = 1 ] && ok "$role[$p]: NoNewPrivs: 1" || not_ok "$role[$p]: NoNewPrivs: $n"
	ce=$(awk '/^CapEff:/ { print $2 }' "/proc/$p/status")
	[ "$ce" = 0000000000000000 ] && ok "$role[$p]: no capabilities" || not_ok "$role[$p]: CapEff $ce"
	if [ "$role" != connector ]; then
		ns_self=$(readlink /proc/self/ns/net)
		ns=$(readlink "/proc/$p/ns/net")
		[ "$ns" != "$ns_self" ] && ok "$role[$p]: own network namespace" || not_ok "$role[$p]: shares the network namespace"
	fi
	eval "pid_$role=\"\${pid_$role:-} $p\""
done

# The signing key's secret prime, as OpenSSL holds it in memory
# (little-endian limbs) and as DER holds it (big-endian).
python3 - "$state/keys" "$pid_signer" "$pid_frontend" <<'EOP'
import re, subprocess, sys
keydir, signers, frontends = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
dump = subprocess.run(["mdb_dump", "-a", "-p", keydir], capture_output=True, text=True).stdout
ders = re.findall(r'\\22der\\22:\\22([A-Za-z0-9_-]+)\\22', dump)
if not ders:
    ders = re.findall(r'"der":"([A-Za-z0-9_-]+)"', dump)
import base64
primes = []
for d in ders:
    der = base64.urlsafe_b64decode(d + "=" * (-len(d) % 4))
    txt = subprocess.run(["openssl", "pkey", "-inform", "DER", "-noout", "-text"],
        input=der, capture_output=True).stdout.decode()
    m = re.search(r"prime1:\s*\n((?:\s+[0-9a-f:]+\n)+)", txt)
    if m:
        h = re.sub(r"[^0-9a-f]", "", m.group(1))
        b = bytes.fromhex(h).lstrip(b"\0")
        primes.append(b)
def mem(pid):
    out = b""
    with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as m:
        for line in maps:
            a, perm = line.split()[:2]
            if "r" not in perm:
                continue
            lo, hi = (int(x, 16) for x in a.split("-"))
            if hi - lo > 256 << 20:
                continue
            try:
                m.seek(lo)
                out += m.read(hi - lo)
            except OSError:
                pass
    return out
fail = 0
def tap(c, msg):
    global fail
    print(("ok" if c else "not ok") + " - " + msg)
    fail += 0 if c else 1
tap(len(primes) >= 1, "found %d signing keys in the signer's database" % len(primes))
needles = []
for p in primes:
    needles += [p[:32], p[::-1][:32]]
sm = b"".join(mem(p) for p in signers)
tap(any(n in sm for n in needles), "the key's prime is in the signer's memory (the search works)")
for f in frontends:
    fm = mem(f)
    tap(len(fm) > 0 and not any(n in fm for n in needles),
        "the key's prime is not in frontend %s's memory (%d bytes searched)" % (f, len(fm)))
sys.exit(1 if fail else 0)
EOP

# A child killed with SIGKILL takes the daemon down, and says so.
victim=$(echo $pid_storage | awk '{ print $1 }')
kill -9 "$victim"
i=0
while kill -0 "$daemon_pid" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$daemon_pid" 2>/dev/null; then
	not_ok "the daemon exits when a child is killed"
else
	wait "$daemon_pid"
	rc=$?
	[ $rc -ne 0 ] && ok "the daemon exits non-zero ($rc) when storage is killed" || not_ok "exit status $rc"
fi
check "the log names the lost child and the signal" grep -q "lost child: storage\[0\] pid $victim killed by signal 9" "$scratch/log"
left=0
for p in $(children_of "$daemon_pid"); do left=$((left + 1)); done
[ $left -eq 0 ] && ok "no child left behind" || not_ok "$left children left"
done_testing
