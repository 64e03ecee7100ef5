#!/usr/bin/env bash
# routes_drain: a route's weight of a backend dropping to 0 drains only the
# connections bound to it on that route (#13).  20 idle connections were
# routed to target by route logs, 20 by the default route; target to 0 on
# route logs closes the first 20 and none of the others; target to 0 on
# the default route then closes the other 20.
set -euo pipefail
source "$TESTLIB"
sw_init

start_pair 0 1 "
[drain]
spread = 1s

[route logs]
indices = logs-*
weights = target=1"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"

"$CONNHOLD" -p "$P" -n 20 -t 60 -u /logs-1/_search >"$TMP/logs.out" 2>"$TMP/logs.log" &
hl=$!; PIDS+=($hl)
"$CONNHOLD" -p "$P" -n 20 -t 60 -u /other/_search >"$TMP/other.out" 2>"$TMP/other.log" &
ho=$!; PIDS+=($ho)
wait_line "$TMP/logs.out" '^ready 20' 30 || true
wait_line "$TMP/other.out" '^ready 20' 30 || true
check "route logs: 20 connections on target" "backend target 20" "$(grep '^backend' "$TMP/logs.out")"
check "default route: 20 connections on target" "backend target 20" "$(grep '^backend' "$TMP/other.out")"

# Quiet for a second first: a drain lets a just-active connection finish.
sleep 1.2
check "route logs: target to 0" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d '{"source":1,"target":0}' "$A/weights?route=logs")"
wait_exit "$hl" 30 || true
check "every connection bound to target on route logs was closed" 0 "$WAIT_RC"
check "  20 closings" 20 "$(grep -c '^closed' "$TMP/logs.out")"
check_match "the log names the route" "route logs: backend target weight went to 0: draining" "$(cat "$TMP/switchover.log")"
# Spread is 1 s: give the other group as long again to (wrongly) close.
sleep 2
check "none bound on the default route was closed" 0 "$(grep -c '^closed' "$TMP/other.out" || true)"

check "default route: target to 0" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d '{"source":1,"target":0}' "$A/weights")"
wait_exit "$ho" 30 || true
check "then the default route's 20 were closed" 0 "$WAIT_RC"
check "  20 closings" 20 "$(grep -c '^closed' "$TMP/other.out")"
sw_finish
