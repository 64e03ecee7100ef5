#!/usr/bin/env bash
# hopbyhop: every hop-by-hop header (Keep-Alive, Proxy-Connection, TE,
# Trailer, Upgrade, Proxy-Authorization, Proxy-Authenticate) stops at the
# proxy in both directions, by its name alone: no Connection header names
# it here, so only the proxy's own list can remove it.  The backend is
# tests/integration/rawbackend.py, which shows the head it received and
# answers with every hop-by-hop header.
set -euo pipefail
source "$TESTLIB"
sw_init

HOPS="Keep-Alive Proxy-Connection TE Trailer Upgrade Proxy-Authorization Proxy-Authenticate"
P=$(free_port); R=$(free_port)
python3 "$TOP_SRCDIR/tests/integration/rawbackend.py" "$R" "$TMP/raw.requests" \
    >"$TMP/rawbackend.log" 2>&1 &
PIDS+=($!)
wait_port "$R"
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$R" 1 "127.0.0.1:$R" 0
start_proxy "$TMP/sw.conf"

# Client to backend: raw bytes, so no client library adds a Connection.
req='GET /echo HTTP/1.1\r\nHost: a\r\n'
for h in $HOPS; do req+="$h: from-client\\r\\n"; done
req+='X-Kept: yes\r\nConnection: close\r\n\r\n'
out=$("$RAWCLIENT" -p "$P" -t 10 -s "$req" || true)
check_match "request: the backend answered the echo" '^HTTP/1.1 200 ' "$out"
check_match "request: an ordinary header passes" $'\nX-Kept: yes\r' "$out"
for h in $HOPS; do
	check_no_match "request: $h does not reach the backend" "from-client" \
	    "$(grep -i "^$h:" <<<"$out" || true)"
done
check "request: no hop-by-hop value reached the backend" 0 \
    "$(grep -c 'from-client' <<<"$out" || true)"

# Backend to client: the answer carries them all, without Connection.
code=$(curl -s -D "$TMP/hop.head" -o "$TMP/hop.body" -w '%{http_code}' "http://127.0.0.1:$P/hop")
check "response: answered" 200 "$code"
check "response: body whole" hop "$(cat "$TMP/hop.body")"
for h in $HOPS; do
	check "response: $h does not reach the client" 0 \
	    "$(grep -ci "^$h:" "$TMP/hop.head" || true)"
done
# ... which the backend does send (else the checks above prove nothing).
curl -s -D "$TMP/direct.head" -o /dev/null "http://127.0.0.1:$R/hop"
for h in $HOPS; do
	check "response: the backend itself sends $h" 1 \
	    "$(grep -ci "^$h:" "$TMP/direct.head" || true)"
done
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
