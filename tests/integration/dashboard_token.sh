#!/usr/bin/env bash
# dashboard_token: with [admin] token_file, the page asks for the token
# once (a wrong one is refused and asked again), keeps it in the tab's
# sessionStorage only, and then acts; the same action without the token,
# from outside the page, is refused and moves nothing.
set -euo pipefail
source "$TESTLIB"
sw_init
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

TOKEN=dash-$RANDOM$RANDOM-token
echo "$TOKEN" >"$TMP/token"
chmod 600 "$TMP/token"
P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source
start_backend "$T" target
ADMIN_PORT=$(free_port)
ADMIN_EXTRA="token_file = $TMP/token" \
    proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0
start_proxy "$TMP/sw.conf"

check "the page itself loads without the token" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/")"
if ADMIN="127.0.0.1:$ADMIN_PORT" TMP="$TMP" TOKEN="$TOKEN" \
    "$PY" "$TOP_SRCDIR/tests/integration/dashboard.py" token; then
	ok "dashboard with a token in Chromium"
else
	fail "dashboard with a token in Chromium"
fi
sw_finish
