#!/usr/bin/env bash
# ramp_rollback: a target that starts answering 503 (then, separately,
# 429 with OpenSearch's rejected_execution_exception body) at the second
# step is rolled back by the ramp itself within check_interval x
# failure_limit + 1 s of its first bad answer: all weight on source, the
# reason naming the check with both values and the limit, switchoverctl
# exiting 6.  The client load sees no failure other than the target's own
# answers.
set -euo pipefail
source "$TESTLIB"
source "$(dirname "$TESTLIB")/ramp_lib.sh"
sw_init

# ISO time (2026-12-01T01:02:03.456Z) or "now" to seconds since the epoch.
epoch() { date -u -d "$1" +%s.%N; }

for status in 503 429; do
	rm -f "$TMP/bad" "$TMP/audit.log" "$TMP/state.json"
	ramp_pair "" "-F $TMP/bad -E $status" "steps = 10, 50, 100
step_interval = 2s
check_interval = 500ms
failure_limit = 2
min_requests = 20
min_p99 = 5s"
	ramp_load 15
	sleep 0.5
	timeout 40 "$SWITCHOVERCTL" -a "$A" ramp start >"$TMP/ctl.out" 2>&1 &
	ctl=$!
	PIDS+=($ctl)
	# At the second step, the target goes bad.
	for i in $(seq 100); do
		[ "$(ramp_get .step)" = 2 ] && break
		sleep 0.1
	done
	check "$status: ramp at step 2" 2 "$(ramp_get .step)"
	touch "$TMP/bad"
	t0=$(epoch now)
	wait_exit "$ctl" 30 || true
	sed 's/^/# /' "$TMP/ctl.out"
	check "$status: switchoverctl ramp start exits 6 (rolled back)" 6 "$WAIT_RC"
	r=$(curl -s "$A/ramp")
	check "$status: state rolled_back" rolled_back "$(jq -r .state <<<"$r")"
	check "$status: weights all to source" "100 0" \
	    "$(jq -r '"\(.weights.source) \(.weights.target)"' <<<"$r")"
	check_match "$status: reason names the check, both values, the limit" \
	    '^error_rate: target [0-9.]+ % vs source 0\.0 % \(limit \+1\.0\)$' \
	    "$(jq -r .reason <<<"$r")"
	check "$status: the error_rate check failed" false \
	    "$(jq -r '.checks[] | select(.name == "error_rate") | .ok' <<<"$r")"
	check "$status: two fail verdicts" 2 \
	    "$(jq '[.history[] | select(.verdict == "fail")] | length' <<<"$r")"
	# Time from the first bad answer to all weight on source: the audit
	# log's record of the rollback, to the millisecond.
	t1=$(epoch "$(grep '"who":"ramp"' "$TMP/audit.log" | grep '"target":0}}$' |
	    tail -n 1 | jq -r .time)")
	took=$(echo "$t1 - $t0" | bc)
	echo "# $status: rolled back $took s after the target went bad"
	check "$status: rolled back within 0.5 s x 2 + 1 s" 1 "$(echo "$took <= 2.0" | bc)"
	check "$status: state file: source 100, no ramp" "100 null" \
	    "$(jq -r '"\(.weights.source) \(.ramp)"' "$TMP/state.json")"
	check "$status: audit has the rollback" 1 "$(grep -c 'ramp rolled back' "$TMP/audit.log")"
	check_match "$status: switchoverctl printed the fail verdicts" \
	    "step 2 \(target 50 %\): fail: error_rate" "$(cat "$TMP/ctl.out")"
	wait_exit "$LG" 30 || true
	sum=$(tail -n 1 "$TMP/lg.out")
	echo "# $status: $(jq -c '.summary | {sent, answered, errors, errors_by_kind, backends}' <<<"$sum")"
	check "$status: loadgen: no failure but the target's own answers" "0 0 0 0 0" \
	    "$(jq -r '.summary.errors_by_kind | "\(.connect) \(.reset) \(.closed) \(.timeout) \(.parse)"' <<<"$sum")"
	check "$status: loadgen: every request answered" "$(jq -r .summary.sent <<<"$sum")" \
	    "$(jq -r .summary.answered <<<"$sum")"
	check "$status: the proxy counted the target's $status answers" 1 \
	    "$(curl -s "$A/stats" | jq --arg s "$status" \
	    'if $s == "429" then .backends.target.responses_429 else .backends.target.responses["5xx"] end | . > 0 | if . then 1 else 0 end')"
	kill "$SW_PID"
	wait_exit "$SW_PID" 20 || true
	unset ADMIN_PORT
done
sw_finish
