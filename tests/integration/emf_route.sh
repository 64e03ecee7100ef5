#!/usr/bin/env bash
# emf_route: [cloudwatch] dimensions = route adds one EMF line per route
# and backend (dimensions Route and Backend) beside the backends' lines;
# their counts are what each route sent each backend, their Weight the
# route's.  The proxy writes its last, partial interval at SIGTERM, so
# the test needs no 10 s wait.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source
start_backend "$T" target
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 "
[route reads]
operation = read
weights = source=0, target=1

[cloudwatch]
emf = $TMP/emf.jsonl
interval = 5m
dimensions = route
"
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"

urls=()
for i in $(seq 15); do urls+=("$U/idx/_search"); done
curl -s "${urls[@]}" >/dev/null
bulk=()
for i in $(seq 6); do bulk+=("$U/_bulk"); done
curl -s -XPOST -H 'Content-Type: application/x-ndjson' --data-binary $'{"index":{}}\n{}\n' "${bulk[@]}" >/dev/null
check "target served the reads" 15 "$(backend_requests "$T")"
check "source served the writes" 6 "$(backend_requests "$S")"

kill -TERM "$SW_PID"
wait_exit "$SW_PID" 20
check "proxy exits 0" 0 "$WAIT_RC"
F="$TMP/emf.jsonl"
check "2 backend lines + 2 routes x 2 backends" 6 "$(wc -l <"$F" 2>/dev/null || echo 0)"
check "backend lines keep their one dimension" 2 \
    "$(jq -c 'select(._aws.CloudWatchMetrics[0].Dimensions == [["Backend"]] and (has("Route") | not))' "$F" | wc -l)"
check "route lines: dimensions Route and Backend" 4 \
    "$(jq -c 'select(._aws.CloudWatchMetrics[0].Dimensions == [["Route","Backend"]] and (.Route | type) == "string")' "$F" | wc -l)"
rl() { jq -r --arg r "$1" --arg b "$2" "select(.Route == \$r and .Backend == \$b) | .$3" "$F"; }
check "reads on target: RequestCount" 15 "$(rl reads target RequestCount)"
check "reads on target: 2XX" 15 "$(rl reads target HTTPCode_Target_2XX_Count)"
check "reads on target: the route's weight" 1 "$(rl reads target Weight)"
check "reads on source: none" 0 "$(rl reads source RequestCount)"
check "reads on source: weight 0" 0 "$(rl reads source Weight)"
check "default on source: the writes" 6 "$(rl default source RequestCount)"
check "default on target: none" 0 "$(rl default target RequestCount)"
check "reads on target: latency" true "$(rl reads target 'TargetResponseTimeP99 > 0')"
check "route lines carry no connection metrics" "" \
    "$(jq -r 'select(has("Route")) | select(has("ActiveConnectionCount") or has("HTTPCode_ELB_5XX_Count")) | .Route' "$F")"
sw_finish
