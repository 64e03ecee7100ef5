#!/usr/bin/env bash
# framing: where a message ends when its headers say otherwise.
#  - No body follows 1xx, 204 or 304, whatever Content-Length says: the
#    next request on the keep-alive connection is answered at once.
#  - An h2c upgrade offer (Connection: Upgrade, Upgrade: h2c,
#    HTTP2-Settings) is dropped: the request goes on in HTTP/1.1, the
#    offer never reaches the backend, and a pipelined request after it
#    is answered.
#  - A response with malformed chunk framing is cut where it breaks, and
#    its upstream connection is closed, never pooled.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
python3 "${TOP_SRCDIR:-.}/tests/integration/lenient_backend.py" "$S" "$TMP/count" \
	>"$TMP/lenient.log" 2>&1 &
PIDS+=($!)
wait_port "$S"
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"

conns() { sed -n 's/.* connections \([0-9]*\)$/\1/p' "$TMP/count"; }
H='Host: a\r\n'

# pair NAME FIRST_PATH FIRST_STATUS: FIRST_PATH, then /next on the same
# connection (pipelined), the second one saying close.  Both answered
# within the deadline, and the connection closed by the proxy.
pair() {
	local out rc
	set +e
	out=$("$RAWCLIENT" -p "$P" -t 5 -s "GET $2 HTTP/1.1\r\n${H}\r\nGET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
	rc=$?
	set -e
	check_match "$1: answered $3" "^HTTP/1.1 $3 " "$out"
	check_match "$1: the next request answered too" '"path":"/next"' "$out"
	check "$1: closed after the second answer, not at the timeout" 0 "$rc"
}
pair "204 with Content-Length: 10" /status/204cl 204
pair "304 with Content-Length: 10" /status/304cl 304
pair "103 with Content-Length: 10, then 200" /status/103 103

# The same with separate writes, as a client waiting for each answer.
set +e
out=$("$RAWCLIENT" -p "$P" -t 5 -d 300 -s "GET /status/204cl HTTP/1.1\r\n${H}\r\n" \
	-s "GET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
rc=$?
set -e
check_match "204, then a request 0.3 s later: answered" '"path":"/next"' "$out"
check "204, then a request 0.3 s later: closed in time" 0 "$rc"
check_no_match "204: no Content-Length passed on" "Content-Length: 10" \
	"$(printf '%s' "$out" | sed -n '1,/^\r$/p')"
out=$(curl -s -m 5 -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
	"http://127.0.0.1:$P/status/304cl" "http://127.0.0.1:$P/next" || true)
check "curl: 304 then 200 on one connection" "304 1
200 0" "$out"

# h2c upgrade offer, raw and pipelined.
set +e
out=$("$RAWCLIENT" -p "$P" -t 5 -s "GET /a HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\nGET /b HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
rc=$?
set -e
check_match "h2c offer: answered in HTTP/1.1" "^HTTP/1.1 200 " "$out"
check_match "h2c offer: the request itself served" '"path":"/a"' "$out"
check_match "h2c offer: the pipelined request after it served" '"path":"/b"' "$out"
check "h2c offer: closed after the second answer" 0 "$rc"
check_no_match "h2c offer: Upgrade not forwarded" '"headers":"[^"]*upgrade' "$out"
check_no_match "h2c offer: HTTP2-Settings not forwarded" '"headers":"[^"]*http2-settings' "$out"
# HTTP2-Settings not named in Connection is dropped as well.
out=$("$RAWCLIENT" -p "$P" -t 5 -s "GET /c HTTP/1.1\r\n${H}Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nConnection: close\r\n\r\n" || true)
check_match "Upgrade without Connection: served" '"path":"/c"' "$out"
check_no_match "Upgrade without Connection: no HTTP2-Settings forwarded" '"headers":"[^"]*http2-settings' "$out"
# A POST with a body and an upgrade offer: the body is read as HTTP/1.1.
set +e
out=$("$RAWCLIENT" -p "$P" -t 5 -s "POST /d HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhelloGET /e HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
rc=$?
set -e
check_match "h2c offer with a body: served" '"path":"/d"' "$out"
check_match "h2c offer with a body: the pipelined request served" '"path":"/e"' "$out"
check "h2c offer with a body: closed after the second answer" 0 "$rc"
if curl -V | grep -qw HTTP2; then
	out=$(curl -s -m 5 --http2 -w ' %{http_version}' "http://127.0.0.1:$P/f" \
		"http://127.0.0.1:$P/g" || true)
	check_match "curl --http2: first request served" '"path":"/f"' "$out"
	check_match "curl --http2: second request served" '"path":"/g".* 1.1$' "$out"
else
	ok "curl without HTTP/2: --http2 case skipped"
fi

# A response with broken chunk framing: cut, and its connection not pooled.
set +e
out=$("$RAWCLIENT" -p "$P" -t 5 -s "GET /badchunk HTTP/1.1\r\n${H}\r\n")
rc=$?
set -e
c0=$(conns)
check "bad chunked response: the connection closed" 0 "$rc"
check_no_match "bad chunked response: the framing error not passed on" "AXX" "$out"
out=$(curl -s -m 5 "http://127.0.0.1:$P/after-badchunk" || true)
check_match "after a bad chunked response: served" '"path":"/after-badchunk"' "$out"
check "after a bad chunked response: on a new upstream connection" $((c0 + 1)) "$(conns)"
out=$("$RAWCLIENT" -p "$P" -t 5 -s "GET /badtrailer HTTP/1.1\r\n${H}\r\n" || true)
c0=$(conns)
check_no_match "bad response trailer: not passed on" "X-T" "$out"
out=$(curl -s -m 5 "http://127.0.0.1:$P/after-badtrailer" || true)
check "after a bad response trailer: on a new upstream connection" $((c0 + 1)) "$(conns)"

kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
