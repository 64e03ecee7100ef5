#!/usr/bin/env bash
# aws_runbook: with [aws] sync = push against moto, one `switchoverctl
# switchover` runs the console runbook end to end: the preflight scales
# the target ECS service (read back with boto3), the proxy and the ALB
# go to source 0 / target 1 together (read back), the source's keep-alive
# clients are drained, and the watch ends once the source serves nothing.
# `switchoverctl fallback` then reverts proxy and ALB in one call.  A
# second preflight while one runs is refused with 409.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

moto_fixtures
export AWS_ENDPOINT_URL="$MOTO" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
aws_backends
aws_conf 1 0 push "preflight_timeout = 4s
[drain]
spread = 2s"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
U="http://127.0.0.1:$P"
ctl() { "$SWITCHOVERCTL" -a "$A" "$@"; }
st() { curl -s "$A/stats" | jq -r "$1"; }

check "ALB starts at source 1 / target 0" "1 0 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check "target proxy service starts with no tasks" "0 0" "$(fixture "$MOTO" service migration-dev target-proxy)"
check "/stats shows the AWS sync mode" push "$(st .aws.sync)"

# Clients: 10 idle keep-alive connections on source, and a steady trickle
# of new connections (bounded: 20 s at most).
hold_clients 10 90
check "10 keep-alive clients on source" "backend src 10" "$(grep '^backend' "$TMP/hold.out")"
check "/stats: 10 client connections bound to source" 10 "$(st .backends.source.client_connections)"
( for i in $(seq 200); do curl -s -o /dev/null "$U/"; sleep 0.1; done ) &
PIDS+=($!)

set +e
ctl -r "runbook" switchover >"$TMP/runbook.out" 2>"$TMP/runbook.err"
rc=$?
set -e
cat "$TMP/runbook.out" "$TMP/runbook.err" | sed 's/^/# /'
out=$(cat "$TMP/runbook.out")
check "switchover runbook exits 0" 0 "$rc"
check_match "preflight reported the capture proxy" "preflight: capture proxy capture-proxy: desired 3" "$out"
check_match "preflight scaled the target proxy" "preflight: scaling target proxy target-proxy from 0 to 3 tasks" "$out"
check_match "preflight passed before anything moved" \
    "preflight passed: target group ALBTargetProxy-dev-TG: 3/3 targets healthy.*"$'\n'"source=0 target=1"$'\n'"alb: accepted" "$out"
check_match "the source was drained" $'\n''drain source: [0-9]+ client connections, closed over 2000 ms' "$out"
check_match "then watched until it served nothing" $'\n'"watch: source [0-9.]+ req/s.*"$'\n'"source serves no requests: switchover done$" "$out"
check "ECS: the target proxy service was scaled (boto3)" "3 3" "$(fixture "$MOTO" service migration-dev target-proxy)"
check "ALB: source 0 / target 1, stickiness kept (boto3)" "0 1 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check "proxy: source 0 / target 1" "source=0 target=1" "$(ctl weights)"
wait_exit "$HOLD" 30 || true
check "every keep-alive client on source was closed" 10 "$(grep -c '^closed' "$TMP/hold.out")"
check "/stats: 0 client connections bound to source" 0 "$(st .backends.source.client_connections)"
n=$(backend_requests "$S")
for i in 1 2 3 4 5; do curl -s -o /dev/null "$U/"; done
check "the source serves no more requests" "$n" "$(backend_requests "$S")"
check "/stats: the last push succeeded" "idle 0 1" "$(st '"\(.aws.push.state) \(.aws.push.last_ok.weights.source) \(.aws.push.last_ok.weights.target)"')"

# Fallback: proxy and ALB at once, no preflight.
set +e
ctl fallback >"$TMP/fallback.out" 2>&1
rc=$?
set -e
check "fallback exits 0" 0 "$rc"
check "fallback reports proxy and ALB" "source=1 target=0"$'\n'"alb: accepted" "$(cat "$TMP/fallback.out")"
check "ALB: back to source 1 / target 0 (boto3)" "1 0 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check "proxy: back to source" "source=1 target=0" "$(ctl weights)"
check_match "the next request goes to source" '"name":"src"' "$(curl -s "$U/")"
check "the raw answer carries the ALB's word" '{"source":1,"target":0,"alb":{"accepted":true}}' \
    "$(curl -s -X POST "$A/fallback" | jq -c .)"

# A preflight that waits (no healthy target) holds the one slot: a second
# is refused; the first ends with the timeout, and ctl exits 5.
fixture "$MOTO" deregister ALBTargetProxy-dev-TG
curl -sN -X POST "$A/preflight" >"$TMP/pf1.ndjson" &
pf1=$!
PIDS+=($pf1)
wait_line "$TMP/pf1.ndjson" '"step"' 20 || true
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$A/preflight")
check "a second preflight while one runs: 409" 409 "$code"
check_match "  says why" "a preflight is running already" "$(jq -r .error.reason "$TMP/body")"
check "other admin calls answer meanwhile" "source=1 target=0" "$(ctl weights)"
wait_exit "$pf1" 30 || true
check "the stream is one JSON object per line" "$(cat "$TMP/pf1.ndjson")" \
    "$(jq -c 'select(type == "object")' "$TMP/pf1.ndjson")"
# The 409 above came after a step line had arrived: the steps stream as
# they happen, not all at the end.
steps=$(grep -c '"step"' "$TMP/pf1.ndjson")
if [ "$steps" -ge 4 ]; then ok "  with each step on its own line ($steps)"
else fail "  only $steps step lines"; fi
check "it ends with the result" '{"done":true,"ok":false,"code":"PreflightTimeout"}' \
    "$(tail -n 1 "$TMP/pf1.ndjson" | jq -c '{done, ok, code}')"

# A client that leaves mid-stream: the preflight runs its course, the
# lines for nobody go nowhere, the slot frees up.
n=$(grep -c 'preflight failed' "$TMP/switchover.log")
set +e
curl -s -m 1 -X POST "$A/preflight" >/dev/null
rc=$?
set -e
check "a client that gives up mid-preflight" 28 "$rc"
for i in $(seq 200); do
	[ "$(grep -c 'preflight failed' "$TMP/switchover.log")" -gt "$n" ] && break
	sleep 0.1
done
check "its preflight still ran to its end" $((n + 1)) "$(grep -c 'preflight failed' "$TMP/switchover.log")"
check "the admin API still answers" ok "$(curl -s "$A/healthz" | jq -r .status)"

set +e
ctl switchover >"$TMP/runbook2.out" 2>"$TMP/runbook2.err"
rc=$?
set -e
check "runbook with a failing preflight: exit 5" 5 "$rc"
check_match "  says why" "preflight failed: PreflightTimeout" "$(cat "$TMP/runbook2.err")"
check "  and nothing moved" "source=1 target=0" "$(ctl weights)"
check "  on the ALB either" "1 0 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
sw_finish
