#!/usr/bin/env bash
# streaming: a 1 GiB upload and 1 GiB downloads pass through the proxy
# with its memory bounded by a few buffers, and a slow reader makes the
# proxy stop reading from the backend instead of buffering.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"
GIB=1073741824

rss_kb() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$SW_PID/status"; }
hwm_kb() { sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$SW_PID/status"; }
base=$(rss_kb)

# 1 GiB upload with Content-Length (curl -T streams the file).
truncate -s $GIB "$TMP/big"
out=$(curl -s -X POST -T "$TMP/big" -H 'Content-Type: application/x-ndjson' "$U/_bulk")
check_match "1 GiB Content-Length upload arrives whole" "\"bytes\":$GIB" "$out"
# 1 GiB chunked upload.
out=$(head -c $GIB /dev/zero | curl -s -X POST -T - -H 'Content-Type: application/x-ndjson' "$U/_bulk")
check_match "1 GiB chunked upload arrives whole" "\"bytes\":$GIB" "$out"
# 1 GiB downloads.
check "1 GiB Content-Length download" $GIB "$(curl -s -o /dev/null -w '%{size_download}' "$U/_test/bytes/$GIB")"
check "1 GiB chunked download" $GIB "$(curl -s -o /dev/null -w '%{size_download}' "$U/_test/chunked/$GIB")"

hwm=$(hwm_kb)
grow=$(( hwm - base ))
echo "# proxy RSS before ${base} kB, peak ${hwm} kB"
if [ "$grow" -lt 32768 ]; then ok "peak memory grew by less than 32 MiB over 4 GiB moved (${grow} kB)"
else fail "peak memory grew by ${grow} kB moving 4 GiB"; fi

# A client that stops reading: the proxy must not buffer the whole answer.
exec 3<>"/dev/tcp/127.0.0.1/$P"
printf 'GET /_test/bytes/%s HTTP/1.1\r\nHost: a\r\n\r\n' $GIB >&3
sleep 2
rss=$(rss_kb)
exec 3<&- 3>&-
if [ $(( rss - base )) -lt 32768 ]; then ok "slow reader: proxy holds less than 32 MiB ($(( rss - base )) kB)"
else fail "slow reader: proxy grew by $(( rss - base )) kB"; fi
sleep 0.5
check_match "proxy still serves after the abandoned download" '"name":"src"' "$(curl -s "$U/")"
sw_finish
