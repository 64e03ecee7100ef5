#!/usr/bin/env bash
# client_addr: a client's address, kept in binary while its connection is
# idle, reads the same everywhere it is written, for IPv4 and IPv6
# clients: the access log, X-Forwarded-For, the error log line of a bad
# request, and the debug lines of a connection's life.
set -euo pipefail
source "$TESTLIB"
sw_init

if ! python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	echo "# no IPv6 loopback: skipped"
	exit 77
fi
P=$(free_port); P6=$(free_port); S=$(free_port)
start_backend "$S" src
LOG_LEVEL=debug WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 \
    "127.0.0.1:$S" 0 "
[listener v6]
address = [::1]:$P6

[proxy]
log_file = $TMP/main.log
access_log = $TMP/access.log"
start_proxy "$TMP/sw.conf"
for i in $(seq 100); do
	curl -s -o /dev/null "http://[::1]:$P6/" && break
	sleep 0.1
done

echo4=$(curl -s "http://127.0.0.1:$P/_test/echo?v4")
echo6=$(curl -s "http://[::1]:$P6/_test/echo?v6")
check_match "IPv4 client in X-Forwarded-For" '\["X-Forwarded-For","127.0.0.1"\]' "$echo4"
check_match "IPv6 client in X-Forwarded-For" '\["X-Forwarded-For","::1"\]' "$echo6"
# A request line with a space in its target: 400, logged with the address.
curl -s -o /dev/null --request-target '/bad target' "http://[::1]:$P6/" || true
curl -s -o /dev/null --request-target '/bad target' "http://127.0.0.1:$P/" || true

# Each line is written when its exchange ends: wait for all four.
wait_line "$TMP/access.log" ' /bad' 10 || true
for i in $(seq 50); do
	[ "$(grep -c . "$TMP/access.log" 2>/dev/null || echo 0)" -ge 5 ] && break
	sleep 0.1
done
check_match "access log: IPv4 client" '^[0-9T:.-]+Z 127\.0\.0\.1 GET /_test/echo\?v4 ' \
    "$(grep 'echo?v4' "$TMP/access.log" || true)"
check_match "access log: IPv6 client" '^[0-9T:.-]+Z ::1 GET /_test/echo\?v6 ' \
    "$(grep 'echo?v6' "$TMP/access.log" || true)"
wait_line "$TMP/main.log" 'client ::1: 400' 10 || true
check_match "error line names the IPv6 client" 'client ::1: 400 ' \
    "$(grep 'client ::1: 400' "$TMP/main.log" || true)"
check_match "error line names the IPv4 client" 'client 127\.0\.0\.1: 400 ' \
    "$(grep 'client 127.0.0.1: 400' "$TMP/main.log" || true)"
wait_line "$TMP/main.log" 'client ::1: close: ' 10 || true
check_match "debug: a connection's states, with its address" \
    'client ::1: idle -> head' "$(grep 'client ::1: idle -> head' "$TMP/main.log" | head -n 1 || true)"
check_match "debug: its close, with its address" 'client ::1: close: ' \
    "$(grep 'client ::1: close: ' "$TMP/main.log" | head -n 1 || true)"
sw_finish
