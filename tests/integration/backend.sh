#!/usr/bin/env bash
# backend: the demo/test backend itself behaves as the other tests assume.
set -euo pipefail
source "$TESTLIB"
sw_init

B=$(free_port)
start_backend "$B" bk -L "$TMP/seen.log" -e 20
U="http://127.0.0.1:$B"

check_match "GET / names the backend" '"name":"bk"' "$(curl -s "$U/?x")"
# -e 20: exactly 200 of 1000 normal requests fail (one thread).
curl -s -X POST "$U/_backend/reset" >/dev/null
urls=(); for i in $(seq 100); do urls+=("$U/_search"); done
codes=$(for k in $(seq 10); do curl -s -w '\n%{http_code}\n' "${urls[@]}"; done)
check "-e 20 gives 200 errors in 1000" 200 "$(grep -c '^503$' <<<"$codes")"
check "stats count every request" 1000 "$(backend_requests "$B")"
check "-L logs each request line" 1 "$(grep -c '^GET /?x$' "$TMP/seen.log")"
echo=$(printf 'hello' | curl -s -H 'Transfer-Encoding: chunked' -H 'X-Empty;' --data-binary @- "$U/_test/echo")
check_match "echo: chunked body" '"chunked":true,"body_len":5,"body_fnv1a64":"[0-9a-f]{16}","body":"hello"' "$echo"
check_match "echo: empty header value" '\["X-Empty",""\]' "$echo"
check "bytes/N" 1000000 "$(curl -s "$U/_test/bytes/1000000" | wc -c)"
check "status/204 has no body" "204 0" "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$U/_test/status/204")"
sw_finish
