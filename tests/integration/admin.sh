#!/usr/bin/env bash
# admin: the admin API changes weights for the very next request, refuses
# bad calls with a JSON error and nothing changed, audits every change,
# enforces its token, and will not listen off loopback without one.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source-1
start_backend "$T" target-1
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 "
[state]
audit_log = $TMP/audit.log"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
U="http://127.0.0.1:$P"

# code METHOD PATH [BODY]: the HTTP status; the body lands in $TMP/out.
code() {
	if [ $# -ge 3 ]; then
		curl -s -o "$TMP/out" -w '%{http_code}' -X "$1" --data-binary "$3" "$A$2"
	else
		curl -s -o "$TMP/out" -w '%{http_code}' -X "$1" "$A$2"
	fi
}
weights() { curl -s "$A/weights" | tr -d ' \n'; }

check "healthz" 200 "$(code GET /healthz)"
check "GET /weights names every backend" '{"source":1,"target":0}' "$(weights)"
check "first request goes to source" source-1 "$(curl -s "$U/" | sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p')"

# A change is acknowledged with the new weights and applies to the next request.
check "PUT /weights" 200 "$(code PUT /weights '{"source":0,"target":7,"reason":"step 1"}')"
check "answer carries the new weights" '{"source":0,"target":7}' "$(tr -d ' \n' <"$TMP/out")"
for i in 1 2 3; do
	check "request $i after the change goes to target" target-1 \
	    "$(curl -s "$U/" | sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p')"
done
check "partial PUT keeps the others" 200 "$(code PUT /weights '{"source":3}')"
check "weights now" '{"source":3,"target":7}' "$(weights)"

# Every bad body: 400 (or 413) in the proxy's error shape, with the
# reason that names what is wrong (REASON is an anchored regex), nothing
# changed.  bad STATUS BODY TYPE REASON
bad() {
	local want=$1 body=$2 got
	got=$(code PUT /weights "$body")
	check "refused ($want): $body" "$want" "$got"
	check_match "  JSON error for $body" '"error": *\{.*"type": *"[a-z_]+".*"reason": *".+".*"status": *'"$want" "$(tr -d '\n' <"$TMP/out")"
	check "  type for $body" "$3 $want" "$(jq -r '"\(.error.type) \(.status)"' "$TMP/out")"
	check_match "  reason for $body" "^$4\$" "$(jq -r .error.reason "$TMP/out")"
}
IA=illegal_argument_exception
PE=parse_exception
RANGE='weight of source must be an integer 0-999'
bad 400 '{"nope":1}' $IA 'unknown backend "nope"'
bad 400 '{"source":"1"}' $IA "$RANGE"
bad 400 '{"source":1.5}' $IA "$RANGE"
bad 400 '{"source":-1}' $IA "$RANGE"
bad 400 '{"source":1000}' $IA "$RANGE"
bad 400 '{"source":true}' $IA "$RANGE"
bad 400 '{"source":0,"target":0}' $IA 'every weight would be 0: no request could be routed'
bad 400 '{"source":1,"source":2}' $PE 'body is not JSON: duplicate object key .*'
bad 400 '{}' $IA 'no weight given: expected \{"BACKEND": 0-999, \.\.\.\}'
bad 400 '[1,2]' $PE 'body must be a JSON object'
bad 400 'source=1' $PE 'body is not JSON: .*'
bad 400 '' $PE 'body is not JSON: .*'
bad 400 '{"source":1,"reason":5}' $IA 'reason must be a string of at most 256 bytes'
bad 400 '{"source":1,"reason":"two\nlines"}' $IA 'reason must not contain control characters'
bad 413 "{\"source\":1,\"reason\":\"$(head -c 20000 /dev/zero | tr '\0' x)\"}" payload_too_large \
    'request body is larger than 16384 bytes'
check "after every refusal the weights are unchanged" '{"source":3,"target":7}' "$(weights)"

check "unknown path 404" 404 "$(code GET /nope)"
check "wrong method 405" 405 "$(code DELETE /weights)"
check "POST /stats 405" 405 "$(code POST /stats)"
check "GET /switchover 405" 405 "$(code GET /switchover)"

check "POST /switchover" 200 "$(code POST /switchover '{"reason":"cutover"}')"
check "switchover: all to target" '{"source":0,"target":1}' "$(tr -d ' \n' <"$TMP/out")"
check "POST /fallback without a body" 200 "$(code POST /fallback)"
check "fallback: all to source" '{"source":1,"target":0}' "$(weights)"

# The audit trail: one JSON line per change, with who, why, old and new.
check "4 changes audited" 4 "$(wc -l <"$TMP/audit.log")"
first=$(head -n 1 "$TMP/audit.log")
check_match "audit: who is the admin peer" '"who":"127\.0\.0\.1:[0-9]+"' "$first"
check_match "audit: reason, old and new" '"reason":"step 1","old":\{"source":1,"target":0\},"new":\{"source":0,"target":7\}' "$first"
check_match "audit: time" '"time":"20[0-9-]+T[0-9:.]+Z"' "$first"
check_match "audit: the switchover's reason" '"reason":"cutover"' "$(sed -n 3p "$TMP/audit.log")"

# A reload cannot move the admin API: it says so and keeps answering.
sed -i "s/^address = 127.0.0.1:$ADMIN_PORT/address = 127.0.0.1:$(free_port)/" "$TMP/sw.conf"
kill -HUP "$SW_PID"
for i in $(seq 50); do grep -q "reload done" "$TMP/switchover.log" && break; sleep 0.1; done
check_match "reload: admin address waits for a restart" 'apply only at restart: still 127.0.0.1:'"$ADMIN_PORT" "$(cat "$TMP/switchover.log")"
check "and the admin API still answers there" 200 "$(code GET /healthz)"

# Token: required for everything but /healthz, compared exactly.
P2=$(free_port)
printf 's3cret-token\n' >"$TMP/token"
chmod 600 "$TMP/token"
ADMIN_PORT=$(free_port) ADMIN_EXTRA="token_file = $TMP/token" \
    proxy_conf "$TMP/tok.conf" "$P2" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0
A2=$(sed -n '/^\[admin\]/,/^\[/ s/^address = //p' "$TMP/tok.conf")
start_proxy "$TMP/tok.conf"
wait_port "${A2##*:}"
check "token: none is 401" 401 "$(curl -s -o "$TMP/out" -w '%{http_code}' "http://$A2/weights")"
check_match "token: 401 says why" '"security_exception"' "$(cat "$TMP/out")"
check "token: wrong is 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-tokem' "http://$A2/weights")"
check "token: a prefix is 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret' "http://$A2/weights")"
check "token: wrong PUT changes nothing" 401 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d '{"target":1}' -H 'Authorization: Bearer nope' "http://$A2/weights")"
check "token: right is 200" 200 "$(curl -s -o "$TMP/out" -w '%{http_code}' -H 'Authorization: Bearer s3cret-token' "http://$A2/weights")"
check "token: weights untouched by the refused PUT" '{"source":1,"target":0}' "$(tr -d ' \n' <"$TMP/out")"
check "token: healthz stays open" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://$A2/healthz")"

# Off loopback without a token: refuse to start, and -t says so too.
cat >"$TMP/open.conf" <<CONF
[listener]
address = 127.0.0.1:$(free_port)
[admin]
address = 0.0.0.0:$(free_port)
[backend source]
servers = 127.0.0.1:$S
weight = 1
CONF
set +e
out=$(timeout 20 "$SWITCHOVER" -c "$TMP/open.conf" 2>&1); rc=$?
tout=$("$SWITCHOVER" -t -c "$TMP/open.conf" 2>&1); trc=$?
set -e
check "non-loopback admin without token: exit 1" 1 "$rc"
check_match "and says why" 'not loopback: set \[admin\] token_file' "$out"
check "-t refuses it too" 1 "$trc"
check_match "-t names the file" "open.conf: \[admin\] address" "$tout"
sw_finish
