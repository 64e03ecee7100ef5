#!/usr/bin/env bash
# state: an acknowledged weight change survives SIGKILL and restart; the
# saved weights win over the config file; a corrupt state file is refused
# with a clear error; SIGHUP keeps the running weights unless the file
# changed them, and the state file follows what is served.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source-1
start_backend "$T" target-1
proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 "
[state]
file = $TMP/state.json"
A="http://127.0.0.1:$ADMIN_PORT"
U="http://127.0.0.1:$P"
weights() { curl -s "$A/weights" | tr -d ' \n'; }
served_by() { curl -s "$U/" | sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p'; }

start_proxy "$TMP/sw.conf"; wait_port "$ADMIN_PORT"
check "no state file before a change" no "$([ -e "$TMP/state.json" ] && echo yes || echo no)"

# Acknowledged, then killed at once: the change must be on disk.
check "PUT acknowledged" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d '{"source":2,"target":5}' "$A/weights")"
kill -KILL "$SW_PID"; wait_exit "$SW_PID" 10
check_match "state file holds the change" '"weights": *\{"source": *2, *"target": *5\}' "$(cat "$TMP/state.json")"
check "no temp file left" no "$([ -e "$TMP/state.json.tmp" ] && echo yes || echo no)"
start_proxy "$TMP/sw.conf"; wait_port "$ADMIN_PORT"
check "after SIGKILL and restart the saved weights serve" '{"source":2,"target":5}' "$(weights)"
check_match "the log says the state file won" 'weights from state file .*state.json win over the config file: source=2 target=5' "$(cat "$TMP/switchover.log")"

# Many changes, the last one acknowledged just before SIGKILL.
for w in 1 2 3 4 5 6 7 8 9; do
	curl -s -o /dev/null -X PUT -d "{\"target\":$w}" "$A/weights"
done
kill -KILL "$SW_PID"; wait_exit "$SW_PID" 10
start_proxy "$TMP/sw.conf"; wait_port "$ADMIN_PORT"
check "the last of 9 quick changes survived" '{"source":2,"target":9}' "$(weights)"

# SIGHUP with the file's weights unchanged: running weights stay.
: >"$TMP/switchover.log"
kill -HUP "$SW_PID"
for i in $(seq 50); do grep -q "reload done" "$TMP/switchover.log" && break; sleep 0.1; done
check "SIGHUP, file unchanged: running weights stay" '{"source":2,"target":9}' "$(weights)"
# SIGHUP with a weight changed in the file: the file wins, state follows.
sed -i '/^\[backend target\]/,/^\[/ s/^weight = 0/weight = 4/' "$TMP/sw.conf"
: >"$TMP/switchover.log"
kill -HUP "$SW_PID"
for i in $(seq 50); do grep -q "reload done" "$TMP/switchover.log" && break; sleep 0.1; done
check "SIGHUP, target changed in the file: it wins" '{"source":2,"target":4}' "$(weights)"
check_match "and the state file follows" '"source": *2, *"target": *4' "$(cat "$TMP/state.json")"
# A reload that would zero every weight is refused whole.
sed -i '/^\[backend target\]/,/^\[/ s/^weight = 4/weight = 0/' "$TMP/sw.conf"
sed -i '/^\[backend source\]/,/^\[/ s/^weight = 1/weight = 0/' "$TMP/sw.conf"
: >"$TMP/switchover.log"
kill -HUP "$SW_PID"
for i in $(seq 50); do grep -q "reload failed" "$TMP/switchover.log" && break; sleep 0.1; done
check_match "SIGHUP to all-zero is refused" 'reload failed' "$(cat "$TMP/switchover.log")"
check "and the running weights stay" '{"source":2,"target":4}' "$(weights)"
kill -TERM "$SW_PID"; wait_exit "$SW_PID" 10
sed -i '/^\[backend source\]/,/^\[/ s/^weight = 0/weight = 1/' "$TMP/sw.conf"

# The state file cannot be written: the change is refused, not half made.
mkdir "$TMP/sd"
sed "s|^file = .*|file = $TMP/sd/state.json|" "$TMP/sw.conf" >"$TMP/sd.conf"
start_proxy "$TMP/sd.conf"; wait_port "$ADMIN_PORT"
before=$(weights)
rmdir "$TMP/sd"; touch "$TMP/sd"	# its directory is now a plain file
check "unwritable state: PUT refused with 500" 500 "$(curl -s -o "$TMP/out" -w '%{http_code}' -X PUT -d '{"target":7}' "$A/weights")"
check_match "  saying why" '"state_exception".*weights not changed: .*sd/state.json' "$(tr -d '\n' <"$TMP/out")"
check "  and nothing changed" "$before" "$(weights)"
kill -TERM "$SW_PID"; wait_exit "$SW_PID" 10

# A corrupt state file: a clear error, from the daemon and from -t.
for bad in '{"weights":{"source":1,' '{"weights":{"source":"x"}}' '{"weights":{"source":0,"target":0}}' '[]'; do
	printf '%s' "$bad" >"$TMP/state.json"
	set +e
	out=$(timeout 20 "$SWITCHOVER" -c "$TMP/sw.conf" 2>&1); rc=$?
	tout=$("$SWITCHOVER" -t -c "$TMP/sw.conf" 2>&1); trc=$?
	set -e
	check "corrupt state $bad: refuses to start" 1 "$rc"
	check_match "  and names the file" "state file: .*state.json" "$out"
	check "  -t refuses it too" 1 "$trc"
done

# A state file naming an unknown backend: ignored with a warning.
printf '{"weights":{"source":3,"gone":1}}' >"$TMP/state.json"
: >"$TMP/switchover.log"
start_proxy "$TMP/sw.conf"; wait_port "$ADMIN_PORT"
check "known backends restored" '{"source":3,"target":0}' "$(weights)"
check_match "unknown one ignored, said so" 'backend gone is not in the config: ignored' "$(cat "$TMP/switchover.log")"
check "and it serves" source-1 "$(served_by)"
sw_finish
