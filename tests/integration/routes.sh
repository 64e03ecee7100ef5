#!/usr/bin/env bash
# routes: [route NAME] splits by operation and index (#13).  With route
# reads at target=1 and the default at source=1, searches land on the
# target and writes on the source (each backend counts what it got); a
# per-index route moves only its indices; PUT /weights?route= changes one
# route (404 for an unknown one), is persisted and audited, survives a
# restart and a SIGHUP; switchover/fallback move every route unless
# ?route=; policy connection pins per route; config mistakes are
# FILE:LINE errors.
set -euo pipefail
source "$TESTLIB"
sw_init

ROUTES="
[state]
file = $TMP/state.json
audit_log = $TMP/audit.log

[route logs]
indices = logs-*
weights = target=1

[route reads]
operation = read
weights = source=0, target=1"
start_pair 1 0 "$ROUTES"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
reset() { for p in "$S" "$T"; do curl -s -X POST "http://127.0.0.1:$p/_backend/reset" >/dev/null; done; }
counts() { echo "source=$(backend_requests "$S") target=$(backend_requests "$T")"; }
weights() { curl -s "$A/weights" | tr -d ' \n'; }
# many N METHOD PATH: N requests on one keep-alive connection.
many() {
	local n=$1 m=$2 path=$3 urls=() i
	for i in $(seq "$n"); do urls+=("$U$path"); done
	curl -s -X "$m" -H 'Content-Type: application/json' -d '{}' "${urls[@]}" >/dev/null
}

# Reads to the target, writes to the source, on the same connections.
reset
many 20 POST /orders/_search
many 10 GET /orders/_doc/1
many 5 POST /_msearch
check "30+5 reads all on target" "source=0 target=35" "$(counts)"
reset
many 20 POST /_bulk
many 10 PUT /orders/_doc/1
many 5 DELETE /orders/_doc/1
many 5 POST /orders/_update_by_query
check "40 writes all on source" "source=40 target=0" "$(counts)"
# Reads and writes interleaved on one connection still split by route.
reset
curl -s -X POST -d '{}' "$U/orders/_search" "$U/_bulk" "$U/orders/_search" "$U/_bulk" >/dev/null
check "interleaved on one connection" "source=2 target=2" "$(counts)"

# A per-index route moves only its indices (writes included).
reset
many 10 PUT /logs-2024/_doc/1
check "writes to logs-* go to target (route logs)" "source=0 target=10" "$(counts)"
reset
many 10 PUT /logstash/_doc/1
many 5 POST /logs-1,orders/_bulk
check "other indices, and a list not all logs-*, stay on source" "source=15 target=0" "$(counts)"

# GET /weights shows every route.
check "GET /weights with routes" \
    '{"source":1,"target":0,"routes":{"logs":{"source":0,"target":1},"reads":{"source":0,"target":1}}}' \
    "$(weights)"

# PUT ?route= changes that route only; unknown route is 404.
check "PUT ?route=nope is 404" 404 "$(curl -s -o "$TMP/out" -w '%{http_code}' -X PUT -d '{"source":1}' "$A/weights?route=nope")"
check_match "  saying why" 'resource_not_found_exception.*no route named' "$(cat "$TMP/out")"
check "PUT ?route=reads" 200 "$(curl -s -o "$TMP/out" -w '%{http_code}' -X PUT -d '{"source":3,"reason":"canary back"}' "$A/weights?route=reads")"
check_match "  answers with the route's new weights" '"reads":\{"source":3,"target":1\}' "$(tr -d ' \n' <"$TMP/out")"
check "PUT ?route=reads all zero is 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d '{"source":0,"target":0}' "$A/weights?route=reads")"
check_match "default and logs unchanged" '^\{"source":1,"target":0,"routes":\{"logs":\{"source":0,"target":1\},"reads":\{"source":3,"target":1\}\}\}$' "$(weights)"
reset
many 40 POST /orders/_search
check "reads now split 3:1" "source=30 target=10" "$(counts)"
check_match "state file holds the route" '"reads": *\{"source": *3, *"target": *1\}' "$(cat "$TMP/state.json")"
check_match "audit line names the route" '"route":"reads"' "$(grep 'canary back' "$TMP/audit.log")"

# Persistence: killed at once, restarted: the route's weights come back.
kill -KILL "$SW_PID"; wait_exit "$SW_PID" 10
start_proxy "$TMP/sw.conf"; wait_port "$ADMIN_PORT"
check_match "after SIGKILL and restart" '"reads":\{"source":3,"target":1\}' "$(weights)"
reset
many 40 POST /orders/_search
check "  and they serve" "source=30 target=10" "$(counts)"

# SIGHUP, file unchanged: running route weights stay; changed: file wins.
: >"$TMP/switchover.log"
kill -HUP "$SW_PID"
wait_line "$TMP/switchover.log" "reload done" 10
check_match "SIGHUP, route unchanged in the file: running weights stay" '"reads":\{"source":3,"target":1\}' "$(weights)"
sed -i 's/^weights = source=0, target=1$/weights = source=0, target=2/' "$TMP/sw.conf"
: >"$TMP/switchover.log"
kill -HUP "$SW_PID"
wait_line "$TMP/switchover.log" "reload done" 10
check_match "SIGHUP, target changed in the file: it wins" '"reads":\{"source":3,"target":2\}' "$(weights)"
check_match "  and the state file follows" '"reads": *\{"source": *3, *"target": *2\}' "$(cat "$TMP/state.json")"

# switchover ?route= moves one route; fallback moves every route.
check "POST /switchover?route=logs" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/switchover?route=logs")"
check "POST /fallback?route=nope is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/fallback?route=nope")"
check "POST /fallback" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"reason":"all back"}' "$A/fallback")"
check "fallback: every route on source" \
    '{"source":1,"target":0,"routes":{"logs":{"source":1,"target":0},"reads":{"source":1,"target":0}}}' \
    "$(weights)"
check "  audited once per route and once for the default" 3 "$(grep -c 'all back' "$TMP/audit.log")"
reset
many 10 POST /logs-1/_search
many 10 PUT /logs-1/_doc/1
check "  and served" "source=20 target=0" "$(counts)"
kill -TERM "$SW_PID"; wait_exit "$SW_PID" 10

# Policy connection pins per route: on one connection every read goes
# where its first read went, every write where its first write went,
# and the two differ at least once (reads pick target first at 1:2,
# writes source at 1:1): a write does not follow the reads' pin.
rm -f "$TMP/state.json"
cat >>"$TMP/sw.conf" <<EOF
[routing]
policy = connection
EOF
sed -i 's/^weight = 0$/weight = 1/; s/^weights = source=0, target=2$/weights = source=1, target=2/' "$TMP/sw.conf"
start_proxy "$TMP/sw.conf"; wait_port "$ADMIN_PORT"
pinned=yes; differ=no
for k in 1 2 3 4; do
	# --next keeps the connection: search (read), doc PUT (write), x3.
	names=$(curl -s -X POST -d '{}' "$U/o/_search" --next -X PUT -d '{}' "$U/o/_doc/1" \
	    --next -X POST -d '{}' "$U/o/_search" --next -X PUT -d '{}' "$U/o/_doc/1" \
	    --next -X POST -d '{}' "$U/o/_search" --next -X PUT -d '{}' "$U/o/_doc/1" |
	    grep -o '"\(served_by\|name\)":"[^"]*"' | sed 's/.*:"//; s/"$//' | tr '\n' ' ')
	set -- $names
	if [ $# -ne 6 ] || [ "$1" != "$3" ] || [ "$3" != "$5" ] || [ "$2" != "$4" ] || [ "$4" != "$6" ]; then
		pinned="no ($names)"
	fi
	[ $# -ge 2 ] && [ "$1" != "$2" ] && differ=yes
done
check "policy connection: reads and writes each pinned on their route" yes "$pinned"
check "  and a connection's reads and writes went to different backends" yes "$differ"
kill -TERM "$SW_PID"; wait_exit "$SW_PID" 10

# Config mistakes: FILE:LINE, every one reported.
cat >"$TMP/bad.conf" <<EOF
[listener]
address = 127.0.0.1:1
[backend source]
servers = 127.0.0.1:2
weight = 1
[route a]
operation = sometimes
weights = source=1
[route b]
indices = logs-[0-9]
weights = source=1, nosuch=1
EOF
set +e
out=$("$SWITCHOVER" -t -c "$TMP/bad.conf" 2>&1); rc=$?
set -e
check "bad routes: -t fails" 1 "$rc"
check_match "unknown operation at its line" "bad.conf:7: operation: \"sometimes\" is not read, write or any" "$out"
check_match "bad glob at its line" "bad.conf:10: index glob \"logs-\\[0-9\\]\"" "$out"
check_match "unknown backend in weights at its line" "bad.conf:11: weights: no backend named nosuch" "$out"
sw_finish
