#!/usr/bin/env python3
"""fake_cluster: just enough of an OpenSearch cluster for a real client.

  fake_cluster.py PORT NAME [DOCS]

Listens on 127.0.0.1:PORT (HTTP/1.1, keep-alive, one thread a connection)
as cluster NAME, with one index of DOCS documents (default 25) that every
search reads.  It serves:

  GET /                                   cluster info
  POST|GET /IDX/_search[?scroll=T]        a page (size from the body);
                                          with scroll=, a new scroll id
  POST|GET /_search/scroll[/ID]           the next page of a scroll
  DELETE /_search/scroll                  clear scroll ids
  POST /IDX/_search/point_in_time         open a PIT: {"pit_id": ...}
  POST /_search  {"pit":{"id":...}}       a page of a PIT, by search_after
  DELETE /_search/point_in_time           close PITs
  POST /_bulk, /IDX/_bulk                 index documents (counted)
  GET /_fake/stats                        what this cluster saw (below)
  GET /_fake/docs                         ids of every document indexed

Scroll and PIT ids name the cluster; one that is not this cluster's gets
404 search_context_missing_exception, as OpenSearch answers, and is
counted (missing).  Every hit's _source says which cluster served it.
A request body with Content-Encoding gzip or deflate is inflated; an
answer is gzipped when the request accepts it (Accept-Encoding: gzip).
/_fake/stats: requests, gzip_in, gzip_out, missing, bulk_requests, docs
(indexed), dups (indexed more than once), errors.
"""
import base64
import gzip
import itertools
import json
import socket
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT, NAME = int(sys.argv[1]), sys.argv[2]
NDOCS = int(sys.argv[3]) if len(sys.argv) > 3 else 25

lock = threading.Lock()
serial = itertools.count(1)
contexts = {}           # scroll or PIT id -> next position (scrolls)
docs = {}               # indexed id -> times
stats = {"requests": 0, "gzip_in": 0, "gzip_out": 0, "missing": 0,
         "bulk_requests": 0, "errors": 0}


def count(key, n=1):
    with lock:
        stats[key] += n


def new_id(kind):
    raw = "%s-%s-%d" % (kind, NAME, next(serial))
    # Long and opaque, as real ids are.
    return base64.urlsafe_b64encode((raw + ":" + "x" * 40).encode()).decode()


def id_cluster(ctx_id):
    try:
        raw = base64.urlsafe_b64decode(ctx_id.encode()).decode()
        return raw.split("-")[1]
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


def hits(start, size):
    return [{"_index": "logs", "_id": str(i), "_score": None,
             "_source": {"n": i, "cluster": NAME}, "sort": [i]}
            for i in range(start, min(start + size, NDOCS))]


def page(start, size, extra):
    out = {"took": 1, "timed_out": False,
           "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
           "hits": {"total": {"value": NDOCS, "relation": "eq"},
                    "max_score": None, "hits": hits(start, size)}}
    out.update(extra)
    return out


def missing(ctx_id):
    count("missing")
    reason = "No search context found for id [%s]" % ctx_id
    return 404, {"error": {"root_cause": [{
        "type": "search_context_missing_exception", "reason": reason}],
        "type": "search_context_missing_exception", "reason": reason},
        "status": 404}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n > 0 else b""
        enc = (self.headers.get("Content-Encoding") or "").strip().lower()
        if enc in ("gzip", "x-gzip"):
            count("gzip_in")
            data = gzip.decompress(data)
        elif enc == "deflate":
            count("gzip_in")
            data = zlib.decompress(data)
        return data

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        headers = [("Content-Type", "application/json; charset=UTF-8"),
                   ("X-Cluster", NAME)]
        if "gzip" in (self.headers.get("Accept-Encoding") or "").lower():
            count("gzip_out")
            data = gzip.compress(data, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        # Head and body in one write: two small writes meet Nagle and
        # delayed ACKs (40 ms an answer).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(data)
        self.flush_headers()

    def handle_any(self):
        count("requests")
        try:
            raw = self.body()
            status, obj = self.route(raw)
        except Exception as e:      # a bug here must show, not hang
            count("errors")
            status, obj = 500, {"error": {"type": "fake_cluster_exception",
                                          "reason": repr(e)}, "status": 500}
        self.answer(status, obj)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    def route(self, raw):
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        parts = [p for p in u.path.split("/") if p]
        js = json.loads(raw) if raw.strip() and not u.path.endswith("_bulk") else {}
        m = self.command
        if not parts:
            return 200, {"name": NAME, "cluster_name": NAME,
                         "version": {"number": "2.11.0",
                                     "distribution": "opensearch"},
                         "tagline": "The OpenSearch Project: https://opensearch.org/"}
        if parts == ["_fake", "stats"]:
            with lock:
                out = dict(stats, name=NAME, docs=len(docs),
                           dups=sum(1 for v in docs.values() if v > 1))
            return 200, out
        if parts == ["_fake", "docs"]:
            with lock:
                return 200, {"ids": sorted(docs)}
        if parts[-1] == "_bulk":
            return self.bulk(raw)
        if parts[:2] == ["_search", "scroll"]:
            ids = js.get("scroll_id") if js else None
            if ids is None:
                ids = parts[2] if len(parts) > 2 else q.get("scroll_id")
            if m == "DELETE":
                ids = ids if isinstance(ids, list) else [ids]
                freed = 0
                for i in ids:
                    if id_cluster(i) != NAME:
                        return missing(i)
                    with lock:
                        freed += contexts.pop(i, None) is not None
                return 200, {"succeeded": True, "num_freed": freed}
            with lock:
                pos = contexts.get(ids) if id_cluster(ids) == NAME else None
            if pos is None:
                return missing(ids)
            start, size = pos
            with lock:
                contexts[ids] = (start + size, size)
            return 200, page(start, size, {"_scroll_id": ids})
        if parts[-2:] == ["_search", "point_in_time"] or parts[-1:] == ["_pit"]:
            if m == "DELETE":
                ids = js.get("pit_id", [])
                ids = ids if isinstance(ids, list) else [ids]
                for i in ids:
                    if id_cluster(i) != NAME:
                        return missing(i)
                    with lock:
                        contexts.pop(i, None)
                return 200, {"pits": [{"pit_id": i, "successful": True}
                                      for i in ids]}
            pit = new_id("pit")
            with lock:
                contexts[pit] = (0, 0)
            return 200, {"pit_id": pit, "_shards": {"total": 1, "successful": 1,
                                                    "skipped": 0, "failed": 0},
                         "creation_time": 1}
        if parts[-1] == "_search":
            size = int(js.get("size", q.get("size", 10)))
            pit = js.get("pit")
            if pit is not None:
                pid = pit.get("id")
                with lock:
                    known = pid in contexts and id_cluster(pid) == NAME
                if not known:
                    return missing(pid)
                after = js.get("search_after")
                start = after[0] + 1 if after else 0
                return 200, page(start, size, {"pit_id": pid})
            if "scroll" in q:
                sid = new_id("scroll")
                with lock:
                    contexts[sid] = (size, size)
                return 200, page(0, size, {"_scroll_id": sid})
            return 200, page(0, size, {})
        return 404, {"error": {"type": "fake_cluster_exception",
                               "reason": "no route %s %s" % (m, self.path)},
                     "status": 404}

    def bulk(self, raw):
        count("bulk_requests")
        lines = [ln for ln in raw.split(b"\n") if ln.strip()]
        items = []
        for action, doc in zip(lines[0::2], lines[1::2]):
            op, meta = next(iter(json.loads(action).items()))
            json.loads(doc)
            did = meta.get("_id")
            with lock:
                docs[did] = docs.get(did, 0) + 1
            items.append({op: {"_index": meta.get("_index", "logs"),
                               "_id": did, "_version": 1, "result": "created",
                               "status": 201, "_seq_no": 0, "_primary_term": 1}})
        return 200, {"took": 1, "errors": False, "items": items}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", PORT), Handler)
print("fake cluster %s listening on 127.0.0.1:%d" % (NAME, PORT), flush=True)
srv.serve_forever()
