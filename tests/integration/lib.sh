# lib.sh: helpers for integration tests.  Source it, then call sw_init.
#
# Every test runs real processes on loopback ports it picks itself, waits
# in bounded loops only, and kills only the PIDs it started (trap EXIT).
# The environment gives SWITCHOVER, SWITCHOVERCTL, BACKEND, RAWCLIENT, CONNHOLD,
# LOADGEN and AWS_DRIVER (make check sets them); defaults point into the
# build tree for running a script by hand.

: "${SWITCHOVER:=./switchover}"
: "${BACKEND:=./bench/backend}"
: "${RAWCLIENT:=./tests/rawclient}"
: "${SWITCHOVERCTL:=./switchoverctl}"
: "${CONNHOLD:=./tests/connhold}"
: "${LOADGEN:=./bench/loadgen}"

PASS=0
FAIL=0
PIDS=()

sw_init() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sw-test.XXXXXX")
	trap sw_cleanup EXIT
}

sw_cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	# Bounded: a process that ignores SIGTERM for a minute (a proxy whose
	# stop hangs, a tracer that blocks the signal) must not hang the suite.
	for p in "${PIDS[@]}"; do
		if ! wait_exit "$p" 60; then
			echo "cleanup: pid $p still running 60 s after SIGTERM: SIGKILL" >&2
			kill -KILL "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	# A script stopped by set -e failed too: keep its logs as well.
	if { [ "$FAIL" -gt 0 ] || [ "$rc" -ne 0 ]; } && [ -n "${TMP:-}" ]; then
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

free_port() {
	# Never a port this test was given before: a port picked but not yet
	# bound is free again to the kernel, which may hand it out twice
	# (the admin API once got the port of a backend still starting).
	local p i
	for i in $(seq 20); do
		p=$("$RAWCLIENT" -P) || return 1
		[ -n "${TMP:-}" ] || { echo "$p"; return 0; }
		if ! grep -qx "$p" "$TMP/.ports" 2>/dev/null; then
			echo "$p" >>"$TMP/.ports"
			echo "$p"
			return 0
		fi
	done
	echo "$p"
}

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
			# Under set -e a non-zero status must not end the test.
			WAIT_RC=0
			wait "$1" 2>/dev/null || WAIT_RC=$?
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

# wait_requests PORT N: up to 10 s for a backend to have served N requests.
wait_requests() {
	local i
	for i in $(seq 200); do
		[ "$(backend_requests "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	echo "backend on $1 served fewer than $2 requests after 10 s" >&2
	return 1
}

# proxy_conf FILE LISTEN_PORT SOURCE_SERVERS SOURCE_WEIGHT TARGET_SERVERS TARGET_WEIGHT [EXTRA]
# writes a config; EXTRA is appended as is (more sections/keys).  The
# admin API listens on ADMIN_PORT (picked here when unset; never the
# shared default 9901); ADMIN_EXTRA adds keys to [admin].
proxy_conf() {
	: "${ADMIN_PORT:=$(free_port)}"
	cat >"$1" <<CONF
[proxy]
workers = ${WORKERS:-2}
log_level = ${LOG_LEVEL:-info}

[listener]
address = 127.0.0.1:$2
${LISTENER_EXTRA:-}

[upstream]
${UPSTREAM_EXTRA:-}

[admin]
address = 127.0.0.1:$ADMIN_PORT
${ADMIN_EXTRA:-}

[backend source]
servers = $3
weight = $4

[backend target]
servers = $5
weight = $6
${7:-}
CONF
}

# reweight CONF SOURCE_WEIGHT TARGET_WEIGHT: rewrite the two backends'
# weights of a proxy_conf file, send SIGHUP, and wait (10 s at most) until
# the proxy says the reload is done.
reweight() {
	local done0 i
	done0=$(grep -c "reload done" "$TMP/switchover.log" || true)
	awk -v a="$2" -v b="$3" '/^weight *=/ { n++; print "weight = " (n == 1 ? a : b); next } { print }' \
	    "$1" >"$1.new" && mv "$1.new" "$1"
	kill -HUP "$SW_PID"
	for i in $(seq 100); do
		[ "$(grep -c "reload done" "$TMP/switchover.log" || true)" -gt "$done0" ] && return 0
		sleep 0.1
	done
	echo "reload not done after 10 s" >&2
	return 1
}

# wait_line FILE REGEX SECONDS: wait until a line of FILE matches.
wait_line() {
	local i
	for i in $(seq $(( $3 * 10 ))); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no line /$2/ in $1 after $3 s" >&2
	return 1
}

# start_pair SOURCE_WEIGHT TARGET_WEIGHT [EXTRA]: backends named source and
# target, and a proxy in front of them configured in $TMP/sw.conf; sets P,
# S, T (the ports) and U (the proxy's URL).
start_pair() {
	P=$(free_port); S=$(free_port); T=$(free_port)
	start_backend "$S" source
	start_backend "$T" target
	proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" "$1" "127.0.0.1:$T" "$2" "${3:-}"
	start_proxy "$TMP/sw.conf"
	U="http://127.0.0.1:$P"
}

# hold_clients N SECONDS: tests/connhold opens N keep-alive connections to
# the proxy on P (one answer each) and holds them up to SECONDS; waits
# (30 s at most) until they are ready.  Sets HOLD (its PID); its output is
# in $TMP/hold.out ("backend NAME COUNT", "closed I T" lines).
hold_clients() {
	"$CONNHOLD" -p "$P" -n "$1" -t "$2" >"$TMP/hold.out" 2>"$TMP/hold.log" &
	HOLD=$!
	PIDS+=($HOLD)
	wait_line "$TMP/hold.out" "^ready $1" 30 || true
}

# proc_fds PID: open file descriptors of a process.
proc_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# proc_cpu_ticks PID: user + system CPU time of a process, in clock ticks.
proc_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# proc_rss_kb PID: resident set size of a process, in KiB.
proc_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# settle MAX CMD [ARGS...]: run CMD every 0.1 s, up to 15 s, until it
# prints a number at most MAX; prints the last number (idle pools and
# closing sockets take a moment to go).
settle() {
	local max=$1 i n
	shift
	for i in $(seq 150); do
		n=$("$@")
		[ "$n" -le "$max" ] && break
		sleep 0.1
	done
	echo "$n"
}

# fds_settle PID MAX: the process's descriptors, settled down to MAX.
fds_settle() { settle "$2" proc_fds "$1"; }

# fds_stable PID: the descriptor count once it holds still for 0.5 s
# (wait_port's probe connection, for one, closes a moment after start).
fds_stable() {
	local i n last=-1
	for i in $(seq 20); do
		n=$(proc_fds "$1")
		[ "$n" -eq "$last" ] && break
		last=$n
		sleep 0.5
	done
	echo "$n"
}

# upstream_conns PORT: established TCP connections to 127.0.0.1:PORT.
upstream_conns() {
	ss -Htn state established "( dport = :$1 )" 2>/dev/null | wc -l
}

# strace_start: count the proxy's system calls (every thread) into
# $TMP/strace.out, from the moment each thread has its tracer (bounded:
# 10 s); skips the test (exit 77) where ptrace is refused.  strace_stop
# ends the count and writes the table.
strace_start() {
	local attached=0
	strace -f -c -q -p "$SW_PID" -o "$TMP/strace.out" 2>"$TMP/strace.err" &
	ST=$!
	for _ in $(seq 100); do
		if ! grep -h '^TracerPid:' /proc/"$SW_PID"/task/*/status 2>/dev/null |
		    grep -q 'TracerPid:[[:space:]]*0$'; then
			attached=1
			break
		fi
		sleep 0.1
	done
	if [ "$attached" = 0 ]; then
		kill "$ST" 2>/dev/null || true
		echo "# strace cannot attach here (ptrace refused?): skipped"
		cat "$TMP/strace.err"
		exit 77
	fi
}
strace_stop() {
	kill -INT "$ST"
	wait "$ST" 2>/dev/null || true
}
