"""dashboard.py SCENARIO: the admin page in headless Chromium.

Run by tests/integration/dashboard*.sh, which start the backends, the
proxy and the load, and pass ADMIN (host:port), TMP, and for some
scenarios TOKEN, SHOT (screenshot path), EVIL (host:port of another page).
Prints "ok - ..." / "FAIL - ..." lines like lib.sh; exits 1 on a failure.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

# The source tree may be read-only (make distcheck): no __pycache__.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

ADMIN = os.environ["ADMIN"]
URL = "http://" + ADMIN + "/"
FAILS = []


def ok(msg):
    print("ok - " + msg, flush=True)


def fail(msg):
    FAILS.append(msg)
    print("FAIL - " + msg, flush=True)


def check(desc, cond, detail=""):
    if cond:
        ok(desc)
    else:
        fail(desc + (": " + detail if detail else ""))


def admin(method, path, token=None, body=None):
    """(status, JSON answer) of an admin API call made outside the page."""
    req = urllib.request.Request("http://" + ADMIN + path, method=method,
                                 data=None if body is None else
                                 json.dumps(body).encode())
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def weights(token=None):
    return admin("GET", "/weights", token)[1]


def wait_weights(want, token=None, timeout=10):
    deadline = time.monotonic() + timeout
    w = None
    while time.monotonic() < deadline:
        w = weights(token)
        if w == want:
            return w
        time.sleep(0.2)
    return w


# Numbers the page shows, read from its own state and its DOM.
RATES = """(() => {
    if (typeof S === 'undefined' || !S.stats) return null;
    const out = {};
    for (const n of Object.keys(S.stats.backends)) {
        const card = document.getElementById('backend-' + n);
        const v = card && card.querySelector('.tile .v');
        out[n] = {rate: S.stats.backends[n].per_second_10s.requests,
                  shown: v ? v.textContent : null,
                  areas: card ? card.querySelectorAll('.chart.rate path').length : 0,
                  points: S.hist.t.length};
    }
    return out;
})()"""


def confirm_action(b, button, reason):
    b.click(button)
    b.wait_for("document.getElementById('confirm').open", 10,
               "confirmation opens")
    text = b.eval("document.getElementById('confirm-text').textContent")
    b.type_into("#confirm-reason", reason)
    b.click("#confirm-ok")
    b.wait_for("!document.getElementById('confirm').open", 10,
               "confirmation closes after the call")
    return text


def scenario_main(b):
    b.navigate(URL)
    title = b.eval("document.title")
    check("the page loads from the admin port", title == "switchover", title)
    # Under load: both sides show requests within a few seconds.
    r = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r = b.eval(RATES)
        if r and all(v["rate"] > 0 and v["areas"] > 0 for v in r.values()):
            break
        b.pump(0.5)
    check("both backends show a non-zero request rate, with a chart",
          r is not None and len(r) == 2 and
          all(v["rate"] > 0 and v["areas"] > 0 and v["shown"] not in
              (None, "0", "–") for v in r.values()), repr(r))
    hist = b.eval("S.hist.backends.target['429'].reduce((a, c) => a + c, 0)")
    check("the target's 429s are counted apart", hist and hist > 0,
          repr(hist))
    b.pump(2)
    b.screenshot(os.environ["SHOT"])
    ok("screenshot in " + os.environ["SHOT"])
    # Fallback: a real click, a confirmation that says what happens.
    before = weights()
    check("weights before fallback", before == {"source": 1, "target": 1},
          repr(before))
    text = confirm_action(b, "#btn-fallback", "dashboard test fallback")
    check("the confirmation says what will happen",
          "source" in text and "drain" in text, text)
    after = wait_weights({"source": 1, "target": 0})
    check("fallback from the page moved the weights (GET /weights)",
          after == {"source": 1, "target": 0}, repr(after))
    shown = b.wait_for("S.stats && S.stats.backends.target.weight === 0 && "
                       "S.changes.length > 0 && document.querySelectorAll("
                       "'#backend-target .mark').length > 0", 10,
                       "weight change marked on the charts")
    check("the page shows the new weights and marks the change", shown)
    audit = open(os.environ["AUDIT"]).read() if os.environ.get("AUDIT") \
        else ""
    check("the reason typed reached the audit log",
          "dashboard test fallback" in audit, audit[-300:])
    # Drain: the reason typed goes to the log with it.
    text = confirm_action(b, "#btn-drain-source", "dashboard test drain")
    check("the drain confirmation says what will happen",
          "client connections bound to source" in text, text)
    deadline = time.monotonic() + 10
    log = ""
    while time.monotonic() < deadline and "dashboard test drain" not in log:
        log = open(os.environ["SWLOG"]).read()
        time.sleep(0.2)
    check("a drain from the page, with its reason in the log",
          "drains backend source: dashboard test drain" in log, log[-400:])
    # Set weights: typed into the inputs, confirmed.
    for name, v in (("source", "3"), ("target", "1")):
        b.eval("document.getElementById('w-%s').value = ''" % name)
        b.type_into("#w-" + name, v)
    text = confirm_action(b, "#btn-weights", "dashboard test weights")
    check("the weights confirmation names the new split",
          "source 3 (75 %)" in text and "target 1 (25 %)" in text, text)
    after = wait_weights({"source": 3, "target": 1})
    check("set weights from the page (GET /weights)",
          after == {"source": 3, "target": 1}, repr(after))
    # The ramp panel shows exactly when GET /ramp answers.
    ramp = admin("GET", "/ramp")[0]
    hidden = b.wait_for("(() => { const h = document.getElementById('ramp')"
                        ".hidden; return h === %s ? 'yes' : ''; })()"
                        % ("true" if ramp == 404 else "false"), 10,
                        "ramp panel follows GET /ramp")
    check("the ramp panel is %s (GET /ramp: %d)" %
          ("hidden" if ramp == 404 else "shown", ramp), hidden == "yes")
    # Cancel does nothing.
    b.click("#btn-switchover")
    b.wait_for("document.getElementById('confirm').open", 10)
    b.click("#confirm-cancel")
    b.pump(1)
    check("cancel leaves the weights alone",
          weights() == {"source": 3, "target": 1}, repr(weights()))
    b.pump(1)
    # GET /ramp is 404 until the ramp (#12) is built in: that one the page
    # expects (it hides the ramp panel); every other error counts.
    errors = [e for e in b.errors if not (e.startswith("log(network)") and
              " 404 " in e and e.endswith("/ramp"))]
    check("no console errors, exceptions or CSP violations",
          not errors, "; ".join(errors))


def scenario_down(b):
    """The proxy goes away and comes back: the page says so, recovers.
    The shell stops the proxy when TMP/want-stop appears, and starts it
    again when TMP/want-start does."""
    b.navigate(URL)
    b.wait_for("typeof S !== 'undefined' && S.stats", 15, "first data")
    open(os.path.join(os.environ["TMP"], "want-stop"), "w").close()
    shown = b.wait_for("!document.getElementById('down').hidden && "
                       "document.getElementById('conn').textContent", 20,
                       "the banner says the proxy cannot be reached")
    check("the page says when the proxy cannot be reached",
          shown == "unreachable", repr(shown))
    text = b.eval("document.getElementById('down').textContent")
    check("... in words", "Cannot reach the proxy" in text, text)
    open(os.path.join(os.environ["TMP"], "want-start"), "w").close()
    back = b.wait_for("document.getElementById('down').hidden && "
                      "document.getElementById('conn').textContent === 'live'"
                      " && S.uptime < 30", 30, "the page recovers by itself")
    check("the page recovers by itself, with the new proxy's data", back)
    errors = [e for e in b.errors if not e.startswith("log(network)")]
    check("no script error while the proxy was away", not errors,
          "; ".join(errors))


def scenario_token(b):
    token = os.environ["TOKEN"]
    st, doc = admin("GET", "/stats")
    check("/stats without the token is refused", st == 401, repr(st))
    st, doc = admin("POST", "/switchover", body={})
    check("an action without the token is refused", st == 401, repr(st))
    check("... and moved nothing", weights(token) ==
          {"source": 1, "target": 0}, repr(weights(token)))
    b.navigate(URL)
    asked = b.wait_for("document.getElementById('token').open", 15,
                       "the page asks for the token")
    check("the page asks for the token", asked)
    b.type_into("#token-input", "not-" + token)
    b.click("#token-ok")
    again = b.wait_for("document.getElementById('token').open && "
                       "document.getElementById('token-text').textContent"
                       ".includes('refused')", 15, "a wrong token is refused")
    check("a wrong token: the page asks again", again)
    b.type_into("#token-input", token)
    b.click("#token-ok")
    live = b.wait_for("S.stats && document.getElementById('conn')"
                      ".textContent === 'live'", 15, "data with the token")
    check("with the token the page shows the proxy", live)
    where = b.eval("[sessionStorage.getItem('switchover.token') !== null, "
                   "localStorage.length, document.cookie, location.href]")
    check("the token is kept in sessionStorage only, not in a URL or cookie",
          where[0] and where[1] == 0 and where[2] == "" and
          token not in where[3], repr(where))
    confirm_action(b, "#btn-switchover", "token test switchover")
    after = wait_weights({"source": 0, "target": 1}, token)
    check("switchover from the page with the token moved the weights",
          after == {"source": 0, "target": 1}, repr(after))
    asked_once = b.eval("document.getElementById('token').open")
    check("the page did not ask for the token again", not asked_once)


def scenario_forged(b):
    """A page of another origin tries the admin API: refused."""
    evil = "http://" + os.environ["EVIL"] + "/evil.html"
    before = weights()
    b.navigate(evil)
    done = b.wait_for("document.title === 'done'", 20, "the forged calls ran")
    check("the other page ran its forged calls", done)
    b.pump(1)
    after = weights()
    check("a forged cross-origin call moved nothing",
          after == before, "before %r, after %r" % (before, after))
    # The page's own calls still pass.
    b.navigate(URL)
    b.wait_for("typeof S !== 'undefined' && S.stats", 15, "the page's data")
    confirm_action(b, "#btn-switchover", "same-origin switchover")
    after = wait_weights({"source": 0, "target": 1})
    check("the page's own (same-origin) call passes",
          after == {"source": 0, "target": 1}, repr(after))


def scenario_aws(b):
    """With [aws] sync = push: the ALB's side is shown, and follows."""
    b.navigate(URL)
    shown = b.wait_for("(() => { const a = document.getElementById('alb');"
                       " return !a.hidden && a.textContent; })()", 20,
                       "the ALB line")
    check("the page shows the ALB's sync mode", "ALB sync push" in shown,
          repr(shown))
    shown = b.wait_for("(() => { const t = document.getElementById('alb')"
                       ".textContent; return t.includes('differs') && t; })()",
                       20, "the disagreement on the page")
    check("the page says the ALB forwards something else",
          "ALB forwards source 4 / target 6" in shown, repr(shown))
    confirm_action(b, "#btn-switchover", "dashboard aws switchover")
    after = wait_weights({"source": 0, "target": 1})
    check("switchover from the page (GET /weights)",
          after == {"source": 0, "target": 1}, repr(after))
    alb = b.wait_for("(() => { const t = document.getElementById('alb')"
                     ".textContent; return t.includes('ALB forwards source 0"
                     " / target 1') && t.includes('in sync') && t; })()", 20,
                     "the ALB's accepted weights on the page")
    check("the page shows the ALB accepted the new weights", alb, repr(alb))


def scenario_ramp(b):
    """With the ramp built in: the panel shows it, and starts and aborts it."""
    b.navigate(URL)
    b.wait_for("!document.getElementById('ramp').hidden", 15,
               "the ramp panel appears")
    ok("the ramp panel appears when GET /ramp answers")
    confirm_action(b, "#btn-ramp-start", "dashboard test ramp")
    deadline = time.monotonic() + 15
    st = None
    while time.monotonic() < deadline:
        st = admin("GET", "/ramp")[1].get("state")
        if st in ("running", "holding"):
            break
        time.sleep(0.2)
    check("start from the page runs the ramp", st in ("running", "holding"),
          repr(st))
    shown = b.wait_for("(() => { const t = document.getElementById("
                       "'ramp-body').textContent; return /running|holding/"
                       ".test(t) && t.includes('error_rate') && t; })()", 15,
                       "the ramp's state and checks shown")
    check("the page shows the ramp's state and checks",
          "error_rate" in shown, shown[:300])
    confirm_action(b, "#btn-ramp-abort", "dashboard test abort")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        st = admin("GET", "/ramp")[1].get("state")
        if st == "rolled_back":
            break
        time.sleep(0.2)
    check("abort from the page rolls back", st == "rolled_back", repr(st))
    w = wait_weights({"source": 100, "target": 0})
    check("all weight back to source", w == {"source": 100, "target": 0},
          repr(w))


def scenario_routes(b):
    """With [route] sections: a row per route and backend, as /stats says."""
    b.navigate(URL)
    b.wait_for("!document.getElementById('routes').hidden", 15,
               "the routes panel appears")
    ok("the routes panel appears when /stats has routes")
    want = admin("GET", "/stats")[1]["routes"]
    rows = b.wait_for("(() => { const r = document.getElementById("
                      "'route-reads-target'); return r && r.querySelector("
                      "'td.req').textContent !== '0' && Array.from("
                      "document.querySelectorAll('table.routes tr[id]'))"
                      ".map(t => t.id + '=' + t.querySelector('td.req')"
                      ".textContent); })()", 15, "route rows with requests")
    expect = sorted("route-%s-%s=%d" % (rn, bn, b_["requests"])
                    for rn, r in want.items() for bn, b_ in r.items())
    check("a row per route and backend with its requests",
          sorted(rows) == expect, "%r vs %r" % (rows, expect))
    hidden = b.eval("document.getElementById('routes').hidden")
    check("the panel stays shown", hidden is False, repr(hidden))


def main():
    scenario = sys.argv[1]
    b = cdp.Browser(os.path.join(os.environ["TMP"], "chromium-profile"))
    try:
        b.start()
        {"main": scenario_main, "token": scenario_token,
         "forged": scenario_forged, "down": scenario_down,
         "aws": scenario_aws, "ramp": scenario_ramp,
         "routes": scenario_routes}[scenario](b)
    except cdp.CDPError as e:
        fail("browser: %s" % e)
        if b.errors:
            print("page errors: " + "; ".join(b.errors))
    finally:
        b.stop()
    print("%s: %d failed" % (scenario, len(FAILS)))
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
