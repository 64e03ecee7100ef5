#!/usr/bin/env bash
# cutover: closed-loop keep-alive load (bench/loadgen) through a switchover
# and a fallback made with the admin API, both draining the backend left
# behind: no request a client sent may fail, and each side stops serving
# once left.  Draining busy connections must end them after a response
# that says Connection: close, never by closing under a request in flight.
set -euo pipefail
source "$TESTLIB"
sw_init

for policy in request connection; do
	ADMIN_PORT=$(free_port)
	start_pair 1 0 "$(printf '[routing]\npolicy = %s\n[drain]\nspread = 1s\n' "$policy")"
	A="http://127.0.0.1:$ADMIN_PORT"
	"$LOADGEN" -p "$P" -c 16 -d 6 -t 10000 -F source,target -j >"$TMP/lg-$policy.out" 2>&1 &
	lg=$!
	PIDS+=($lg)
	sleep 1.5
	kill -USR1 "$lg"
	check "$policy: switchover accepted" 200 \
	    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/switchover")"
	sleep 2
	kill -USR1 "$lg"
	check "$policy: fallback accepted" 200 \
	    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/fallback")"
	wait_exit "$lg" 30 || true
	check "$policy: loadgen finished" 0 "$WAIT_RC"
	sum=$(tail -n 1 "$TMP/lg-$policy.out")
	echo "# $policy: $(jq -c '.summary | {sent, answered, errors, errors_by_kind, reconnects, backends}' <<<"$sum")"
	check "$policy: no failed request" 0 "$(jq -r .summary.errors <<<"$sum")"
	check "$policy: every request sent was answered" \
	    "$(jq -r .summary.sent <<<"$sum")" "$(jq -r .summary.answered <<<"$sum")"
	n=$(jq -r '.summary.backends.target // 0' <<<"$sum")
	if [ "$n" -gt 50 ]; then ok "$policy: target served after the switch ($n)"
	else fail "$policy: target served only $n"; fi
	r=$(jq -r '.summary.reconnects // 0' <<<"$sum")
	if [ "$r" -ge 1 ]; then ok "$policy: drained connections reconnected ($r)"
	else fail "$policy: no connection was drained"; fi
	kill "$SW_PID"
	wait_exit "$SW_PID" 20 || true
done
sw_finish
