#!/usr/bin/env bash
# aws_pull: with sync = pull, a weight change made on the ALB with boto3
# is adopted by the proxy (its traffic follows) and not pushed back.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"

moto_fixtures
export AWS_ENDPOINT_URL="$MOTO" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

# The proxy talks to moto through the stub, which logs each call: polls
# are counted there (a DescribeListeners or DescribeRules each), not
# guessed from a sleep.
start_stub error500:0 "$MOTO"
polls() { grep -Ec 'Action=Describe(Listeners|Rules)' "$STUB_LOG" || true; }
# wait_polls N: up to 30 s for N polls in all.
wait_polls() {
	local i
	for i in $(seq 300); do [ "$(polls)" -ge "$1" ] && return 0; sleep 0.1; done
	echo "only $(polls) polls of the ALB rule after 30 s" >&2
	return 1
}

aws_backends
aws_conf 1 0 pull "pull_interval = 1s"
AWS_ENDPOINT_URL=$STUB start_proxy "$TMP/sw.conf"
check_match "starts on the source" '"name":"src"' "$(curl -s "http://127.0.0.1:$P/")"

fixture "$MOTO" set-weights "$LISTENER_ARN" 0 5
for i in $(seq 150); do grep -q "adopting the ALB's weights source 0 / target 5" "$TMP/switchover.log" && break; sleep 0.1; done
check_match "the ALB's change is adopted" "adopting the ALB's weights source 0 / target 5" "$(cat "$TMP/switchover.log")"
check_match "the proxy now serves the target" '"name":"tgt"' "$(curl -s "http://127.0.0.1:$P/")"
check_match "the runtime logged the weight move" "backend target: weight 0 -> 5" "$(cat "$TMP/switchover.log")"

# Later polls see the same weights: nothing adopted twice, nothing pushed.
n=$(polls)
if wait_polls $((n + 3)); then ok "three more polls ran ($n, then $(polls))"
else fail "three more polls ran: $n, then $(polls)"; fi
check "adopted once" 1 "$(grep -c "adopting the ALB's weights" "$TMP/switchover.log")"
check "pull never pushes" 0 "$(grep -c "ALB forward now" "$TMP/switchover.log" || true)"
check "the ALB keeps its own weights" "0 5 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"

# An ALB with every weight 0 would route nothing: refused, the proxy keeps serving.
fixture "$MOTO" set-weights "$LISTENER_ARN" 0 0
for i in $(seq 150); do grep -q "not adopted" "$TMP/switchover.log" && break; sleep 0.1; done
check_match "all-zero weights are not adopted" "source 0 / target 0: not adopted" "$(cat "$TMP/switchover.log")"
check_match "the proxy still serves" '"name":"tgt"' "$(curl -s "http://127.0.0.1:$P/")"
sw_finish
