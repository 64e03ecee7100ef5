#!/usr/bin/env bash
# signals: SIGTERM finishes in-flight requests then exits 0; SIGHUP with a
# broken file keeps the old config serving.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port)
start_backend "$S" src
WORKERS=2 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"

# A broken reload is refused and the old config keeps serving.
cp "$TMP/sw.conf" "$TMP/good.conf"
echo "weight = banana" >>"$TMP/sw.conf"
kill -HUP "$SW_PID"
for i in $(seq 50); do grep -q "reload failed" "$TMP/switchover.log" && break; sleep 0.1; done
check_match "bad reload is reported with file:line" "sw.conf:[0-9]+: weight" "$(cat "$TMP/switchover.log")"
check_match "bad reload keeps serving" '"name":"src"' "$(curl -s "$U/")"
cp "$TMP/good.conf" "$TMP/sw.conf"

# An idle keep-alive client and an in-flight slow request, then SIGTERM.
curl -s -o "$TMP/slow" -w '%{http_code}' "$U/_test/delay/1500" >"$TMP/slow.code" &
slow=$!
exec 3<>"/dev/tcp/127.0.0.1/$P"
sleep 0.5
kill -TERM "$SW_PID"
wait "$slow" || true
check "in-flight request finished during shutdown" 200 "$(cat "$TMP/slow.code")"
wait_exit "$SW_PID" 10 || true
check "switchover exited 0 after SIGTERM" 0 "$WAIT_RC"
if (exec 4<>"/dev/tcp/127.0.0.1/$P") 2>/dev/null; then fail "still accepting after shutdown"; else ok "no longer accepting"; fi
exec 3<&- 3>&-
check_match "log says it stopped" 'stopped' "$(tail -n 3 "$TMP/switchover.log")"
sw_finish
