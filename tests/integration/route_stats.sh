#!/usr/bin/env bash
# route_stats: /stats and /metrics count each route's requests by backend
# (#13): reads on route "reads" go to the slow target (20 ms), writes
# (bulk, doc) to the default route's source, writes to logs-* to route
# "logs"; every count matches what the backends served, the reads'
# latency fits the target's delay, and switchoverctl status prints a line
# per route and backend (only the asked one with -R); -R set, fallback and
# switchover move that route only, an unknown route is refused.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source
start_backend "$T" target -d 20
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 "
[route reads]
operation = read
weights = source=0, target=1

[route logs]
indices = logs-*
weights = source=1, target=0
"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
U="http://127.0.0.1:$P"

# 20 searches (GET and POST), 8 bulks, 4 document writes to logs-1, on
# keep-alive connections.
urls=()
for i in $(seq 10); do urls+=("$U/idx/_search"); done
curl -s "${urls[@]}" >/dev/null
curl -s -XPOST -H 'Content-Type: application/json' -d '{}' "${urls[@]}" >/dev/null
bulk=()
for i in $(seq 8); do bulk+=("$U/_bulk"); done
curl -s -XPOST -H 'Content-Type: application/x-ndjson' --data-binary $'{"index":{}}\n{}\n' "${bulk[@]}" >/dev/null
docs=()
for i in $(seq 4); do docs+=("$U/logs-1/_doc/$i"); done
curl -s -XPUT -H 'Content-Type: application/json' -d '{"a":1}' "${docs[@]}" >/dev/null

check "target served the 20 reads" 20 "$(backend_requests "$T")"
check "source served the 12 writes" 12 "$(backend_requests "$S")"

curl -s "$A/stats" >"$TMP/stats.json"
j() { jq -r "$1" "$TMP/stats.json"; }
check "routes: reads on target" 20 "$(j .routes.reads.target.requests)"
check "routes: reads on source" 0 "$(j .routes.reads.source.requests)"
check "routes: reads 2xx on target" 20 "$(j '.routes.reads.target.responses["2xx"]')"
check "routes: default (bulk) on source" 8 "$(j .routes.default.source.requests)"
check "routes: default on target" 0 "$(j .routes.default.target.requests)"
check "routes: logs on source" 4 "$(j .routes.logs.source.requests)"
check "routes: weights beside the counts" "1 0 9" \
    "$(j '"\(.routes.reads.target.weight) \(.routes.reads.source.weight) \(.routes.logs.target.weight + 9)"')"
check "backend totals agree" 20 "$(j .backends.target.requests)"
p50=$(j .routes.reads.target.latency_ms.p50)
sp99=$(j .routes.default.source.latency_ms.p99)
check "reads on target p50 $p50 ms >= the target's 20 ms; bulk on source p99 $sp99 ms below it" true \
    "$(jq -n --argjson p "$p50" --argjson s "$sp99" '$p >= 19 and $p < 2000 and $s < $p')"
check "reads latency counted per request" 20 "$(j .routes.reads.target.latency_ms.count)"

curl -s "$A/metrics" >"$TMP/metrics.txt"
m() { sed -n "s/^switchover_$1 //p" "$TMP/metrics.txt"; }
check "metrics: reads on target" 20 "$(m 'route_requests_total{route="reads",backend="target"}')"
check "metrics: logs 2xx on source" 4 "$(m 'route_responses_total{route="logs",backend="source",code_class="2xx"}')"
check "metrics: default on source" 8 "$(m 'route_requests_total{route="default",backend="source"}')"
check "metrics: reads histogram count" 20 "$(m 'route_request_duration_seconds_count{route="reads",backend="target"}')"
check "metrics: no read on target faster than 16 ms" 0 \
    "$(m 'route_request_duration_seconds_bucket{route="reads",backend="target",le="0.016383"}')"
check "metrics: the route weight" 1 "$(m 'route_weight{route="reads",backend="target"}')"
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <"$TMP/metrics.txt" 2>&1); then
		ok "promtool check metrics accepts the route families"
	else
		fail "promtool check metrics: $out"
	fi
fi

# switchoverctl status: a line per route and backend; -R keeps one route.
"$SWITCHOVERCTL" -a "$A" status >"$TMP/status.out"
lines() { grep -Ec "$2" "$1" || true; }
check "status: reads on target, 20 requests" 1 "$(lines "$TMP/status.out" '^reads +target +1 +20 +20 ')"
check "status: default on source, 8 requests" 1 "$(lines "$TMP/status.out" '^default +source +1 +8 +8 ')"
check "status: logs on source, 4 requests" 1 "$(lines "$TMP/status.out" '^logs +source +1 +4 +4 ')"
"$SWITCHOVERCTL" -a "$A" -R logs status >"$TMP/status-logs.out"
check "status -R logs: its two lines" 2 "$(lines "$TMP/status-logs.out" '^logs +(source|target) ')"
check "status -R logs: no other route" 0 "$(lines "$TMP/status-logs.out" '^(reads|default) ')"
rc=0
"$SWITCHOVERCTL" -a "$A" -R logs drain source 2>"$TMP/drain.err" || rc=$?
check "drain does not take -R (usage, exit 2)" 2 "$rc"

# -R moves one route: set, fallback, switchover; the others keep theirs.
W() { curl -s "$A/weights" | jq -r "$1"; }
out=$("$SWITCHOVERCTL" -a "$A" -R reads -r "more reads" set target=3)
check "set -R reads prints that route's weights" "source=0 target=3" "$out"
check "route reads: target 3" 3 "$(W .routes.reads.target)"
check "default route untouched" "1 0" "$(W '"\(.source) \(.target)"')"
check "weights prints every route" "route reads: source=0 target=3" \
    "$("$SWITCHOVERCTL" -a "$A" weights | grep '^route reads:')"
check "weights -R logs prints that one" "source=1 target=0" "$("$SWITCHOVERCTL" -a "$A" -R logs weights)"
rc=0
"$SWITCHOVERCTL" -a "$A" -R nope set target=1 2>"$TMP/nope.err" || rc=$?
check "set -R of an unknown route: refused (exit 1)" 1 "$rc"
check_match "... saying so" 'no route named "nope"' "$(cat "$TMP/nope.err")"
"$SWITCHOVERCTL" -a "$A" -R reads fallback >/dev/null
check "fallback -R reads: that route to source" "1 0" "$(W '"\(.routes.reads.source) \(.routes.reads.target)"')"
"$SWITCHOVERCTL" -a "$A" -R logs switchover >/dev/null
check "switchover -R logs: that route to target" "0 1" "$(W '"\(.routes.logs.source) \(.routes.logs.target)"')"
check "... and the others kept theirs" "1 0 1 0" \
    "$(W '"\(.source) \(.target) \(.routes.reads.source) \(.routes.reads.target)"')"
check "after fallback -R reads, a read goes to source" source \
    "$(curl -s -D - -o /dev/null "$U/idx/_search" | tr -d '\r' | sed -n 's/^[Xx]-[Bb]ackend: //p')"

sw_finish
