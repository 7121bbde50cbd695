#!/bin/sh
#
# Bad clients against the real daemon: a 100 KB request line, a header
# flood, Content-Length with Transfer-Encoding, a slow client, while
# well-behaved clients are still served.

. "$(dirname "$0")/../lib.sh"

ensure_users
port=$(free_port)
conf=$scratch/oidcd.yaml
write_config "$conf" "$port"
iss=http://127.0.0.1:$port/dex
start_daemon "$conf" "$scratch/log"
wait_ready "$iss/healthz/ready" && ok "daemon ready" || not_ok "daemon ready"

python3 - "$port" <<'EOP'
import socket, sys, time, threading
port = int(sys.argv[1])
fail = 0
def tap(c, msg):
    global fail
    print(("ok" if c else "not ok") + " - " + msg)
    fail += 0 if c else 1
def exchange(data, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except OSError:
        pass
    s.close()
    return out
def status(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except Exception:
        return None
def good():
    r = exchange(b"GET /dex/healthz/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return status(r) == 200

r = exchange(b"GET /dex/" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
tap(status(r) == 414, "100 KB request line gets 414")
hdrs = b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
r = exchange(b"GET /dex/keys HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n")
tap(status(r) == 431 or r == b"", "header flood gets 431 or a close (%s)" % status(r))
r = exchange(b"POST /dex/token HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
tap(status(r) == 400, "Content-Length with Transfer-Encoding gets 400 (%s)" % status(r))
r = exchange(b"GET /dex/keys HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
tap(status(r) == 400, "two Host headers get 400 (%s)" % status(r))
r = exchange(b"GET /dex/keys HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n")
tap(status(r) == 400, "a header name with a space gets 400 (%s)" % status(r))
r = exchange(b"GET /dex/keys HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n")
tap(status(r) == 400, "obs-fold gets 400 (%s)" % status(r))
r = exchange(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 64)
tap(status(r) in (400, None), "TLS bytes on the plain port: 400 or close (%s)" % status(r))
tap(good(), "well-behaved client served after all that")

# Slow clients: a header that never ends.  They must be dropped in
# time, and others served meanwhile.
slow = []
for i in range(20):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /dex/keys HTTP/1.1\r\nHost: x\r\n")
    slow.append(s)
served = sum(good() for i in range(10))
tap(served == 10, "10 of 10 clients served while 20 slow clients hang (%d)" % served)
t0 = time.time()
closed = 0
for s in slow:
    s.settimeout(max(1, 25 - (time.time() - t0)))
    try:
        s.recv(4096)		# EOF or a 408: the server acted
        closed += 1
    except socket.timeout:
        pass
    except OSError:		# reset: the server acted too
        closed += 1
elapsed = time.time() - t0
tap(closed == 20 and elapsed < 25, "slow clients dropped after the header timeout (%.1f s)" % elapsed)
sys.exit(1 if fail else 0)
EOP
check "the daemon is still alive" kill -0 "$daemon_pid"
stop_daemon "$daemon_pid"
[ "$rc" = 0 ] && ok "clean exit" || not_ok "exit status $rc"
done_testing
