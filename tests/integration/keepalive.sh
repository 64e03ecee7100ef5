#!/usr/bin/env bash
# keepalive: an idle keep-alive connection ends at keepalive_timeout (its
# read timeout while idle, no timer event), counted as a keep-alive
# timeout; one that asks again in time is answered; a request head that
# comes slowly, with gaps longer than the keep-alive, still gets the
# header timeout (408), not an I/O timeout.
set -euo pipefail
source "$TESTLIB"
sw_init
N=20
P=$(free_port); S=$(free_port)
start_backend "$S" src
LISTENER_EXTRA="$(printf 'keepalive_timeout = 1s\nheader_timeout = 3s')" \
    WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
M="http://127.0.0.1:$ADMIN_PORT/metrics"
closed() {
	curl -s "$M" | awk -v r="reason=\"$1\"" 'index($0, r) &&
	    /^switchover_listener_connections_closed_total/ { n += $2 }
	    END { print n + 0 }'
}

# 1. N idle connections: every one closed by the proxy, as keep-alive.
"$CONNHOLD" -p "$P" -n "$N" -t 20 >"$TMP/hold.out" 2>"$TMP/hold.log" || true
check "$N idle connections, each answered once" "ready $N" \
    "$(grep -m1 '^ready' "$TMP/hold.out" || true)"
check "the proxy closed all $N" "$N" "$(grep -c '^closed' "$TMP/hold.out" || true)"
check "counted as keep-alive timeouts" "$N" "$(closed keepalive_timeout)"
check "none as I/O timeouts" 0 "$(closed io_timeout)"

# 2. A second request 0.5 s after the first answer (under the keep-alive)
# is answered on the same connection.
timeout 20 "$RAWCLIENT" -p "$P" -d 500 -t 10 \
    -s 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' \
    -s 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' \
    >"$TMP/two.out" 2>&1 || true
check "two requests 0.5 s apart on one connection, both answered" 2 \
    "$(grep -c '^HTTP/1.1 200' "$TMP/two.out" || true)"

# 3. After one answer, a head trickled in with 1.5 s gaps (each longer
# than the keep-alive): the header timeout (3 s) ends it with a 408, not
# the idle connection's read timeout.
(
	exec 3<>"/dev/tcp/127.0.0.1/$P"
	printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' >&3; sleep 0.3
	printf 'GET / HTTP/1.1\r\n' >&3; sleep 1.5
	printf 'Host: a\r\n' >&3; sleep 1.5
	printf 'X-A: b\r\n' >&3
	timeout 10 cat <&3
) >"$TMP/slow.out" 2>/dev/null || true
check "the first request answered, the slow head gets 408" "200 408" \
    "$(awk '/^HTTP\/1.1 / { print $2 }' "$TMP/slow.out" | xargs)"
check "counted as a header timeout" 1 "$(closed header_timeout)"
check "still none as I/O timeouts" 0 "$(closed io_timeout)"
sw_finish
