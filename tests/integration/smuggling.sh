#!/usr/bin/env bash
# smuggling: ambiguous or malformed requests get a 4xx, the connection is
# closed, and the backend never sees them (its request log stays empty).
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src -L "$TMP/seen.log"
WORKERS=1 LISTENER_EXTRA="max_header_size = 4k" \
	proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"

# attack NAME EXPECTED_STATUS RAW_BYTES
attack() {
	local out rc
	set +e
	out=$("$RAWCLIENT" -p "$P" -t 5 -s "$3")
	rc=$?
	set -e
	check_match "$1: answered $2" "^HTTP/1.1 $2 " "$out"
	check "$1: connection closed" 0 "$rc"
}

H='Host: a\r\n'
attack "CL and TE together" 400 "POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n"
attack "duplicate differing Content-Length" 400 "POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
attack "duplicate equal Content-Length" 400 "POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
attack "Transfer-Encoding: xchunked" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"
attack "Transfer-Encoding: chunked, identity" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"
attack "space before colon" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
attack "bare LF line endings" 400 "GET / HTTP/1.1\n${H}\n"
attack "NUL in a header value" 400 "GET / HTTP/1.1\r\n${H}X-A: a\\0b\r\n\r\n"
attack "obs-fold" 400 "GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n"
attack "chunk-size overflow" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n"
attack "bad chunk size" 400 "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n"
attack "TE in HTTP/1.0" 400 "POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
attack "no Host in HTTP/1.1" 400 "GET / HTTP/1.1\r\n\r\n"
attack "two Host headers" 400 "GET / HTTP/1.1\r\n${H}${H}\r\n"
attack "CONNECT" 405 "CONNECT a:443 HTTP/1.1\r\n${H}\r\n"
attack "garbage request line" 400 "HELLO THERE\r\n\r\n"
attack "HTTP/2 preface" 400 "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
big=$(head -c 6000 /dev/zero | tr '\0' 'a')
attack "headers over max_header_size" 431 "GET / HTTP/1.1\r\n${H}X-Big: $big\r\n\r\n"
attack "request line over max_header_size" 431 "GET /$big HTTP/1.1\r\n${H}\r\n"

check "backend saw none of them" 0 "$(wc -l <"$TMP/seen.log" 2>/dev/null || echo 0)"

# A valid request in the same test still works, and is the only one seen.
check_match "valid request still served" '"name":"src"' "$(curl -s "http://127.0.0.1:$P/")"
check "backend saw only the valid one" 1 "$(wc -l <"$TMP/seen.log")"
sw_finish
