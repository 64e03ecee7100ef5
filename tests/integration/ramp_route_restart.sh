#!/usr/bin/env bash
# ramp_route_restart: a proxy killed during a ramp of route reads comes
# back paused on that route, at the route's saved weights (the default
# route's untouched); resume goes on with the route and finishes it.
set -euo pipefail
source "$TESTLIB"
source "$(dirname "$TESTLIB")/ramp_lib.sh"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

ramp_pair "" "" "steps = 10, 40, 100
step_interval = 1s
check_interval = 200ms
min_requests = 5
min_p99 = 5s" "[route reads]
operation = read
weights = source=1, target=0"
ramp_load 40	# loadgen's GETs: all reads
curl -s -o /dev/null -X POST -d '{"route":"reads"}' "$A/ramp"
for i in $(seq 100); do
	[ "$(ramp_get .step)" = 2 ] && break
	sleep 0.1
done
check "at step 2" 2 "$(ramp_get .step)"
check "the state file: step 2 of route reads, its weights 60/40, default 1/0" \
    "1 reads 60 40 1 0" \
    "$(jq -r '"\(.ramp.step) \(.ramp.route) \(.routes.reads.source) \(.routes.reads.target) \(.weights.source) \(.weights.target)"' "$TMP/state.json" 2>&1)"
kill -9 "$SW_PID"
wait_exit "$SW_PID" 10 || true
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
r=$(curl -s "$A/ramp")
check "after restart: paused on route reads at step 2" "paused reads 2" \
    "$(jq -r '"\(.state) \(.route) \(.step)"' <<<"$r")"
check "after restart: the route's saved weights" "60 40" "$(jq -r '"\(.weights.source) \(.weights.target)"' <<<"$r")"
check_match "after restart: the reason names the route" "restarted during a ramp of route reads" "$(jq -r .reason <<<"$r")"
check "after restart: default route as it was" "1 0" "$(curl -s "$A/weights" | jq -r '"\(.source) \(.target)"')"
check "resume" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/ramp/resume")"
wait_ramp done 30 || true
check "resumed ramp of reads: done at 0/100" "done reads 0 100" \
    "$(curl -s "$A/ramp" | jq -r '"\(.state) \(.route) \(.weights.source) \(.weights.target)"')"
check "default route still 1/0" "1 0" "$(curl -s "$A/weights" | jq -r '"\(.source) \(.target)"')"
kill -TERM "$LG" 2>/dev/null || true
wait_exit "$LG" 30 || true
sw_finish
