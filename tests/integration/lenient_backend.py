#!/usr/bin/env python3
"""lenient_backend: a test backend that reads HTTP/1.1 the way lenient
servers do, to show what a proxy lets through.

    lenient_backend.py PORT COUNT_FILE

Chunked bodies are read as Netty does: the size is the leading hex digits
of a line read up to LF, the chunk data is followed by "skip to the next
LF", the trailer section ends at the first line that is empty once its CR
is stripped.  A smuggled request hidden in a body is then read as a
request of its own.  Every request head read is counted: COUNT_FILE holds
"requests N connections M" after each one.

Routes (answers on keep-alive connections):
  /status/204cl  204 with Content-Length: 10 and no body
  /status/304cl  304 with Content-Length: 10 and no body
  /status/103    103 Early Hints with Content-Length: 10, then 200
  /badchunk      200 chunked with chunk data followed by "XX", not CRLF
  /badtrailer    200 chunked with a trailer holding a control byte
  anything else  200 {"seen":N,"path":"...","headers":"name,name,..."}
Loopback only; one thread per connection; exits on SIGTERM.
"""
import os
import socket
import sys
import threading

lock = threading.Lock()
requests = 0
connections = 0


def record(count_file):
    with open(count_file + ".tmp", "w") as f:
        f.write("requests %d connections %d\n" % (requests, connections))
    os.replace(count_file + ".tmp", count_file)


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self):
        """Up to and including LF; None at EOF."""
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                return None
            self.buf += d
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def take(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                return None
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def lenient_hex(line):
    n = 0
    for ch in line.strip():
        c = chr(ch).lower()
        if c in "0123456789abcdef":
            n = n * 16 + int(c, 16)
        else:
            break
    return n


def read_chunked(c):
    while True:
        size_line = c.line()
        if size_line is None:
            return False
        size = lenient_hex(size_line)
        if size == 0:
            while True:		# trailers: up to an empty line
                t = c.line()
                if t is None:
                    return False
                if t.rstrip(b"\r\n") == b"":
                    return True
        if c.take(size) is None:
            return False
        if c.line() is None:	# skip to the next LF, whatever is there
            return False


def answer(c, path, n, names):
    s = c.sock
    if path == "/status/204cl":
        s.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n")
    elif path == "/status/304cl":
        s.sendall(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n"
                  b"ETag: \"x\"\r\n\r\n")
    elif path == "/status/103":
        s.sendall(b"HTTP/1.1 103 Early Hints\r\nContent-Length: 10\r\n"
                  b"Link: </a>\r\n\r\n"
                  b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    elif path == "/badchunk":
        s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"1\r\nAXX0\r\n\r\n")
    elif path == "/badtrailer":
        s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"1\r\nA\r\n0\r\nX-T: a\x01b\r\n\r\n")
    else:
        body = ('{"seen":%d,"path":"%s","headers":"%s"}' %
                (n, path, ",".join(names))).encode()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)


def serve(sock, count_file):
    global requests
    c = Conn(sock)
    try:
        while True:
            req = c.line()
            if req is None:
                return
            if req.strip() == b"":
                continue
            parts = req.split()
            print(req.strip().decode("latin-1"), flush=True)
            path = parts[1].decode("latin-1") if len(parts) > 1 else "?"
            clen, chunked, names = 0, False, []
            while True:
                h = c.line()
                if h is None:
                    return
                if h.rstrip(b"\r\n") == b"":
                    break
                name, _, value = h.partition(b":")
                name = name.strip().lower()
                names.append(name.decode("latin-1"))
                if name == b"content-length":
                    clen = int(value.strip() or b"0")
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            with lock:
                requests += 1
                n = requests
                record(count_file)
            if chunked:
                if not read_chunked(c):
                    return
            elif clen and c.take(clen) is None:
                return
            answer(c, path, n, names)
    except OSError:
        pass
    finally:
        sock.close()


def main():
    global connections
    port, count_file = int(sys.argv[1]), sys.argv[2]
    record(count_file)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    while True:
        s, _ = ls.accept()
        with lock:
            connections += 1
            record(count_file)
        threading.Thread(target=serve, args=(s, count_file),
                         daemon=True).start()


if __name__ == "__main__":
    main()
