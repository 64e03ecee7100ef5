#!/usr/bin/env bash
# tls-streaming: large bodies both ways over TLS on both sides (HTTPS
# client -> proxy -> HTTPS backend) arrive whole, with the proxy's memory
# bounded by a few buffers, and a slow reader stops the proxy reading
# from the backend instead of buffering.
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"

P=$(free_port); S=$(free_port)
start_backend "$S" src -C "$TMP/server.crt" -K "$TMP/server.key"
cat >"$TMP/sw.conf" <<CONF
[proxy]
workers = 1

[admin]
address = off

[listener]
address = 127.0.0.1:$P
$TLS_LISTENER

[backend source]
servers = 127.0.0.1:$S
weight = 1
tls = on
tls_ca_file = $TMP/ca.crt
CONF
start_proxy "$TMP/sw.conf"
U="https://127.0.0.1:$P"
C=(curl -s --cacert "$TMP/ca.crt")
N=$((256 * 1024 * 1024))

rss_kb() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$SW_PID/status"; }
hwm_kb() { sed -n 's/^VmHWM:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$SW_PID/status"; }
check_match "the backend is reached over TLS" '"tls_sni":""' "$("${C[@]}" "$U/_test/echo")"
base=$(rss_kb)

truncate -s $N "$TMP/big"
out=$("${C[@]}" -X POST -T "$TMP/big" -H 'Content-Type: application/x-ndjson' "$U/_bulk")
check_match "256 MiB Content-Length upload over TLS arrives whole" "\"bytes\":$N" "$out"
out=$(head -c $N /dev/zero | "${C[@]}" -X POST -T - -H 'Content-Type: application/x-ndjson' "$U/_bulk")
check_match "256 MiB chunked upload over TLS arrives whole" "\"bytes\":$N" "$out"
check "256 MiB Content-Length download over TLS" $N "$("${C[@]}" -o /dev/null -w '%{size_download}' "$U/_test/bytes/$N")"
check "256 MiB chunked download over TLS" $N "$("${C[@]}" -o /dev/null -w '%{size_download}' "$U/_test/chunked/$N")"
# A body that ends when the backend closes (no length, no chunks).
check "close-delimited download over TLS" 1000000 "$("${C[@]}" -o /dev/null -w '%{size_download}' "$U/_test/eof/1000000")"
# How a close-delimited answer ends: close_notify means whole, a bare
# close means cut short (Python's ssl tells the two apart).
tls_end() {
	python3 - "$TMP/ca.crt" "$P" "$1" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))),
    server_hostname="localhost", suppress_ragged_eofs=False)
s.settimeout(30)
s.sendall(b"GET " + sys.argv[3].encode() + b" HTTP/1.1\r\nHost: a\r\n\r\n")
try:
    while s.recv(65536):
        pass
    print("close_notify")
except ssl.SSLEOFError:
    print("cut")
PY
}
check "a whole close-delimited answer ends with close_notify" close_notify "$(tls_end /_test/eof/1000000)"
check "an answer the backend cut short ends without it" cut "$(tls_end /_test/die-mid-body)"
grow=$(( $(hwm_kb) - base ))
echo "# proxy RSS before ${base} kB, peak growth ${grow} kB"
if [ "$grow" -lt 32768 ]; then ok "peak memory grew by less than 32 MiB over 1 GiB moved over TLS (${grow} kB)"
else fail "peak memory grew by ${grow} kB"; fi

# A client that stops reading mid-download.
coproc SLOW { openssl s_client -quiet -connect "127.0.0.1:$P" 2>/dev/null; }
PIDS+=($SLOW_PID)
printf 'GET /_test/bytes/%s HTTP/1.1\r\nHost: a\r\n\r\n' $N >&"${SLOW[1]}"
sleep 2
rss=$(rss_kb)
kill "$SLOW_PID" 2>/dev/null || true
if [ $(( rss - base )) -lt 32768 ]; then ok "slow TLS reader: proxy holds less than 32 MiB ($(( rss - base )) kB)"
else fail "slow TLS reader: proxy grew by $(( rss - base )) kB"; fi
check_match "proxy still serves after the abandoned download" '"name":"src"' "$("${C[@]}" "$U/")"
sw_finish
