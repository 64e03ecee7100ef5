#!/usr/bin/env bash
# ramp: a healthy target under client load goes 10 -> 50 -> 100 % through
# `switchoverctl ramp start`, one verdict per step, ends "done" with the
# source at 0 and drained; the client load sees no failed request; the
# audit log has every step; /metrics says so and promtool accepts it.
set -euo pipefail
source "$TESTLIB"
source "$(dirname "$TESTLIB")/ramp_lib.sh"
sw_init

ramp_pair "" "" "steps = 10, 50, 100
step_interval = 1s
check_interval = 500ms
min_requests = 20
min_p99 = 5s"
ramp_load 20
sleep 1
check "GET /ramp before: idle" idle "$(ramp_get .state)"
out=$(timeout 40 "$SWITCHOVERCTL" -a "$A" -r "test ramp" ramp start 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
check "ramp start exits 0 when done" 0 "$rc"
check_match "ramp start printed each step's pass" \
    "step 1 \(target 10 %\): pass.*step 2 \(target 50 %\): pass.*step 3 \(target 100 %\): pass" \
    "$(echo "$out" | tr '\n' ' ')"
check_match "ramp start ends with done" "ramp done: step 3 of 3, target 100 %" "$out"
r=$(curl -s "$A/ramp")
check "state done" done "$(jq -r .state <<<"$r")"
check "weights: source 0" 0 "$(jq -r .weights.source <<<"$r")"
check "weights: target 100" 100 "$(jq -r .weights.target <<<"$r")"
check "three passes" 3 "$(jq '[.history[] | select(.verdict == "pass")] | length' <<<"$r")"
check "no fail" 0 "$(jq '[.history[] | select(.verdict == "fail")] | length' <<<"$r")"
check "checks listed by name" "connect_errors error_rate min_requests p99_ratio" \
    "$(jq -r '[.checks[].name] | sort | join(" ")' <<<"$r")"
check "the state file has no ramp left" null "$(jq -r .ramp "$TMP/state.json")"
check "the state file: target 100" 100 "$(jq -r .weights.target "$TMP/state.json")"
for pct in 10 50 100; do
	check "audit: step to $pct %" 1 \
	    "$(grep -c "\"who\":\"ramp\",\"reason\":\"ramp step [0-9]/3: target $pct %\"" "$TMP/audit.log")"
done
check "audit: three pass verdicts" 3 "$(grep -c ': pass: ' "$TMP/audit.log")"
check "audit: done" 1 "$(grep -c 'source serves no requests: ramp done' "$TMP/audit.log")"

# The source serves nothing once done: a new request goes to target.
check "a request after the ramp goes to target" target \
    "$(curl -s -D - -o /dev/null "$U/x/_search" | tr -d '\r' | sed -n 's/^[Xx]-[Bb]ackend: //p')"

curl -s "$A/metrics" >"$TMP/metrics.txt"
check "metrics: state done" 1 "$(sed -n 's/^switchover_ramp_state{state="done"} //p' "$TMP/metrics.txt")"
check "metrics: target percent" 100 "$(sed -n 's/^switchover_ramp_target_percent //p' "$TMP/metrics.txt")"
check "metrics: pass verdicts" 1 "$(awk '/^switchover_ramp_verdicts_total\{verdict="pass"\}/ { print ($2 >= 3) }' "$TMP/metrics.txt")"
check "stats: ramp state" done "$(curl -s "$A/stats" | jq -r .ramp.state)"
if out=$(promtool check metrics <"$TMP/metrics.txt" 2>&1); then
	ok "promtool check metrics accepts /metrics"
else
	fail "promtool: $out"
fi

wait_exit "$LG" 30 || true
sum=$(tail -n 1 "$TMP/lg.out")
echo "# $(jq -c '.summary | {sent, answered, errors, errors_by_kind, backends}' <<<"$sum")"
check "loadgen: no failed request through the ramp" 0 "$(jq -r .summary.errors <<<"$sum")"
check "loadgen: every request answered" "$(jq -r .summary.sent <<<"$sum")" \
    "$(jq -r .summary.answered <<<"$sum")"
sw_finish
