#!/usr/bin/env bash
# ramp_aws: with [aws] sync = push and ECS configured, a ramp runs the
# preflight, then every step's weights appear in the ALB listener's rule
# (read with boto3 while the ramp runs), and each step's clock starts only
# once the proxy has read the rule back with them.  An ALB that never
# shows a step's weights fails the ramp within step_interval.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"
source "$(dirname "$TESTLIB")/ramp_lib.sh"

RAMP="[ramp]
steps = 10, 50, 100
step_interval = 2s
check_interval = 250ms
min_requests = 10
min_p99 = 5s
[drain]
spread = 1s"

moto_fixtures
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
aws_backends
aws_conf 1 0 push "$RAMP"
A="http://127.0.0.1:$ADMIN_PORT"
AWS_ENDPOINT_URL=$MOTO start_proxy "$TMP/sw.conf"
for i in $(seq 100); do grep -q "the ALB forwards\|start-up look\|aws:" "$TMP/switchover.log" && break; sleep 0.1; done

# What the ALB forwards, as boto3 sees it, every few tenths of a second.
fixture "$MOTO" watch "$LISTENER_ARN" 60 >"$TMP/alb-seen" 2>"$TMP/watch.log" &
PIDS+=($!)
wait_line "$TMP/alb-seen" "^1 0$" 30
ramp_load 25
out=$(timeout 60 "$SWITCHOVERCTL" -a "$A" ramp start 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
check "ramp start with the ALB: done" 0 "$rc"
check_match "the preflight ran first" "ramp: preflight passed: target group ALBTargetProxy-dev-TG: 3/3 targets healthy" \
    "$(cat "$TMP/switchover.log")"
for w in "90 10" "50 50" "0 100"; do
	check "the ALB's rule showed $w during the ramp" 1 "$(grep -cx "$w" "$TMP/alb-seen" | awk '{ print ($1 > 0) }')"
	s=${w% *}; t=${w#* }
	push=$(grep -n "ALB forward now source $s / target $t" "$TMP/switchover.log" | head -n 1 | cut -d: -f1) || true
	seen=$(grep -n "the ALB shows source $s / target $t: step [0-9]'s clock starts" "$TMP/switchover.log" | head -n 1 | cut -d: -f1) || true
	check "step $w: its clock started after the ALB read back" 1 \
	    "$([ -n "$push" ] && [ -n "$seen" ] && [ "$seen" -gt "$push" ] && echo 1 || echo 0)"
done
check "the ALB ends at source 0 / target 100" "0 100 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check "ECS: the target proxy was scaled by the preflight" "3 3" "$(fixture "$MOTO" service migration-dev target-proxy)"
kill "$SW_PID"
wait_exit "$SW_PID" 20 || true
wait_exit "$LG" 30 || true

# An ALB that never shows the weights (every call fails): the first step
# fails within step_interval and the ramp rolls back.
unset ADMIN_PORT
aws_backends
aws_conf 1 0 push "$RAMP"
sed -i '/^ecs_cluster\|^source_service\|^target_service/d' "$TMP/sw.conf"
A="http://127.0.0.1:$ADMIN_PORT"
start_stub error500:100000 "$MOTO"
AWS_ENDPOINT_URL=$STUB start_proxy "$TMP/sw.conf"
out=$(timeout 30 "$SWITCHOVERCTL" -a "$A" ramp start 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
check "ALB refuses: ramp start exits 6" 6 "$rc"
r=$(curl -s "$A/ramp")
check "rolled back" rolled_back "$(jq -r .state <<<"$r")"
check_match "the reason names the ALB" "^alb: the rule did not show source 90 / target 10 within step_interval \(2000 ms\)" \
    "$(jq -r .reason <<<"$r")"
check "never a pass" 0 "$(jq '[.history[] | select(.verdict == "pass")] | length' <<<"$r")"
check "the proxy is back on source" "100 0" "$(jq -r '"\(.weights.source) \(.weights.target)"' <<<"$r")"
sw_finish
