#!/usr/bin/env bash
# tls-pipeline: more pipelined requests than the client's input bound
# (128 KiB) in one go over TLS: every one is answered, in order.  (libevent
# 2.1's TLS bufferevent would strand decrypted bytes when a read
# watermark lifted; this is the case that shows it.)
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"

P=$(free_port); S=$(free_port)
start_backend "$S" src
LISTENER_EXTRA="$TLS_LISTENER" \
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"

N=400
pad=$(head -c 600 /dev/zero | tr '\0' 'p')
for i in $(seq $((N - 1))); do
	printf 'GET /n/%d HTTP/1.1\r\nHost: a\r\nX-Pad: %s\r\n\r\n' "$i" "$pad"
done >"$TMP/reqs"
printf 'GET /n/%d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' "$N" >>"$TMP/reqs"
echo "# $(stat -c %s "$TMP/reqs") bytes of pipelined requests"
# The last request closes the connection; timeout only bounds a hang.
timeout 60 openssl s_client -quiet -connect "127.0.0.1:$P" <"$TMP/reqs" \
    >"$TMP/out" 2>/dev/null || true
check "every pipelined request over TLS is answered" $N "$(grep -c '"path":"/n/' "$TMP/out")"
check "in order" "$(seq $N | tr '\n' ' ')" "$(grep -o '"path":"/n/[0-9]*' "$TMP/out" | cut -d/ -f3 | tr '\n' ' ')"
sw_finish
