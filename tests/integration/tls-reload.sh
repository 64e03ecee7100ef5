#!/usr/bin/env bash
# tls-reload: SIGHUP loads a new certificate for new connections while a
# keep-alive client on the old one carries on; a broken or mismatched
# certificate is refused with FILE:LINE and the running one keeps
# serving; switchover -t checks that certificate and key match.
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"

cert_issue ca first "DNS:localhost,IP:127.0.0.1"
cert_issue ca second "DNS:localhost,IP:127.0.0.1"
cp "$TMP/first.crt" "$TMP/live.crt"
cp "$TMP/first.key" "$TMP/live.key"

P=$(free_port); S=$(free_port)
start_backend "$S" src
LISTENER_EXTRA="tls_cert = $TMP/live.crt
tls_key = $TMP/live.key" \
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
keyline=$(grep -n '^tls_key' "$TMP/sw.conf" | cut -d: -f1)
certline=$(grep -n '^tls_cert' "$TMP/sw.conf" | cut -d: -f1)
start_proxy "$TMP/sw.conf"

# served_cn: the subject CN a new connection is shown.
served_cn() {
	openssl s_client -connect "127.0.0.1:$P" -servername localhost </dev/null 2>/dev/null |
	    openssl x509 -noout -subject 2>/dev/null | sed -n 's/.*CN *= *//p'
}
# ka_get: one request on the kept-alive connection; prints the JSON body.
ka_get() {
	local line i
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' >&"${KA[1]}"
	for i in $(seq 40); do
		IFS= read -r -t 10 line <&"${KA[0]}" || return 1
		case "$line" in *'"name":'*) echo "$line"; return 0 ;; esac
	done
	return 1
}
# wait_log TEXT N: up to 5 s for TEXT to appear N times in the log.
wait_log() {
	local i
	for i in $(seq 50); do
		[ "$(grep -c "$1" "$TMP/switchover.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

check "a new connection is shown the first certificate" first "$(served_cn)"
coproc KA { openssl s_client -quiet -connect "127.0.0.1:$P" -servername localhost \
    -verify_return_error -CAfile "$TMP/ca.crt" 2>"$TMP/ka.err"; }
PIDS+=($KA_PID)
check_match "keep-alive client: first request" '"name":"src"' "$(ka_get || echo none)"

cp "$TMP/second.crt" "$TMP/live.crt"
cp "$TMP/second.key" "$TMP/live.key"
kill -HUP "$SW_PID"
wait_log 'reload done' 1 || true
check "after SIGHUP a new connection is shown the second certificate" second "$(served_cn)"
check_match "the kept-alive connection still works after the reload" '"name":"src"' "$(ka_get || echo none)"
check_match "HTTPS with the CA works on the new certificate" '"name":"src"' \
    "$(curl -s --cacert "$TMP/ca.crt" "https://127.0.0.1:$P/")"

# A broken certificate is refused; the second one keeps serving.
echo "not a certificate" >"$TMP/live.crt"
kill -HUP "$SW_PID"
wait_log 'reload failed' 1 || true
check_match "a broken certificate is refused with file:line" "sw.conf:$certline: tls_cert: .*live.crt is not a PEM certificate chain" "$(cat "$TMP/switchover.log")"
check "the running certificate keeps serving" second "$(served_cn)"
check_match "and so does the kept-alive connection" '"name":"src"' "$(ka_get || echo none)"

# A key that does not match its certificate: -t and SIGHUP refuse it.
cp "$TMP/second.crt" "$TMP/live.crt"
cp "$TMP/first.key" "$TMP/live.key"
set +e
out=$("$SWITCHOVER" -t -c "$TMP/sw.conf" 2>&1); rc=$?
set -e
check "switchover -t with a mismatched key exits 1" 1 "$rc"
check_match "and names the key's file:line" "sw.conf:$keyline: tls_key: .*live.key" "$out"
kill -HUP "$SW_PID"
wait_log 'reload failed' 2 || true
check_match "SIGHUP refuses the mismatched key" "sw.conf:$keyline: tls_key: .*live.key.*(mismatch|does not match)" "$(cat "$TMP/switchover.log")"
check "the running certificate still serves" second "$(served_cn)"

rm "$TMP/live.key"
set +e
out=$("$SWITCHOVER" -t -c "$TMP/sw.conf" 2>&1); rc=$?
set -e
check_match "switchover -t names a missing key file" "sw.conf:$keyline: tls_key: cannot read .*live.key: No such file" "$out"
cp "$TMP/second.key" "$TMP/live.key"
check "switchover -t passes once they match" "configuration OK" "$("$SWITCHOVER" -t -c "$TMP/sw.conf" 2>&1)"
sw_finish
