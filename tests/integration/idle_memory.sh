#!/usr/bin/env bash
# idle_memory: an idle keep-alive client connection is small.  Between
# requests a connection holds its socket, one event (whose timeout is the
# keep-alive timer) and two small structs; parsers, heads, byte queues
# and a timer event come with a request and go back when it ends.  Measured as the proxy's RSS growth over N idle
# connections (memory, not time: the same on a busy machine).  Skipped
# under ASan, whose redzones and quarantine are most of any allocation.
set -euo pipefail
source "$TESTLIB"
sw_init

# A few per-connection bytes of slack for heap granularity; before the
# exchange and the conn layer an idle connection cost about 2,000, with
# its own timer event about 860, with none about 675, with its read
# event inside struct conn and its address in binary about 600, with
# the per-route bindings apart and the keep-alive timeout a libevent
# common timeout (no min-heap slot) about 570.  Of that, the heap holds
# about 432 per connection (struct client 144, struct conn and its read
# event 256, libevent's per-descriptor records about 32); the rest is
# memory the burst of first requests touched (read buffers, upstream
# connections) and libevent's arrays growing.
LIMIT=600
N=2000
# Each client costs the proxy a descriptor, plus one per busy upstream.
lim=$(ulimit -n)
[ "$lim" = unlimited ] || [ "$lim" -ge $((2 * N + 200)) ] || N=$(( (lim - 200) / 2 ))
[ "$N" -ge 500 ] || { echo "# ulimit -n $lim: too few descriptors to measure; skipped"; exit 77; }

P=$(free_port); S=$(free_port)
start_backend "$S" src
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
if grep -q libasan "/proc/$SW_PID/maps"; then
	echo "# built with ASan: memory per connection means nothing here; skipped"
	exit 77
fi
curl -s -o /dev/null "http://127.0.0.1:$P/"	# first-use allocations
before=$(proc_rss_kb "$SW_PID")
hold_clients "$N" 60
check "$N idle keep-alive connections, each answered once" "ready $N" \
    "$(grep -m1 '^ready' "$TMP/hold.out" || true)"
sleep 0.5
after=$(proc_rss_kb "$SW_PID")
per=$(( (after - before) * 1024 / N ))
echo "# RSS $before KiB -> $after KiB: $per bytes per idle connection"
check "an idle connection costs at most $LIMIT bytes" true \
    "$([ "$per" -le "$LIMIT" ] && echo true || echo false)"
kill "$HOLD" 2>/dev/null || true
check_match "the proxy still answers" '"name":"src"' "$(curl -s "http://127.0.0.1:$P/")"
sw_finish
