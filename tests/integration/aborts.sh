#!/usr/bin/env bash
# aborts: clients that vanish mid-upload or mid-download leave no
# upstream connection pooled and no descriptor open; a hanging or slow
# backend costs one 504 and holds up nobody else (a witness client is
# served all along); at the end the proxy holds exactly the descriptors
# it started with plus its idle pool.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src -L "$TMP/seen.log"
# A long pool idle time: an upstream connection that wrongly went back
# to the pool would stay open for the whole test.
WORKERS=1 UPSTREAM_EXTRA="first_byte_timeout = 2s
connect_timeout = 1s
io_timeout = 2s
pool_idle_timeout = 60s
max_fails = 0" proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"
base=$(fds_stable "$SW_PID")

# wait_conns N: the proxy's upstream connections, settled down to N.
wait_conns() { settle "$1" upstream_conns "$S"; }

# Mid-upload: 60 kB of a 10 MB body, then the client is gone.
body=$(head -c 60000 /dev/zero | tr '\0' 'x')
"$RAWCLIENT" -p "$P" -t 1 -s "POST /_bulk HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n" -s "$body" >/dev/null || true
grep -q 'POST /_bulk' "$TMP/seen.log" && ok "upload reached the backend" || fail "upload never reached the backend"
check "client gone mid-upload: upstream connection closed, not pooled" 0 "$(wait_conns 0)"

# Mid-download: a 200 MB answer read slowly for a second, then dropped.
set +e
curl -s -o /dev/null --limit-rate 200k -m 1 "$U/_test/bytes/200000000"; rc=$?
set -e
check "slow reader timed out on its side (curl 28)" 28 "$rc"
check "client gone mid-download: upstream connection closed" 0 "$(wait_conns 0)"
check "after the aborts, back to the start-up descriptors" "$base" "$(fds_settle "$SW_PID" "$base")"

# From here a witness asks for / every 0.1 s: every answer must be a 200.
: >"$TMP/witness"
(
	for i in $(seq 600); do
		[ -e "$TMP/stop" ] && break
		curl -s -o /dev/null -m 5 -w '%{http_code}\n' "$U/" >>"$TMP/witness" || echo "curl-$?" >>"$TMP/witness"
		sleep 0.1
	done
) &
WITNESS=$!
PIDS+=($WITNESS)

status() { curl -s -o "$TMP/body" -w '%{http_code}' -m 20 "$@" || true; }

# A hanging backend answer: 504 at first_byte_timeout, others served meanwhile.
status "$U/_test/hang" >"$TMP/hang.code" &
HANG=$!
sleep 1
n0=$(wc -l <"$TMP/witness")
sleep 0.8
kill -0 "$HANG" 2>/dev/null && ok "hanging request still waiting" || fail "hanging request ended early"
n1=$(wc -l <"$TMP/witness")
if [ "$n1" -gt "$n0" ]; then ok "witness served while a request hangs ($n0 -> $n1)"; else fail "witness stalled behind the hang ($n0 -> $n1)"; fi
wait "$HANG"
check "hanging backend: 504" 504 "$(cat "$TMP/hang.code")"
check "slower than first_byte_timeout: 504" 504 "$(status "$U/_test/delay/5000")"
check "head started, then silence beyond io_timeout: 504" 504 "$(status "$U/_test/slow-headers/5000")"
check "within the timeout: 200" 200 "$(status "$U/_test/delay/300")"

# Uploads aborted while others are served.
for i in 1 2 3; do
	"$RAWCLIENT" -p "$P" -t 0.5 -s "POST /_bulk HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n" -s "$body" >/dev/null || true
done
check_match "after more aborts a normal POST works" '"took"|"size"|bytes' "$(curl -s -m 5 -H 'Content-Type: application/json' --data-binary '{"a":1}' "$U/_bulk")"

touch "$TMP/stop"
wait "$WITNESS" 2>/dev/null || true
total=$(wc -l <"$TMP/witness")
bad=$(grep -vc '^200$' "$TMP/witness" || true)
if [ "$total" -ge 10 ]; then ok "witness made $total requests"; else fail "witness made only $total requests"; fi
check "every witness request got a 200" 0 "$bad"

pooled=$(upstream_conns "$S")
check "descriptors: start-up ones plus the idle pool ($pooled)" "$((base + pooled))" "$(fds_settle "$SW_PID" "$((base + pooled))")"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
