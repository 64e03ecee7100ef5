#!/usr/bin/env bash
# drain: when source's weight drops to 0, its 200 idle keep-alive client
# connections are closed, spread over [drain] spread (2 s) rather than
# all at once; new connections then go to target.
set -euo pipefail
source "$TESTLIB"
sw_init

start_pair 1 0 "$(printf '[drain]\nspread = 2s\n')"

"$CONNHOLD" -p "$P" -n 200 -t 60 >"$TMP/hold.out" 2>"$TMP/hold.log" &
hold=$!
PIDS+=($hold)
wait_line "$TMP/hold.out" '^ready 200' 60 || true
check "200 idle connections, all on source" "backend source 200" \
    "$(grep '^backend' "$TMP/hold.out")"

# A drain leaves a connection that was active within the last second to
# end after its next response (closing it could race a request in
# flight); these are held idle, so let them be quiet that long first.
sleep 1.2
reweight "$TMP/sw.conf" 0 1
wait_exit "$hold" 60 || true
check "every idle connection was closed" 0 "$WAIT_RC"
check "200 closings seen" 200 "$(grep -c '^closed' "$TMP/hold.out")"

# The distribution over the 2 s window: spread, not a storm.  Quarters
# of the window from the first closing should hold about 50 each.
read -r span maxq <<<"$(awk '/^closed/ { t[n++] = $3 }
    END { lo = t[0]; hi = t[0]
	for (i = 0; i < n; i++) { if (t[i] < lo) lo = t[i]; if (t[i] > hi) hi = t[i] }
	for (i = 0; i < n; i++) { q = int((t[i] - lo) / 0.5); if (q > 3) q = 3; c[q]++ }
	m = 0; for (q = 0; q < 4; q++) if (c[q] > m) m = c[q]
	printf "%.3f %d\n", hi - lo, m }' "$TMP/hold.out")"
echo "# closings spanned ${span}s; the busiest quarter of the window held $maxq"
check_match "closings span most of the 2 s window (not all at once)" \
    '^(1\.[2-9]|[2-9]\.)' "$span"
if [ "$maxq" -le 67 ]; then ok "no quarter of the window holds more than a third ($maxq)"
else fail "a quarter of the window holds $maxq of 200 closings"; fi
check_match "the log names the drain" "backend source weight went to 0: draining" \
    "$(cat "$TMP/switchover.log")"
for i in $(seq 100); do
	[ "$(grep -c 'drain done' "$TMP/switchover.log")" -ge 2 ] && break
	sleep 0.1
done
check "each worker logs the end of its drain" 2 \
    "$(grep -c 'worker [01]: drain done' "$TMP/switchover.log")"
check_match "new connections go to target" '"name":"target"' \
    "$(curl -s "$U/")"
sw_finish
