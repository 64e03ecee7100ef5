#!/usr/bin/env bash
# affinity_gzip: scroll and PIT affinity when bodies are compressed.  A
# scroll and a PIT opened on source with answers in gzip (the client sent
# Accept-Encoding: gzip, as OpenSearch clients do), continued after every
# weight moved to target with request bodies in gzip and in deflate, stay
# on source; what goes through is what was sent (the fake clusters
# inflate it themselves).  A continuation in a coding the proxy cannot
# read follows the weights and is counted as affinity_unreadable.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v python3 >/dev/null || { echo "python3 is needed (apt-get install python3)"; exit 1; }
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

FAKE="$TOP_SRCDIR/tests/integration/fake_cluster.py"
P=$(free_port); S=$(free_port); T=$(free_port)
python3 "$FAKE" "$S" source >"$TMP/fake-source.log" 2>&1 &
PIDS+=($!)
python3 "$FAKE" "$T" target >"$TMP/fake-target.log" 2>&1 &
PIDS+=($!)
wait_port "$S"
wait_port "$T"
proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
U="http://127.0.0.1:$P"
A="http://127.0.0.1:$ADMIN_PORT"
J=(-H 'Content-Type: application/json')
GZ=(-H 'Accept-Encoding: gzip')
st() { curl -s "$A/stats" | jq -r "$1"; }

# A scroll and a PIT opened on source, their answers gzipped.
curl -s "${J[@]}" "${GZ[@]}" -D "$TMP/scroll.head" -o "$TMP/scroll.gz" \
    -d '{"size":5}' "$U/logs/_search?scroll=1m"
check_match "the scroll's answer came gzipped" '[Cc]ontent-[Ee]ncoding: gzip' "$(cat "$TMP/scroll.head")"
sid=$(gzip -dc "$TMP/scroll.gz" | jq -r ._scroll_id)
check "  from source" source "$(gzip -dc "$TMP/scroll.gz" | jq -r '.hits.hits[0]._source.cluster')"
curl -s -X POST "${GZ[@]}" -o "$TMP/pit.gz" "$U/logs/_search/point_in_time?keep_alive=1m"
pit=$(gzip -dc "$TMP/pit.gz" | jq -r .pit_id)
check_match "a PIT opened on source, gzipped" '^[A-Za-z0-9_=-]{20,}$' "$pit"
check_match "/stats: the ids were learned from gzip answers" '^[2-9]' \
    "$(st '.listeners[0].affinity_ids_learned')"

check "switchover: everything to target" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A/switchover")"
check "new searches go to target" target \
    "$(curl -s "${J[@]}" -d '{"size":1}' "$U/logs/_search" | jq -r '.hits.hits[0]._source.cluster')"
check "target itself does not know source's scroll" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "${J[@]}" \
    -d "{\"scroll_id\":\"$sid\"}" "http://127.0.0.1:$T/_search/scroll")"

# Continuations with compressed bodies, each on a fresh connection.
printf '{"scroll":"1m","scroll_id":"%s"}' "$sid" | gzip -c >"$TMP/cont.gz"
printf '{"scroll":"1m","scroll_id":"%s"}' "$sid" |
    python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))' >"$TMP/cont.zz"
for enc in gzip deflate; do
	f=$TMP/cont.gz
	[ "$enc" = deflate ] && f=$TMP/cont.zz
	code=$(curl -s "${J[@]}" "${GZ[@]}" -H "Content-Encoding: $enc" \
	    --data-binary @"$f" -o "$TMP/page.gz" -w '%{http_code}' "$U/_search/scroll")
	check "scroll continuation in a $enc body: answered" 200 "$code"
	check "  by source, gzipped" source \
	    "$(gzip -dc "$TMP/page.gz" | jq -r '.hits.hits[0]._source.cluster')"
done
printf '{"size":2,"pit":{"id":"%s","keep_alive":"1m"}}' "$pit" | gzip -c >"$TMP/pitsearch.gz"
code=$(curl -s "${J[@]}" "${GZ[@]}" -H 'Content-Encoding: gzip' \
    --data-binary @"$TMP/pitsearch.gz" -o "$TMP/pitpage.gz" -w '%{http_code}' "$U/_search")
check "a search with the PIT in a gzip body: answered" 200 "$code"
check "  by source" source "$(gzip -dc "$TMP/pitpage.gz" | jq -r '.hits.hits[0]._source.cluster')"
check "the fake source inflated what it got (bodies forwarded as sent)" true \
    "$(curl -s "http://127.0.0.1:$S/_fake/stats" | jq -r '.gzip_in >= 3')"
check "source never saw an id it did not know" 0 \
    "$(curl -s "http://127.0.0.1:$S/_fake/stats" | jq -r .missing)"
check "/stats: nothing unreadable so far" 0 "$(st '.listeners[0].affinity_unreadable')"

# A coding the proxy cannot read: follows the weights, counted, logged.
code=$(curl -s -o /dev/null -w '%{http_code}' "${J[@]}" -H 'Content-Encoding: br' \
    -d "{\"scroll_id\":\"$sid\"}" "$U/_search/scroll")
check "a continuation in br is not read: to target, which refuses it" 404 "$code"
check "/stats: counted as affinity_unreadable" 1 "$(st '.listeners[0].affinity_unreadable')"
check_match "/metrics: the same" "switchover_listener_affinity_unreadable_total\{listener=\"127.0.0.1:$P\"\} 1" \
    "$(curl -s "$A/metrics")"
wait_line "$TMP/switchover.log" 'affinity: scroll/PIT request body not read \(unknown Content-Encoding\)' 5 || true
check_match "and logged" 'not read \(unknown Content-Encoding\)' "$(cat "$TMP/switchover.log")"
sw_finish
