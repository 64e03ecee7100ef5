#!/usr/bin/env bash
# faults: a dead, hanging, resetting or lying backend gives the right
# status (502/504) or a closed connection, fast, and everyone else is
# still served.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port); DEAD=$(free_port)
start_backend "$S" src -L "$TMP/seen.log"
WORKERS=1 UPSTREAM_EXTRA="first_byte_timeout = 1s
connect_timeout = 1s
io_timeout = 1s
max_fails = 0" proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0 "
[backend dead]
servers = 127.0.0.1:$DEAD
weight = 0"
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"
base=$(fds_stable "$SW_PID")

status() { curl -s -o "$TMP/body" -w '%{http_code}' "$@" || true; }

check "hanging backend: 504" 504 "$(status "$U/_test/hang")"
check_match "504 body is a search-client error" '"type":"timeout_exception".*"status":504' "$(cat "$TMP/body")"
check "garbage answer: 502" 502 "$(status "$U/_test/garbage")"
check_match "502 says why" 'bad response from upstream' "$(cat "$TMP/body")"
check "close without answer: 502" 502 "$(status "$U/_test/close")"
check "reset: 502" 502 "$(status "$U/_test/reset")"

# Dies mid-body: the client sees a short body and a closed connection.
set +e
curl -s -o /dev/null "$U/_test/die-mid-body"; rc=$?
set -e
check "backend dies mid-body: client sees a partial transfer (curl 18)" 18 "$rc"
set +e
curl -s -o /dev/null "$U/_test/die-mid-chunked"; rc=$?
set -e
check "backend dies mid-chunked: client sees a partial transfer (curl 18)" 18 "$rc"

# A pooled connection the server closes is retried once on a fresh one:
# warm the pool, then ask for /_test/close on a reused connection.
: >"$TMP/seen.log"
curl -s -o /dev/null "$U/"
check "close on a reused connection: 502 after one retry" 502 "$(status "$U/_test/close")"
check "the request reached the backend twice (retry)" 2 "$(grep -c '/_test/close' "$TMP/seen.log")"

# Everyone else is still served.
check_match "normal request after faults" '"name":"src"' "$(curl -s "$U/")"

# Dead backend: switch all weight to it by SIGHUP; 502 quickly.
sed -i '/^\[backend source\]/,/^\[/ s/^weight = 1/weight = 0/; /^\[backend dead\]/,$ s/^weight = 0/weight = 1/' "$TMP/sw.conf"
kill -HUP "$SW_PID"
for i in $(seq 50); do grep -q "reload done" "$TMP/switchover.log" && break; sleep 0.1; done
start=$(date +%s%N)
check "dead backend: 502" 502 "$(status "$U/")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$ms" -lt 900 ]; then ok "dead backend answered before the connect timeout ($ms ms)"; else fail "dead backend took $ms ms"; fi
check_match "502 names the connect failure" 'connect_exception' "$(cat "$TMP/body")"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
pooled=$(upstream_conns "$S")
check "no descriptor leaked: start-up ones plus the idle pool ($pooled)" \
	"$((base + pooled))" "$(fds_settle "$SW_PID" "$((base + pooled))")"
sw_finish
