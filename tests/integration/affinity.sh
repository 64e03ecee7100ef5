#!/usr/bin/env bash
# affinity: a scroll, a point in time or an async search started on source
# continues on source after every weight moved to target (where it would
# be a 404), whichever connection and worker the follow-up comes on.
set -euo pipefail
source "$TESTLIB"
sw_init

start_pair 1 0
J=(-H 'Content-Type: application/json')

# Start 5 scrolls and a PIT at source = 1, target = 0.
for i in 1 2 3 4 5; do
	curl -s "${J[@]}" -d '{"size":1}' "$U/logs/_search?scroll=1m" \
	    | sed -n 's/.*"_scroll_id":"\([^"]*\)".*/\1/p' >>"$TMP/ids"
done
check "5 scrolls started on source" 5 "$(grep -c '^scroll-source-' "$TMP/ids")"
async=$(curl -s -X POST "${J[@]}" -d '{"size":1}' "$U/logs/_async_search" \
    | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
check_match "an async search submitted to source" '^async-source-' "$async"
pit=$(curl -s -X POST "$U/logs/_search/point_in_time?keep_alive=1m" \
    | sed -n 's/.*"pit_id":"\([^"]*\)".*/\1/p')
check_match "a PIT opened on source" '^pit-source-' "$pit"

reweight "$TMP/sw.conf" 0 1
check_match "new searches go to target" '"served_by":"target"' \
    "$(curl -s "$U/logs/_search")"
# The direct check that the test means something: target refuses them.
check "target itself does not know source's scroll" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "${J[@]}" \
    -d "{\"scroll_id\":\"$(head -n 1 "$TMP/ids")\"}" "http://127.0.0.1:$T/_search/scroll")"

# Each continuation on a fresh connection: body, path and query forms.
codes=""
while read -r id; do
	codes+="$(curl -s -o /dev/null -w '%{http_code}' "${J[@]}" \
	    -d "{\"scroll\":\"1m\",\"scroll_id\":\"$id\"}" "$U/_search/scroll") "
	codes+="$(curl -s -o /dev/null -w '%{http_code}' "$U/_search/scroll/$id") "
	codes+="$(curl -s -o /dev/null -w '%{http_code}' "$U/_search/scroll?scroll=1m&scroll_id=$id") "
done <"$TMP/ids"
check "15 scroll continuations at target = 1 all answered by source" \
    "$(printf '200 %.0s' $(seq 15))" "$codes"
check "clearing a scroll goes to source too" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${J[@]}" \
    -d "{\"scroll_id\":[\"$(head -n 1 "$TMP/ids")\"]}" "$U/_search/scroll")"
check_match "a search with the PIT goes to source" '"served_by":"source"' \
    "$(curl -s "${J[@]}" -d "{\"size\":1,\"pit\":{\"id\":\"$pit\",\"keep_alive\":\"1m\"}}" "$U/_search")"
check "async search results come from source" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$U/_async_search/$async")"
check "deleting the async search goes to source" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$U/_async_search/$async")"
check "an unknown scroll id follows the weights (target: 404)" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "${J[@]}" \
    -d '{"scroll_id":"scroll-elsewhere-1"}' "$U/_search/scroll")"
sw_finish
