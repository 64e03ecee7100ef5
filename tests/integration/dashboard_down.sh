#!/usr/bin/env bash
# dashboard_down: the page says clearly when the proxy cannot be reached,
# and recovers by itself when it is back (a restart on the same ports).
set -euo pipefail
source "$TESTLIB"
sw_init
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

start_pair 1 1
ADMIN="127.0.0.1:$ADMIN_PORT" TMP="$TMP" \
    "$PY" "$TOP_SRCDIR/tests/integration/dashboard.py" down >"$TMP/page.out" 2>&1 &
PAGE=$!
PIDS+=($PAGE)

for i in $(seq 600); do [ -e "$TMP/want-stop" ] && break; sleep 0.1; done
kill -TERM "$SW_PID"
wait_exit "$SW_PID" 30
for i in $(seq 600); do [ -e "$TMP/want-start" ] && break; sleep 0.1; done
start_proxy "$TMP/sw.conf"
wait_exit "$PAGE" 90 || true
cat "$TMP/page.out"
check "the page's checks passed" 0 "$WAIT_RC"
sw_finish
