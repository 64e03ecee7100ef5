#!/usr/bin/env bash
# run-demo.sh BUILDDIR CONFIG: what `make run` does.  Starts the demo
# backends named in the sample config (two "source" servers on 19201 and
# 19203, one "target" on 19202), then switchover in the foreground.
# Ctrl-C stops everything it started.
set -euo pipefail
builddir=$1
conf=$2
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
"$builddir/bench/backend" -p 19201 -n source-1 -q & pids+=($!)
"$builddir/bench/backend" -p 19203 -n source-2 -q & pids+=($!)
"$builddir/bench/backend" -p 19202 -n target-1 -q & pids+=($!)
echo "demo backends: source on 19201 and 19203, target on 19202"
echo "try: curl localhost:9200/    (answers name the backend that served them)"
echo "     for i in \$(seq 20); do curl -s localhost:9200/ | grep -o '\"name\":\"[^\"]*\"'; done | sort | uniq -c"
"$builddir/switchover" -c "$conf" &
pids+=($!)
wait "${pids[-1]}"
