#!/usr/bin/env bash
# tls-syscalls: what an HTTPS keep-alive GET costs the proxy in system
# calls, counted by strace (not timed).  One read and one write per
# direction per request: the answer's head and body leave in one TLS
# record (one write), a record comes in with one read (read-ahead, not
# header then body), and EV_WRITE is not armed and disarmed around each
# answer (no epoll_ctl per request).
set -euo pipefail
source "$TESTLIB"
sw_init
source "$(dirname "$TESTLIB")/certs.sh"

command -v strace >/dev/null || { echo "# strace missing (apt-get install strace): skipped"; exit 77; }

N=2000
P=$(free_port); S=$(free_port)
start_backend "$S" src
LISTENER_EXTRA="$TLS_LISTENER" WORKERS=1 \
    proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$S" 0
start_proxy "$TMP/sw.conf"

# N keep-alive GETs over 4 HTTPS connections, each waiting for its answer
# (the backend's "/" answer: a short JSON body); prints those answered 200.
cat >"$TMP/get.py" <<'PY'
import socket, ssl, sys
ca, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
conns = []
for _ in range(4):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
        server_hostname="localhost")
    s.settimeout(10)
    conns.append([s, b""])
ok = 0
for i in range(n):
    c = conns[i % 4]
    s = c[0]
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    buf = c[1]
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    cl = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
          if l.lower().startswith(b"content-length:")][0]
    while len(rest) < cl:
        rest += s.recv(65536)
    c[1] = rest[cl:]
    ok += head.startswith(b"HTTP/1.1 200")
print(ok)
PY
# Warm up: the pooled upstream exists before counting.
python3 "$TMP/get.py" "$TMP/ca.crt" "$P" 40 >/dev/null

strace_start
okn=$(python3 "$TMP/get.py" "$TMP/ca.crt" "$P" "$N")
strace_stop
check "all $N HTTPS GETs answered 200" "$N" "$okn"
cat "$TMP/strace.out"

# calls NAME...: how many calls of those names strace counted.
calls() {
	local pat
	pat=$(tr ' ' '|' <<<"$*")
	awk -v pat="^($pat)\$" '$NF ~ pat { n += $4 } END { print n + 0 }' "$TMP/strace.out"
}
reads=$(calls read readv recvfrom recvmsg)
writes=$(calls write writev sendto sendmsg)
ctls=$(calls epoll_ctl)
ioctls=$(calls ioctl)
# The 4 connections' handshakes (the session tickets too) and the
# control thread's timers fit in the slack.
echo "# per $N requests: reads $reads, writes $writes, epoll_ctl $ctls, ioctl $ioctls"
check "HTTPS: at most one read per direction per request" true \
    "$([ "$reads" -le $((2 * N + 100)) ] && echo true || echo false)"
check "HTTPS: one write per direction per request (head and body in one record)" true \
    "$([ "$writes" -le $((2 * N + 100)) ] && echo true || echo false)"
check "HTTPS: no epoll_ctl per request" true \
    "$([ "$ctls" -le $((N / 10)) ] && echo true || echo false)"
check "HTTPS: no ioctl (FIONREAD) on the request path" true \
    "$([ "$ioctls" -le 10 ] && echo true || echo false)"
sw_finish
