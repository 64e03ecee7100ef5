#!/usr/bin/env bash
# basic: HTTP/1.1 done right through the proxy, checked with curl and raw
# bytes against real backends: keep-alive, headers, bodies, HEAD/204/304,
# Expect: 100-continue, HTTP/1.0, pipelining.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" src
start_backend "$T" tgt
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"

body=$(curl -s "$U/")
check_match "GET / answered by the source backend" '"name":"src"' "$body"

# Keep-alive: three requests on one client connection, all answered.
out=$(curl -sv "$U/a" "$U/b" "$U/c" 2>&1)
check "three answers on one connection" 3 "$(grep -c '"name":"src"' <<<"$out")"
check "client connection reused" 2 "$(grep -c 'Re-using existing connection' <<<"$out")"

# Headers: Host byte for byte, hop-by-hop removed, X-Forwarded-* added.
echo=$(curl -s -H 'Host: Search.Example:9200' -H 'Connection: keep-alive, X-Hop' \
	-H 'X-Hop: secret' -H 'Keep-Alive: timeout=9' -H 'X-Forwarded-For: 10.1.2.3' \
	-H 'Authorization: AWS4-HMAC-SHA256  Credential=AKID/x,  Signature=ab' "$U/_test/echo")
check_match "Host forwarded as sent" '\["Host","Search.Example:9200"\]' "$echo"
check_match "Authorization forwarded byte for byte" 'Credential=AKID/x,  Signature=ab' "$echo"
check_no_match "header named in Connection removed" 'X-Hop' "$echo"
check_no_match "Keep-Alive removed" 'Keep-Alive' "$echo"
check_match "X-Forwarded-For appended" '\["X-Forwarded-For","10.1.2.3, 127.0.0.1"\]' "$echo"
check_match "X-Forwarded-Proto added" '\["X-Forwarded-Proto","http"\]' "$echo"
check_match "X-Forwarded-Port added" "\\[\"X-Forwarded-Port\",\"$P\"\\]" "$echo"

# GET with a body, as search clients send _search.
echo=$(curl -s -X GET -H 'Content-Type: application/json' \
	--data-binary '{"query":{"match_all":{}}}' "$U/_test/echo")
check_match "GET body reaches the backend" '"body":"\{\\"query\\":\{\\"match_all\\":\{\}\}\}"' "$echo"
check_match "GET method kept" '"method":"GET"' "$echo"

# Chunked request body forwarded with its framing intact.
head -c 100000 /dev/urandom >"$TMP/blob"
want=$(curl -s --data-binary @"$TMP/blob" "http://127.0.0.1:$S/_test/echo" | grep -o '"body_fnv1a64":"[0-9a-f]*"')
got=$(curl -s -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/blob" "$U/_test/echo")
check_match "chunked upload arrives chunked" '"chunked":true' "$got"
check "chunked upload arrives intact" "$want" "$(grep -o '"body_fnv1a64":"[0-9a-f]*"' <<<"$got")"
got=$(curl -s --data-binary @"$TMP/blob" "$U/_test/echo")
check "Content-Length upload arrives intact" "$want" "$(grep -o '"body_fnv1a64":"[0-9a-f]*"' <<<"$got")"

# Chunked and close-delimited responses.
check "chunked response size" 100000 "$(curl -s "$U/_test/chunked/100000" | wc -c)"
check "close-delimited response size" 50000 "$(curl -s "$U/_test/eof/50000" | wc -c)"

# HEAD, 204 and 304 carry no body, and the connection stays usable.
out=$(curl -s -I "$U/_test/bytes/12345" -w '%{size_download}' -o "$TMP/head")
check "HEAD has no body" 0 "$out"
check_match "HEAD keeps Content-Length" 'Content-Length: 12345' "$(cat "$TMP/head")"
out=$(curl -s "$U/_test/status/204" "$U/_test/status/304" "$U/" -w '%{http_code} ')
check_match "204 and 304 then a normal answer on one connection" '^204 304 \{.*"name":"src".*\}[[:space:]]*200 $' "$out"

# Expect: 100-continue (curl waits for the 100 before sending the body).
head -c 2000000 /dev/zero >"$TMP/zero"
out=$(curl -s -H 'Expect: 100-continue' --data-binary @"$TMP/zero" "$U/_bulk" -w ' %{http_code}')
check_match "Expect: 100-continue upload" '"bytes":2000000.* 200$' "$out"

# HTTP/1.0 client: chunked answer is de-chunked, connection closes.
out=$(curl -s -0 -D "$TMP/h10" "$U/_test/chunked/40000" | wc -c)
check "HTTP/1.0 client gets the whole de-chunked body" 40000 "$out"
check_no_match "HTTP/1.0 client gets no chunked encoding" '[Tt]ransfer-[Ee]ncoding' "$(cat "$TMP/h10")"

# Pipelining: two requests in one write, answered in order.
out=$("$RAWCLIENT" -p "$P" -t 5 -s 'GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' || true)
first=$(grep -bo '"path":"/first"' <<<"$out" | cut -d: -f1)
second=$(grep -bo '"path":"/second"' <<<"$out" | cut -d: -f1)
if [ -n "$first" ] && [ -n "$second" ] && [ "$first" -lt "$second" ]; then
	ok "pipelined requests answered in order"
else
	fail "pipelined requests answered in order: $out"
fi

# Half-close after a request: the answer still arrives.
out=$("$RAWCLIENT" -p "$P" -t 5 -c -s 'GET /half HTTP/1.1\r\nHost: a\r\n\r\n'; echo " rc=$?")
check_match "answer after client half-close, then close" '"path":"/half".* rc=0$' "$out"

# Upstream connection pool: sequential requests reuse upstream conns.
for i in $(seq 20); do curl -s -o /dev/null "$U/"; done
kill -0 "$SW_PID" && ok "proxy alive after all cases" || fail "proxy died"
sw_finish
