#!/usr/bin/env bash
# notify: under systemd (Type=notify) the proxy tells its service manager
# READY=1 once it listens, RELOADING=1 (with MONOTONIC_USEC) then READY=1
# around every SIGHUP (a refused reload too), and STOPPING=1 at SIGTERM.
# The manager is played by a python datagram socket of our own, once on a
# path and once on an abstract name ('@...').
set -euo pipefail
source "$TESTLIB"
sw_init
command -v python3 >/dev/null || { echo "python3 is needed (apt-get install python3)"; exit 1; }

# listen ADDR OUT: receive datagrams on ADDR, one line per message in OUT
# ("\n" inside a message shown as "|"); gives up after 60 s.
listen() {
	python3 - "$1" "$2" <<'PY' &
import socket, sys, time
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
s.settimeout(0.5)
open(out + ".bound", "w").close()
end = time.time() + 60
with open(out, "a") as f:
    while time.time() < end:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            continue
        f.write(m.replace("\n", "|") + "\n")
        f.flush()
PY
	PIDS+=($!)
	local i
	for i in $(seq 100); do
		[ -e "$2.bound" ] && return 0
		sleep 0.1
	done
	echo "the receiver did not bind $1 in 10 s" >&2
	return 1
}

# wait_count FILE REGEX N: up to 10 s for N lines of FILE to match.
wait_count() {
	local i
	for i in $(seq 100); do
		[ "$(grep -cE "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
		sleep 0.1
	done
	echo "fewer than $3 lines /$2/ in $1 after 10 s" >&2
	return 1
}

P=$(free_port); S=$(free_port)
start_backend "$S" source-1
proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0

# --- a path -------------------------------------------------------------------
listen "$TMP/notify.sock" "$TMP/msgs"
NOTIFY_SOCKET="$TMP/notify.sock" "$SWITCHOVER" -c "$TMP/sw.conf" >>"$TMP/switchover.log" 2>&1 &
SW_PID=$!
PIDS+=($SW_PID)
wait_line "$TMP/msgs" '^READY=1' 10
check "READY=1 only once the listener answers" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")"
kill -HUP "$SW_PID"
wait_count "$TMP/msgs" '^READY=1' 2
# A refused reload still ends with READY=1: the old config serves on.
echo "this is not ini" >>"$TMP/sw.conf"
kill -HUP "$SW_PID"
wait_line "$TMP/switchover.log" 'reload failed' 10
wait_count "$TMP/msgs" '^READY=1' 3
kill -TERM "$SW_PID"
wait_exit "$SW_PID" 20
check "proxy exits 0" 0 "$WAIT_RC"
wait_count "$TMP/msgs" '^STOPPING=1' 1
kinds=$(sed -E 's/^([A-Z]+=1).*/\1/' "$TMP/msgs" | tr '\n' ' ')
check "messages in order" "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 STOPPING=1 " "$kinds"
check_match "RELOADING=1 carries MONOTONIC_USEC" '^RELOADING=1\|.*MONOTONIC_USEC=[0-9]+' \
    "$(grep -m1 '^RELOADING=1' "$TMP/msgs")"
mono=$(grep -m1 -oE 'MONOTONIC_USEC=[0-9]+' "$TMP/msgs" | cut -d= -f2)
now=$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6))')
check "MONOTONIC_USEC is CLOCK_MONOTONIC in us" true \
    "$([ "$mono" -gt $((now - 120000000)) ] && [ "$mono" -le "$now" ] && echo true || echo false)"
check_match "READY=1 says a status" '^READY=1\|STATUS=serving' "$(head -n 1 "$TMP/msgs")"

# --- an abstract name -------------------------------------------------------
sed -i '$d' "$TMP/sw.conf"
name="@sw-notify-test-$$-$RANDOM"
listen "$name" "$TMP/msgs2"
NOTIFY_SOCKET="$name" "$SWITCHOVER" -c "$TMP/sw.conf" >>"$TMP/switchover.log" 2>&1 &
SW_PID=$!
PIDS+=($SW_PID)
wait_line "$TMP/msgs2" '^READY=1' 10
kill -TERM "$SW_PID"
wait_exit "$SW_PID" 20
wait_count "$TMP/msgs2" '^STOPPING=1' 1
check "abstract socket: READY=1 then STOPPING=1" "READY=1 STOPPING=1 " \
    "$(sed -E 's/^([A-Z]+=1).*/\1/' "$TMP/msgs2" | tr '\n' ' ')"

# Without NOTIFY_SOCKET nothing changes (every other test runs so).
sw_finish
