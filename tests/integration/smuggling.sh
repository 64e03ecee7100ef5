#!/usr/bin/env bash
# smuggling: ambiguous or malformed requests get a 4xx, the connection is
# closed, and the backend never sees them (its request log stays empty).
# Duplicate Content-Length headers are refused even when equal: folding
# them is allowed by RFC 9112, but a proxy that refuses leaves no room for
# a next hop that keeps the first or the last.  An over-long request line
# is 414, over-long or too many header fields 431.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src -L "$TMP/seen.log"
WORKERS=1 LISTENER_EXTRA="max_header_size = 4k" \
	proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"

# backend_seen: requests the backend has logged, its /_backend/stats left out.
backend_seen() { grep -vc '/_backend/stats' "$TMP/seen.log" || true; }

# attack NAME EXPECTED_STATUS RAW_BYTES: the proxy itself refuses (its
# JSON error, with the status in it, and no X-Backend header), closes,
# and the backend logs no request for it.
attack() {
	local out rc seen
	seen=$(backend_seen)
	set +e
	out=$("$RAWCLIENT" -p "$P" -t 5 -s "$3")
	rc=$?
	set -e
	check_match "$1: answered $2" "^HTTP/1.1 $2 " "$out"
	# The proxy's own answer, not a backend's: its JSON error shape.
	check_match "$1: the proxy's JSON error" "\\{\"error\":\\{\"type\":\"[a-z_]+\",\"reason\":\"[^\"]*\"\\},\"status\":$2\\}" "$out"
	check "$1: connection closed" 0 "$rc"
	check_match "$1: the proxy's own JSON error" \
	    $'\r\n\r\n\\{"error":\\{"type":"[a-z_]+","reason":"[^"]+.*"\\},"status":'"$2"'\}$' "$out"
	check_no_match "$1: no backend's answer" $'\r\n[Xx]-[Bb]ackend:' "$out"
	check "$1: the backend saw no request" "$seen" "$(backend_seen)"
}

H='Host: a\r\n'
attack "CL and TE together" 400 "POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n"
attack "duplicate differing Content-Length" 400 "POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
attack "duplicate equal Content-Length" 400 "POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
attack "Transfer-Encoding: xchunked" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"
attack "Transfer-Encoding: chunked, identity" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"
attack "space before colon" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
attack "TE chunked then TE x" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n"
attack "TE x then TE chunked, with CL" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"
attack "Transfer-Encoding with a tab before the value then junk" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\x0b\r\n\r\n0\r\n\r\n"
attack "Content-Length with a sign" 400 "POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello"
attack "Content-Length with two numbers" 400 "POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\nhello"
attack "Content-Length in hex" 400 "POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello"
attack "Content-Length list" 400 "POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello"
attack "bare LF line endings" 400 "GET / HTTP/1.1\n${H}\n"
attack "NUL in a header value" 400 "GET / HTTP/1.1\r\n${H}X-A: a\\0b\r\n\r\n"
attack "obs-fold" 400 "GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n"
attack "chunk-size overflow" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n"
attack "chunk-size overflow, 17 digits" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0xFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n"
attack "chunk-size 2^64 exactly" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n"
attack "chunk size with a space" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1 1\r\nx\r\n0\r\n\r\n"
attack "chunk extension with a bare LF" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;a=b\nx\r\n0\r\n\r\n"
attack "chunk extension with a NUL" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;a\0b\r\nx\r\n0\r\n\r\n"
attack "chunk data longer than its size" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\nxyz\r\n0\r\n\r\n"
attack "bad chunk size" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n"
# Chunked framing is checked to the letter of RFC 9112 (section 7.1):
# llhttp alone lets these through, and a backend that skips to the next
# LF (Netty) then reads a second request inside the body.
C="POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
attack "chunk data followed by XX, not CRLF" 400 "${C}1\r\nAXX0\r\n\r\n"
attack "chunk-size line ending in CR then a byte" 400 "${C}1\rXA\r\n0\r\n\r\n"
attack "bare LF after the chunk size" 400 "${C}1\nA\r\n0\r\n\r\n"
attack "bare LF after the chunk data" 400 "${C}1\r\nA\n0\r\n\r\n"
attack "bare CR after the chunk data" 400 "${C}1\r\nA\r0\r\n\r\n"
attack "chunk data LF CR instead of CRLF" 400 "${C}2\r\nA\r\n\r0\r\n\r\n"
attack "chunk size +1" 400 "${C}+1\r\nA\r\n0\r\n\r\n"
attack "chunk size -1" 400 "${C}-1\r\nA\r\n0\r\n\r\n"
attack "chunk size 0x1" 400 "${C}0x1\r\nA\r\n0\r\n\r\n"
attack "chunk size of 17 digits" 400 "${C}00000000000000001\r\nA\r\n0\r\n\r\n"
attack "space before the chunk size" 400 "${C} 1\r\nA\r\n0\r\n\r\n"
attack "space after the chunk size" 400 "${C}1 \r\nA\r\n0\r\n\r\n"
attack "tab before a chunk extension" 400 "${C}1\t;a\r\nA\r\n0\r\n\r\n"
attack "empty chunk extension name" 400 "${C}1;=b\r\nA\r\n0\r\n\r\n"
attack "chunk extension with an empty value" 400 "${C}1;a=\r\nA\r\n0\r\n\r\n"
attack "chunk extension value with a space" 400 "${C}1;a=b c\r\nA\r\n0\r\n\r\n"
attack "chunk extension quoted string unterminated" 400 "${C}1;a=\"b\r\nA\r\n0\r\n\r\n"
attack "chunk extension with a control byte" 400 "${C}1;a=\"\x01\"\r\nA\r\n0\r\n\r\n"
long=$(head -c 5000 /dev/zero | tr '\0' 'e')
attack "chunk-size line over 4 KiB" 400 "${C}1;$long\r\nA\r\n0\r\n\r\n"
attack "NUL after the chunk size" 400 "${C}1\0\r\nA\r\n0\r\n\r\n"
attack "last chunk with a bare LF" 400 "${C}0\n\r\n"
attack "missing final CRLF, a request instead" 400 "${C}0\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n"
attack "final CRLF a bare LF" 400 "${C}0\r\n\nGET /smuggled HTTP/1.1\r\n${H}\r\n"
attack "final CR then a byte" 400 "${C}0\r\n\rXGET /smuggled HTTP/1.1\r\n${H}\r\n"
attack "trailer name with a space" 400 "${C}0\r\nX A: b\r\n\r\n"
attack "trailer with an empty name" 400 "${C}0\r\n: b\r\n\r\n"
attack "trailer with a control byte" 400 "${C}0\r\nX-T: a\x01b\r\n\r\n"
attack "trailer with a bare LF" 400 "${C}0\r\nX-T: a\n\r\n"
attack "trailer obs-fold" 400 "${C}0\r\nX-T: a\r\n b\r\n\r\n"
attack "trailer without a colon" 400 "${C}0\r\nX-T\r\n\r\n"
attack "Content-Length in the trailers" 400 "${C}0\r\nContent-Length: 5\r\n\r\n"
attack "Transfer-Encoding in the trailers" 400 "${C}0\r\nTransfer-Encoding: chunked\r\n\r\n"
attack "Host in the trailers" 400 "${C}0\r\nHost: b\r\n\r\n"
attack "TE in HTTP/1.0" 400 "POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
attack "no Host in HTTP/1.1" 400 "GET / HTTP/1.1\r\n\r\n"
attack "two Host headers" 400 "GET / HTTP/1.1\r\n${H}${H}\r\n"
attack "CONNECT" 405 "CONNECT a:443 HTTP/1.1\r\n${H}\r\n"
attack "invalid method" 400 "G@T / HTTP/1.1\r\n${H}\r\n"
attack "lower-case method" 400 "get / HTTP/1.1\r\n${H}\r\n"
attack "HTTP/1.2" 400 "GET / HTTP/1.2\r\n${H}\r\n"
attack "HTTP/0.9 version" 400 "GET / HTTP/0.9\r\n${H}\r\n"
attack "no version" 400 "GET /\r\n${H}\r\n"
attack "space in the request target" 400 "GET /a b HTTP/1.1\r\n${H}\r\n"
attack "NUL in the request target" 400 "GET /a\0b HTTP/1.1\r\n${H}\r\n"
attack "space inside a header name" 400 "GET / HTTP/1.1\r\n${H}X A: b\r\n\r\n"
attack "empty header name" 400 "GET / HTTP/1.1\r\n${H}: b\r\n\r\n"
attack "CR alone ends a line" 400 "GET / HTTP/1.1\r${H}\r\n"
attack "garbage request line" 400 "HELLO THERE\r\n\r\n"
attack "HTTP/2 preface" 400 "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
big=$(head -c 6000 /dev/zero | tr '\0' 'a')
attack "headers over max_header_size" 431 "GET / HTTP/1.1\r\n${H}X-Big: $big\r\n\r\n"
many=$(for i in $(seq 200); do printf 'X-%d: 1\\r\\n' "$i"; done)
attack "more than 128 header fields" 431 "GET / HTTP/1.1\r\n${H}${many}\r\n"
attack "request line over max_header_size" 414 "GET /$big HTTP/1.1\r\n${H}\r\n"

check "backend saw none of them" 0 "$(wc -l <"$TMP/seen.log" 2>/dev/null || echo 0)"
check "backend counted no request" 0 "$(backend_requests "$S")"

# A valid request in the same test still works, and is the only one seen.
check_match "valid request still served" '"name":"src"' "$(curl -s "http://127.0.0.1:$P/")"
check "backend saw only the valid one" 1 "$(grep -vc '/_backend/stats' "$TMP/seen.log")"

# Strict is not stricter than RFC 9112: extensions (token and
# quoted-string values; llhttp itself refuses a quoted-pair, and an
# extension after a token value), leading zeros and trailers pass, and the body
# reaches the backend as sent.
out=$("$RAWCLIENT" -p "$P" -t 5 -s "POST /_test/echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n03;a;c=\"d e\"\r\nabc\r\n0002;x=y\r\nde\r\n0\r\nX-Trailer: v 1\r\n\r\n" || true)
check_match "valid chunk extensions and trailers: 200" "^HTTP/1.1 200 " "$out"
check_match "valid chunked body reached the backend whole" "abcde" "$out"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
