#!/usr/bin/env bash
# aws_faults: a loopback stub in front of moto misbehaves: garbage, 500s,
# throttling, a dead endpoint.  Retryable errors are retried until moto
# answers; the rest are reported with AWS's code and message verbatim,
# and a push that keeps failing stays visible as a pending retry.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"

moto_fixtures
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
proxy_conf "$TMP/sw.conf" 1 127.0.0.1:1 1 127.0.0.1:2 0 "$(aws_section push)"

# Garbage with a 200: not half-read, reported as such, retried later.
start_stub garbage
AWS_ENDPOINT_URL=$STUB driver "$TMP/sw.conf" push 2 8
check "garbage answer fails the push" 1 "$RC"
check_match "as an unreadable answer" "error: InvalidResponse: answer is not XML" "$OUT"
check_match "and a retry is pending" '"state":"retry_wait".*"failures":1' "$OUT"
check "moto untouched" "1 0 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"

# Two 500s, then moto: retried inside one push.
start_stub error500:2 "$MOTO"
AWS_ENDPOINT_URL=$STUB driver "$TMP/sw.conf" push 2 8
check "push succeeds after two 500s" 0 "$RC"
check "the ALB got it" "2 8 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check_match "the 500s were logged with AWS's code and message" "InternalFailure: stub says boom; retry 1" "$(cat "$TMP/driver.log")"

# 500s that never stop: AWS's own words reach the caller.
start_stub error500:1000 "$MOTO"
AWS_ENDPOINT_URL=$STUB driver "$TMP/sw.conf" push 3 7
check "endless 500s fail the push" 1 "$RC"
check_match "verbatim" "error: InternalFailure: stub says boom" "$OUT"
check "bounded attempts per push" 4 "$(grep -c '^POST' "$STUB_LOG")"
check_match "status keeps the error and the pending retry" '"state":"retry_wait".*"last_error":\{"at":"[^"]+","weights":\{[^}]*\},"code":"InternalFailure","message":"stub says boom"' "$OUT"

# Throttling on ELBv2 (XML) and ECS (JSON), then moto.
start_stub throttle:2 "$MOTO"
AWS_ENDPOINT_URL=$STUB driver "$TMP/sw.conf" push 4 6
check "push succeeds after Throttling" 0 "$RC"
check "the ALB got it" "4 6 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
start_stub throttle:2 "$MOTO"
AWS_ENDPOINT_URL=$STUB driver "$TMP/sw.conf" preflight
check "preflight succeeds after ThrottlingException" 0 "$RC"
check_match "ECS throttling was retried" "ThrottlingException: Rate exceeded; retry" "$(cat "$TMP/driver.log")"

# Nothing listening: a transport error naming the endpoint.
dead=$(free_port)
AWS_ENDPOINT_URL=http://127.0.0.1:$dead driver "$TMP/sw.conf" push 5 5
check "dead endpoint fails" 1 "$RC"
check_match "as a transport error naming it" "error: TransportError: http://127.0.0.1:$dead: " "$OUT"
sw_finish
