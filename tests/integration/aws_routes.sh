#!/usr/bin/env bash
# aws_routes: with sync = push the ALB mirrors the default route only
# (#13): a change of a named route is not pushed and its answer has no
# "alb" field; a change of the default route, and a fallback of every
# route, are pushed and answered with the ALB's word.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"

moto_fixtures
export AWS_ENDPOINT_URL="$MOTO" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
aws_backends
aws_conf 1 0 push "
[route reads]
operation = read
weights = source=1"
start_proxy "$TMP/sw.conf"; wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
alb() { fixture "$MOTO" weights "$LISTENER_ARN"; }
check "the ALB starts at source 1 / target 0" "1 0 true 3600" "$(alb)"

out=$(curl -s -m 30 -X PUT -d '{"source":0,"target":1}' "$A/weights?route=reads" | tr -d ' \n')
check "PUT ?route=reads answers without \"alb\"" \
    '{"source":1,"target":0,"routes":{"reads":{"source":0,"target":1}}}' "$out"
out=$(curl -s -m 30 -X POST "$A/switchover?route=reads" | tr -d ' \n')
check_no_match "POST /switchover?route=reads: no \"alb\" either" '"alb"' "$out"
# The ALB is not told: read it back after a push would have landed.
out=$(curl -s -m 30 -X PUT -d '{"source":3,"target":1}' "$A/weights" | tr -d ' \n')
check_match "PUT of the default route answers with the ALB's word" '"alb":\{"accepted":true\}' "$out"
check "the ALB has the default route's weights, never the route's" "3 1 true 3600" "$(alb)"
check "one push only (the default route's)" 1 "$(grep -c 'ALB forward now' "$TMP/switchover.log" || true)"
out=$(curl -s -m 30 -X POST "$A/fallback" | tr -d ' \n')
check_match "fallback moves every route and the ALB" \
    '"source":1,"target":0,"routes":\{"reads":\{"source":1,"target":0\}\},"alb":\{"accepted":true\}' "$out"
check "the ALB is back on source" "1 0 true 3600" "$(alb)"
sw_finish
