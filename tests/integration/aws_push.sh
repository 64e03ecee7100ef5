#!/usr/bin/env bash
# aws_push: with sync = push, a weight change by SIGHUP reaches the ALB's
# weighted default action (read back with boto3) and its stickiness
# settings survive; the driver's push reports the ALB's acceptance.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"

moto_fixtures
export AWS_ENDPOINT_URL="$MOTO" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
check "fixture starts at source 1 / target 0, sticky 3600 s" "1 0 true 3600" \
    "$(fixture "$MOTO" weights "$LISTENER_ARN")"

aws_backends
aws_conf 1 0 push
check "[aws] config passes -t" "configuration OK" "$("$SWITCHOVER" -t -c "$TMP/sw.conf")"
# The ALB and the proxy disagree at start: a warning, nothing changed.
fixture "$MOTO" set-weights "$LISTENER_ARN" 4 6
start_proxy "$TMP/sw.conf"
for i in $(seq 100); do grep -q "the ALB forwards" "$TMP/switchover.log" && break; sleep 0.1; done
check_match "start-up warns about the disagreement" "the ALB forwards source 4 / target 6 but the proxy serves 1 / 0" "$(cat "$TMP/switchover.log")"
check "and changes nothing" "4 6 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"

# Move everything to the target by reload; the ALB follows.
aws_conf 0 1 push
kill -HUP "$SW_PID"
for i in $(seq 100); do grep -q "ALB forward now source 0 / target 1" "$TMP/switchover.log" && break; sleep 0.1; done
check "SIGHUP weights pushed to the ALB, stickiness kept" "0 1 true 3600" \
    "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check_match "the proxy itself serves the target" '"name":"tgt"' "$(curl -s "http://127.0.0.1:$P/")"

# A reload that changes no weight pushes nothing; one that changes [aws]
# restarts the AWS module with it (and still pushes nothing).
sed -i 's/^request_timeout = 5s/request_timeout = 6s/' "$TMP/sw.conf"
kill -HUP "$SW_PID"
for i in $(seq 50); do [ "$(grep -c 'reload done' "$TMP/switchover.log")" -ge 2 ] && break; sleep 0.1; done
check "no push without a weight change" 1 "$(grep -c 'ALB forward now' "$TMP/switchover.log")"
check "an [aws] change restarts the module once" 1 "$(grep -c 'aws: reload: \[aws\] changed, the module restarts' "$TMP/switchover.log")"

# The driver (what the admin API will call) hears the ALB accept.
driver "$TMP/sw.conf" push 25 75
check "driver push exits 0" 0 "$RC"
check_match "driver push reports acceptance" "ok: the ALB accepted" "$OUT"
check_match "status shows the last good push" '"last_ok":\{"at":"[^"]+","weights":\{"source":25,"target":75\}' "$OUT"
check "ALB has the driver's weights" "25 75 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"

# Weights outside AWS's range never leave the process.
driver "$TMP/sw.conf" push 1000 0
check "weight 1000 refused before sending" 1 "$RC"
check_match "with a clear message" "InvalidParameterValue: weight 1000 is outside 0-999" "$OUT"
check "ALB unchanged" "25 75 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
# With rule_arn, the rule is changed (ModifyRule) and the default action is not.
sed -i "/^listener_arn/a rule_arn = $RULE_ARN" "$TMP/sw.conf"
driver "$TMP/sw.conf" push 1 9
check "push to a rule exits 0" 0 "$RC"
check "the rule got the weights, stickiness still off" "1 9 false 0" "$(fixture "$MOTO" rule-weights "$RULE_ARN")"
check "the default action is untouched" "25 75 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check_no_match "no secret in the logs" "testing" "$(grep -v 'ENDPOINT\|endpoint' "$TMP/switchover.log" "$TMP/driver.log" | grep -i secret || true)"
sw_finish
