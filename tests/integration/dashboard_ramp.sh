#!/usr/bin/env bash
# dashboard_ramp: once the ramp (#12) is built in, the page's ramp panel
# shows it, starts it and aborts it (each confirmed).  Skipped (77) while
# GET /ramp is 404: then the panel stays hidden, which dashboard.sh checks.
set -euo pipefail
source "$TESTLIB"
sw_init
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source
start_backend "$T" target
proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 \
    "[ramp]
steps = 10, 50, 100
step_interval = 30s
check_interval = 1s
min_requests = 5"
if ! "$SWITCHOVER" -t -c "$TMP/sw.conf" >/dev/null 2>&1; then
	echo "SKIP: this build has no [ramp]"
	exit 77
fi
start_proxy "$TMP/sw.conf"
"$LOADGEN" -p "$P" -c 2 -R 100 -d 60 >"$TMP/load.out" 2>"$TMP/load.log" &
PIDS+=($!)
if ADMIN="127.0.0.1:$ADMIN_PORT" TMP="$TMP" \
    "$PY" "$TOP_SRCDIR/tests/integration/dashboard.py" ramp; then
	ok "the ramp from the page in Chromium"
else
	fail "the ramp from the page in Chromium"
fi
sw_finish
