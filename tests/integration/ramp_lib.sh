# ramp_lib.sh: helpers for the ramp tests.  Source it after lib.sh.

# ramp_pair "SOURCE_BACKEND_ARGS" "TARGET_BACKEND_ARGS" RAMP_KEYS [EXTRA]:
# backends source and target (bench/backend with those extra flags), and
# a proxy with a state file, an audit log, [drain] spread = 1s and a
# [ramp] section holding RAMP_KEYS; sets P, S, T, U, A (admin URL).
ramp_pair() {
	P=$(free_port); S=$(free_port); T=$(free_port)
	ADMIN_PORT=$(free_port)
	# shellcheck disable=SC2086
	start_backend "$S" source $1
	# shellcheck disable=SC2086
	start_backend "$T" target $2
	ADMIN_EXTRA="" proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 \
	    "$(printf '[state]\nfile = %s\naudit_log = %s\n[drain]\nspread = 1s\n[ramp]\n%s\n%s\n' \
	    "$TMP/state.json" "$TMP/audit.log" "$3" "${4:-}")"
	start_proxy "$TMP/sw.conf"
	U="http://127.0.0.1:$P"
	A="http://127.0.0.1:$ADMIN_PORT"
}

# ramp_get JQ: a field of GET /ramp.
ramp_get() { curl -s "$A/ramp" | jq -r "$1"; }

# wait_ramp REGEX SECONDS: until the ramp's state matches; 1 if it never did.
wait_ramp() {
	local i
	for i in $(seq $(( $2 * 10 ))); do
		[[ "$(ramp_get .state)" =~ ^($1)$ ]] && return 0
		sleep 0.1
	done
	echo "ramp state still $(ramp_get .state) after $2 s, not /$1/" >&2
	return 1
}

# ramp_load SECONDS: closed-loop load through the proxy (4 connections,
# 300 requests/s at most, so the machine's other tests still run);
# sets LG (its PID), output in $TMP/lg.out.
ramp_load() {
	"$LOADGEN" -p "$P" -c 4 -R 300 -d "$1" -t 10000 -j >"$TMP/lg.out" 2>&1 &
	LG=$!
	PIDS+=($LG)
}
