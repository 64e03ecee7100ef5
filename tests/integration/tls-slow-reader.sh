#!/usr/bin/env bash
# tls-slow-reader: an 8 MiB answer to an HTTPS client that reads slowly
# through a small receive buffer.  The proxy's TLS writes are cut short
# again and again (WANT_WRITE: the same write retried once the socket
# drains); the answer must arrive whole and in order, the connection must
# serve its next request, and other clients are answered meanwhile.
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"

P=$(free_port); S=$(free_port)
start_backend "$S" src
LISTENER_EXTRA="$TLS_LISTENER" WORKERS=1 \
    proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
N=$((8 * 1024 * 1024))

cat >"$TMP/slow.py" <<'PY'
import socket, ssl, sys, time
ca, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.connect(("127.0.0.1", port))
s = ctx.wrap_socket(raw, server_hostname="localhost")
s.settimeout(30)

def head():
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise EOFError("closed before the head")
        buf += d
    return buf.split(b"\r\n\r\n", 1)

s.sendall(b"GET /_test/bytes/%d HTTP/1.1\r\nHost: t\r\n\r\n" % n)
h, body = head()
got, xs = len(body), body.count(b"x")
# Slow: 1 KiB every 5 ms for 1.5 s; then as fast as it comes.
end = time.time() + 1.5
while got < n and time.time() < end:
    d = s.recv(1024)
    if not d:
        break
    got += len(d)
    xs += d.count(b"x")
    time.sleep(0.005)
slow = got
while got < n:
    d = s.recv(65536)
    if not d:
        break
    got += len(d)
    xs += d.count(b"x")
# The same connection serves the next request.
s.sendall(b"GET /_test/echo HTTP/1.1\r\nHost: t\r\n\r\n")
h2, _ = head()
print(h.split(b"\r\n")[0].decode(), got, xs, int(slow < n),
      h2.split(b"\r\n")[0].decode())
PY

python3 "$TMP/slow.py" "$TMP/ca.crt" "$P" "$N" >"$TMP/slow.out" 2>&1 &
SLOW=$!
PIDS+=($SLOW)
# Other clients, meanwhile, on their own connections.
answered=0
for _ in $(seq 20); do
	if curl -s --max-time 10 --cacert "$TMP/ca.crt" "https://localhost:$P/" \
	    --resolve "localhost:$P:127.0.0.1" | grep -q '"name":"src"'; then
		answered=$((answered + 1))
	fi
	sleep 0.05
done
check "other HTTPS clients answered during the slow download" 20 "$answered"
wait_exit "$SLOW" 60 || true
check "the slow reader got all 8 MiB, in order, then its next answer" \
    "HTTP/1.1 200 OK $N $N 1 HTTP/1.1 200 OK" "$(cat "$TMP/slow.out")"
check_match "the proxy still serves HTTPS" '"name":"src"' \
    "$(curl -s --cacert "$TMP/ca.crt" "https://localhost:$P/" --resolve "localhost:$P:127.0.0.1")"
sw_finish
