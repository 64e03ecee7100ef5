#!/usr/bin/env bash
# policies: a keep-alive client pinned to source (policy = connection)
# keeps sending while the weights move to target by SIGHUP: it is drained
# to target and sees no failed request.  Sticky: a key stays on its
# backend across connections, and raising target only moves keys to it.
set -euo pipefail
source "$TESTLIB"
sw_init

start_pair 1 1 "$(printf '[routing]\npolicy = connection\n[drain]\nspread = 1s\n')"

# One curl, one keep-alive connection, 40 requests: all on one backend.
urls=(); for i in $(seq 40); do urls+=(-o /dev/null "$U/"); done
curl -s -w '%header{x-backend}\n' "${urls[@]}" >"$TMP/pin.out"
check "policy connection: 40 requests on one connection, one backend" 1 \
    "$(sort -u "$TMP/pin.out" | wc -l)"

# Pinned to source: a client sending ~20 requests a second throughout.
# Not curl: it silently sends a request again when a reused connection
# closes under it, which would hide a request the drain lost.  This one
# opens a new connection only after an answer that said Connection:
# close, and counts anything else as a failure.  Lines: "STATUS BACKEND
# NEW_CONNECTION(0/1)", or "ERR reason - 1".
reweight "$TMP/sw.conf" 1 0
python3 - "$P" 150 /_test/delay/20 >"$TMP/move.out" 2>"$TMP/move.err" <<'PY' &
import http.client, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conn = None
for i in range(n):
    new = 0
    if conn is None:
        conn, new = http.client.HTTPConnection("127.0.0.1", port, timeout=30), 1
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        print(r.status, r.getheader("X-Backend"), new, flush=True)
        if r.will_close:
            conn.close()
            conn = None
    except Exception as e:
        print("ERR", type(e).__name__, "-", 1, flush=True)
        conn.close()
        conn = None
PY
client=$!
PIDS+=($client)
for i in $(seq 200); do [ "$(wc -l <"$TMP/move.out")" -ge 20 ] && break; sleep 0.1; done
reweight "$TMP/sw.conf" 0 1
wait_exit "$client" 60 || true
check "the client ran to its end" 0 "$WAIT_RC"
check "150 answers" 150 "$(wc -l <"$TMP/move.out")"
check "zero failed requests" 0 "$(grep -vc '^200 ' "$TMP/move.out" || true)"
check "it started on source" "source" "$(head -n 1 "$TMP/move.out" | cut -d' ' -f2)"
check "it ended on target" "target" "$(tail -n 1 "$TMP/move.out" | cut -d' ' -f2)"
# Once on target, never back: the backend column changes exactly once.
check "source then target, one move" "source target" \
    "$(cut -d' ' -f2 "$TMP/move.out" | uniq | xargs)"
check "the move was one reconnect" 1 \
    "$(awk '$3 == 1' "$TMP/move.out" | sed 1d | wc -l)"

# Sticky by header: a key keeps its backend over separate connections.
kill "$SW_PID"; wait_exit "$SW_PID" 10 || true
WORKERS=2 proxy_conf "$TMP/st.conf" "$P" "127.0.0.1:$S" 50 "127.0.0.1:$T" 50 \
    "$(printf '[routing]\npolicy = sticky\nsticky_key = header:X-Opaque-Id\n')"
start_proxy "$TMP/st.conf"
sticky_run() {	# one connection per key: key backend
	local k
	for k in $(seq 60); do
		echo "$k $(curl -s -o /dev/null -w '%header{x-backend}' \
		    -H "X-Opaque-Id: user-$k" "$U/")"
	done
}
sticky_run >"$TMP/st1"
sticky_run >"$TMP/st2"
check "sticky: every key on the same backend twice" "" \
    "$(diff "$TMP/st1" "$TMP/st2")"
check_match "sticky: 50/50 puts keys on both" "source" "$(cat "$TMP/st1")"
check_match "sticky: 50/50 puts keys on both (target)" "target" "$(cat "$TMP/st1")"
reweight "$TMP/st.conf" 20 80
sticky_run >"$TMP/st3"
check "sticky: raising target moves no key back to source" "" \
    "$(join "$TMP/st1" "$TMP/st3" | awk '$2 == "target" && $3 == "source"')"
moved=$(join "$TMP/st1" "$TMP/st3" | awk '$2 != $3' | wc -l)
if [ "$moved" -gt 0 ]; then ok "sticky: some keys moved to target ($moved)"
else fail "sticky: no key moved when target went 50 -> 80"; fi
# No header: falls back to the client address, the same for every call.
check "sticky: without the header, one backend (client IP)" 1 \
    "$(for k in $(seq 10); do curl -s -o /dev/null -w '%header{x-backend}\n' "$U/"; done | sort -u | wc -l)"
sw_finish
