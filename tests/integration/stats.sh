#!/usr/bin/env bash
# stats: what /stats and /metrics report matches what the backends did:
# requests and status classes exactly (one backend answers 20 % 503),
# latency percentiles that fit a backend with a known 20 ms delay, the
# measured split, listener counts; and promtool accepts /metrics.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source-1 -d 20
start_backend "$T" target-1 -e 20
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 1
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
U="http://127.0.0.1:$P"

# wait_port's probe was a connection too: count from here.
conns0=$(curl -s "$A/stats" | jq '.listeners[0].connections_new')
# 200 requests on 4 keep-alive connections (50 each, in parallel).
urls=()
for i in $(seq 50); do urls+=("$U/_search"); done
cpids=()
for k in 1 2 3 4; do curl -s "${urls[@]}" >/dev/null & cpids+=($!); done
for j in "${cpids[@]}"; do wait "$j"; done

nS=$(backend_requests "$S"); nT=$(backend_requests "$T")
check "backends served 200 together" 200 $((nS + nT))
# The backend has one thread: exactly floor(n * 20 / 100) of its answers are 503.
n503=$((nT * 20 / 100))
curl -s "$A/stats" >"$TMP/stats.json"
j() { jq -r "$1" "$TMP/stats.json"; }
check "target requests = what it served" "$nT" "$(j .backends.target.requests)"
check "target 5xx = what it injected ($n503)" "$n503" "$(j '.backends.target.responses["5xx"]')"
check "target 2xx = the rest" $((nT - n503)) "$(j '.backends.target.responses["2xx"]')"
check "source requests = what it served" "$nS" "$(j .backends.source.requests)"
check "source all 2xx" "$nS" "$(j '.backends.source.responses["2xx"]')"
check "no proxy-made errors" 0 "$(j '[.backends[].errors[]] | add')"
check "listener saw 200 requests" 200 "$(j '.listeners[0].requests')"
check "196 of them on reused connections" 196 "$(j '.listeners[0].requests_reused')"
check "4 client connections accepted" $((conns0 + 4)) "$(j '.listeners[0].connections_new')"
check "latency counted for each source request" "$nS" "$(j '.backends.source.latency_ms.last_60s.count')"

# Latency: the source waits 20 ms before it answers, so every quantile
# is at least that; generous upper bounds, since the machine is shared.
p50=$(j .backends.source.latency_ms.last_60s.p50)
p99=$(j .backends.source.latency_ms.last_60s.p99)
mx=$(j .backends.source.latency_ms.since_start.max)
tp50=$(j .backends.target.latency_ms.last_60s.p50)
ok_lat=$(jq -r --argjson p50 "$p50" --argjson p99 "$p99" --argjson mx "$mx" --argjson t "$tp50" -n \
    '$p50 >= 20 and $p50 < 1000 and $p99 >= $p50 and $mx >= $p99 and $t < $p50')
check "source p50 $p50 ms, p99 $p99 ms, max $mx ms; target p50 $tp50 ms: plausible" true "$ok_lat"

share=$(j .split.last_60s.source)
check "measured split is 1:1 ($share)" true "$(jq -n --argjson s "$share" '$s >= 0.45 and $s <= 0.55')"
check "configured split beside it" 0.5 "$(j .split.configured.source)"
check "upstream connections reused" true "$(j '.backends.source.upstream_connections.reused > 0')"

# /metrics says the same in Prometheus text, and promtool accepts it.
curl -s "$A/metrics" >"$TMP/metrics.txt"
m() { sed -n "s/^switchover_$1 //p" "$TMP/metrics.txt"; }
check "metrics: target 5xx" "$n503" "$(m 'backend_responses_total{backend="target",code_class="5xx"}')"
check "metrics: source requests" "$nS" "$(m 'backend_requests_total{backend="source"}')"
check "metrics: histogram count" "$nS" "$(m 'backend_request_duration_seconds_count{backend="source"}')"
# The backend arms its 20 ms timer from libevent's cached loop time, so
# on a busy machine an answer can leave a few ms early: leave room.
check "metrics: nothing in the source's buckets below 8 ms" 0 \
    "$(m 'backend_request_duration_seconds_bucket{backend="source",le="0.008191"}')"
check "metrics: all of it by 1 s" "$nS" \
    "$(m 'backend_request_duration_seconds_bucket{backend="source",le="1.048575"}')"
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <"$TMP/metrics.txt" 2>&1); then
		ok "promtool check metrics accepts /metrics"
	else
		fail "promtool check metrics: $out"
	fi
else
	echo "SKIP promtool not installed (apt-get install prometheus): /metrics not linted"
fi
sw_finish
