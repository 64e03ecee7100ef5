#!/usr/bin/env bash
# loadgen: the bench's load program counts what the backends counted,
# names who answered, and keeps errors and graceful closes apart.
# Short runs (1-2 s each); nothing here depends on speed.
set -euo pipefail
source "$TESTLIB"
sw_init

A=$(free_port); B=$(free_port); P=$(free_port)
start_backend "$A" alpha
start_backend "$B" beta -e 10

# jfield JSON KEYPATH: one number out of loadgen's summary line.
jfield() { jq -r ".summary$2" <<<"$1"; }

# Directly: every answer counted once, by name, with no error.
out=$("$LOADGEN" -p "$A" -c 8 -d 2 -j | tail -n 1)
sent=$(jfield "$out" .sent)
check "direct: answered all it sent" "$sent" "$(jfield "$out" .answered)"
check "direct: alpha's count is the backend's" "$(backend_requests "$A")" "$(jfield "$out" .backends.alpha)"
check "direct: no errors" 0 "$(jfield "$out" .errors)"
if [ "$sent" -gt 100 ]; then ok "direct: load flowed ($sent)"; else fail "direct: only $sent sent"; fi

# Through the proxy, 1:1: both names, and each backend's own count.
curl -s -X POST "http://127.0.0.1:$A/_backend/reset" >/dev/null
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$A" 1 "127.0.0.1:$B" 1
start_proxy "$TMP/sw.conf"
curl -s -X POST "http://127.0.0.1:$B/_backend/reset" >/dev/null
out=$("$LOADGEN" -p "$P" -c 4 -n 2000 -j | tail -n 1)
check "proxy: alpha's count is the backend's" "$(backend_requests "$A")" "$(jfield "$out" .backends.alpha)"
check "proxy: beta's count is the backend's" "$(backend_requests "$B")" "$(jfield "$out" .backends.beta)"
check "proxy: -n 2000 sends 2000" 2000 "$(jfield "$out" .sent)"
# beta fails exactly 10% of its 1000 (one thread): counted as http errors.
check "proxy: non-2xx counted as http errors" 100 "$(jfield "$out" .errors_by_kind.http)"
check "proxy: only those" 100 "$(jfield "$out" .errors)"

# A new connection per request: closes are not errors, nor reconnects.
out=$("$LOADGEN" -p "$A" -c 2 -n 200 -C -j | tail -n 1)
check "-C: 200 answered" 200 "$(jfield "$out" .answered)"
check "-C: no errors" 0 "$(jfield "$out" .errors)"
check "-C: no reconnects" 0 "$(jfield "$out" .reconnects)"

# The server closing after each answer (keep-alive refused) is a
# reconnect, not an error; an answer that never comes is a timeout.
out=$("$LOADGEN" -p "$A" -c 1 -n 50 -u /_test/eof/10 -j | tail -n 1)
check "EOF-delimited answers are complete" 50 "$(jfield "$out" .answered)"
check "EOF after an answer: no error" 0 "$(jfield "$out" .errors)"
check "EOF after an answer: a reconnect each" 50 "$(jfield "$out" .reconnects)"
out=$("$LOADGEN" -p "$A" -c 2 -d 1 -t 300 -u /_test/hang -j | tail -n 1)
check "hang: no answers" 0 "$(jfield "$out" .answered)"
check_match "hang: timeouts counted" '^[1-9][0-9]*$' "$(jfield "$out" .errors_by_kind.timeout)"
check "hang: every timeout is an error" "$(jfield "$out" .errors_by_kind.timeout)" "$(jfield "$out" .errors)"
out=$("$LOADGEN" -p "$A" -c 1 -n 5 -u /_test/reset -j | tail -n 1)
check "reset mid-request: 5 reset errors" 5 "$(jfield "$out" .errors_by_kind.reset)"

# -b: POST bodies of that size.  The backend's _bulk reads the body by
# its Content-Length, so a wrong length stalls (timeouts) or misparses;
# and one request captured raw shows the method, length and body.
out=$("$LOADGEN" -p "$A" -c 4 -n 400 -b 16384 -u /_bulk -j | tail -n 1)
check "-b: 400 answered" 400 "$(jfield "$out" .answered)"
check "-b: no errors" 0 "$(jfield "$out" .errors)"
C=$(free_port)
python3 - "$C" "$TMP/req.raw" "$TMP/cap.ready" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
s.settimeout(10)
open(sys.argv[3], "w").close()
c, _ = s.accept()
c.settimeout(3)
data = b""
while len(data.partition(b"\r\n\r\n")[2]) < 100:
    try:
        d = c.recv(65536)
    except socket.timeout:
        break
    if not d:
        break
    data += d
open(sys.argv[2], "wb").write(data)
PY
CAP=$!; PIDS+=($CAP)
for _ in $(seq 100); do [ -e "$TMP/cap.ready" ] && break; sleep 0.1; done
"$LOADGEN" -p "$C" -c 1 -n 1 -d 2 -t 1000 -b 100 -u /_bulk -j >/dev/null || true
wait_exit "$CAP" 15
check "-b: a POST to the path" "POST /_bulk HTTP/1.1" "$(head -n 1 "$TMP/req.raw" | tr -d '\r')"
check "-b: its Content-Length" "Content-Length: 100" "$(grep -i '^content-length:' "$TMP/req.raw" | tr -d '\r')"
check "-b: that many body bytes, NDJSON" "100 {\"index\"" \
	"$(python3 -c 'import sys; b = open(sys.argv[1], "rb").read().partition(b"\r\n\r\n")[2]; print(len(b), b[:8].decode())' "$TMP/req.raw")"

# Nothing listening: connect errors, no answers.
Z=$(free_port)
out=$("$LOADGEN" -p "$Z" -c 2 -d 1 -j | tail -n 1)
check "closed port: no answers" 0 "$(jfield "$out" .answered)"
# Not 0 == 0: connections were tried, and each failure counted.
check_match "closed port: connect errors counted" '^[1-9][0-9]*$' "$(jfield "$out" .errors_by_kind.connect)"
check "closed port: every error a connect error" "$(jfield "$out" .errors)" "$(jfield "$out" .errors_by_kind.connect)"

# A mark (SIGUSR1) and -F: a SIGHUP moving all weight to beta; alpha's
# last answer comes after the mark, and soon.
"$LOADGEN" -p "$P" -c 4 -d 3 -F alpha,beta -j >"$TMP/mark.json" &
LG=$!; PIDS+=($LG)
sleep 1
sed -i '/^\[backend source\]/,/^\[/ s/^weight = 1/weight = 0/' "$TMP/sw.conf"
kill -USR1 "$LG"
kill -HUP "$SW_PID"
wait_exit "$LG" 10
out=$(tail -n 1 "$TMP/mark.json")
check "mark: one mark" 1 "$(jfield "$out" '.marks | length')"
conv=$(jfield "$out" '.marks[0].leaving_last_s')
if awk -v c="$conv" 'BEGIN { exit !(c >= 0 && c < 1.5) }'; then ok "mark: alpha stopped ${conv}s after it"; else fail "mark: alpha last answered ${conv}s after it"; fi
last=$(grep '"sec"' "$TMP/mark.json" | tail -n 1 | jq -r '.backends.alpha')
check "mark: alpha served nothing in the last second" 0 "$last"
sw_finish
