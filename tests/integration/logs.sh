#!/usr/bin/env bash
# logs: SIGHUP reopens the log and the access log (rotation: mv, HUP, new
# lines in the new file) and applies a changed access_log path; a flood
# of bad requests writes a bounded number of error lines plus
# "suppressed N", and no line is lost from the count.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0 "
[proxy]
log_file = $TMP/main.log
access_log = $TMP/access.log"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
U="http://127.0.0.1:$P"
LOG="$TMP/main.log"

# hup: SIGHUP and wait (10 s at most) for one more "reload done" in $LOG.
hup() {
	local n0 i
	n0=$(cat "$LOG"* 2>/dev/null | grep -c "reload done" || true)
	kill -HUP "$SW_PID"
	for i in $(seq 100); do
		[ "$(cat "$LOG"* 2>/dev/null | grep -c "reload done" || true)" -gt "$n0" ] && return 0
		sleep 0.1
	done
	echo "reload not done after 10 s" >&2
	return 1
}
# lines FILE: its line count (0 when missing).
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

for i in 1 2 3; do curl -s -o /dev/null "$U/before/$i"; done
check "access log has the first requests" 3 "$(grep -c ' /before/' "$TMP/access.log")"

# 1. Rotation: mv both logs away, SIGHUP, new lines land in new files.
mv "$TMP/access.log" "$TMP/access.log.1"
mv "$LOG" "$LOG.1"
hup
for i in 1 2 3 4; do curl -s -o /dev/null "$U/after/$i"; done
check "new requests land in the new access log" 4 "$(grep -c ' /after/' "$TMP/access.log" 2>/dev/null || echo 0)"
check "none in the rotated one" 0 "$(grep -c ' /after/' "$TMP/access.log.1" || true)"
check_match "the new log file has the reload" 'reload done' "$(cat "$LOG" 2>/dev/null)"

# 2. A changed access_log applies on SIGHUP.
sed -i "s|^access_log = .*|access_log = $TMP/access2.log|" "$TMP/sw.conf"
hup
for i in 1 2; do curl -s -o /dev/null "$U/moved/$i"; done
check "a changed access_log applies on reload" 2 "$(grep -c ' /moved/' "$TMP/access2.log" 2>/dev/null || echo 0)"
check "the old path gets no more lines" 0 "$(grep -c ' /moved/' "$TMP/access.log" || true)"

# 3. A flood of bad requests: at most 10 error lines a second.
N=200
n0=$(grep -c 'client .*: 400 ' "$LOG" || true)
t0=$(date +%s)
python3 - "$P" "$N" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"BAD REQUEST\r\n\r\n")
    while s.recv(4096):
        pass
    s.close()
PY
t1=$(date +%s)
sleep 1.2
# One more, a second later: it says how many of the flood were suppressed.
exec 3<>"/dev/tcp/127.0.0.1/$P"
printf 'BAD REQUEST\r\n\r\n' >&3
timeout 5 cat <&3 >/dev/null || true
exec 3<&- 3>&-
for i in $(seq 50); do
	[ "$(grep -c 'client .*: 400 ' "$LOG")" -gt "$n0" ] && grep -q 'suppressed [0-9]* more such lines' "$LOG" && break
	sleep 0.1
done
logged=$(( $(grep -c 'client .*: 400 ' "$LOG" || true) - n0 ))
suppressed=$(sed -n 's/.*suppressed \([0-9]*\) more such lines.*/\1/p' "$LOG" | awk '{ s += $1 } END { print s + 0 }')
# The limiter's seconds need not line up with date's: the flood may
# straddle one more of them than the wall clock shows.
secs=$((t1 - t0 + 3))
if [ "$logged" -le $((10 * secs)) ] && [ "$logged" -lt "$N" ]; then
	ok "$logged error lines for $((N + 1)) bad requests in ~$secs s (<= 10 a second)"
else
	fail "$logged error lines for $((N + 1)) bad requests in ~$secs s"
fi
check_match "a \"suppressed N\" line says how many were not logged" 'info: suppressed [0-9]+ more such lines' "$(cat "$LOG")"
check "logged + suppressed = every bad request" $((N + 1)) $((logged + suppressed))
# /stats is the control thread's 1 s snapshot: give it a few ticks.
# Polled, and the last answer shown if it never says so (CI saw one "no").
counted=no
for i in $(seq 50); do
	ans=$(curl -s -w ' HTTP %{http_code}' "http://127.0.0.1:$ADMIN_PORT/stats" || true)
	if printf '%s' "$ans" | grep -q '"bad_requests": *[1-9]'; then
		counted=yes
		break
	fi
	sleep 0.1
done
[ "$counted" = yes ] || echo "last /stats answer: $(printf '%s' "$ans" | grep -o '"bad_requests"[^,]*\| HTTP [0-9]*$' | tr '\n' ' ')"
check "bad requests still counted in /stats" yes "$counted"
sw_finish
