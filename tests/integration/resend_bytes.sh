#!/usr/bin/env bash
# resend_bytes: a read sent again on a fresh connection is byte for byte
# the request first sent (its head built again, its body from the copy),
# and a read larger than retry_body_max is not sent again.
# A backend logs, per request read, the digests of its head and body,
# and closes without answering a request marked "drop" that is not the
# first on its keep-alive connection.  Through the proxy (which reuses
# its pooled connection for a client's second request).
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
# One line per request read: "CONN/NTH TARGET HEAD-MD5 BODY-MD5 BODY-LEN".
python3 - "$S" "$TMP/seen.log" >"$TMP/backend.log" 2>&1 <<'PY' &
import hashlib, socket, sys, threading

port, log = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
nconn = 0

def read_request(f):
    line = f.readline()
    if not line:
        return None
    head, length = line, 0
    while True:
        h = f.readline()
        if not h:
            return None
        head += h
        if h in (b"\r\n", b"\n"):
            break
        name, _, value = h.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = f.read(length) if length else b""
    return line.decode("latin-1").split(" ")[1], head, body

def serve(conn, cid):
    f = conn.makefile("rb")
    nth = 0
    try:
        while True:
            req = read_request(f)
            if req is None:
                return
            target, head, body = req
            nth += 1
            with lock, open(log, "a") as out:
                out.write("%d/%d %s %s %s %d\n" % (cid, nth, target,
                    hashlib.md5(head).hexdigest(),
                    hashlib.md5(body).hexdigest(), len(body)))
            if nth > 1 and "drop" in target:
                return          # read whole, never answered
            ans = b'{"ok":true}\n'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(ans), ans))
    except OSError:
        pass
    finally:
        f.close()
        conn.close()

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
while True:
    c, _ = s.accept()
    nconn += 1
    threading.Thread(target=serve, args=(c, nconn), daemon=True).start()
PY
PIDS+=($!)
wait_port "$S"
: >"$TMP/seen.log"

WORKERS=1 UPSTREAM_EXTRA="first_byte_timeout = 5s
max_fails = 0
retry_body_max = 4k" proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"
A="http://127.0.0.1:$ADMIN_PORT"
J=(-H 'Content-Type: application/json')

# field TARGET N: field N of each line the backend logged for TARGET.
field() { grep " $1 " "$TMP/seen.log" | cut -d' ' -f"$2" || true; }

# A 3,000-byte _search body (head and body under 4k): sent again.
python3 -c 'print("{\"query\":{\"match\":{\"t\":\"%s\"}}}" % ("x" * 2972), end="")' >"$TMP/small"
codes=$(curl -s "${J[@]}" --data-binary @"$TMP/small" -w '%{http_code} ' \
    -o /dev/null "$U/idx/_search?n=1" -o /dev/null "$U/idx/_search?n=2&drop" || true)
check "small read: both answered (the second sent again)" "200 200 " "$codes"
check "small read: read twice by the backend" 2 "$(field '/idx/_search?n=2&drop' 1 | wc -l)"
check "small read: the same head both times" 1 \
    "$(field '/idx/_search?n=2&drop' 3 | sort -u | wc -l)"
check "small read: the same body both times" 1 \
    "$(field '/idx/_search?n=2&drop' 4 | sort -u | wc -l)"
check "small read: the body is the client's" \
    "$(md5sum <"$TMP/small" | cut -d' ' -f1)" \
    "$(field '/idx/_search?n=2&drop' 4 | sort -u)"

# A GET with no body: its head, built again, is the same.
codes=$(curl -s -w '%{http_code} ' -o /dev/null "$U/idx/_search?n=3" \
    -o /dev/null "$U/idx/_search?n=4&drop" || true)
check "GET: both answered" "200 200 " "$codes"
check "GET: the same head both times" "2 1" \
    "$(field '/idx/_search?n=4&drop' 3 | wc -l) $(field '/idx/_search?n=4&drop' 3 | sort -u | wc -l)"

# A 6,000-byte _search body (over 4k): no copy kept, so not sent again.
python3 -c 'print("{\"query\":{\"match\":{\"t\":\"%s\"}}}" % ("y" * 5972), end="")' >"$TMP/big"
codes=$(curl -s "${J[@]}" --data-binary @"$TMP/big" -w '%{http_code} ' \
    -o /dev/null "$U/idx/_search?n=5" -o "$TMP/b2" "$U/idx/_search?n=6&drop" || true)
check "big read: second 502, not sent again" "200 502 " "$codes"
check "big read: read once" 1 "$(field '/idx/_search?n=6&drop' 1 | wc -l)"
check "big read: the backend had all of it" 6000 "$(field '/idx/_search?n=6&drop' 5)"

curl -s "$A/stats" >"$TMP/stats.json"
check "/stats counts the two resends" 2 \
    "$(jq -r .backends.source.retries "$TMP/stats.json")"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
