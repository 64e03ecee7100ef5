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

strace_start
out=$("$LOADGEN" -p "$P" -c 4 -n "$N" -j | tail -n 1)
strace_stop
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

# A 16 KiB _bulk POST, one client after the other on one keep-alive
# connection: the head and the body come in one read (a read that
# filled its space reads once more), and go upstream in one write.
M=300
cat >"$TMP/bulk.py" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
body = (b'{"index":{}}\n{"f":"' + b"x" * 16360 + b'"}\n')[:16384]
req = (b"POST /_bulk HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\n"
       b"Content-Length: %d\r\n\r\n" % len(body)) + body
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
ok = 0
for _ in range(n):
    s.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    cl = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
    while len(rest) < cl:
        rest += s.recv(65536)
    ok += head.startswith(b"HTTP/1.1 200")
print(ok)
PY
python3 "$TMP/bulk.py" "$P" 20 >/dev/null	# the pooled upstream exists
strace_start
okn=$(python3 "$TMP/bulk.py" "$P" "$M")
strace_stop
check "all $M bulk POSTs answered 200" "$M" "$okn"
cat "$TMP/strace.out"
reads=$(calls read readv recvfrom recvmsg)
writes=$(calls write writev sendto sendmsg)
echo "# per $M bulk POSTs: reads $reads, writes $writes"
# Reads: the client's request in two (16 KiB, then the rest at once),
# the answer in one.  Writes: one each way; a body that waited a loop
# round went upstream in two.
check "a 16 KiB POST: at most 3 reads per request" true \
    "$([ "$reads" -le $((3 * M + 20)) ] && echo true || echo false)"
check "a 16 KiB POST: one write each way" true \
    "$([ "$writes" -le $((2 * M + 20)) ] && echo true || echo false)"
sw_finish
