#!/usr/bin/env bash
# drain_race: a drain never closes a keep-alive connection unannounced.
# Five clients send back to back (the next request as soon as the
# previous ~36 KB answer is read) while the admin API drains their
# backend 40 times.  Every connection the proxy ends must end after an
# answer that said Connection: close; none may meet an EOF or a reset
# under a request already sent.  Before the fix, a connection drained
# while its answer was being written was closed right after that answer
# (which had not said Connection: close), and one whose answer was still
# queued was taken for quiet: ~0.1% of the answers met an EOF instead.
# Then one slow reader: its whole answer waits in the proxy's output as
# the drain reaches it; its next request must be answered, announced.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v python3 >/dev/null || { echo "python3 is needed (apt-get install python3)"; exit 1; }
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

start_pair 1 0 "$(printf '[drain]\nspread = 200ms\n')"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"

# Bounded: stopped after the drains, and at most 15 s or 4,000 requests
# per client.
python3 "$TOP_SRCDIR/tests/integration/drain_race.py" "$P" /_test/bytes/36000 \
    5 15 4000 >"$TMP/race.out" 2>"$TMP/race.log" &
race=$!
PIDS+=($race)
sleep 0.5
drains=0
for i in $(seq 40); do
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/drain?backend=source")
	[ "$code" = 200 ] && drains=$((drains + 1))
	sleep 0.05
done
check "40 drains accepted" 40 "$drains"
sleep 0.5
kill -USR1 "$race" 2>/dev/null || true
wait_exit "$race" 40 || true
check "the clients finished" 0 "$WAIT_RC"
out=$(tail -n 1 "$TMP/race.out")
echo "# $out"
check "no connection ended unannounced" 0 "$(jq -r .unannounced <<<"$out")"
check "every request sent was answered" "$(jq -r .requests <<<"$out")" \
    "$(jq -r .answered <<<"$out")"
n=$(jq -r .announced <<<"$out")
if [ "$n" -ge 5 ]; then ok "the drains ended connections, announced ($n)"
else fail "only $n announced closes: the drains did not run"; fi
n=$(jq -r .answered <<<"$out")
if [ "$n" -ge 200 ]; then ok "the clients were busy ($n answers)"
else fail "only $n answers"; fi
closed=$(curl -s "$A/stats" | jq -r '.listeners[0].closed.drain')
check_match "/stats counts the drain's closings" '^[1-9]' "$closed"

out=$(timeout 30 python3 "$TOP_SRCDIR/tests/integration/drain_race.py" \
    --slow-reader "$P" /_test/bytes/200000 "$A/drain?backend=source")
echo "# slow reader: $out"
check "slow reader: not closed under its next request" 0 "$(jq -r .unannounced <<<"$out")"
check "slow reader: both requests answered" "2 2" "$(jq -r '"\(.requests) \(.answered)"' <<<"$out")"
check "slow reader: the second answer said Connection: close" 1 "$(jq -r .announced <<<"$out")"
sw_finish
