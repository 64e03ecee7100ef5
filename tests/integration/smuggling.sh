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
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
