#!/usr/bin/env bash
# tls-listener: an HTTPS listener next to a plain one.  Clients that trust
# the test CA get answers with X-Forwarded-Proto https; TLS 1.1 and plain
# HTTP on the TLS port are refused, counted in the log, and hurt no one;
# ALPN says http/1.1, keep-alive holds over TLS, sessions resume.
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"


P=$(free_port); Q=$(free_port); S=$(free_port)
start_backend "$S" src
LISTENER_EXTRA="$TLS_LISTENER

[listener plain]
address = 127.0.0.1:$Q" \
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
wait_port "$Q"
H="https://localhost:$P"
CURL=(curl -s --cacert "$TMP/ca.crt" --resolve "localhost:$P:127.0.0.1")

check "switchover -t accepts the TLS listener" "configuration OK" \
    "$("$SWITCHOVER" -t -c "$TMP/sw.conf" 2>&1)"
check_match "HTTPS with the test CA" '"name":"src"' "$("${CURL[@]}" "$H/")"
echo="$("${CURL[@]}" "$H/_test/echo")"
check_match "X-Forwarded-Proto is https on the TLS listener" '\["X-Forwarded-Proto","https"\]' "$echo"
check_match "X-Forwarded-Port is the TLS listener's" "\[\"X-Forwarded-Port\",\"$P\"\]" "$echo"
echo="$(curl -s "http://127.0.0.1:$Q/_test/echo")"
check_match "the plain listener serves at the same time" '\["X-Forwarded-Proto","http"\]' "$echo"
check_match "with its own port" "\[\"X-Forwarded-Port\",\"$Q\"\]" "$echo"

# Without the CA the client refuses our certificate (it is really TLS).
code=0; curl -s -o /dev/null "$H/" --resolve "localhost:$P:127.0.0.1" || code=$?
check "a client without the test CA refuses the certificate" 60 "$code"

# TLS 1.1 and older are refused at the handshake.  The clients lower their
# own security level so that the refusal can only come from the proxy.
code=0; "${CURL[@]}" -o /dev/null --ciphers 'DEFAULT:@SECLEVEL=0' \
    --tlsv1.1 --tls-max 1.1 "$H/" || code=$?
check "curl --tls-max 1.1 is refused" 35 "$code"
out=$(openssl s_client -connect "127.0.0.1:$P" -tls1_1 \
    -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1 || true)
check_match "openssl s_client -tls1_1 gets a protocol version alert" 'alert protocol version' "$out"
# Plain HTTP on the TLS port is not answered as HTTP.
code=0; curl -s -o /dev/null "http://127.0.0.1:$P/" || code=$?
check_match "plain HTTP to the TLS port fails" '^(52|56)$' "$code"
for i in $(seq 50); do
	[ "$(grep -c 'TLS handshake failed' "$TMP/switchover.log")" -ge 3 ] && break
	sleep 0.1
done
log=$(cat "$TMP/switchover.log")
check_match "a refused handshake is logged with OpenSSL's reason" 'TLS handshake failed on port [0-9]+: unsupported protocol' "$log"
check_match "plain HTTP on the TLS port is logged" 'TLS handshake failed on port [0-9]+: http request' "$log"
check_match "and the proxy still serves HTTPS" '"name":"src"' "$("${CURL[@]}" "$H/")"

# ALPN: a client offering h2 and http/1.1 is told http/1.1.
out=$(openssl s_client -connect "127.0.0.1:$P" -servername localhost \
    -CAfile "$TMP/ca.crt" -alpn h2,http/1.1 </dev/null 2>&1 || true)
check_match "ALPN selects http/1.1" 'ALPN protocol: http/1.1' "$out"
check_match "the chain verifies against the test CA" 'Verify return code: 0 \(ok\)' "$out"
check_match "TLS 1.3 is offered" 'TLSv1.3' "$out"

# tls_min_version = 1.3 refuses a TLS 1.2 client.
P2=$(free_port)
LISTENER_EXTRA="$TLS_LISTENER
tls_min_version = 1.3" \
ADMIN_PORT=$(free_port) WORKERS=1 proxy_conf "$TMP/sw13.conf" "$P2" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw13.conf"
code=0; curl -s -o /dev/null --cacert "$TMP/ca.crt" --tls-max 1.2 \
    "https://127.0.0.1:$P2/" || code=$?
check "tls_min_version = 1.3 refuses TLS 1.2" 35 "$code"
check_match "and serves TLS 1.3" '"name":"src"' \
    "$(curl -s --cacert "$TMP/ca.crt" --tlsv1.3 "https://127.0.0.1:$P2/")"

# Keep-alive over TLS: three requests, one connection.
n=$("${CURL[@]}" -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' \
    "$H/" "$H/_search" "$H/")
check "three HTTPS requests on one client connection" "1 0 0" "$(echo $n)"

# Session resumption (tickets): a second connection resumes the first's session.
openssl s_client -connect "127.0.0.1:$P" -CAfile "$TMP/ca.crt" -tls1_2 \
    -sess_out "$TMP/sess" </dev/null >"$TMP/s1.out" 2>&1 || true
out=$(openssl s_client -connect "127.0.0.1:$P" -CAfile "$TMP/ca.crt" -tls1_2 \
    -sess_in "$TMP/sess" </dev/null 2>&1 || true)
check_match "a TLS 1.2 session resumes" '^Reused, ' "$(echo "$out" | grep -E '^(New|Reused),')"

# Listening sockets are bound at start: a reload that adds one is refused.
R=$(free_port)
printf '\n[listener more]\naddress = 127.0.0.1:%s\n' "$R" >>"$TMP/sw13.conf"
kill -HUP "$SW_PID"
for i in $(seq 50); do grep -q 'reload failed' "$TMP/switchover.log" && break; sleep 0.1; done
check_match "a reload adding a listener is refused" 'listeners were added, removed or renamed: that needs a restart' "$(cat "$TMP/switchover.log")"
check_match "and the running listener keeps serving" '"name":"src"' \
    "$(curl -s --cacert "$TMP/ca.crt" --tlsv1.3 "https://127.0.0.1:$P2/")"
sw_finish
