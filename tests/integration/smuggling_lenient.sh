#!/usr/bin/env bash
# smuggling_lenient: the differential test.  Behind the proxy is a backend
# that reads chunked bodies as Netty does (skip to the next LF after the
# chunk data and the size line: tests/integration/lenient_backend.py), so
# framing that the proxy and the backend read differently turns into a
# request the clients never sent.  Each attack hides "GET /smuggled" in
# its body and is followed by a victim's request on another connection
# (one worker: the same pooled upstream connection).  The backend must
# never count more requests than the clients sent, never see /smuggled,
# and every victim must get its own answer.
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

seen() { sed -n 's/^requests \([0-9]*\) .*/\1/p' "$TMP/count"; }

# A body hidden from the proxy's reading but not from the backend's: it
# ends the chunked body, then a request of its own whose Content-Length
# swallows the proxy's last chunk.
D='0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n'
DLEN=$(printf '%x' "$(printf '%b' "$D" | wc -c)")
C='POST /attack HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'

sent=0
n=0
# attack NAME BYTES...: send the attack (each BYTES a separate write, 100
# ms apart), then a victim's GET; count both as sent.
attack() {
	local name=$1 out args=() b
	shift
	for b in "$@"; do args+=(-s "$b"); done
	n=$((n + 1))
	set +e
	out=$("$RAWCLIENT" -p "$P" -t 5 -d 100 "${args[@]}")
	set -e
	sent=$((sent + 1))
	check_no_match "$name: not answered 200" "^HTTP/1.1 200 " "$out"
	out=$(curl -s -m 5 "http://127.0.0.1:$P/victim-$n" || true)
	sent=$((sent + 1))
	check_match "$name: the victim got its own answer" "\"path\":\"/victim-$n\"" "$out"
	check "$name: backend saw no more requests than were sent" 1 \
	    "$([ "$(seen)" -le "$sent" ] && echo 1 || echo "0 ($(seen) > $sent)")"
}

attack "chunk data followed by XX" "${C}1\r\nAXX${DLEN}\r\n${D}\r\n0\r\n\r\n"
attack "chunk data followed by XX, body sent late" "$C" "1\r\nAXX${DLEN}\r\n${D}\r\n0\r\n\r\n"
attack "chunk data followed by LF and a byte" "${C}1\r\nA\nX${DLEN}\r\n${D}\r\n0\r\n\r\n"
attack "size line ending in CR and a byte" "${C}1\rX${DLEN}\r\n${D}\r\n0\r\n\r\n"
attack "bare LF after the size" "${C}1\nA\r\n${DLEN}\r\n${D}\r\n0\r\n\r\n"
attack "chunk size with a sign" "${C}+${DLEN}\r\n${D}\r\n0\r\n\r\n"
attack "final CRLF a bare LF" "${C}0\r\n\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
attack "trailer obs-fold" "${C}0\r\nX-T: a\r\n \r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"

check "the backend never saw /smuggled" 0 "$(grep -c smuggled "$TMP/lenient.log" || true)"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
