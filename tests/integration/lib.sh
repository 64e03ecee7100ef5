# lib.sh: helpers for integration tests.  Source it, then call sw_init.
#
# Every test runs real processes on loopback ports it picks itself, waits
# in bounded loops only, and kills only the PIDs it started (trap EXIT).
# The environment gives SWITCHOVER, BACKEND, RAWCLIENT and LOADGEN (make
# check sets them); defaults point into the build tree for running a script
# by hand.

: "${SWITCHOVER:=./switchover}"
: "${BACKEND:=./bench/backend}"
: "${RAWCLIENT:=./tests/rawclient}"
: "${LOADGEN:=./bench/loadgen}"

PASS=0
FAIL=0
PIDS=()

sw_init() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sw-test.XXXXXX")
	trap sw_cleanup EXIT
}

sw_cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$FAIL" -gt 0 ] && [ -n "${TMP:-}" ]; then
		echo "--- logs kept in $TMP"
		for f in "$TMP"/*.log; do
			[ -f "$f" ] || continue
			echo "--- $f (last 30 lines)"
			tail -n 30 "$f"
		done
	elif [ -n "${TMP:-}" ]; then
		rm -rf "$TMP"
	fi
}

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }

# check DESCRIPTION EXPECTED ACTUAL
check() {
	if [ "$2" == "$3" ]; then ok "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# check_match DESCRIPTION REGEX TEXT
check_match() {
	if [[ "$3" =~ $2 ]]; then ok "$1"; else fail "$1: '$3' does not match /$2/"; fi
}

# check_no_match DESCRIPTION REGEX TEXT
check_no_match() {
	if [[ "$3" =~ $2 ]]; then fail "$1: '$3' matches /$2/"; else ok "$1"; fi
}

sw_finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

free_port() { "$RAWCLIENT" -P; }

# wait_port PORT: up to 10 s for something to listen on 127.0.0.1:PORT.
wait_port() {
	local i
	for i in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "nothing listens on port $1 after 10 s" >&2
	return 1
}

# start_backend PORT NAME [ARGS...]: a bench/backend in the background.
start_backend() {
	local port=$1 name=$2
	shift 2
	"$BACKEND" -p "$port" -n "$name" "$@" >"$TMP/backend-$name.log" 2>&1 &
	PIDS+=($!)
	wait_port "$port"
}

# start_proxy CONF: switchover in the background; sets SW_PID.
start_proxy() {
	local port
	port=$(sed -n 's/^address *= *127.0.0.1:\([0-9]*\).*/\1/p' "$1" | head -n 1)
	"$SWITCHOVER" -c "$1" >>"$TMP/switchover.log" 2>&1 &
	SW_PID=$!
	PIDS+=($SW_PID)
	wait_port "$port"
}

# wait_exit PID SECONDS: wait for a process to exit; its status in WAIT_RC.
wait_exit() {
	local i
	for i in $(seq $(( $2 * 10 ))); do
		if ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; then
			wait "$1" 2>/dev/null
			WAIT_RC=$?
			return 0
		fi
		sleep 0.1
	done
	WAIT_RC=255
	return 1
}

# backend_requests PORT: requests a backend served so far.
backend_requests() {
	curl -s "http://127.0.0.1:$1/_backend/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'
}

# proxy_conf FILE LISTEN_PORT SOURCE_SERVERS SOURCE_WEIGHT TARGET_SERVERS TARGET_WEIGHT [EXTRA]
# writes a config; EXTRA is appended as is (more sections/keys).
proxy_conf() {
	cat >"$1" <<CONF
[proxy]
workers = ${WORKERS:-2}
log_level = ${LOG_LEVEL:-info}

[listener]
address = 127.0.0.1:$2
${LISTENER_EXTRA:-}

[upstream]
${UPSTREAM_EXTRA:-}

[backend source]
servers = $3
weight = $4

[backend target]
servers = $5
weight = $6
${7:-}
CONF
}
