#!/usr/bin/env bash
# syscalls_close: what a GET on a new connection (Connection: close, as
# bench/run's get-close) costs the proxy in system calls, counted by
# strace, never timed.  Per connection: no setsockopt (TCP_NODELAY is
# inherited from the listening socket, and verified on), no shutdown
# or lingering read (the client asked for the close, so there is no
# request of its that could race it), and, as the request is there when
# the connection is accepted, no epoll_ctl at all.
set -euo pipefail
source "$TESTLIB"
sw_init

command -v strace >/dev/null || { echo "# strace missing (apt-get install strace): skipped"; exit 77; }

N=1000
P=$(free_port); S=$(free_port)
start_backend "$S" src
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0

# calls FILE NAME...: how many calls of those names strace -c counted.
calls() {
	local f=$1 pat
	shift
	pat=$(tr ' ' '|' <<<"$*")
	awk -v pat="^($pat)\$" '$NF ~ pat { n += $4 } END { print n + 0 }' "$f"
}

# 1. TCP_NODELAY is on for accepted sockets: the proxy, traced from its
# start, asks the first one and finds it inherited from the listener.
strace -f -q -e trace=getsockopt,setsockopt -o "$TMP/opt.out" \
    "$SWITCHOVER" -c "$TMP/sw.conf" >>"$TMP/switchover.log" 2>&1 &
TP=$!
PIDS+=($TP)
wait_port "$P" || { echo "# the proxy does not start under strace here: skipped"; exit 77; }
out=$("$LOADGEN" -p "$P" -c 2 -n 20 -C -j | tail -n 1)
check "traced proxy: 20 new-connection GETs answered" 20 "$(jq -r .summary.answered <<<"$out")"
# The proxy is strace's child: stop it, and strace ends with it.
TC=$(pgrep -P "$TP" | head -n 1)
[ -z "$TC" ] || { PIDS+=($TC); kill "$TC"; wait_exit "$TP" 20 || true; }
cat "$TMP/opt.out"
check "an accepted socket has TCP_NODELAY on, inherited from the listener" 1 \
    "$(grep -c 'getsockopt(.*TCP_NODELAY, \[1\]' "$TMP/opt.out" || true)"

# 2. Counted: N new-connection GETs, after a warm-up that made the pool.
start_proxy "$TMP/sw.conf"
"$LOADGEN" -p "$P" -c 4 -n 200 -C -j >/dev/null
strace_start
out=$("$LOADGEN" -p "$P" -c 4 -n "$N" -C -j | tail -n 1)
strace_stop
check "all $N answered" "$N" "$(jq -r .summary.answered <<<"$out")"
check "no errors" 0 "$(jq -r .summary.errors <<<"$out")"
cat "$TMP/strace.out"
f=$TMP/strace.out
echo "# per $N connections: accept4 $(calls "$f" accept4 accept), setsockopt $(calls "$f" setsockopt), shutdown $(calls "$f" shutdown), reads $(calls "$f" read readv recvfrom), total $(awk '$NF == "total" { print $4 }' "$f")"
# Accepts come in batches that end with one finding the backlog empty.
check "at most one failing accept per connection" true \
    "$([ "$(calls "$f" accept4 accept)" -le $((2 * N + 10)) ] && echo true || echo false)"
check "no setsockopt per connection" true \
    "$([ "$(calls "$f" setsockopt)" -le 10 ] && echo true || echo false)"
check "no shutdown: the client asked for the close" true \
    "$([ "$(calls "$f" shutdown)" -le 10 ] && echo true || echo false)"
# One read from the client, one from the upstream: no lingering read
# (a tenth more for first reads tried before the request was there).
check "two reads per connection" true \
    "$([ "$(calls "$f" read readv recvfrom recvmsg)" -le $((2 * N + N / 10)) ] && echo true || echo false)"
# The request came with the connection: read at once, and the client's
# socket never joins the event set (no epoll_ctl to add or remove it).
check "no epoll_ctl for most connections" true \
    "$([ "$(calls "$f" epoll_ctl)" -le $((N / 5)) ] && echo true || echo false)"
# Before this round: 12.1 per connection; now about 8 (accept4, the two
# reads and writes, ioctl, close, a share of epoll_wait).
check "at most 9 system calls per connection" true \
    "$([ "$(awk '$NF == "total" { print $4 }' "$f")" -le $((9 * N)) ] && echo true || echo false)"
check "every connection closed" true \
    "$([ "$(calls "$f" close)" -ge "$N" ] && echo true || echo false)"
sw_finish
