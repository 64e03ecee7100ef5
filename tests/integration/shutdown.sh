#!/usr/bin/env bash
# shutdown: while SIGTERM lets in-flight requests finish, the admin API
# keeps answering and /healthz says 503 at once (a load balancer stops
# sending new clients); a second SIGTERM exits at once.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0 "
[proxy]
shutdown_timeout = 60s"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
U="http://127.0.0.1:$P"
hz() { curl -s -m 2 -o /dev/null -w '%{http_code}' "$A/healthz" || true; }

check "healthz while serving" 200 "$(hz)"

# 1. A slow request in flight (4 s), then SIGTERM: healthz is 503 long
# before that request is done.
n0=$(backend_requests "$S")
curl -s -m 30 -o /dev/null -w '%{http_code}' "$U/_test/delay/4000" >"$TMP/slow.code" &
slow=$!
PIDS+=($slow)
wait_requests "$S" $((n0 + 1))
kill -TERM "$SW_PID"
got=000
for i in $(seq 20); do
	got=$(hz)
	[ "$got" = 503 ] && break
	sleep 0.1
done
check "healthz 503 during shutdown" 503 "$got"
if kill -0 "$slow" 2>/dev/null; then
	ok "  while the slow request is still in flight"
else
	fail "  the slow request had ended already"
fi
check_match "  and says why" 'shutting_down' "$(curl -s -m 2 "$A/healthz" || true)"
wait_exit "$slow" 30 || true
check "the in-flight request finished" 200 "$(cat "$TMP/slow.code")"
wait_exit "$SW_PID" 20 || true
check "then switchover exited 0" 0 "$WAIT_RC"

# 2. A request that would hold the stop for 60 s, SIGTERM, SIGTERM: the
# second one ends the process at once.
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
n0=$(backend_requests "$S")
curl -s -m 60 -o /dev/null "$U/_test/delay/50000" &
PIDS+=($!)
wait_requests "$S" $((n0 + 1))
kill -TERM "$SW_PID"
for i in $(seq 20); do
	[ "$(hz)" = 503 ] && break
	sleep 0.1
done
t0=$(date +%s)
kill -TERM "$SW_PID"
wait_exit "$SW_PID" 10 || true
t1=$(date +%s)
check "a second SIGTERM exits (status 1)" 1 "$WAIT_RC"
if [ $((t1 - t0)) -le 5 ]; then
	ok "  at once ($((t1 - t0)) s), not after the 50 s request"
else
	fail "  it took $((t1 - t0)) s"
fi
check_match "  and logs it" 'second signal 15: exiting now' "$(tail -n 5 "$TMP/switchover.log")"
sw_finish
