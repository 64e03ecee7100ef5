#!/usr/bin/env bash
# aws_alb_refused: the proxy is the source of truth.  With an ALB that
# fails (a stub answering 500 in front of moto), PUT /weights moves the
# proxy at once and answers accepted:false with AWS's code and message
# verbatim and retrying:true; /stats and /metrics show the retry;
# switchoverctl exits 4.  With an ALB that hangs, other admin calls
# answer while a push waits, a client that gives up meanwhile harms
# nothing, and a SIGTERM with a push still parked stops cleanly.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

moto_fixtures
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
aws_backends
aws_conf 1 0 push
start_stub error500:100000 "$MOTO"
AWS_ENDPOINT_URL=$STUB start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
U="http://127.0.0.1:$P"
ctl() { "$SWITCHOVERCTL" -a "$A" "$@"; }
st() { curl -s "$A/stats" | jq -r "$1"; }

code=$(curl -s -o "$TMP/put.json" -w '%{http_code}' -X PUT -d '{"source":0,"target":1}' "$A/weights")
check "PUT /weights with a failing ALB: 200 (the proxy changed)" 200 "$code"
check "  the new weights" "0 1" "$(jq -r '"\(.source) \(.target)"' "$TMP/put.json")"
check "  the ALB's refusal, verbatim, and the retry" \
    '{"accepted":false,"code":"InternalFailure","message":"stub says boom","retrying":true}' \
    "$(jq -c .alb "$TMP/put.json")"
check "GET /weights: the proxy moved" '{"source":0,"target":1}' "$(curl -s "$A/weights" | jq -c .)"
check_match "traffic goes to target" '"name":"tgt"' "$(curl -s "$U/")"
check "the ALB did not move (boto3)" "1 0 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check "/stats: the failure is counted" true "$(st '.aws.push.failures >= 1')"
check "/stats: with AWS's code" InternalFailure "$(st .aws.push.last_error.code)"
check "/stats: wanting the new weights" "0 1" "$(st '"\(.aws.push.weights.source) \(.aws.push.weights.target)"')"
curl -s "$A/metrics" >"$TMP/metrics.txt"
check_match "/metrics: failures in a row" '^[1-9][0-9]*$' "$(sed -n 's/^switchover_aws_push_failures //p' "$TMP/metrics.txt")"
# Between tries the push waits out its backoff: the gauge says so.
for i in $(seq 100); do
	r=$(curl -s "$A/metrics" | sed -n 's/^switchover_aws_push_retry_pending //p')
	[ "$r" = 1 ] && break
	sleep 0.1
done
check "/metrics: a retry is pending" 1 "$r"
check_match "/stats: so does the push state" 'retry_wait|pushing' "$(st .aws.push.state)"
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <"$TMP/metrics.txt" 2>&1); then
		ok "promtool check metrics accepts /metrics with AWS"
	else
		fail "promtool check metrics: $out"
	fi
fi

set +e
ctl set source=1 target=0 >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
check "switchoverctl set with a failing ALB: exit 4" 4 "$rc"
check "  prints the weights and the ALB's word" \
    "source=1 target=0"$'\n'"alb: not accepted: InternalFailure: stub says boom" "$(cat "$TMP/out")"
check_match "  and says the proxy keeps retrying" "the proxy moved, the ALB did not: InternalFailure: stub says boom; the proxy keeps retrying" "$(cat "$TMP/err")"
check "the proxy moved back" "source=1 target=0" "$(ctl weights)"
kill "$SW_PID"; wait_exit "$SW_PID" 30 || true
check "the proxy stops cleanly" 0 "$WAIT_RC"

# An ALB that hangs (each call 10 s; our timeout 1 s, 4 attempts).
start_stub hang:100000 "$MOTO"
sed -i 's/^request_timeout = .*/request_timeout = 1s/' "$TMP/sw.conf"
: >"$TMP/switchover.log"
AWS_ENDPOINT_URL=$STUB start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
curl -s -o "$TMP/slow.json" -X PUT -d '{"source":0,"target":1}' "$A/weights" &
slow=$!
PIDS+=($slow)
wait_line "$TMP/switchover.log" "weights set by" 10 || true
check "GET /weights answers while the push waits" '{"source":0,"target":1}' "$(curl -s -m 5 "$A/weights" | jq -c .)"
check "GET /stats too, showing the push" pushing "$(st .aws.push.state)"
if kill -0 "$slow" 2>/dev/null; then ok "the PUT was still waiting for the ALB meanwhile"
else fail "the PUT did not wait for the ALB"; fi
wait_exit "$slow" 60 || true
check "the PUT ends with the ALB's transport error" 'false TransportError true' \
    "$(jq -r '"\(.alb.accepted) \(.alb.code) \(.alb.retrying)"' "$TMP/slow.json")"

# A client that gives up before the ALB answers.
set +e
curl -s -m 1 -X PUT -d '{"source":1,"target":0}' "$A/weights" >/dev/null
rc=$?
set -e
check "the impatient client gave up" 28 "$rc"
check "the change was made anyway" '{"source":1,"target":0}' "$(curl -s "$A/weights" | jq -c .)"
for i in $(seq 150); do
	[ "$(grep -c 'pushing weights source 1 / target 0 to the ALB failed' "$TMP/switchover.log")" -ge 1 ] && break
	sleep 0.1
done
check_match "its push ended after it left" "pushing weights source 1 / target 0 to the ALB failed" "$(cat "$TMP/switchover.log")"
check "the admin API still answers" ok "$(curl -s "$A/healthz" | jq -r .status)"

# SIGTERM while an answer is parked: freed by evhttp, never touched after.
curl -s -X PUT -d '{"source":0,"target":1}' "$A/weights" >/dev/null &
PIDS+=($!)
for i in $(seq 50); do
	[ "$(grep -c 'weights set by' "$TMP/switchover.log")" -ge 3 ] && break
	sleep 0.1
done
kill "$SW_PID"; wait_exit "$SW_PID" 30 || true
check "SIGTERM with a push parked: clean exit" 0 "$WAIT_RC"
sw_finish
