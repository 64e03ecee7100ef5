#!/usr/bin/env bash
# demo: `make run` keeps the README's promise.  conf/run-demo.sh on the
# sample config (ports moved to free ones), then the README's commands: of
# 20 answers, 15 name a source server and 5 target-1, whatever the number
# of cores (the demo runs one worker: the split is exact per worker).
set -euo pipefail
source "$TESTLIB"
sw_init
B=$(cd "$(dirname "$SWITCHOVERCTL")" && pwd)	# the build tree

P=$(free_port); A=$(free_port); S1=$(free_port); S2=$(free_port); T1=$(free_port)
sed -e "s/^address = 0.0.0.0:9200/address = 127.0.0.1:$P/" \
    -e "s/^address = 127.0.0.1:9901/address = 127.0.0.1:$A/" \
    -e "s/19201/$S1/; s/19203/$S2/; s/19202/$T1/" \
    "$TOP_SRCDIR/conf/switchover.conf" >"$TMP/demo.conf"
check "the sample asks for a worker per core" 1 "$(grep -c '^workers = auto' "$TMP/demo.conf")"
"$BASH" "$TOP_SRCDIR/conf/run-demo.sh" "$B" "$TMP/demo.conf" "$TMP" >"$TMP/demo.log" 2>&1 &
PIDS+=($!)
wait_port "$S1"; wait_port "$S2"; wait_port "$T1"; wait_port "$P"
check "the demo runs one worker" 1 "$(grep -c '^workers = 1 ' "$TMP/switchover-demo.conf")"

# As the README says, word for word (plus the port); three times, since
# with several workers a round may come out right by chance.
curl -s "127.0.0.1:$P/" >/dev/null
rounds=""
for r in 1 2 3; do
	out=$(for i in $(seq 20); do curl -s "127.0.0.1:$P/" | grep -o '"name":"[^"]*"'; done | sort | uniq -c)
	echo "$out"
	src=$(echo "$out" | awk '/"source-[12]"/ { n += $1 } END { print n + 0 }')
	tgt=$(echo "$out" | awk '/"target-1"/ { n += $1 } END { print n + 0 }')
	rounds="$rounds$src/$tgt "
done
check "each round of 20: 15 answers name a source server, 5 target-1" "15/5 15/5 15/5 " "$rounds"
check "both source servers answer" 2 "$(echo "$out" | grep -c '"source-[12]"')"
sw_finish
