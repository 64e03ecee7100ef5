#!/usr/bin/env bash
# pool-weight0: a backend at weight 0 that still gets traffic (a scroll
# kept on it by affinity, a client pinned by the connection policy)
# reuses its upstream connections instead of opening one per request;
# its idle ones still close after pool_idle_timeout.
set -euo pipefail
source "$TESTLIB"
sw_init

# conns PORT: connections a bench backend has accepted so far (this
# query's own included).
conns() {
	curl -s "http://127.0.0.1:$1/_backend/stats" |
	    sed -n 's/.*"connections":\([0-9]*\).*/\1/p'
}

# One worker: one pool, whichever the scheduler picks for a curl, so a
# slow machine cannot leave a worker's pool idle past its timeout.
WORKERS=1 UPSTREAM_EXTRA="pool_idle_timeout = 3s" start_pair 1 0 "
[routing]
policy = connection

[drain]
on_weight_zero = no"

# A scroll opened on source, and a client pinned to source (policy
# connection): its first request picked source.
id=$(curl -s -H 'Content-Type: application/json' -d '{"size":1}' \
    "$U/logs/_search?scroll=1m" | sed -n 's/.*"_scroll_id":"\([^"]*\)".*/\1/p')
check_match "a scroll started on source" '^scroll-source-' "$id"
# The pinned client: one keep-alive connection, one request now, 50 more
# once $TMP/go exists (20 s at most); prints who answered each.
python3 - "$P" "$TMP/go" >"$TMP/pin.out" 2>"$TMP/pin.log" <<'PY' &
import http.client, json, os, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
def ask(i):
    c.request("GET", "/pinned?i=%d" % i)
    r = c.getresponse()
    print(json.loads(r.read())["name"], flush=True)
ask(0)
for _ in range(200):
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
for i in range(1, 51):
    ask(i)
PY
PIN=$!
PIDS+=($PIN)
wait_line "$TMP/pin.out" . 10
check "the pinned client's first request went to source" source "$(head -n 1 "$TMP/pin.out")"

reweight "$TMP/sw.conf" 0 1
check_match "new requests go to target" '"name":"target"' "$(curl -s "$U/")"

# 50 scroll pages, each on its own client connection.
before=$(conns "$S")
codes=""
for i in $(seq 50); do
	codes+=$(curl -s -o /dev/null -w '%{http_code}' \
	    "$U/_search/scroll?scroll=1m&scroll_id=$id")
done
check "50 scroll pages at source weight 0, all answered" \
    "$(printf '200%.0s' $(seq 50))" "$codes"
new=$(( $(conns "$S") - before - 1 ))
if [ "$new" -le 2 ]; then
	ok "source accepted $new new connections for 50 scroll pages (<= 2)"
else
	fail "source accepted $new new connections for 50 scroll pages (want <= 2)"
fi

# A client pinned to source before the weight moved: 50 requests on its
# one connection, none of them opening a new upstream connection but
# the first.
before=$(conns "$S")
touch "$TMP/go"
wait_exit "$PIN" 30 || true
check "a client pinned to source got 50 more answers from source" 51 \
    "$(grep -c '^source$' "$TMP/pin.out" || true)"
new=$(( $(conns "$S") - before - 1 ))
if [ "$new" -le 2 ]; then
	ok "source accepted $new new connections for 50 pinned requests (<= 2)"
else
	fail "source accepted $new new connections for 50 pinned requests (want <= 2)"
fi

# Idle ones still go: nothing to source after pool_idle_timeout (3 s).
check "idle pooled connections to source closed after pool_idle_timeout" 0 \
    "$(settle 0 upstream_conns "$S")"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
