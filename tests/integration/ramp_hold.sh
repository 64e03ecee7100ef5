#!/usr/bin/env bash
# ramp_hold: without traffic a ramp holds at its first step ("waiting for
# traffic") and never advances; a manual PUT /weights pauses it (the
# person wins, and the ramp says so); resume puts the step's weights
# back; a second POST /ramp is refused with 409; abort falls back.
set -euo pipefail
source "$TESTLIB"
source "$(dirname "$TESTLIB")/ramp_lib.sh"
sw_init

ramp_pair "" "" "steps = 10, 100
step_interval = 1s
check_interval = 200ms
min_requests = 50"
check "POST /ramp starts" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/ramp" \
    -d '{"reason":"hold test"}')"
wait_ramp holding 10 || true
sleep 2.5	# more than two step intervals: a ramp that advanced would show it
r=$(curl -s "$A/ramp")
check "no traffic: holding" holding "$(jq -r .state <<<"$r")"
check "no traffic: still step 1" 1 "$(jq -r .step <<<"$r")"
check_match "no traffic: reason says waiting for traffic" "^waiting for traffic" "$(jq -r .reason <<<"$r")"
check "no traffic: no pass verdict" 0 "$(jq '[.history[] | select(.verdict == "pass")] | length' <<<"$r")"
check "no traffic: one hold entry, not one per check" 1 \
    "$(jq '[.history[] | select(.verdict == "hold")] | length' <<<"$r")"
check "weights at step 1" "90 10" "$(jq -r '"\(.weights.source) \(.weights.target)"' <<<"$r")"

code=$(curl -s -o "$TMP/again.json" -w '%{http_code}' -X POST "$A/ramp")
check "a second POST /ramp: 409" 409 "$code"
check_match "409 says a ramp is under way" "abort it first" "$(jq -r .error.reason "$TMP/again.json")"
check "bad steps: 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/ramp" \
    -d '{"steps":[50,10]}')"

# The person wins: a manual weight change pauses the ramp.
check "PUT /weights" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$A/weights" \
    -d '{"source":70,"target":30}')"
r=$(curl -s "$A/ramp")
check "manual PUT: paused" paused "$(jq -r .state <<<"$r")"
check_match "manual PUT: the ramp says why" "changed outside the ramp" "$(jq -r .reason <<<"$r")"
sleep 1.5
check "paused: the person's weights stay" "70 30" \
    "$(curl -s "$A/weights" | jq -r '"\(.source) \(.target)"')"
check "paused: the state file keeps the ramp" 0 "$(jq -r .ramp.step "$TMP/state.json")"
check "pause when paused: 409" 409 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/ramp/pause")"

out=$("$SWITCHOVERCTL" -a "$A" ramp resume)
check_match "ramp resume" "^ramp (running|holding): step 1 of 2" "$out"
check "resume: the step's weights are back" "90 10" \
    "$(curl -s "$A/weights" | jq -r '"\(.source) \(.target)"')"
out=$("$SWITCHOVERCTL" -a "$A" ramp pause)
check_match "ramp pause" "^ramp paused: step 1 of 2.*paused by" "$out"
out=$("$SWITCHOVERCTL" -a "$A" ramp abort)
check_match "ramp abort" "^ramp rolled_back: .*aborted by" "$out"
check "abort: all to source" "100 0" "$(curl -s "$A/weights" | jq -r '"\(.source) \(.target)"')"
check "status" "ramp rolled_back" "$("$SWITCHOVERCTL" -a "$A" ramp status | cut -d: -f1)"
check "resume after abort: 409" 409 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/ramp/resume")"
"$SWITCHOVERCTL" -a "$A" ramp frobnicate 2>/dev/null && rc=0 || rc=$?
check "ramp frobnicate: usage" 2 "$rc"
check "audit: the manual change is there" 1 "$(grep -c '"old":{"source":90,"target":10},"new":{"source":70,"target":30}' "$TMP/audit.log")"
sw_finish
