#!/usr/bin/env python3
"""A backend that writes exact bytes, for what bench/backend will not send.

  rawbackend.py PORT LOG

Every request (head up to the blank line, then a Content-Length body) is
answered by its path; LOG gets one line "conn=C req=R METHOD PATH" per
request, C counting connections from 1 and R requests on connection C.

  /echo         200, the request head as received for its body
  /hop          200 carrying every hop-by-hop header, none named in a
                Connection header (there is none)
  /extra        the answer, then in the same write a second, unsolicited
                answer whose body is STALE
  /extra-junk   the answer, then in the same write bytes that are no answer
  /extra-late   the answer, then 0.3 s later a second answer (STALE)
  anything else 200, body "conn=C req=R PATH"

Answers are HTTP/1.1 keep-alive with Content-Length; the connection stays
open until the peer closes it."""
import socket
import sys
import threading
import time

port, log = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
nconn = [0]

HOP = (b"Keep-Alive: timeout=5, max=100\r\n"
       b"Proxy-Connection: keep-alive\r\n"
       b"TE: trailers\r\n"
       b"Trailer: X-Checksum\r\n"
       b"Upgrade: h2c\r\n"
       b"Proxy-Authenticate: Basic realm=\"upstream\"\r\n"
       b"Proxy-Authorization: Basic dXA6c3RyZWFt\r\n")
STALE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Stale: 1\r\n\r\nSTALE"


def answer(body, extra=b""):
    return (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body) +
            extra + b"\r\n" + body)


def serve(conn, cid):
    buf = b""
    req = 0
    conn.settimeout(60)
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            method, path = lines[0].split(b" ")[:2]
            clen = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    clen = int(value.strip())
            while len(buf) < clen:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            buf = buf[clen:]
            req += 1
            with lock, open(log, "a") as f:
                f.write("conn=%d req=%d %s %s\n" % (cid, req, method.decode(),
                                                    path.decode()))
            body = b"conn=%d req=%d %s" % (cid, req, path)
            if path == b"/echo":
                conn.sendall(answer(head + b"\r\n"))
            elif path == b"/hop":
                conn.sendall(answer(b"hop", HOP))
            elif path == b"/extra":
                conn.sendall(answer(body) + STALE)
            elif path == b"/extra-junk":
                conn.sendall(answer(body) + b"JUNK-AFTER-THE-ANSWER\r\n")
            elif path == b"/extra-late":
                conn.sendall(answer(body))
                time.sleep(0.3)
                conn.sendall(STALE)
            else:
                conn.sendall(answer(body))
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        with lock:
            nconn[0] += 1
            cid = nconn[0]
        threading.Thread(target=serve, args=(conn, cid), daemon=True).start()


main()
