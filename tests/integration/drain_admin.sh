#!/usr/bin/env bash
# drain_admin: POST /drain?backend=source (and switchoverctl drain) closes
# the keep-alive clients bound to source, spread over [drain] spread,
# while a request already sent still gets its whole answer; an unknown
# or missing backend is refused in the proxy's JSON error shape; /stats
# and /metrics count the bound connections before (20) and after (0),
# the drain and the closings.  Without AWS, /preflight is 409.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

start_pair 1 0 "$(printf '[drain]\nspread = 2s\n')"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
ctl() { "$SWITCHOVERCTL" -a "$A" "$@"; }
rc() { local r=0; "$@" >"$TMP/out" 2>"$TMP/err" || r=$?; echo "$r"; }
st() { curl -s "$A/stats" | jq -r "$1"; }

hold_clients 20 60
check "20 idle connections, all on source" "backend source 20" "$(grep '^backend' "$TMP/hold.out")"
check "/stats: 20 client connections bound to source" 20 "$(st .backends.source.client_connections)"
check "/stats: none bound to target" 0 "$(st .backends.target.client_connections)"
check "/stats: nothing pending drain yet" 0 "$(st '.listeners[0].connections_pending_drain')"
check "/stats: no drain yet" 0 "$(st .drain.drains)"
check "/stats: the spread" 2000 "$(st .drain.spread_ms)"

# Refusals, in the proxy's error shape; nothing is drained by them.
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$A/drain?backend=nope")
check "unknown backend: 404" 404 "$code"
check "  as the proxy's JSON error" "resource_not_found_exception 404" \
    "$(jq -r '"\(.error.type) \(.status)"' "$TMP/body")"
check_match "  naming it" 'no backend named \\"nope\\"' "$(cat "$TMP/body")"
check "no backend given: 400" 400 "$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$A/drain")"
check_match "  says how to ask" 'POST /drain\?backend=NAME' "$(jq -r .error.reason "$TMP/body")"
check "empty backend: 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/drain?backend=")"
check "GET /drain: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' "$A/drain")"
check "ctl drain nope: exit 1" 1 "$(rc ctl drain nope)"
check "ctl drain without a name: exit 2" 2 "$(rc ctl drain)"
check "still 20 bound after the refusals" 20 "$(st .backends.source.client_connections)"

# A request in flight on source when the drain starts, answered only
# after the whole 2 s spread: its connection falls due while busy, and
# must still get the whole answer (saying Connection: close), then close.
n0=$(backend_requests "$S")
curl -s -D "$TMP/slow.head" -o "$TMP/slow.body" -w '%{http_code}' "$U/_test/delay/6000" >"$TMP/slow.code" &
slow=$!
PIDS+=($slow)
wait_requests "$S" $((n0 + 1))

curl -s -X POST "$A/drain?backend=source" >"$TMP/drain.json"
check "POST /drain answers what was asked" "source 2000" "$(jq -r '"\(.backend) \(.spread_ms)"' "$TMP/drain.json")"
check "  and the 21 connections bound to source" 21 "$(jq -r .client_connections "$TMP/drain.json")"
check "  and counts this drain" 1 "$(jq -r .drains "$TMP/drain.json")"

wait_exit "$HOLD" 60 || true
check "every held connection was closed" 0 "$WAIT_RC"
if kill -0 "$slow" 2>/dev/null; then
	ok "the spread is over and the slow request is still in flight"
else
	fail "the slow request ended within the spread: it was not busy when due"
fi
check "20 closings seen" 20 "$(grep -c '^closed' "$TMP/hold.out")"
span=$(awk '/^closed/ { t = $3; if (n++ == 0 || t < lo) lo = t; if (t > hi) hi = t }
    END { printf "%.3f", hi - lo }' "$TMP/hold.out")
echo "# closings spanned ${span}s of the 2 s spread"
check_match "closings spread over the window, not at once" '^(1\.[0-9]|2\.)' "$span"

wait_exit "$slow" 30 || true
check "the request in flight got its answer" 200 "$(cat "$TMP/slow.code")"
check_match "  whole" '"delayed_ms":6000' "$(cat "$TMP/slow.body")"
check_match "  saying Connection: close" $'\n[Cc]onnection: close\r' "$(cat "$TMP/slow.head")"

for i in $(seq 50); do
	[ "$(st .backends.source.client_connections)" = 0 ] && break
	sleep 0.1
done
check "/stats: 0 bound to source after the drain" 0 "$(st .backends.source.client_connections)"
check "/stats: nothing left pending" 0 "$(st '.listeners[0].connections_pending_drain')"
check "/stats: closed by drain counts them all" true "$(st '.listeners[0].closed.drain >= 20')"
check "/stats: one drain" 1 "$(st .drain.drains)"
check "/stats: no aws object without [aws]" null "$(st .aws)"
check "the weights did not change" "source=1 target=0" "$(ctl weights)"

curl -s "$A/metrics" >"$TMP/metrics.txt"
m() { sed -n "s/^switchover_$1 //p" "$TMP/metrics.txt"; }
check "metrics: 0 bound to source" 0 "$(m 'backend_client_connections{backend="source"}')"
check "metrics: one drain" 1 "$(m drains_total)"
check_match "metrics: pending drain gauge" '^0$' "$(m "listener_drain_pending_connections{listener=\"127.0.0.1:$P\"}")"
check_match "metrics: TLS failures per backend" '^0$' "$(m 'backend_tls_failures_total{backend="source"}')"
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <"$TMP/metrics.txt" 2>&1); then
		ok "promtool check metrics accepts /metrics"
	else
		fail "promtool check metrics: $out"
	fi
fi

# switchoverctl drain: the same door.
check "ctl drain source: exit 0" 0 "$(rc ctl drain source)"
check_match "  says what it drains" '^drain source: [0-9]+ client connections, closed over 2000 ms' "$(cat "$TMP/out")"
check "/stats: two drains" 2 "$(st .drain.drains)"

# Preflight needs AWS.
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$A/preflight")
check "/preflight without AWS: 409" 409 "$code"
check_match "  says why" 'no \[aws\] section' "$(jq -r .error.reason "$TMP/body")"
check "ctl preflight without AWS: exit 1" 1 "$(rc ctl preflight)"
check "ctl switchover without AWS: as before" "source=0 target=1" "$(ctl switchover)"
check_match "the proxy still serves" '"name":"target"' "$(curl -s "$U/")"
sw_finish
