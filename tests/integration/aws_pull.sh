#!/usr/bin/env bash
# aws_pull: with sync = pull, a weight change made on the ALB with boto3
# is adopted by the proxy (its traffic follows) and not pushed back; the
# adopted weights go through the one door for weights: saved to the state
# file and audited, so a restart keeps them.
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
STATE="
[state]
file = $TMP/state.json
audit_log = $TMP/audit.log"
aws_conf 1 0 pull "pull_interval = 1s$STATE"
AWS_ENDPOINT_URL=$STUB start_proxy "$TMP/sw.conf"
check_match "starts on the source" '"name":"src"' "$(curl -s "http://127.0.0.1:$P/")"

fixture "$MOTO" set-weights "$LISTENER_ARN" 0 5
for i in $(seq 150); do grep -q "adopting the ALB's weights source 0 / target 5" "$TMP/switchover.log" && break; sleep 0.1; done
check_match "the ALB's change is adopted" "adopting the ALB's weights source 0 / target 5" "$(cat "$TMP/switchover.log")"
check_match "the proxy now serves the target" '"name":"tgt"' "$(curl -s "http://127.0.0.1:$P/")"
check_match "the runtime logged the weight move" "backend target: weight 0 -> 5" "$(cat "$TMP/switchover.log")"
check_match "the state file holds the adopted weights" '"weights": *\{"source": *0, *"target": *5\}' "$(cat "$TMP/state.json" 2>/dev/null)"
check_match "the audit log names the ALB pull" '"who":"aws-pull","reason":"adopted from the ALB rule","old":\{"source":1,"target":0\},"new":\{"source":0,"target":5\}' "$(cat "$TMP/audit.log" 2>/dev/null)"

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
check "one change audited" 1 "$(wc -l <"$TMP/audit.log")"

# A restart without AWS (sync = off) serves what was adopted, from the state file.
kill -TERM "$SW_PID"
wait_exit "$SW_PID" 20 || true
aws_conf 1 0 off "$STATE"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
check "after a restart the adopted weights serve" '{"source":0,"target":5}' \
    "$(curl -s "http://127.0.0.1:$ADMIN_PORT/weights" | tr -d ' \n')"
check_match "  and traffic goes to the target" '"name":"tgt"' "$(curl -s "http://127.0.0.1:$P/")"
sw_finish
