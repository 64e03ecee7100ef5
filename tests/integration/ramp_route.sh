#!/usr/bin/env bash
# ramp_route: `switchoverctl -R reads ramp start` ramps only route reads
# (#13): under read and write load, its weights go 50 -> 100 % target and
# pass on the route's own counters; the default route (writes) keeps
# source=1 target=0 and the target never sees a write; the state file
# names the route while the ramp is under way; GET /ramp shows it; an
# unknown route is a 404.
set -euo pipefail
source "$TESTLIB"
source "$(dirname "$TESTLIB")/ramp_lib.sh"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

ramp_pair "" "" "steps = 50, 100
step_interval = 2s
check_interval = 500ms
min_requests = 10
min_p99 = 5s" "[route reads]
operation = read
weights = source=1, target=0"

code=$(curl -s -o "$TMP/404.json" -w '%{http_code}' -XPOST -d '{"route":"nope"}' "$A/ramp")
check "POST /ramp with an unknown route: 404" 404 "$code"
check "... saying which" true "$(jq '.error.reason | test("nope")' "$TMP/404.json")"
check "... and nothing started" idle "$(ramp_get .state)"

# Reads: loadgen's GETs; writes: bulks, one every 50 ms, bounded.
"$LOADGEN" -p "$P" -c 2 -R 100 -d 60 -u /logs/_search -t 10000 -j >"$TMP/lg.out" 2>&1 &
LG=$!
PIDS+=($LG)
( for i in $(seq 300); do
	curl -s -o /dev/null -XPOST -H 'Content-Type: application/x-ndjson' \
	    --data-binary $'{"index":{}}\n{}\n' "$U/_bulk" || true
	sleep 0.05
  done ) &
WR=$!
PIDS+=($WR)
sleep 1

timeout 40 "$SWITCHOVERCTL" -a "$A" -R reads -r "reads first" ramp start >"$TMP/ctl.out" 2>&1 &
CTL=$!
PIDS+=($CTL)
named=
for i in $(seq 100); do
	named=$(jq -r '.ramp.route // empty' "$TMP/state.json" 2>/dev/null || true)
	[ -n "$named" ] && break
	sleep 0.1
done
check "the state file names the ramped route" reads "$named"
check "GET /ramp names the route" reads "$(ramp_get .route)"
wait_exit "$CTL" 45 || true
sed 's/^/# /' "$TMP/ctl.out"
check "ramp start -R reads exits 0 when done" 0 "$WAIT_RC"
check_match "it ends done, naming the route" "ramp done \(route reads\): step 2 of 2, target 100 %" "$(cat "$TMP/ctl.out")"

r=$(curl -s "$A/ramp")
check "GET /ramp: route reads" reads "$(jq -r .route <<<"$r")"
check "GET /ramp: the route's weights, target 100" "0 100" "$(jq -r '"\(.weights.source) \(.weights.target)"' <<<"$r")"
check "two passes" 2 "$(jq '[.history[] | select(.verdict == "pass")] | length' <<<"$r")"
check "the checks judged the route's reads" true \
    "$(jq '[.checks[] | select(.name == "min_requests")][0].target >= 10' <<<"$r")"

# Stop the load (loadgen lets its answers finish) before counting.
kill "$WR" 2>/dev/null || true
kill -TERM "$LG" 2>/dev/null || true
wait_exit "$WR" 10 || true
wait_exit "$LG" 30 || true
curl -s "$A/stats" >"$TMP/stats.json"
j() { jq -r "$1" "$TMP/stats.json"; }
check "route reads now: source 0, target 100" "0 100" \
    "$(j '"\(.routes.reads.source.weight) \(.routes.reads.target.weight)"')"
check "default route untouched: source 1, target 0" "1 0" \
    "$(j '"\(.routes.default.source.weight) \(.routes.default.target.weight)"')"
check "backends' weights untouched" "1 0" "$(j '"\(.backends.source.weight) \(.backends.target.weight)"')"
check "writes reached source" true "$(j '.routes.default.source.requests > 20')"
check "no write reached target" 0 "$(j .routes.default.target.requests)"
check "the target served exactly the reads it was sent" "$(backend_requests "$T")" "$(j .routes.reads.target.requests)"
check "the state file has no ramp left" null "$(jq -r .ramp "$TMP/state.json")"
check "audit: the route's steps" 2 "$(grep -c 'ramp step [12]/2: target [0-9]* % on route reads' "$TMP/audit.log")"

sw_finish
