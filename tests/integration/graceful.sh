#!/usr/bin/env bash
# graceful: a drain or a recycle never loses what a client sent.  A large
# response in flight when its connection is drained arrives whole, and
# the connection ends after the next answer, which says so; a
# pipelined request already received is answered before the close; bytes
# racing the close do not cut the response short; the
# max_requests_per_connection and max_connection_age limits end a
# connection with Connection: close on a complete response.
set -euo pipefail
source "$TESTLIB"
sw_init

start_pair 1 0 "$(printf '[drain]\nspread = 200ms\n')"

# 1. A 40 MB response, read at 20 MB/s, when source is drained.
curl -s --limit-rate 20M -o "$TMP/big" "$U/_test/bytes/40000000" \
    -o /dev/null -w '%{http_code} %{size_download} %header{x-backend} %{num_connects} %header{connection}\n' \
    "$U/" >"$TMP/big.out" 2>&1 &
big=$!
PIDS+=($big)
for i in $(seq 100); do
	[ -s "$TMP/big" ] && break
	sleep 0.05
done
reweight "$TMP/sw.conf" 0 1
wait_exit "$big" 60 || true
check "curl finished cleanly" 0 "$WAIT_RC"
check "the drained response arrived whole" 40000000 "$(stat -c %s "$TMP/big")"
# That response's head went out before the drain and did not say
# Connection: close, so the connection stays for one more request, whose
# answer says it (closing right after the first would race the second).
check "the next request, on the same connection, to target, says close" \
    "200 target 0 close" "$(tail -n 1 "$TMP/big.out" | awk '{ print $1, $3, $4, $5 }')"

# 2. Two pipelined requests; the drain comes while the first is served.
reweight "$TMP/sw.conf" 1 0
curl -s -X POST "http://127.0.0.1:$S/_backend/reset" >/dev/null
"$RAWCLIENT" -p "$P" -t 20 -s 'GET /_test/delay/1500 HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n' \
    >"$TMP/pipe.out" 2>&1 &
pipe=$!
PIDS+=($pipe)
wait_requests "$S" 1 || true
reweight "$TMP/sw.conf" 0 1
wait_exit "$pipe" 30 || true
check "the proxy closed the pipelining connection" 0 "$WAIT_RC"
check "both pipelined requests were answered" 2 \
    "$(grep -c '^HTTP/1.1 200' "$TMP/pipe.out")"
check "the first answer kept the connection open" 0 \
    "$(sed -n '1,/^\r$/p' "$TMP/pipe.out" | grep -ci '^connection: close' || true)"
check_match "the last answer, from target, said Connection: close" \
    'X-Backend: target.*[Cc]onnection: close' "$(sed -n '/delayed_ms/,$p' "$TMP/pipe.out" | tr -d '\r' | tr '\n' ' ')"
check_match "the second request was the one answered last" '"path":"/second"' \
    "$(tail -c 200 "$TMP/pipe.out")"

# 3. Bytes that race our close (the client sent them before it read the
# Connection: close) must not make the kernel reset the connection and
# throw away the tail of the response: the proxy closes lingeringly.
"$RAWCLIENT" -p "$P" -t 20 \
    -s "GET /_test/bytes/1000000 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" \
    -d 1000 -s 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' >"$TMP/race.out" 2>&1 || true
check "a 1 MB answer arrives whole though the client sent more after it" \
    1000000 "$(sed '1,/^\r$/d' "$TMP/race.out" | wc -c)"

# 4. Recycling by request count and by age.
kill "$SW_PID"; wait_exit "$SW_PID" 10 || true
LISTENER_EXTRA="$(printf 'max_requests_per_connection = 3\nmax_connection_age = 1s')" \
    WORKERS=2 proxy_conf "$TMP/rc.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 1
start_proxy "$TMP/rc.conf"
urls=(); for i in $(seq 7); do urls+=(-o /dev/null "$U/"); done
check "every 3rd request ends its connection" "1 0 0 1 0 0 1" \
    "$(curl -s -w '%{num_connects}\n' "${urls[@]}" | xargs)"
curl -s -D "$TMP/rc.h" -o /dev/null "$U/" "$U/" "$U/"
check "the 3rd answer says Connection: close" 1 \
    "$(grep -ci '^connection: close' "$TMP/rc.h")"
urls=(); for i in $(seq 10); do urls+=(-o /dev/null "$U/_test/delay/250"); done
curl -s -w '%{http_code} %{num_connects}\n' "${urls[@]}" >"$TMP/age.out"
check "recycled by age: all answered" 10 "$(grep -c '^200 ' "$TMP/age.out")"
n=$(awk '$2 == 1' "$TMP/age.out" | wc -l)
if [ "$n" -ge 2 ] && [ "$n" -le 5 ]; then ok "a 2.5 s client reconnected $n times with a 1 s age"
else fail "a 2.5 s client reconnected $n times with a 1 s age (want 2-5)"; fi
sw_finish
