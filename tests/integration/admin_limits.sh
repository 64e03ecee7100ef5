#!/usr/bin/env bash
# admin_limits: the admin API holds at most [admin] max_connections, and
# a connection that does not deliver a whole request within
# [admin] request_timeout is closed, however it trickles bytes: a
# slowloris cannot hold the operator's console.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src
ADMIN_EXTRA="max_connections = 4
request_timeout = 2s" \
    WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
hz() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$A/healthz" || true; }

check "healthz" 200 "$(hz)"

# slowloris: an admin request head, one header line every 0.3 s for up
# to 12 s (each well inside evhttp's 10 s idle timeout).  Ends as soon as
# a write fails (the proxy closed it: status 0, or 141 for SIGPIPE);
# exit 1 means it was never closed.
slowloris() {
	exec 3<>"/dev/tcp/127.0.0.1/$ADMIN_PORT" || exit 2
	printf 'GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n' >&3
	for i in $(seq 40); do
		sleep 0.3
		printf 'X-Slow-%d: %d\r\n' "$i" "$i" >&3 2>/dev/null || exit 0
	done
	exit 1
}
SLOW=()
t0=$(date +%s)
for i in 1 2 3 4; do
	( trap - EXIT; slowloris ) &
	SLOW+=($!)
	PIDS+=($!)
done
sleep 0.5

# The cap: a fifth connection is refused while four are held.
got=$(hz)
if [ "$got" != 200 ]; then ok "a fifth connection is refused while 4 are held ($got)"; else fail "a fifth connection was served while 4 were held"; fi

# The deadline: all four are closed, long before their 12 s.
for p in "${SLOW[@]}"; do
	wait_exit "$p" 10 || true
	# 0: a write failed; 141: SIGPIPE did it; 1 or 255: never closed.
	check "  slowloris $p was closed" yes "$( [ "$WAIT_RC" = 0 ] || [ "$WAIT_RC" = 141 ] && echo yes || echo "no ($WAIT_RC)")"
done
t1=$(date +%s)
if [ $((t1 - t0)) -le 8 ]; then ok "  within $((t1 - t0)) s (deadline 2 s)"; else fail "  after $((t1 - t0)) s"; fi

# Room again: the console answers.
got=000
for i in $(seq 50); do
	got=$(hz)
	[ "$got" = 200 ] && break
	sleep 0.1
done
check "the console answers again" 200 "$got"
check_match "the cut is logged" 'no whole request within 2000 ms' "$(cat "$TMP/switchover.log")"
check_match "the refusal is logged" 'refused: 4 connections open' "$(cat "$TMP/switchover.log")"

# Keep-alive connections that do send whole requests are not cut: six
# requests 0.5 s apart on one connection (3 s, over the 2 s deadline).
out=$(curl -s -o /dev/null -w '%{http_code}\n' "$A/healthz" \
    --next -s -o /dev/null -w '%{http_code} %{num_connects}\n' "$A/weights" 2>&1 | tr '\n' ' ')
check "two requests on one connection" "200 200 0 " "$out"
exec 4<>"/dev/tcp/127.0.0.1/$ADMIN_PORT"
n=0
for i in 1 2 3 4 5 6; do
	printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&4
	line=""
	IFS= read -r -t 5 -u 4 line || true
	[[ "$line" == "HTTP/1.1 200"* ]] && n=$((n + 1))
	while IFS= read -r -t 5 -u 4 line && [ "$line" != $'\r' ]; do :; done
	IFS= read -r -t 5 -u 4 line || true	# the one-line JSON body ...
	IFS= read -r -t 5 -u 4 line || true	# ... over three lines
	IFS= read -r -t 5 -u 4 line || true
	sleep 0.5
done
exec 4<&- 4>&-
check "a keep-alive client sending whole requests is served throughout" 6 "$n"
sw_finish
