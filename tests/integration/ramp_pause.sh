#!/usr/bin/env bash
# ramp_pause: with on_failure = pause, a target that goes bad stops the
# ramp where it is: paused, weights held (not rolled back), reason naming
# the check; switchoverctl ramp start exits 7.
set -euo pipefail
source "$TESTLIB"
source "$(dirname "$TESTLIB")/ramp_lib.sh"
sw_init

touch "$TMP/bad"
ramp_pair "" "-F $TMP/bad" "steps = 20, 100
step_interval = 2s
check_interval = 500ms
failure_limit = 2
min_requests = 10
min_p99 = 5s
on_failure = pause"
ramp_load 10
sleep 0.5
timeout 30 "$SWITCHOVERCTL" -a "$A" ramp start >"$TMP/ctl.out" 2>&1 && rc=0 || rc=$?
sed 's/^/# /' "$TMP/ctl.out"
check "ramp start exits 7 (paused)" 7 "$rc"
r=$(curl -s "$A/ramp")
check "state paused" paused "$(jq -r .state <<<"$r")"
check "weights held at step 1" "80 20" "$(jq -r '"\(.weights.source) \(.weights.target)"' <<<"$r")"
# Requests are counted when routed and errors when answered, so those
# still in flight at the check can leave the rate a little under 100 %.
check_match "reason names the check" "^error_rate: target (9[0-9]|100)\.[0-9] % vs source 0\.0 %" "$(jq -r .reason <<<"$r")"
sleep 1.2
check "still paused, still held" "paused 80 20" \
    "$(curl -s "$A/ramp" | jq -r '"\(.state) \(.weights.source) \(.weights.target)"')"
wait_exit "$LG" 30 || true
sw_finish
