#!/usr/bin/env bash
# split: requests are split exactly by weight (smooth weighted round robin),
# servers inside a backend share its load, and a weight change by SIGHUP
# takes effect without a restart.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S1=$(free_port); S2=$(free_port); T=$(free_port)
start_backend "$S1" s1
start_backend "$S2" s2
start_backend "$T" t1
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S1, 127.0.0.1:$S2" 3 "127.0.0.1:$T" 1
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"

# 1000 requests over keep-alive connections (curl takes many URLs).
urls=()
for i in $(seq 100); do urls+=("$U/"); done
for k in $(seq 10); do curl -s "${urls[@]}" >/dev/null; done
s1=$(backend_requests "$S1"); s2=$(backend_requests "$S2"); t=$(backend_requests "$T")
check "source got 3/4 of 1000" 750 $((s1 + s2))
check "target got 1/4 of 1000" 250 "$t"
check "source servers share round robin" 375 "$s1"

# Two workers: each worker is exact, so the total is within a window.
sed -i 's/^workers = 1/workers = 2/' "$TMP/sw.conf"
kill -TERM "$SW_PID"; wait_exit "$SW_PID" 10
for p in "$S1" "$S2" "$T"; do curl -s -X POST "http://127.0.0.1:$p/_backend/reset" >/dev/null; done
start_proxy "$TMP/sw.conf"
cpids=()
for k in $(seq 10); do curl -s "${urls[@]}" >/dev/null & cpids+=($!); done
for j in "${cpids[@]}"; do wait "$j"; done
t=$(backend_requests "$T")
if [ "$t" -ge 246 ] && [ "$t" -le 254 ]; then ok "2 workers: target share 250 +- 4 ($t)"; else fail "2 workers: target share $t"; fi

# SIGHUP: move everything to the target.
for p in "$S1" "$S2" "$T"; do curl -s -X POST "http://127.0.0.1:$p/_backend/reset" >/dev/null; done
sed -i '/^\[backend source\]/,/^\[/ s/^weight = 3/weight = 0/' "$TMP/sw.conf"
kill -HUP "$SW_PID"
for i in $(seq 50); do grep -q "reload done" "$TMP/switchover.log" && break; sleep 0.1; done
sleep 0.2
curl -s "${urls[@]}" >/dev/null
check "after SIGHUP source gets nothing" 0 $(( $(backend_requests "$S1") + $(backend_requests "$S2") ))
check "after SIGHUP target gets all" 100 "$(backend_requests "$T")"
sw_finish
