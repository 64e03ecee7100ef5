"""cdp: headless Chromium driven by its DevTools protocol, for the
dashboard tests.  Debian's chromium and python3-websocket, nothing else.

Every wait is bounded; the browser runs with a fresh profile in a
directory the caller owns, and stop() ends only the process start() began.
"""
import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request

import websocket


class CDPError(Exception):
    pass


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    raise CDPError("no chromium: install the Debian package chromium "
                   "(./bootstrap does)")


class Browser:
    """One headless Chromium with one page, and the page's errors."""

    def __init__(self, profile_dir, width=1400, height=1000):
        self.profile = profile_dir
        self.width, self.height = width, height
        self.proc = None
        self.ws = None
        self.seq = 0
        self.events = []
        self.errors = []    # console errors, exceptions, error log entries

    def start(self, timeout=60):
        os.makedirs(self.profile, exist_ok=True)
        args = [chromium_path(), "--headless=new", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + self.profile,
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=%d,%d" % (self.width, self.height),
                "about:blank"]
        log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL)
        portfile = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        port = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CDPError("chromium exited with %d, see %s"
                               % (self.proc.returncode, log.name))
            try:
                with open(portfile) as f:
                    port = int(f.readline().strip())
                break
            except (OSError, ValueError):
                time.sleep(0.1)
        if port is None:
            raise CDPError("chromium gave no DevTools port in %d s" % timeout)
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                with urllib.request.urlopen(
                        "http://127.0.0.1:%d/json/list" % port,
                        timeout=5) as r:
                    targets = json.load(r)
                page = next((t for t in targets if t.get("type") == "page"),
                            None)
            except OSError:
                pass
            if page is None:
                time.sleep(0.1)
        if page is None:
            raise CDPError("no page target in %d s" % timeout)
        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=10, suppress_origin=True)
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride", width=self.width,
                  height=self.height, deviceScaleFactor=1, mobile=False)

    def stop(self):
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    # ---- protocol ----------------------------------------------------------

    def _event(self, msg):
        self.events.append(msg)
        m, p = msg.get("method"), msg.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") == "error":
            self.errors.append("console.error: " + " ".join(
                str(a.get("value", a.get("description", "")))
                for a in p.get("args", [])))
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append("exception: " + d.get("text", "") + " " +
                               d.get("exception", {}).get("description", ""))
        elif m == "Log.entryAdded":
            e = p.get("entry", {})
            if e.get("level") == "error":
                self.errors.append("log(%s): %s %s" % (
                    e.get("source"), e.get("text"), e.get("url", "")))

    def _recv(self, deadline):
        self.ws.settimeout(max(0.05, deadline - time.monotonic()))
        return json.loads(self.ws.recv())

    def call(self, method, timeout=20, **params):
        self.seq += 1
        my = self.seq
        self.ws.send(json.dumps({"id": my, "method": method,
                                 "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self._recv(deadline)
            except websocket.WebSocketTimeoutException:
                break
            if msg.get("id") == my:
                if "error" in msg:
                    raise CDPError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self._event(msg)
        raise CDPError("%s: no answer in %d s" % (method, timeout))

    def pump(self, seconds):
        """Take events for a while (console errors arrive this way)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                msg = self._recv(deadline)
            except websocket.WebSocketTimeoutException:
                return
            if "method" in msg:
                self._event(msg)

    # ---- page --------------------------------------------------------------

    def navigate(self, url, timeout=30):
        self.events = []
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == "Page.loadEventFired"
                   for e in self.events):
                return
            self.pump(0.2)
        raise CDPError("%s: not loaded in %d s" % (url, timeout))

    def eval(self, expr, timeout=20):
        r = self.call("Runtime.evaluate", timeout=timeout, expression=expr,
                      returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise CDPError("eval %r: %s" % (expr, r["exceptionDetails"]))
        return r.get("result", {}).get("value")

    def wait_for(self, expr, timeout=20, what=None):
        """Poll a JS expression until it is truthy; its value, or raise."""
        deadline = time.monotonic() + timeout
        v = None
        while time.monotonic() < deadline:
            v = self.eval(expr)
            if v:
                return v
            self.pump(0.25)
        raise CDPError("%s: not true after %d s (last %r)"
                       % (what or expr, timeout, v))

    def click(self, selector):
        """A real mouse click in the middle of the element."""
        box = self.eval("(() => { const e = document.querySelector(%s);"
                        " if (!e) return null; e.scrollIntoView({block:"
                        "'center'}); const r = e.getBoundingClientRect();"
                        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
                        % json.dumps(selector))
        if not box:
            raise CDPError("nothing to click at " + selector)
        for t in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=t, x=box[0], y=box[1],
                      button="left", clickCount=1)

    def type_into(self, selector, text):
        self.eval("document.querySelector(%s).focus()" % json.dumps(selector))
        self.call("Input.insertText", text=text)

    def screenshot(self, path, clip=None):
        params = {"format": "png"}
        if clip:
            params["clip"] = dict(clip, scale=1)
        r = self.call("Page.captureScreenshot", timeout=30, **params)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
