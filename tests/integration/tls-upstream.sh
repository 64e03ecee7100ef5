#!/usr/bin/env bash
# tls-upstream: backends with tls = on.  Verification is on by default
# (test CA through tls_ca_file); a certificate from another CA or for
# another name gets a 502 that says why, unless tls_verify = off, which is
# logged loudly; SNI is sent (and not for an IP address); a client
# certificate is presented when asked (mTLS); pooled connections are
# reused and new ones resume the TLS session.
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"

cert_issue ca client "DNS:client"
cert_ca rogue
cert_issue rogue imposter "DNS:localhost,IP:127.0.0.1"

S1=$(free_port); S2=$(free_port); S3=$(free_port)
start_backend "$S1" good -C "$TMP/server.crt" -K "$TMP/server.key"
start_backend "$S2" bad -C "$TMP/imposter.crt" -K "$TMP/imposter.key"
start_backend "$S3" mtls -C "$TMP/server.crt" -K "$TMP/server.key" -A "$TMP/ca.crt"

# upconf FILE PORT SERVER [KEYS]: one backend "source" with tls = on.
upconf() {
	cat >"$1" <<CONF
[proxy]
workers = ${WORKERS:-1}

[admin]
address = off

[listener]
address = 127.0.0.1:$2

[backend source]
servers = $3
weight = 1
tls = on
${4:-}
CONF
}

# proxy_for NAME SERVER [KEYS]: start a proxy for that backend; sets U.
proxy_for() {
	local p
	p=$(free_port)
	upconf "$TMP/$1.conf" "$p" "$2" "${3:-}"
	start_proxy "$TMP/$1.conf"
	U="http://127.0.0.1:$p"
}

# Verified by address: the certificate has IP:127.0.0.1; no SNI for an IP.
proxy_for ip "127.0.0.1:$S1" "tls_ca_file = $TMP/ca.crt"
check_match "verified TLS upstream by IP address" '"name":"good"' "$(curl -s "$U/")"
check_match "no SNI is sent for an IP address" '"tls_sni":""' "$(curl -s "$U/_test/echo")"

# Verified by name with SNI: tls_server_name.
proxy_for sni "127.0.0.1:$S1" "tls_ca_file = $TMP/ca.crt
tls_server_name = localhost"
check_match "verified TLS upstream by name" '"name":"good"' "$(curl -s "$U/")"
check_match "SNI names the server" '"tls_sni":"localhost"' "$(curl -s "$U/_test/echo")"

# A certificate from another CA: 502, with the reason, counted in the log.
proxy_for rogue "127.0.0.1:$S2" "tls_ca_file = $TMP/ca.crt"
out=$(curl -s -w ' %{http_code}' "$U/")
check_match "an untrusted upstream certificate gets 502" ' 502$' "$out"
check_match "the JSON error says it is TLS" '"type":"tls_exception"' "$out"
check_match "and why" 'certificate verify failed' "$out"
check "the untrusted backend served nothing" 0 "$(backend_stat "$S2" requests "$TMP/rogue.crt")"
check_match "the failure is logged" 'TLS handshake with upstream 127.0.0.1:[0-9]+ failed: certificate verify failed' "$(cat "$TMP/switchover.log")"

# The right CA but another name: 502 too.
proxy_for name "127.0.0.1:$S1" "tls_ca_file = $TMP/ca.crt
tls_server_name = other.example"
out=$(curl -s -w ' %{http_code}' "$U/")
check_match "a certificate for another name gets 502" ' 502$' "$out"
check_match "and says the name does not match" 'hostname mismatch' "$out"

# The system CA store does not know the test CA.
proxy_for system "127.0.0.1:$S1"
check_match "verification against the system store refuses the test CA" ' 502$' "$(curl -s -w ' %{http_code}' "$U/")"

# tls_verify = off: the self-signed proxy case; accepted, and said loudly.
proxy_for off "127.0.0.1:$S2" "tls_verify = off"
check_match "tls_verify = off accepts any certificate" '"name":"bad"' "$(curl -s "$U/")"
check_match "tls_verify = off is logged at start" 'backend source: tls_verify = off: its servers. certificates are NOT checked' "$(cat "$TMP/switchover.log")"
n0=$(grep -c 'tls_verify = off' "$TMP/switchover.log")
kill -HUP "$SW_PID"
for i in $(seq 50); do grep -q 'reload done' "$TMP/switchover.log" && break; sleep 0.1; done
check "and again at each reload" $((n0 + 1)) "$(grep -c 'tls_verify = off' "$TMP/switchover.log")"

# mTLS: a server that requires a client certificate.
proxy_for nocert "127.0.0.1:$S3" "tls_ca_file = $TMP/ca.crt"
check_match "without a client certificate the mTLS server refuses" ' 502$' "$(curl -s -w ' %{http_code}' "$U/")"
proxy_for mtls "127.0.0.1:$S3" "tls_ca_file = $TMP/ca.crt
tls_cert = $TMP/client.crt
tls_key = $TMP/client.key"
check_match "with tls_cert/tls_key the mTLS server answers" '"name":"mtls"' "$(curl -s "$U/")"
check_match "and saw our client certificate" '"tls_client":"/CN ?= ?client"' "$(curl -s "$U/_test/echo")"

# Keep-alive: five requests through one worker make one TLS connection.
proxy_for keepalive "127.0.0.1:$S1" "tls_ca_file = $TMP/ca.crt"
IPU=$U
h0=$(backend_stat "$S1" tls_handshakes)
for i in 1 2 3 4 5; do curl -s -o /dev/null "$IPU/_search"; done
h1=$(backend_stat "$S1" tls_handshakes)
# h1 counts its own stats connection, so one pooled connection is +2.
check "five requests reuse one upstream TLS connection" 2 $((h1 - h0))

# Session reuse: two requests at once need a second connection, which
# resumes the session of the pooled one.
r0=$(backend_stat "$S1" tls_resumed)
curl -s -o /dev/null "$IPU/_test/delay/300" & d1=$!
curl -s -o /dev/null "$IPU/_test/delay/300" & d2=$!
wait $d1 $d2
r1=$(backend_stat "$S1" tls_resumed)
check "a new upstream connection resumes the TLS session" 1 $((r1 - r0))
check_match "requests still verified after all that" '"name":"good"' "$(curl -s "$IPU/")"
sw_finish
