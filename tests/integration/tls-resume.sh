#!/usr/bin/env bash
# tls-resume: a client's second HTTPS connection resumes the first one's
# session (stateless tickets), over TLS 1.3 and TLS 1.2, and a resumed
# connection serves requests.  (The upstream side: tls-upstream.sh.)
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"

P=$(free_port); S=$(free_port)
start_backend "$S" src
LISTENER_EXTRA="$TLS_LISTENER" WORKERS=1 \
    proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"

# resumed VERSION: New/Reused of a second s_client that offers the first
# one's session.  Each sends a request and reads its answer, so a TLS 1.3
# ticket (sent after the handshake) has arrived before it quits.
resumed() {
	local req='GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
	printf "$req" | timeout 20 openssl s_client -connect "127.0.0.1:$P" \
	    -CAfile "$TMP/ca.crt" "$1" -ign_eof -sess_out "$TMP/sess$1" \
	    >"$TMP/first$1.out" 2>&1 || true
	printf "$req" | timeout 20 openssl s_client -connect "127.0.0.1:$P" \
	    -CAfile "$TMP/ca.crt" "$1" -ign_eof -sess_in "$TMP/sess$1" \
	    >"$TMP/second$1.out" 2>&1 || true
	grep -E '^(New|Reused),' "$TMP/second$1.out" | head -n 1 | cut -d, -f1
}

r13=$(resumed -tls1_3)
check_match "the first TLS 1.3 connection is answered" '"name":"src"' "$(cat "$TMP/first-tls1_3.out")"
check "a second TLS 1.3 connection resumes the session" Reused "$r13"
check_match "and is answered" '"name":"src"' "$(cat "$TMP/second-tls1_3.out")"
check "a second TLS 1.2 connection resumes the session" Reused "$(resumed -tls1_2)"
check_match "and is answered" '"name":"src"' "$(cat "$TMP/second-tls1_2.out")"
sw_finish
