#!/usr/bin/env bash
# close_late: a client that asked for the close (Connection: close) and
# then sends more anyway still gets its whole answer.  The proxy closes
# such a connection without lingering only once the client has
# acknowledged every byte of the answer; bytes it sends after that meet
# a closed socket, which cannot take back what it already received.
# An answer still in flight, or bytes already waiting unread, keep the
# lingering close (FIN, then late bytes read and discarded), which no
# RST can cut short.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"

# late.py PORT PATH PAUSE_MS [PIPELINED]: send a Connection: close GET for
# PATH (with a second request in the same write if PIPELINED), read
# nothing for PAUSE_MS, send a late request, then read until the server
# closes (10 s at most).  Prints: status, body bytes, Content-Length,
# whether the late or pipelined request was answered, how it ended.
cat >"$TMP/late.py" <<'PY'
import socket, sys, time
port, path, pause = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
pipelined = len(sys.argv) > 4
s = socket.create_connection(("127.0.0.1", port))
# A small receive buffer: a large answer stays in the proxy's send queue.
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
req = b"GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" % path.encode()
if pipelined:
    req += b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n"
s.sendall(req)
time.sleep(pause / 1000)
try:
    s.sendall(b"GET /late HTTP/1.1\r\nHost: a\r\n\r\n")
except OSError:
    pass                        # reset already: what arrived is still readable
s.settimeout(10)
buf, end = b"", "eof"
deadline = time.time() + 10
while time.time() < deadline:
    try:
        d = s.recv(65536)
    except socket.timeout:
        end = "timeout"
        break
    except OSError as e:
        end = "reset"
        break
    if not d:
        break
    buf += d
head, _, body = buf.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
status = lines[0].split(b" ")[1].decode() if lines[0] else "none"
cl = [int(l.split(b":")[1]) for l in lines if l.lower().startswith(b"content-length:")]
print(status, len(body), cl[0] if cl else -1,
      "answered-twice" if body.count(b"HTTP/1.1 ") else "once", end)
PY

# A small answer, acknowledged long before the late bytes: whole, once.
read -r st got cl twice end < <(python3 "$TMP/late.py" "$P" / 300)
check "small answer, then late bytes: 200" 200 "$st"
check "small answer, then late bytes: the whole body" "$cl" "$got"
check "small answer, then late bytes: the late request is not answered" once "$twice"

# 1 MB the client does not read for a while: most of it is still in the
# proxy's send queue when the late bytes come, so the close must linger.
read -r st got cl twice end < <(python3 "$TMP/late.py" "$P" /_test/bytes/1000000 500)
check "1 MB answer, then late bytes: 200" 200 "$st"
check "1 MB answer, then late bytes: all 1000000 bytes arrive" 1000000 "$got"
check "1 MB answer, then late bytes: ended by FIN, not reset" eof "$end"

# A request pipelined behind the Connection: close one waits unread:
# the close lingers, and only the first request is answered.
read -r st got cl twice end < <(python3 "$TMP/late.py" "$P" / 300 pipelined)
check "pipelined behind a close: 200" 200 "$st"
check "pipelined behind a close: the whole body" "$cl" "$got"
check "pipelined behind a close: the request after it is not answered" once "$twice"
check "pipelined behind a close: ended by FIN, not reset" eof "$end"

kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
