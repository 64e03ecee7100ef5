#!/usr/bin/env bash
# soak: SOAK_SECONDS (default 180) of mixed traffic through one proxy -
# keep-alive GETs, a new connection per request, POST bodies, requests
# that make the backend fail on purpose - while the weights move every
# 3 s by SIGHUP (each move to 0 drains that backend, and every fifth move
# also drains target through the admin API).  At the end: no 5xx but the
# injected ones, RSS flat between warm-up and end, and the descriptors the
# proxy started with.
# `make soak`; not part of `make check`.
set -euo pipefail
source "$TESTLIB"
sw_init

SECS=${SOAK_SECONDS:-180}
[ "$SECS" -ge 20 ] || { echo "SOAK_SECONDS must be at least 20"; exit 2; }
P=$(free_port); S1=$(free_port); S2=$(free_port); T1=$(free_port)
start_backend "$S1" source-1 -q
start_backend "$S2" source-2 -q
start_backend "$T1" target-1 -q
UPSTREAM_EXTRA="first_byte_timeout = 5s
io_timeout = 5s
pool_idle_timeout = 2s
max_fails = 0" proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S1, 127.0.0.1:$S2" 3 "127.0.0.1:$T1" 1
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"
base_fds=$(fds_stable "$SW_PID")
end=$(( $(date +%s) + SECS ))
head -c 65536 /dev/urandom | base64 -w 0 >"$TMP/body.json"

# Each generator runs until the deadline and writes one status per line.
keepalive_gets() {
	local urls=() i
	for i in $(seq 20); do urls+=(-o /dev/null "$U/_search?q=$i"); done
	while [ "$(date +%s)" -lt "$end" ]; do
		curl -s -m 10 -w '%{http_code}\n' "${urls[@]}" || echo "curl-$?"
	done >"$TMP/gen-keepalive"
}
new_conns() {
	while [ "$(date +%s)" -lt "$end" ]; do
		curl -s -m 10 -o /dev/null -w '%{http_code}\n' "$U/" || echo "curl-$?"
	done >"$TMP/gen-new"
}
posts() {
	while [ "$(date +%s)" -lt "$end" ]; do
		curl -s -m 10 -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
		    --data-binary "@$TMP/body.json" "$U/_bulk" || echo "curl-$?"
	done >"$TMP/gen-post"
}
# Faults: the backend closes, resets, lies or dies mid-body on purpose.
faults() {
	local paths=(/_test/close /_test/reset /_test/garbage /_test/die-mid-body /_test/bytes/300000)
	local i=0
	while [ "$(date +%s)" -lt "$end" ]; do
		curl -s -m 10 -o /dev/null -w '%{http_code}\n' "$U${paths[i % 5]}" || echo "curl-$?"
		i=$((i + 1))
		sleep 0.2
	done >"$TMP/gen-faults"
}
# Weights move every 3 s: 3/1 -> 1/1 -> 0/1 -> 1/0 -> ...
weights() {
	local w=("3 1" "1 1" "0 1" "1 0" "2 5")
	local i=0 ws wt
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep 3
		read -r ws wt <<<"${w[i % 5]}"
		sed -i "/^\[backend source\]/,/^\[/ s/^weight = .*/weight = $ws/; /^\[backend target\]/,\$ s/^weight = .*/weight = $wt/" "$TMP/sw.conf"
		kill -HUP "$SW_PID"
		# Weight 0 drains by itself (on_weight_zero); also drain a
		# backend that keeps its weight, through the admin API.
		[ $((i % 5)) -eq 1 ] && curl -s -o /dev/null -X POST \
		    "http://127.0.0.1:$ADMIN_PORT/drain?backend=target"
		i=$((i + 1))
	done
	echo "$i" >"$TMP/reloads"
}

keepalive_gets & PIDS+=($!)
new_conns & PIDS+=($!)
posts & PIDS+=($!)
faults & PIDS+=($!)
weights & PIDS+=($!)

# RSS after warm-up (a fifth of the run, at least 10 s), then at the end.
warm=$(( SECS / 5 > 10 ? SECS / 5 : 10 ))
sleep "$warm"
rss_warm=$(proc_rss_kb "$SW_PID")
echo "RSS after ${warm} s warm-up: ${rss_warm} KiB, fds $(proc_fds "$SW_PID")"
for p in "${PIDS[@]: -5}"; do wait "$p"; done
rss_end=$(proc_rss_kb "$SW_PID")
echo "RSS at the end: ${rss_end} KiB"

n_ok=$(cat "$TMP"/gen-keepalive "$TMP"/gen-new "$TMP"/gen-post | grep -c '^200$' || true)
bad=$(cat "$TMP"/gen-keepalive "$TMP"/gen-new "$TMP"/gen-post | grep -vc '^200$' || true)
echo "normal requests: $n_ok answered 200, $bad otherwise; reloads: $(cat "$TMP/reloads")"
if [ "$n_ok" -ge $((SECS * 10)) ]; then ok "served $n_ok normal requests"; else fail "only $n_ok normal requests in $SECS s"; fi
check "no normal request failed (5xx, timeout, reset)" 0 "$bad"
check "the weights moved at least 5 times" 1 "$(( $(cat "$TMP/reloads") >= 5 ))"
drains=$(curl -s "http://127.0.0.1:$ADMIN_PORT/stats" | jq -r '.drain.drains // 0')
check "drains ran (weight 0 and POST /drain): $drains" 1 "$(( drains >= 2 ))"
# Injected faults: 502 for close/reset/garbage, a cut body for die-mid-body
# (curl 18), 200 for the big answers between them.
unexplained=$(grep -vEc '^(502|curl-18|200)$' "$TMP/gen-faults" || true)
check "every fault answer is the expected kind" 0 "$unexplained"
check_match "faults were injected" '[1-9]' "$(grep -c '^502$' "$TMP/gen-faults" || true)"
limit=$(( rss_warm + rss_warm / 4 + 2048 ))
if [ "$rss_end" -le "$limit" ]; then ok "RSS flat: $rss_warm -> $rss_end KiB (limit $limit)"; else fail "RSS grew: $rss_warm -> $rss_end KiB (limit $limit)"; fi
check "descriptors back to the start-up count once idle" "$base_fds" "$(fds_settle "$SW_PID" "$base_fds")"
check_no_match "no crash or error in the log" 'fatal|illegal state|AddressSanitizer|runtime error' "$(cat "$TMP/switchover.log")"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
[ -n "${SOAK_DEBUG:-}" ] && for f in "$TMP"/gen-*; do echo "$f"; sort "$f" | uniq -c; done
sw_finish
