#!/usr/bin/env bash
# ctl: a whole cutover and fallback with switchoverctl, as an operator
# runs it: status and top tables, set/switchover/fallback moving traffic,
# and exit codes a script can rely on (0 ok, 1 refused, 2 usage, 3 down).
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source-1
start_backend "$T" target-1
printf 'tok-%s\n' "$RANDOM$RANDOM" >"$TMP/token"
chmod 600 "$TMP/token"
ADMIN_EXTRA="token_file = $TMP/token" proxy_conf "$TMP/sw.conf" "$P" \
    "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 "
[state]
audit_log = $TMP/audit.log"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
U="http://127.0.0.1:$P"
ctl() { "$SWITCHOVERCTL" -a "http://127.0.0.1:$ADMIN_PORT" -t "$TMP/token" "$@"; }
# rc CMD...: the exit status, without ending the test.
rc() { local r=0; "$@" >"$TMP/out" 2>"$TMP/err" || r=$?; echo "$r"; }
served() { curl -s "$U/" | sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p'; }

for i in 1 2 3 4; do curl -s "$U/" >/dev/null; done
check "weights" "source=1 target=0" "$(ctl weights)"
status=$(ctl status)
check_match "status: a header" 'BACKEND +WEIGHT +SPLIT +REQ/S +2XX/S +3XX/S +4XX/S +5XX/S' "$status"
check_match "status: source row, all of the split" 'source +1 +100\.0%' "$status"
check_match "status: target row" 'target +0 ' "$status"
check_match "status: client line" 'clients: [0-9]+ connections' "$status"

# The cutover: 10 %, 50 %, all, then fall back.
check "set target=1 source=9" "source=9 target=1" "$(ctl -r 'canary' set target=1 source=9)"
check "set target=1 source=1" "source=1 target=1" "$(ctl set source=1 target=1)"
check "switchover" "source=0 target=1" "$(ctl -r 'cutover' switchover)"
check "the next request goes to target" target-1 "$(served)"
check "fallback" "source=1 target=0" "$(ctl fallback)"
check "the next request goes to source" source-1 "$(served)"
check_match "the reason reached the audit log" '"reason":"canary"' "$(head -n 1 "$TMP/audit.log")"

out=$(ctl -n 2 top)
check "top -n 2 draws the table twice" 2 "$(grep -c '^BACKEND' <<<"$out")"

# Exit codes and messages.
check "refused by the proxy: 1" 1 "$(rc ctl set source=0 target=0)"
check_match "  with the proxy's reason" 'refused \(400\): every weight would be 0' "$(cat "$TMP/err")"
check "unknown backend: 1" 1 "$(rc ctl set nope=1)"
check_match "  names it" 'unknown backend \\?"nope' "$(cat "$TMP/err")"
check "no token: 1" 1 "$(rc "$SWITCHOVERCTL" -a "http://127.0.0.1:$ADMIN_PORT" weights)"
check_match "  says the token is missing" '401.*token' "$(cat "$TMP/err")"
check "bad weight syntax: 2" 2 "$(rc ctl set target=abc)"
check "weight out of range: 2" 2 "$(rc ctl set target=1000)"
check "set without arguments: 2" 2 "$(rc ctl set)"
check "unknown command: 2" 2 "$(rc ctl frobnicate)"
check "no command: 2" 2 "$(rc ctl)"
check "missing token file: 2" 2 "$(rc "$SWITCHOVERCTL" -t "$TMP/none" weights)"
check "-h: 0" 0 "$(rc "$SWITCHOVERCTL" -h)"
check_match "-h lists the commands" 'switchover +all traffic to target' "$(cat "$TMP/out")"
check "nobody listening: 3" 3 "$(rc "$SWITCHOVERCTL" -a "http://127.0.0.1:$(free_port)" status)"
check_match "  says it cannot reach" 'cannot reach' "$(cat "$TMP/err")"
check "weights unchanged by all that" "source=1 target=0" "$(ctl weights)"
sw_finish
