#!/usr/bin/env bash
# first_byte_reused: a request on a reused pooled upstream connection
# gets first_byte_timeout (504), not the pool's idle timeout it had while
# it waited in the pool; with a body and without.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src
WORKERS=1 UPSTREAM_EXTRA="first_byte_timeout = 1s
pool_idle_timeout = 40s
max_fails = 0" proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"
A="http://127.0.0.1:$ADMIN_PORT"

# Two requests on one client connection: the second goes out on the
# pooled connection the first left.  Were the pool's 40 s still armed,
# curl would give up (-m 15) with no answer (000).
codes=$(curl -s -m 15 -w '%{http_code} ' -o /dev/null "$U/idx/_search?n=1" \
    -o "$TMP/b1" "$U/_test/hang" || true)
check "GET on a reused connection: 200, then 504" "200 504 " "$codes"
check_match "the 504 says the upstream did not answer" \
    '"type":"timeout_exception".*"status":504' "$(cat "$TMP/b1")"

codes=$(curl -s -m 15 -H 'Content-Type: application/json' -d '{"a":1}' \
    -w '%{http_code} ' -o /dev/null "$U/idx/_search?n=2" \
    -o /dev/null "$U/_test/hang" || true)
check "POST with a body on a reused connection: 200, then 504" "200 504 " "$codes"

curl -s "$A/stats" >"$TMP/stats.json"
check "both went out on pooled connections" 2 \
    "$(jq -r .backends.source.upstream_connections.reused "$TMP/stats.json")"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
