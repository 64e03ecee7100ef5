#!/usr/bin/env bash
# run-demo.sh BUILDDIR CONFIG [RUNDIR]: what `make run` does.  Starts a demo backend
# for every server of every [backend NAME] in CONFIG (named NAME-1,
# NAME-2, ...: with the sample config two "source" servers on 19201 and
# 19203, one "target" on 19202), then switchover in the foreground on a
# copy of CONFIG with one worker thread: the weighted split is exact per
# worker, and with several, curl's new connections land on any of them.
# The copy goes to RUNDIR (default BUILDDIR/run).  Ctrl-C stops
# everything it started.
set -euo pipefail
builddir=$1
conf=$2
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
rundir=${3:-$builddir/run}
mkdir -p "$rundir"
demo="$rundir/switchover-demo.conf"
sed 's/^workers *=.*/workers = 1                    # the demo: see conf\/run-demo.sh/' "$conf" >"$demo"

# "NAME HOST:PORT" for every server of every backend.
servers=$(awk '
	/^\[backend [A-Za-z0-9_-]+\]/ { name = $2; sub(/\]$/, "", name); next }
	/^\[/ { name = ""; next }
	name != "" && /^servers *=/ {
		sub(/^servers *= */, ""); sub(/ +#.*/, ""); gsub(/,/, " ")
		for (i = 1; i <= NF; i++) print name, $i
	}' "$conf")
declare -A count=()
while read -r name addr; do
	[ -n "$name" ] || continue
	count[$name]=$(( ${count[$name]:-0} + 1 ))
	"$builddir/bench/backend" -a "${addr%:*}" -p "${addr##*:}" \
	    -n "$name-${count[$name]}" -q &
	pids+=($!)
	echo "demo backend $name-${count[$name]} on $addr"
done <<<"$servers"
echo "try: curl localhost:9200/    (answers name the backend that served them)"
echo "     for i in \$(seq 20); do curl -s localhost:9200/ | grep -o '\"name\":\"[^\"]*\"'; done | sort | uniq -c"
"$builddir/switchover" -c "$demo" &
pids+=($!)
wait "${pids[-1]}"
