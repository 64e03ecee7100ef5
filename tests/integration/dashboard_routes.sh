#!/usr/bin/env bash
# dashboard_routes: with [route] sections, the page shows a row per route
# and backend with the requests /stats counts for it (headless Chromium;
# the load has stopped, so the numbers hold still).  Without routes the
# panel stays hidden, which dashboard.sh's page shows by not having it.
set -euo pipefail
source "$TESTLIB"
sw_init
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source
start_backend "$T" target
proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 "
[route reads]
operation = read
weights = source=0, target=1
"
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"
urls=()
for i in $(seq 7); do urls+=("$U/idx/_search"); done
curl -s "${urls[@]}" >/dev/null
curl -s -XPOST -H 'Content-Type: application/x-ndjson' --data-binary $'{"index":{}}\n{}\n' "$U/_bulk" "$U/_bulk" >/dev/null
if ADMIN="127.0.0.1:$ADMIN_PORT" TMP="$TMP" \
    "$PY" "$TOP_SRCDIR/tests/integration/dashboard.py" routes; then
	ok "the routes panel in Chromium"
else
	fail "the routes panel in Chromium"
fi
sw_finish
