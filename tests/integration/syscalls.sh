#!/usr/bin/env bash
# syscalls: what a keep-alive GET costs the proxy in system calls,
# counted by strace (not timed: the count holds on a busy machine).
# One read and one write per direction per request: no ioctl(FIONREAD)
# before a read (libevent's evbuffer_read asks it every time), no
# second read to find the socket empty.
set -euo pipefail
source "$TESTLIB"
sw_init

command -v strace >/dev/null || { echo "# strace missing (apt-get install strace): skipped"; exit 77; }

N=2000
P=$(free_port); S=$(free_port)
start_backend "$S" src
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"

# Warm up: the pool and the client connections exist before counting.
"$LOADGEN" -p "$P" -c 4 -n 400 -j >/dev/null

strace -f -c -q -p "$SW_PID" -o "$TMP/strace.out" 2>"$TMP/strace.err" &
ST=$!
# Attached once every thread has a tracer (bounded: 10 s).
attached=0
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
	echo "# strace cannot attach here (ptrace refused?): skipped"; cat "$TMP/strace.err"
	exit 77
fi
out=$("$LOADGEN" -p "$P" -c 4 -n "$N" -j | tail -n 1)
kill -INT "$ST"; wait "$ST" 2>/dev/null || true
check "all $N answered" "$N" "$(jq -r .summary.answered <<<"$out")"
cat "$TMP/strace.out"

# calls NAME...: how many calls of those names strace counted.
calls() {
	local pat
	pat=$(tr ' ' '|' <<<"$*")
	awk -v pat="^($pat)\$" '$NF ~ pat { n += $4 } END { print n + 0 }' "$TMP/strace.out"
}
ioctls=$(calls ioctl)
reads=$(calls read readv recvfrom recvmsg)
writes=$(calls write writev sendto sendmsg)
echo "# per $N requests: ioctl $ioctls, reads $reads, writes $writes"
check "no ioctl (FIONREAD) on the request path" true "$([ "$ioctls" -le 10 ] && echo true || echo false)"
# One read from the client and one from the upstream per request; a few
# more for the control thread's timers over the run.
check "at most one read per direction per request" true \
    "$([ "$reads" -le $((2 * N + 100)) ] && echo true || echo false)"
check "at most one write per direction per request" true \
    "$([ "$writes" -le $((2 * N + 100)) ] && echo true || echo false)"
sw_finish
