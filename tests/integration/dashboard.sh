#!/usr/bin/env bash
# dashboard: the admin page in headless Chromium under a small load: it
# loads with no console error, shows both backends' traffic, and a
# confirmed click on fallback moves the weights (GET /weights says so).
# Leaves a screenshot in the build tree: tests/integration/dashboard.png.
set -euo pipefail
source "$TESTLIB"
sw_init
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source -d 2
# The target answers 3 % of requests with 429: the page counts them apart.
start_backend "$T" target -d 4 -e 3 -E 429
proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 1 \
    "[state]
audit_log = $TMP/audit.log"
start_proxy "$TMP/sw.conf"

# The page itself: its headers keep it to its own origin and files.
hdr=$(curl -s -D - -o "$TMP/index.html" "http://127.0.0.1:$ADMIN_PORT/")
check_match "GET / is HTML" 'Content-Type: text/html' "$hdr"
check_match "with a strict CSP" "Content-Security-Policy: default-src 'self';" "$hdr"
check_match "and nosniff" 'X-Content-Type-Options: nosniff' "$hdr"
check_match "/ui is the same page" '200' \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/ui")"
check_match "the script is JavaScript" 'Content-Type: text/javascript' \
    "$(curl -s -D - -o /dev/null "http://127.0.0.1:$ADMIN_PORT/ui/app.js")"
check "an unknown file is a 404" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/ui/nope.js")"
# (The SVG namespace is a name, never fetched.)
ext=$(cat "$TOP_SRCDIR"/web/* | sed 's|http://www.w3.org/2000/svg||g' |
    grep -Eo '(https?:)?//[a-zA-Z0-9.-]+\.[a-z]{2,}' || true)
check "no external URL in the page's files" "" "$ext"
check_no_match "no inline script or style" '<script>|<style|style=' "$(cat "$TMP/index.html")"

# What the page polls: compact, at most N seconds, N checked.
sleep 2.5
st=$(curl -s "http://127.0.0.1:$ADMIN_PORT/stats?history=2")
check "/stats?history=N is one line" 1 "$(printf '%s\n' "$st" | wc -l)"
check "with at most N seconds" 2 "$(jq '.history.t | length' <<<"$st")"
check "per backend, 429 apart" 2 "$(jq '.history.backends.target["429"] | length' <<<"$st")"
check "and the weight changes" '[]' "$(jq -c '.weight_changes' <<<"$st")"
check "history=301 is refused" 400 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/stats?history=301")"
check "history=x is refused" 400 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/stats?history=x")"
check "plain /stats has no history" null \
    "$(curl -s "http://127.0.0.1:$ADMIN_PORT/stats" | jq -c .history)"
check "a drain reason must be a string" 400 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"reason":5}' \
    "http://127.0.0.1:$ADMIN_PORT/drain?backend=source")"

# A small, bounded load: 150 requests/s for at most 90 s.
"$LOADGEN" -p "$P" -c 4 -R 150 -d 90 >"$TMP/load.out" 2>"$TMP/load.log" &
LOAD=$!
PIDS+=($LOAD)

mkdir -p tests/integration
if ADMIN="127.0.0.1:$ADMIN_PORT" TMP="$TMP" SHOT="$PWD/tests/integration/dashboard.png" \
    AUDIT="$TMP/audit.log" SWLOG="$TMP/switchover.log" "$PY" "$TOP_SRCDIR/tests/integration/dashboard.py" main; then
	ok "dashboard in Chromium"
else
	fail "dashboard in Chromium"
fi
kill "$LOAD" 2>/dev/null || true
sw_finish
