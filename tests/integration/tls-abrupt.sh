#!/usr/bin/env bash
# tls-abrupt: HTTPS clients that go away at the worst moments: before a
# byte, mid-ClientHello, with a reset during the handshake, mid-request
# and mid-response without close_notify, with a reset in the middle of an
# answer being written.  The proxy must not crash, must free what each
# held (descriptors back to where they were), and a keep-alive HTTPS
# client talking all along must get every answer.
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"

P=$(free_port); S=$(free_port)
start_backend "$S" src
LISTENER_EXTRA="$TLS_LISTENER" WORKERS=1 \
    proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"

cat >"$TMP/abrupt.py" <<'PY'
import socket, ssl, struct, sys, time
ca, port, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)

def tcp():
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    return s

def reset(s):
    # SO_LINGER 0: close() sends RST.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()

def hello():
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        t.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()

def session():
    """A TLS session over a raw socket the caller can cut at will."""
    s = tcp()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(inc, out, server_hostname="localhost")
    while True:
        try:
            t.do_handshake()
            break
        except ssl.SSLWantReadError:
            s.sendall(out.read())
            d = s.recv(65536)
            if not d:
                raise EOFError
            inc.write(d)
    s.sendall(out.read())
    return s, t, inc, out

def send(s, t, out, data):
    t.write(data)
    s.sendall(out.read())

# A keep-alive witness, asked between the abrupt ones.
w = ctx.wrap_socket(tcp(), server_hostname="localhost")
wbuf = b""
def witness():
    global wbuf
    w.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    while b"\r\n\r\n" not in wbuf:
        wbuf += w.recv(65536)
    head, rest = wbuf.split(b"\r\n\r\n", 1)
    cl = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
          if l.lower().startswith(b"content-length:")][0]
    while len(rest) < cl:
        rest += w.recv(65536)
    wbuf = rest[cl:]
    return head.startswith(b"HTTP/1.1 200")

ok = asked = 0
ch = hello()
for _ in range(rounds):
    tcp().close()                                   # before a byte
    s = tcp(); s.sendall(ch[:len(ch) // 2]); s.close()   # mid-ClientHello
    s = tcp(); s.sendall(ch); reset(s)              # reset mid-handshake
    s, t, inc, out = session()                      # mid-request, no close_notify
    send(s, t, out, b"GET / HTTP/1.1\r\nHost: t\r\nX-Half: ")
    s.close()
    s, t, inc, out = session()                      # answered, no close_notify
    send(s, t, out, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    s.recv(65536)
    s.close()
    s, t, inc, out = session()                      # reset mid-answer
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    send(s, t, out, b"GET /_test/bytes/4194304 HTTP/1.1\r\nHost: t\r\n\r\n")
    s.recv(4096)
    time.sleep(0.02)
    reset(s)
    asked += 1
    ok += witness()
print(asked, ok)
PY

# The pooled upstream and the witness's kind of connection exist first.
curl -s -o /dev/null --cacert "$TMP/ca.crt" "https://localhost:$P/" --resolve "localhost:$P:127.0.0.1"
base=$(fds_stable "$SW_PID")
R=20
check "the keep-alive witness got every answer" "$R $R" \
    "$(python3 "$TMP/abrupt.py" "$TMP/ca.crt" "$P" "$R")"
check "the proxy is still running" 0 "$(kill -0 "$SW_PID" 2>/dev/null; echo $?)"
check_match "and serves HTTPS" '"name":"src"' \
    "$(curl -s --cacert "$TMP/ca.crt" "https://localhost:$P/" --resolve "localhost:$P:127.0.0.1")"
# The reset answers may leave a pooled upstream or two more.
fds=$(fds_settle "$SW_PID" $((base + 2)))
echo "# descriptors: $base before, $fds after"
check "every abrupt client's descriptors were freed" true \
    "$([ "$fds" -le $((base + 2)) ] && echo true || echo false)"
sw_finish
