#!/usr/bin/env bash
# aws_nonblocking: while the ALB endpoint hangs, the proxy keeps serving,
# the control thread keeps reloading, and once AWS answers again the
# newest weights win: nothing waits on AWS and no change is dropped.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"

moto_fixtures
start_stub hang:3 "$MOTO"
export AWS_ENDPOINT_URL="$STUB" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

aws_backends
aws_conf 1 0 push "request_timeout = 2s"
start_proxy "$TMP/sw.conf"

# The start-up look at the rule hangs first; then the first change's push.
for i in $(seq 100); do [ -s "$STUB_LOG" ] && break; sleep 0.1; done
aws_conf 0 1 push "request_timeout = 2s"
kill -HUP "$SW_PID"
for i in $(seq 50); do [ "$(grep -c '^POST' "$STUB_LOG")" -ge 2 ] && break; sleep 0.1; done
check "start-up read and push both reached the hanging endpoint" 1 \
    "$([ "$(grep -c '^POST' "$STUB_LOG")" -ge 2 ] && echo 1 || echo 0)"

# Meanwhile: requests are served and a second reload is applied.
check_match "the proxy serves during the hang" '"name":"tgt"' "$(curl -s --max-time 20 "http://127.0.0.1:$P/")"
aws_conf 2 3 push "request_timeout = 2s"
kill -HUP "$SW_PID"
for i in $(seq 100); do [ "$(grep -c 'reload done' "$TMP/switchover.log")" -ge 2 ] && break; sleep 0.1; done
check "the second reload is done" 2 "$(grep -c 'reload done' "$TMP/switchover.log")"
first_timeout=$(grep -n 'TransportError' "$TMP/switchover.log" | head -n 1 | cut -d: -f1 || true)
second_reload=$(grep -n 'reload done' "$TMP/switchover.log" | sed -n 2p | cut -d: -f1)
check "it was done before the hung call even timed out" 1 \
    "$([ -z "$first_timeout" ] || [ "$second_reload" -lt "$first_timeout" ] && echo 1 || echo 0)"

# Once AWS answers, the newest weights land, and stay.
for i in $(seq 300); do grep -q "ALB forward now source 2 / target 3" "$TMP/switchover.log" && break; sleep 0.1; done
check "the newest weights reach the ALB" "2 3 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check_match "the last push logged is the newest" "ALB forward now source 2 / target 3" \
    "$(grep 'ALB forward now' "$TMP/switchover.log" | tail -n 1)"
check_match "the hung calls were retried, not dropped" "TransportError: .*timed out.*retry" "$(cat "$TMP/switchover.log")"
sw_finish
