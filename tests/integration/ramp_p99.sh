#!/usr/bin/env bash
# ramp_p99: a target that answers every request but slowly (80 ms against
# a fast source) fails the p99 check and is rolled back, the reason
# naming p99_ratio with both values and the limit.
set -euo pipefail
source "$TESTLIB"
source "$(dirname "$TESTLIB")/ramp_lib.sh"
sw_init

ramp_pair "" "-d 80" "steps = 50, 100
step_interval = 2s
check_interval = 500ms
failure_limit = 2
min_requests = 20
min_p99 = 20ms"
ramp_load 12
sleep 0.5
code=$(curl -s -o "$TMP/start.json" -w '%{http_code}' -X POST "$A/ramp")
check "POST /ramp starts" 200 "$code"
check "POST /ramp answers with the ramp" 1 "$(jq -r .step "$TMP/start.json")"
wait_ramp rolled_back 20 || true
r=$(curl -s "$A/ramp")
check "state rolled_back" rolled_back "$(jq -r .state <<<"$r")"
check_match "reason names p99_ratio, both values and the limit" \
    '^p99_ratio: target [0-9.]+ ms vs source [0-9.]+ ms \(limit x2\.0\)$' "$(jq -r .reason <<<"$r")"
check "p99 check failed" false "$(jq -r '.checks[] | select(.name == "p99_ratio") | .ok' <<<"$r")"
check "error_rate check passed" true "$(jq -r '.checks[] | select(.name == "error_rate") | .ok' <<<"$r")"
check "never reached 100 %" 0 "$(jq '[.history[] | select(.target_percent == 100)] | length' <<<"$r")"
check "weights all to source" "100 0" "$(jq -r '"\(.weights.source) \(.weights.target)"' <<<"$r")"
wait_exit "$LG" 30 || true
sum=$(tail -n 1 "$TMP/lg.out")
check "loadgen: no failed request" 0 "$(jq -r .summary.errors <<<"$sum")"
sw_finish
