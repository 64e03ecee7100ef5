#!/usr/bin/env bash
# resend: a request that a server may have processed is never sent twice.
# A backend reads a request marked "drop" whole and closes without
# answering when it is not the first on its keep-alive connection.  Through the proxy (which reuses its
# pooled connection for a client's second request): a write (POST
# /idx/_doc) reaches the backend once and the client gets a 502 saying
# the upstream closed mid-request; a read (GET, POST _search) is sent
# again on a fresh connection and answered.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

P=$(free_port); S=$(free_port)
# One line per request read: "CONN/NTH METHOD TARGET".
python3 - "$S" "$TMP/seen.log" >"$TMP/backend-close2nd.log" 2>&1 <<'PY' &
import socket, sys, threading

port, log = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
nconn = 0

def read_request(f):
    line = f.readline()
    if not line:
        return None
    length = 0
    while True:
        h = f.readline()
        if not h or h in (b"\r\n", b"\n"):
            break
        name, _, value = h.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        f.read(length)          # the whole body, then decide
    return line.decode("latin-1").split(" ")[:2]

def serve(conn, cid):
    f = conn.makefile("rb")
    nth = 0
    try:
        while True:
            req = read_request(f)
            if req is None:
                return
            nth += 1
            with lock, open(log, "a") as out:
                out.write("%d/%d %s %s\n" % (cid, nth, req[0], req[1]))
            if nth > 1 and "drop" in req[1]:
                return          # read whole, never answered
            body = b'{"ok":true}\n'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
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
max_fails = 0" proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"
A="http://127.0.0.1:$ADMIN_PORT"
J=(-H 'Content-Type: application/json')

# seen TARGET: how many times the backend read a request for TARGET.
seen() { grep -c " $1\$" "$TMP/seen.log" || true; }

# Two requests on one client connection (curl reuses it): the second
# goes out on the proxy's pooled upstream connection.
codes=$(curl -s "${J[@]}" -X POST -d '{"a":1}' -w '%{http_code} ' \
    -o /dev/null "$U/idx/_doc?n=1" -o "$TMP/w2" "$U/idx/_doc?n=2&drop" || true)
check "write: first answered, second 502" "200 502 " "$codes"
check "write: the backend read the second POST exactly once" 1 "$(seen '/idx/_doc?n=2&drop')"
check_match "write: the 502 says the upstream closed mid-request" \
    '"type":"bad_gateway_exception","reason":"upstream [^"]* closed the connection mid-request.*"status":502' \
    "$(cat "$TMP/w2")"

codes=$(curl -s -w '%{http_code} ' -o /dev/null "$U/idx/_search?n=3" \
    -o "$TMP/r2" "$U/idx/_search?n=4&drop" || true)
check "GET read: both answered (the second resent)" "200 200 " "$codes"
check "GET read: the backend read it twice, the second time answered" 2 "$(seen '/idx/_search?n=4&drop')"
check_match "GET read: the answer is the backend's" '"ok":true' "$(cat "$TMP/r2")"

codes=$(curl -s "${J[@]}" -X POST -d '{"size":1}' -w '%{http_code} ' \
    -o /dev/null "$U/idx/_search?n=5" -o /dev/null "$U/idx/_search?n=6&drop" || true)
check "POST _search read: both answered (the second resent)" "200 200 " "$codes"
check "POST _search read: read twice by the backend" 2 "$(seen '/idx/_search?n=6&drop')"

codes=$(curl -s -X PUT -d '{"a":1}' "${J[@]}" -w '%{http_code} ' \
    -o /dev/null "$U/idx/_doc/7?n=7" -o /dev/null "$U/idx/_doc/8?n=8&drop" || true)
check "PUT document: second 502, not resent" "200 502 " "$codes"
check "PUT document: read once" 1 "$(seen '/idx/_doc/8?n=8&drop')"

curl -s "$A/stats" >"$TMP/stats.json"
check "/stats counts the two refusals as upstream resets" 2 \
    "$(jq -r .backends.source.errors.reset "$TMP/stats.json")"
check "/stats counts the two resends" 2 \
    "$(jq -r .backends.source.retries "$TMP/stats.json")"
check_match "the log says why" "closed the connection mid-request" "$(cat "$TMP/switchover.log")"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
