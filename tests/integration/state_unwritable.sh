#!/usr/bin/env bash
# state_unwritable: when the state file cannot be written, a fallback is
# still applied (in memory, answered 200 with a "warning", logged loudly)
# while other weight changes are refused and change nothing; the state
# file's temporary never follows a symlink planted at its name.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source-1
start_backend "$T" target-1
mkdir "$TMP/st"
proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 0 "127.0.0.1:$T" 1 "
[state]
file = $TMP/st/state.json
audit_log = $TMP/audit.log"
A="http://127.0.0.1:$ADMIN_PORT"
U="http://127.0.0.1:$P"
weights() { curl -s "$A/weights" | tr -d ' \n'; }
served_by() { curl -s "$U/" | sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p'; }
code() {
	local m=$1 p=$2
	shift 2
	curl -s -o "$TMP/out" -w '%{http_code}' -X "$m" "$@" "$A$p"
}
start_proxy "$TMP/sw.conf"; wait_port "$ADMIN_PORT"

# 1. A symlink planted at the temporary's name is not followed: the file
# it points at is untouched, and the state file is written all the same.
echo "precious" >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/st/state.json.tmp"
check "a change with a planted symlink" 200 "$(code PUT /weights --data-binary '{"source":3,"target":1}')"
check "  the symlink's target is untouched" precious "$(cat "$TMP/victim")"
check_match "  the state file holds the change" '"source": *3, *"target": *1' "$(cat "$TMP/st/state.json")"
check "  it is a regular file" yes "$([ -f "$TMP/st/state.json" ] && [ ! -L "$TMP/st/state.json" ] && echo yes || echo no)"
check "  no temporary left" no "$([ -e "$TMP/st/state.json.tmp" ] || [ -L "$TMP/st/state.json.tmp" ] && echo yes || echo no)"

# 2. The state directory is gone and a file sits at its name: nothing can
# be written there, even by root.
check "switchover to target first" 200 "$(code POST /switchover)"
mv "$TMP/st" "$TMP/st.gone"
echo "not a directory" >"$TMP/st"
check "PUT /weights cannot be saved: refused" 500 "$(code PUT /weights --data-binary '{"source":1}')"
check_match "  says why" 'weights not changed: .*st/state\.json\.tmp' "$(cat "$TMP/out")"
check "  weights unchanged" '{"source":0,"target":1}' "$(weights)"
check "POST /fallback is never refused" 200 "$(code POST /fallback --data-binary '{"reason":"disk full"}')"
check_match "  it answers with a warning" '"warning": *"applied in memory only' "$(cat "$TMP/out")"
check_match "  and the new weights" '"source": *1,.*"target": *0' "$(tr -d '\n' <"$TMP/out")"
check "  weights on source" '{"source":1,"target":0}' "$(weights)"
check "  the next request goes to source" source-1 "$(served_by)"
check_match "  logged loudly" 'error: STATE FILE NOT WRITTEN: .*st/state\.json\.tmp.*source=1 target=0 applied in memory only' "$(cat "$TMP/switchover.log")"
check_match "  and audited" '"reason":"disk full"' "$(tail -n 1 "$TMP/audit.log")"
check "POST /switchover cannot be saved: refused" 500 "$(code POST /switchover)"
check "  weights still on source" '{"source":1,"target":0}' "$(weights)"

# 3. switchoverctl shows the warning and still succeeds.
rm "$TMP/st"; mv "$TMP/st.gone" "$TMP/st"
check "switchover again, the disk back" 200 "$(code POST /switchover)"
rm -r "$TMP/st"; echo "not a directory" >"$TMP/st"
set +e
out=$("$SWITCHOVERCTL" -a "http://127.0.0.1:$ADMIN_PORT" fallback 2>&1); rc=$?
set -e
check "switchoverctl fallback exits 0" 0 "$rc"
check_match "  and prints the warning" 'warning: applied in memory only' "$out"
check "  weights on source" '{"source":1,"target":0}' "$(weights)"
sw_finish
