#!/usr/bin/env bash
# first_read: a new connection is read at once when accepted (the
# request usually came with it), before its socket joins the event set.
# Every other way a connection can start still works: a request that
# comes later, one that comes in pieces (the header timeout still
# applies), a body longer than the first read, a connection closed at
# once, keep-alive requests after the first; and a client that resets
# while its Connection: close request waits for a slow upstream leaves
# no descriptor behind.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src
LISTENER_EXTRA="header_timeout = 1s" WORKERS=1 \
    proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
curl -s -o /dev/null "http://127.0.0.1:$P/"	# the pool exists
# own_fds: the proxy's descriptors but its upstream pool's.
own_fds() { echo $(( $(proc_fds "$SW_PID") - $(upstream_conns "$S") )); }
base=$(own_fds)

# The request 300 ms after the connection: the first read finds nothing.
out=$("$RAWCLIENT" -p "$P" -t 5 -d 300 -s '' \
    -s 'GET /later HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'; echo " rc=$?")
check_match "a request that comes after the connection is answered" \
    '^HTTP/1.1 200.*"path":"/later".* rc=0$' "$(tr -d '\r\n' <<<"$out")"

# A head in two pieces 300 ms apart: the first read takes half of it.
out=$("$RAWCLIENT" -p "$P" -t 5 -d 300 -s 'GET /pieces HTTP/1.1\r\nHo' \
    -s 'st: a\r\nConnection: close\r\n\r\n'; echo " rc=$?")
check_match "a head in two pieces is answered" \
    '^HTTP/1.1 200.*"path":"/pieces".* rc=0$' "$(tr -d '\r\n' <<<"$out")"

# Half a head, then silence: the header timeout (1 s) answers 408.
out=$("$RAWCLIENT" -p "$P" -t 5 -s 'GET /slow HTTP/1.1\r\nHo'; echo " rc=$?")
check_match "half a head, then nothing: 408 at the header timeout" \
    '^HTTP/1.1 408.* rc=0$' "$(tr -d '\r\n' <<<"$out")"

# Connected, then silence: closed at the header timeout too.
out=$("$RAWCLIENT" -p "$P" -t 5 -s ''; echo " rc=$?")
check_match "a silent connection is closed at the header timeout" ' rc=0$' "$out"

# A body much longer than one read, sent with its head.
head -c 300000 /dev/zero | tr '\0' 'x' >"$TMP/body"
code=$(curl -s -o "$TMP/post.out" -w '%{http_code}' -H 'Connection: close' \
    -H 'Content-Type: application/x-ndjson' --data-binary @"$TMP/body" \
    "http://127.0.0.1:$P/_bulk")
check "a 300 kB body sent with its head: 200" 200 "$code"
check_match "the backend got all of it" '"bytes":300000' "$(cat "$TMP/post.out")"

# Connected and closed at once, twenty times: nothing left open.
for _ in $(seq 20); do "$RAWCLIENT" -p "$P" -t 2 -c >/dev/null || true; done

# Keep-alive after a first request read at once: reading goes on.
out=$(curl -s "http://127.0.0.1:$P/a" "http://127.0.0.1:$P/b" "http://127.0.0.1:$P/c")
check "three keep-alive requests on one connection" 3 "$(grep -o '"path":"/[abc]"' <<<"$out" | wc -l)"

# A reset while a Connection: close request waits for a slow answer.
cat >"$TMP/reset.py" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /_test/delay/500 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()                       # RST
PY
for _ in $(seq 5); do python3 "$TMP/reset.py" "$P"; done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/after")
check "served after the resets" 200 "$code"
# The slow answers end within a second; then the descriptors settle.
settle "$base" own_fds >/dev/null || true
check "no descriptor left behind (upstream pool aside)" "$base" "$(own_fds)"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
