#!/usr/bin/env bash
# emf: [cloudwatch] emf = stdout writes one CloudWatch EMF line per backend
# per interval; every line parses, has the format's shape, and the counts
# over all lines equal what the backends served (status classes and 429s
# too).  The last, partial interval is written at SIGTERM; a SIGHUP that
# names a file moves the lines there.  One 10 s interval (the minimum):
# about 12 s in all.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source-1
start_backend "$T" target-1 -e 20 -E 429
cw() {
	printf '[cloudwatch]\nemf = %s\ninterval = 10s\nnamespace = test/switchover\n' "$1"
}
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 3 "127.0.0.1:$T" 1 "$(cw stdout)"
# stdout is the EMF stream, stderr the log: keep them apart.
"$SWITCHOVER" -c "$TMP/sw.conf" >"$TMP/emf.out" 2>>"$TMP/switchover.log" &
SW_PID=$!
PIDS+=($SW_PID)
wait_port "$P"
U="http://127.0.0.1:$P"

urls=()
for i in $(seq 40); do urls+=("$U/_search"); done
curl -s "${urls[@]}" >/dev/null
# The first interval ends 10 s after start: up to 25 s on a busy machine.
wait_line "$TMP/emf.out" '"Backend":"target"' 25
check "first interval: one line per backend" 2 "$(wc -l <"$TMP/emf.out")"
curl -s "${urls[@]:0:20}" >/dev/null
check "/metrics counts the lines" 'switchover_emf_lines_total{result="written"} 2' \
    "$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | grep 'emf_lines_total{result="written"}')"

# A reload naming a file moves the lines there (the rest of this interval).
sed -i "s|^emf = stdout|emf = $TMP/emf.file|" "$TMP/sw.conf"
kill -HUP "$SW_PID"
wait_line "$TMP/switchover.log" "EMF lines every 10 s to $TMP/emf.file" 10
curl -s "${urls[@]:0:12}" >/dev/null
kill -TERM "$SW_PID"
wait_exit "$SW_PID" 20
check "proxy exits 0" 0 "$WAIT_RC"
check "stdout kept its one interval" 2 "$(wc -l <"$TMP/emf.out")"
check "the file has the last interval" 2 "$(wc -l <"$TMP/emf.file" 2>/dev/null || echo 0)"
cat "$TMP/emf.out" "$TMP/emf.file" >"$TMP/all.jsonl"

# Shape, for every line (the unit test checks the rules in more detail).
allowed='["Seconds","Microseconds","Milliseconds","Bytes","Kilobytes","Megabytes","Gigabytes","Terabytes","Bits","Kilobits","Megabits","Gigabits","Terabits","Percent","Count","Bytes/Second","Kilobytes/Second","Megabytes/Second","Gigabytes/Second","Terabytes/Second","Bits/Second","Kilobits/Second","Megabits/Second","Gigabits/Second","Terabits/Second","Count/Second","None"]'
now_ms=$(( $(date +%s) * 1000 ))
bad=$(jq -c --argjson units "$allowed" --argjson now "$now_ms" '
    . as $l | ._aws as $a |
    select(
      ($a.Timestamp | type) != "number" or $a.Timestamp > $now + 1000 or
      $a.Timestamp < $now - 120000 or
      ($a.CloudWatchMetrics | length) != 1 or
      $a.CloudWatchMetrics[0].Namespace != "test/switchover" or
      $a.CloudWatchMetrics[0].Dimensions != [["Backend"]] or
      ($l.Backend | type) != "string" or
      ($a.CloudWatchMetrics[0].Metrics | length) > 100 or
      any($a.CloudWatchMetrics[0].Metrics[];
          (.Unit as $u | $units | index($u) | not) or
          ($l[.Name] | type) != "number"))' "$TMP/all.jsonl" 2>&1 || echo "jq failed")
check "every line parses and has the EMF shape" "" "$bad"
check "lines never pass 16 KiB" 0 "$(awk 'length($0) >= 16384' "$TMP/all.jsonl" | wc -l)"

# Counts: the sum over the intervals is what each backend served.
sum() { jq -s --arg b "$1" "[.[] | select(.Backend == \$b) | .$2] | add" "$TMP/all.jsonl"; }
nS=$(backend_requests "$S"); nT=$(backend_requests "$T")
check "backends served 72 together" 72 $((nS + nT))
check "source RequestCount = what it served" "$nS" "$(sum source RequestCount)"
check "target RequestCount = what it served" "$nT" "$(sum target RequestCount)"
check "source 2XX = what it served" "$nS" "$(sum source HTTPCode_Target_2XX_Count)"
n429=$((nT * 20 / 100))
check "target 429s = what it injected ($n429)" "$n429" "$(sum target HTTPCode_Target_429_Count)"
check "target 4XX = its 429s" "$n429" "$(sum target HTTPCode_Target_4XX_Count)"
check "target 2XX = the rest" $((nT - n429)) "$(sum target HTTPCode_Target_2XX_Count)"
check "no proxy-made 5XX" 0 "$(sum source HTTPCode_ELB_5XX_Count)"
check "weights as configured" "3 1" "$(jq -r 'select(.Backend == "source") | .Weight' "$TMP/all.jsonl" | head -n 1) $(jq -r 'select(.Backend == "target") | .Weight' "$TMP/all.jsonl" | head -n 1)"
lat=$(jq -s '[.[] | select(.RequestCount > 0) | .TargetResponseTime > 0 and .TargetResponseTimeP99 >= .TargetResponseTimeP50] | all' "$TMP/all.jsonl")
check "latency in every busy interval" true "$lat"
check "nothing dropped" "" "$(grep 'cloudwatch:' "$TMP/switchover.log" | grep -v 'EMF lines every' || true)"
sw_finish
