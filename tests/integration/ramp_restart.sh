#!/usr/bin/env bash
# ramp_restart: a proxy stopped in the middle of a ramp comes back paused
# at the weights it had saved (never advancing by itself, never back to
# the config's weights); resume goes on from that step; a state file
# written before the ramp existed (no "ramp" key) still loads.
set -euo pipefail
source "$TESTLIB"
source "$(dirname "$TESTLIB")/ramp_lib.sh"
sw_init

ramp_pair "" "" "steps = 10, 40, 100
step_interval = 1s
check_interval = 200ms
min_requests = 5
min_p99 = 5s"
ramp_load 30
curl -s -o /dev/null -X POST "$A/ramp"
for i in $(seq 100); do
	[ "$(ramp_get .step)" = 2 ] && break
	sleep 0.1
done
check "at step 2" 2 "$(ramp_get .step)"
check "the state file says step 2 (index 1)" "1 60 40" \
    "$(jq -r '"\(.ramp.step) \(.weights.source) \(.weights.target)"' "$TMP/state.json")"
kill -9 "$SW_PID"
wait_exit "$SW_PID" 10 || true
start_proxy "$TMP/sw.conf"
r=$(curl -s "$A/ramp")
check "after restart: paused" paused "$(jq -r .state <<<"$r")"
check "after restart: at step 2" "2 40" "$(jq -r '"\(.step) \(.target_percent)"' <<<"$r")"
check "after restart: the saved weights" "60 40" "$(jq -r '"\(.weights.source) \(.weights.target)"' <<<"$r")"
check_match "after restart: the reason says so" "restarted during a ramp" "$(jq -r .reason <<<"$r")"
sleep 1.5
check "after restart: never advances by itself" "paused 2 60 40" \
    "$(curl -s "$A/ramp" | jq -r '"\(.state) \(.step) \(.weights.source) \(.weights.target)"')"
check "after restart: ramp steps from the state file" "10 40 100" "$(ramp_get '.steps | map(tostring) | join(" ")')"
check "resume" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/ramp/resume")"
wait_ramp done 20 || true
check "resumed ramp: done" "done 0 100" \
    "$(curl -s "$A/ramp" | jq -r '"\(.state) \(.weights.source) \(.weights.target)"')"

# A state file from before the ramp: weights only.
kill "$SW_PID"
wait_exit "$SW_PID" 20 || true
echo '{"saved":"2026-11-30T10:00:00.000Z","weights":{"source":3,"target":1}}' >"$TMP/state.json"
start_proxy "$TMP/sw.conf"
check "old state file: weights load" "3 1" "$(curl -s "$A/weights" | jq -r '"\(.source) \(.target)"')"
check "old state file: no ramp" idle "$(ramp_get .state)"
# A corrupt ramp record is refused, as a corrupt weight is.
kill "$SW_PID"
wait_exit "$SW_PID" 20 || true
echo '{"weights":{"source":3,"target":1},"ramp":{"step":7,"steps":[10,100]}}' >"$TMP/state.json"
"$SWITCHOVER" -c "$TMP/sw.conf" >>"$TMP/switchover.log" 2>&1 && rc=0 || rc=$?
check "a ramp step out of range: refused at start" 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)"
check_match "it says why" "ramp step is not one of its steps" "$(tail -n 3 "$TMP/switchover.log")"
sw_finish
