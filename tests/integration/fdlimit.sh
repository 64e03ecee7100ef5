#!/usr/bin/env bash
# fdlimit: the proxy runs out of file descriptors (a low ulimit -n) and
# more clients connect than it can hold.  It must stop accepting without
# spinning (CPU time stays low while they wait), keep serving the client
# it already has (whose requests need a fresh upstream descriptor each),
# and accept again once clients leave, ending with the descriptors it
# started with.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src
# No idle pool: every request needs a new upstream socket.  A small
# admin cap: its connections come off the same 96 descriptors.
WORKERS=1 LISTENER_EXTRA="header_timeout = 60s" UPSTREAM_EXTRA="pool_max_idle = 0" \
	ADMIN_EXTRA="max_connections = 4" \
	proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
( ulimit -n 96; exec "$SWITCHOVER" -c "$TMP/sw.conf" >>"$TMP/switchover.log" 2>&1 ) &
SW_PID=$!
PIDS+=($SW_PID)
wait_port "$P"
base=$(fds_stable "$SW_PID")
limit=$(awk '/Max open files/ { print $4 }' "/proc/$SW_PID/limits")
check "proxy runs with 96 descriptors" 96 "$limit"

# ask FD: one GET on an open connection; prints the status code.
ask() {
	local line len=0 body
	printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' >&"$1"
	IFS= read -r -t 10 -u "$1" line || { echo "no-answer"; return; }
	local code=${line#HTTP/1.1 }
	code=${code%% *}
	while IFS= read -r -t 10 -u "$1" line && [ "$line" != $'\r' ]; do
		case "$line" in
		[Cc]ontent-[Ll]ength:*) len=${line#*: }; len=${len%$'\r'} ;;
		esac
	done
	[ "$len" -gt 0 ] && IFS= read -r -t 10 -N "$len" -u "$1" body
	echo "$code"
}

exec {A}<>"/dev/tcp/127.0.0.1/$P"
check "first client served" 200 "$(ask "$A")"

# 150 more clients: more than 96 descriptors could ever hold.
IDLE=()
for i in $(seq 150); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$P"
	IDLE+=("$fd")
done
sleep 1
n=$(proc_fds "$SW_PID")
if [ "$n" -le 96 ]; then ok "proxy holds $n descriptors, within its limit"; else fail "proxy holds $n descriptors"; fi

# Paused, not spinning: CPU over 3 s is a small fraction of one core.
t0=$(proc_cpu_ticks "$SW_PID")
for i in 1 2 3; do
	check "client already connected is served while the rest wait ($i)" 200 "$(ask "$A")"
	sleep 1
done
t1=$(proc_cpu_ticks "$SW_PID")
ticks=$((t1 - t0))
hz=$(getconf CLK_TCK)
if [ "$ticks" -lt "$hz" ]; then ok "CPU while paused: $ticks ticks in 3 s"; else fail "CPU while paused: $ticks ticks in 3 s (spinning?)"; fi
kill -0 "$SW_PID" && ok "proxy alive under fd exhaustion" || fail "proxy died"

# The waiting clients leave: the proxy accepts (and closes) them all and
# a new client is served.
for fd in "${IDLE[@]}"; do
	exec {fd}>&-
done
check "new client served after the others left" 200 "$(curl -s -o /dev/null -m 10 -w '%{http_code}' "http://127.0.0.1:$P/")"
check "first client still served" 200 "$(ask "$A")"
exec {A}>&-
check "descriptors back to the start-up count" "$base" "$(fds_settle "$SW_PID" "$base")"
grep -q "not accepting\|pausing" "$TMP/switchover.log" && ok "the pause is logged" || fail "no pause in the log"
sw_finish
