#!/usr/bin/env bash
# allocfail: allocation failures on a connection's path fail that
# connection only, cleanly.  The proxy runs with tests/inject.so
# preloaded (see tests/inject.c):
#  - a request head that cannot be built is answered 503 and goes no
#    further (before: its body went upstream alone, and was read there
#    as a request of its own);
#  - a response head that cannot be built is answered 502, never a body
#    without its head;
#  - a TLS conn that cannot be made (SSL_set_fd fails; conn_tls frees
#    the SSL) fails that connection, on either side, without a double
#    free; everyone after is served.
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"
: "${INJECT:=./tests/inject.so}"

# start_injected CONF KNOB=VALUE: the proxy with the injector preloaded
# (ASan accepts a preload ahead of its runtime only when told so).
start_injected() {
	local port
	port=$(sed -n 's/^address *= *127.0.0.1:\([0-9]*\).*/\1/p' "$1" | head -n 1)
	env "$2" LD_PRELOAD="$INJECT" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    "$SWITCHOVER" -c "$1" >>"$TMP/switchover.log" 2>&1 &
	SW_PID=$!
	PIDS+=($SW_PID)
	wait_port "$port"
}

# ---- heads that cannot be built -------------------------------------------
P=$(free_port); S=$(free_port)
# One line per request read; /bighead is answered with a 40 KB header.
python3 - "$S" "$TMP/seen.log" >"$TMP/backend-py.log" 2>&1 <<'PY' &
import socket, sys, threading

port, log = int(sys.argv[1]), sys.argv[2]

def serve(conn):
    f = conn.makefile("rb")
    try:
        while True:
            line = f.readline()
            if not line:
                return
            length = 0
            while True:
                h = f.readline()
                if not h or h in (b"\r\n", b"\n"):
                    break
                name, _, value = h.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length:
                f.read(length)
            target = line.decode("latin-1").split(" ")[1]
            with open(log, "a") as out:
                out.write(target + "\n")
            pad = b"X-Pad: " + b"p" * 40000 + b"\r\n" if target == "/bighead" else b""
            body = b'{"ok":true}\n'
            conn.sendall(b"HTTP/1.1 200 OK\r\n" + pad +
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    except OSError:
        pass
    finally:
        f.close()
        conn.close()

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
PIDS+=($!)
wait_port "$S"
: >"$TMP/seen.log"

proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_injected "$TMP/sw.conf" SW_INJECT_RESERVE_MIN=32768
U="http://127.0.0.1:$P"

pad=$(head -c 40000 /dev/zero | tr '\0' a)
smuggled=$'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
code=$(curl -s -o "$TMP/body1" -w '%{http_code}' -H "X-Pad: $pad" \
    -H 'Content-Type: application/json' --data-binary "$smuggled" \
    "$U/idx/_doc" || true)
check "a request head that cannot be built: 503" 503 "$code"
check_match "  and the answer says why" '"reason":"cannot build the request head' "$(cat "$TMP/body1")"
check "  and its body never reached the backend as a request" 0 \
    "$(grep -c '^/smuggled' "$TMP/seen.log" || true)"

code=0
out=$(curl -s -w ' %{http_code}' "$U/bighead") || code=$?
check "a response head that cannot be built: 502, not a body without a head" \
    "0 502" "$code ${out##* }"
check_match "  and the answer says why" '"reason":"cannot build the response head' "$out"
check_match "the next request is served" '"ok":true' "$(curl -s "$U/")"
kill -0 "$SW_PID" && ok "proxy alive after failed heads" || fail "proxy died on a failed head"
kill "$SW_PID"; wait_exit "$SW_PID" 10 || true

# ---- TLS conns that cannot be made -------------------------------------------
P=$(free_port); T=$(free_port)
start_backend "$T" tlsbe -C "$TMP/server.crt" -K "$TMP/server.key"
# No pool: every request makes a TLS connection upstream too.  Every
# third TLS conn fails, on whichever side it is made.
LISTENER_EXTRA="$TLS_LISTENER" UPSTREAM_EXTRA="pool_max_idle = 0
max_fails = 0" proxy_conf "$TMP/tls.conf" "$P" "127.0.0.1:$T" 1 "127.0.0.1:$T" 0 "tls = on
tls_ca_file = $TMP/ca.crt"
# The extra keys above went to target; source gets them too.
sed -i "/^\[backend source\]/a tls = on\ntls_ca_file = $TMP/ca.crt" "$TMP/tls.conf"
start_injected "$TMP/tls.conf" SW_INJECT_TLS_FAIL=3
CURL=(curl -s --cacert "$TMP/ca.crt" --resolve "localhost:$P:127.0.0.1")
codes=""
for i in $(seq 12); do
	codes+="$("${CURL[@]}" -o /dev/null -w '%{http_code}' "https://localhost:$P/" || true) "
done
echo "# 12 HTTPS requests: $codes"
n200=$(grep -o '200' <<<"$codes" | wc -l || true)
n502=$(grep -o '502' <<<"$codes" | wc -l || true)
n000=$(grep -o '000' <<<"$codes" | wc -l || true)
# Which requests fail depends on the calls before them (wait_port's probe
# is a TLS accept too): count kinds, not places.
check "12 outcomes, each an answer, an upstream 502 or a cut handshake" 12 \
    "$((n200 + n502 + n000))"
check "  some TLS accepts failed (connection cut)" true "$([ "$n000" -ge 1 ] && echo true || echo false)"
check "  some TLS connects upstream failed (502)" true "$([ "$n502" -ge 1 ] && echo true || echo false)"
check "  and at least a third were answered" true "$([ "$n200" -ge 4 ] && echo true || echo false)"
check_match "the client side failure is logged as ours" 'cannot set up a new connection' \
    "$(cat "$TMP/switchover.log")"
check_match "the upstream side failure says no memory, not the server's fault" \
    'cannot connect to upstream .*: Cannot allocate memory' "$(cat "$TMP/switchover.log")"
kill -0 "$SW_PID" && ok "proxy alive after failed TLS conns" || fail "proxy died (double free?)"
sw_finish
