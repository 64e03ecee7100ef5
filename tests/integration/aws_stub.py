#!/usr/bin/env python3
"""A misbehaving AWS endpoint for the AWS integration tests, on loopback.

  aws_stub.py PORT LOG MODE [UPSTREAM]

MODE:
  garbage        every call gets 200 and a body that is not XML or JSON
  error500:N     the first N calls get 500 with an AWS error body, then
                 calls are forwarded to UPSTREAM (moto)
  hang:N         the first N calls get no answer for 10 s, then forwarded
  throttle:N     the first N calls get 400 Throttling (XML for ELBv2, JSON
                 ThrottlingException for ECS), then forwarded to UPSTREAM
  creds:TOKEN:KEY:SECRET
                 a container-credentials endpoint: GET answers temporary
                 credentials when the Authorization header is TOKEN, else 401
  imds:KEY:SECRET
                 an EC2 instance metadata service that only speaks IMDSv2:
                 PUT /latest/api/token, then GETs carrying that token

Credentials expire after STUB_EXPIRES_IN seconds (default a day).
Each request appends "METHOD PATH AUTHORIZATION-HEADER-PRESENT" to LOG."""
import http.client
import datetime
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

port, log, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
upstream = urlparse(sys.argv[4]) if len(sys.argv) > 4 else None
lock = threading.Lock()
count = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="text/xml"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def creds(self, key, secret):
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            seconds=int(os.environ.get("STUB_EXPIRES_IN", "86400")))
        self.reply(200, json.dumps({"AccessKeyId": key, "SecretAccessKey": secret, "Token": "",
                                    "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}),
                   "application/json")

    def do_GET(self):
        with open(log, "a") as f:
            f.write(f"GET {self.path} {self.headers.get('Authorization', '-')}\n")
        if mode.startswith("imds:"):
            _, key, secret = mode.split(":", 2)
            if self.headers.get("X-aws-ec2-metadata-token") != "imds-session":
                self.reply(401, "")
            elif self.path == "/latest/meta-data/iam/security-credentials/":
                self.reply(200, "switchover-role", "text/plain")
            elif self.path == "/latest/meta-data/iam/security-credentials/switchover-role":
                self.creds(key, secret)
            else:
                self.reply(404, "")
            return
        _, token, key, secret = mode.split(":", 3)
        if self.headers.get("Authorization") != token:
            self.reply(401, '{"message":"bad token"}', "application/json")
            return
        self.creds(key, secret)

    def do_PUT(self):
        with open(log, "a") as f:
            f.write(f"PUT {self.path} {self.headers.get('X-aws-ec2-metadata-token-ttl-seconds', '-')}\n")
        if mode.startswith("imds:") and self.path == "/latest/api/token":
            self.reply(200, "imds-session", "text/plain")
        else:
            self.reply(404, "")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        is_json = "json" in self.headers.get("Content-Type", "")
        with lock:
            count[0] += 1
            n = count[0]
        with open(log, "a") as f:
            f.write(f"POST {n} {self.headers.get('X-Amz-Target') or body.decode()[:40]}\n")
        kind, _, limit = mode.partition(":")
        if kind == "garbage":
            self.reply(200, "<<<this is not { an AWS answer", "text/html")
            return
        if n <= int(limit or 0):
            if kind == "hang":
                time.sleep(10)
                self.close_connection = True
                return
            if kind == "error500":
                self.reply(500, "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure"
                           "</Code><Message>stub says boom</Message></Error></ErrorResponse>")
            elif is_json:
                self.reply(400, '{"__type":"com.amazonaws.ecs#ThrottlingException",'
                           '"message":"Rate exceeded"}', "application/x-amz-json-1.1")
            else:
                self.reply(400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling"
                           "</Code><Message>Rate exceeded</Message></Error></ErrorResponse>")
            return
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        conn.request("POST", self.path, body, headers)
        r = conn.getresponse()
        self.reply(r.status, r.read().decode(), r.getheader("Content-Type", "text/xml"))


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
