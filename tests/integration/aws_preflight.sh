#!/usr/bin/env bash
# aws_preflight: preflight reads both ECS services, scales the target
# proxy to the capture proxy's desired count, waits for its tasks and a
# healthy target group, and reports each step; it warns when the capture
# proxy runs fewer than 2 tasks.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"

moto_fixtures
export AWS_ENDPOINT_URL="$MOTO" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
proxy_conf "$TMP/sw.conf" 1 127.0.0.1:1 1 127.0.0.1:2 0 "$(aws_section off)"

check "target proxy starts with no tasks" "0 0" "$(fixture "$MOTO" service migration-dev target-proxy)"
driver "$TMP/sw.conf" preflight
check "preflight passes" 0 "$RC"
check_match "reports the capture proxy" "step: capture proxy capture-proxy: desired 3" "$OUT"
check_match "reports the scaling" "step: scaling target proxy target-proxy from 0 to 3 tasks" "$OUT"
check_match "reports the running tasks" "step: target proxy target-proxy: 3 tasks running" "$OUT"
check_match "reports target health" "ok: target group ALBTargetProxy-dev-TG: 3/3 targets healthy, none draining" "$OUT"
check_no_match "no warning with 3 capture tasks" "warn:" "$OUT"
check "ECS has the target scaled" "3 3" "$(fixture "$MOTO" service migration-dev target-proxy)"
check_match "status remembers it" '"preflight":\{"running":false,"last":\{"ok":true' "$OUT"

# One capture task: a warning; the target already has enough, not scaled down.
fixture "$MOTO" scale migration-dev capture-proxy 1
driver "$TMP/sw.conf" preflight
check "second preflight passes" 0 "$RC"
check_match "warns about a single capture task" "warn: the capture proxy capture-proxy runs fewer than 2 tasks" "$OUT"
check_match "does not scale down" "already wants 3 tasks" "$OUT"
check "target keeps 3" "3 3" "$(fixture "$MOTO" service migration-dev target-proxy)"

# One target of three registered, all healthy: not enough for 3 tasks.
fixture "$MOTO" register ALBTargetProxy-dev-TG 1
echo "preflight_timeout = 3s" >>"$TMP/sw.conf"
driver "$TMP/sw.conf" preflight
check "1 healthy target of 3 wanted: preflight fails" 1 "$RC"
check_match "it says how many it needs" "gave up after 3 s: target group ALBTargetProxy-dev-TG: 1/1 targets healthy, 0 draining, 3 healthy needed" "$OUT"

# No healthy target: preflight waits, bounded, and says what it waited for.
fixture "$MOTO" deregister ALBTargetProxy-dev-TG
driver "$TMP/sw.conf" preflight
check "preflight without healthy targets fails" 1 "$RC"
check_match "after waiting" "step: waiting: target group ALBTargetProxy-dev-TG: 0/0 targets healthy" "$OUT"
check_match "with a timeout naming the cause" "error: PreflightTimeout: gave up after 3 s: target group ALBTargetProxy-dev-TG: 0/0 targets healthy" "$OUT"

# A service ECS does not know: AWS's failure, verbatim, no scaling.
sed -i 's/^target_service = .*/target_service = no-such-service/' "$TMP/sw.conf"
driver "$TMP/sw.conf" preflight
check "unknown service fails" 1 "$RC"
check_match "with ECS's reason" "error: InvalidResponse: service .*no-such-service.*: MISSING" "$OUT"
sw_finish
