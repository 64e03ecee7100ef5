#!/usr/bin/env python3
"""drain_race: keep-alive clients that send back to back, counting every
connection that ends without being told.

  drain_race.py PORT PATH CLIENTS SECONDS MAXREQ
  drain_race.py --slow-reader PORT PATH DRAIN_URL

CLIENTS threads each keep one connection to 127.0.0.1:PORT and send
`GET PATH` again as soon as the previous answer is read whole.  When an
answer says `Connection: close`, the client closes and reconnects: an
announced close.  A connection that ends any other way (EOF, reset or a
short answer to a request that was sent) is an unannounced close.  Each
client stops at SIGUSR1, after SECONDS or after MAXREQ requests,
whichever comes first.

Prints one JSON line: requests, answered, announced, unannounced, errors
(the first few unannounced ends, described).

--slow-reader: one client with a small receive buffer asks for PATH (an
answer bigger than the kernel's buffers) and reads nothing while
DRAIN_URL is POSTed, so the whole answer waits in the proxy's output
when the drain reaches the connection; then it reads the answer and
sends its next request at once, as a keep-alive client does.  Prints the
same JSON line.
"""
import json
import signal
import socket
import sys
import threading
import time
import urllib.request

SLOW = sys.argv[1] == "--slow-reader"
ARGS = sys.argv[2:] if SLOW else sys.argv[1:]
PORT, PATH = int(ARGS[0]), ARGS[1]
if not SLOW:
    CLIENTS, SECONDS, MAXREQ = int(ARGS[2]), float(ARGS[3]), int(ARGS[4])
IO_TIMEOUT = 10.0

lock = threading.Lock()
totals = {"requests": 0, "answered": 0, "announced": 0, "unannounced": 0}
errors = []
stop = threading.Event()


def add(key, why=None):
    with lock:
        totals[key] += 1
        if why is not None and len(errors) < 10:
            errors.append(why)


def read_answer(sock, buf):
    """Read one whole answer; returns (connection_close, rest) or raises."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("EOF before the answer's head (%d bytes)" % len(buf))
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 200"):
        raise ValueError("status line %r" % lines[0])
    length, close = None, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and "close" in value:
            close = True
    if length is None:
        raise ValueError("answer without Content-Length")
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("EOF %d bytes into a %d-byte body" % (len(buf), length))
        buf += chunk
    return close, buf[length:]


def client(deadline):
    req = ("GET %s HTTP/1.1\r\nHost: drain-race\r\n\r\n" % PATH).encode()
    sent = 0
    while sent < MAXREQ and time.monotonic() < deadline and not stop.is_set():
        try:
            sock = socket.create_connection(("127.0.0.1", PORT), timeout=IO_TIMEOUT)
        except OSError as e:
            add("unannounced", "connect: %s" % e)
            return
        buf = b""
        try:
            while (sent < MAXREQ and time.monotonic() < deadline and
                   not stop.is_set()):
                sock.sendall(req)
                sent += 1
                add("requests")
                close, buf = read_answer(sock, buf)
                add("answered")
                if close:
                    add("announced")
                    break
            else:
                break       # done: our own close, not the proxy's
        except (OSError, EOFError, ValueError) as e:
            add("unannounced", "request %d: %s: %s" % (sent, type(e).__name__, e))
        finally:
            sock.close()


def slow_reader():
    req = ("GET %s HTTP/1.1\r\nHost: drain-race\r\n\r\n" % PATH).encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(IO_TIMEOUT)
    sock.connect(("127.0.0.1", PORT))
    buf = b""
    try:
        for i in range(2):
            sock.sendall(req)
            add("requests")
            if i == 0:
                time.sleep(0.5)     # the answer is all in the proxy
                urllib.request.urlopen(urllib.request.Request(
                    ARGS[2], method="POST"), timeout=IO_TIMEOUT).read()
                time.sleep(1.0)     # the drain's spread is over
            close, buf = read_answer(sock, buf)
            add("answered")
            if close:
                add("announced")
                break
    except (OSError, EOFError, ValueError) as e:
        add("unannounced", "request %d: %s: %s" % (totals["requests"],
                                                  type(e).__name__, e))
    finally:
        sock.close()


def main():
    if SLOW:
        slow_reader()
        out = dict(totals)
        out["errors"] = errors
        print(json.dumps(out), flush=True)
        return
    signal.signal(signal.SIGUSR1, lambda *_: stop.set())
    deadline = time.monotonic() + SECONDS
    threads = [threading.Thread(target=client, args=(deadline,))
               for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 2 * IO_TIMEOUT)
    out = dict(totals)
    out["errors"] = errors
    print(json.dumps(out), flush=True)


main()
