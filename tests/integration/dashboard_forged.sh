#!/usr/bin/env bash
# dashboard_forged: a page from another origin (served here on another
# loopback port) that the operator happens to have open tries the admin
# API the ways a browser allows (a no-cors fetch, a form post): nothing
# moves.  The dashboard's own same-origin call still passes.
set -euo pipefail
source "$TESTLIB"
sw_init
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

start_pair 1 0
A="http://127.0.0.1:$ADMIN_PORT"
mkdir -p "$TMP/evil"
cat >"$TMP/evil/evil.html" <<HTML
<!doctype html><title>evil</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="$A/switchover" target="sink"
    enctype="text/plain"><input name='{"reason":"forged","x":"' value='"}'></form>
<script>
(async () => {
	const calls = [
		fetch("$A/switchover", { method: "POST", mode: "no-cors",
		    body: "{}" }),
		fetch("$A/weights", { method: "POST", mode: "no-cors",
		    headers: { "Content-Type": "text/plain" },
		    body: '{"source":0,"target":1}' }),
		fetch("$A/drain?backend=source", { method: "POST",
		    mode: "no-cors" }),
	];
	for (const c of calls) { try { await c; } catch (e) {} }
	document.getElementById("f").submit();
	await new Promise((r) => setTimeout(r, 1500));
	document.title = "done";
})();
</script>
HTML
E=$(free_port)
"$PY" -m http.server --bind 127.0.0.1 --directory "$TMP/evil" "$E" \
    >"$TMP/evil.log" 2>&1 &
PIDS+=($!)
wait_port "$E"

if ADMIN="127.0.0.1:$ADMIN_PORT" TMP="$TMP" EVIL="127.0.0.1:$E" \
    "$PY" "$TOP_SRCDIR/tests/integration/dashboard.py" forged; then
	ok "forged calls refused, the page's own pass"
else
	fail "forged calls refused, the page's own pass"
fi
check "one weight change: the page's own" 1 \
    "$(grep -c 'weights set by' "$TMP/switchover.log" || true)"
check "no drain by a forged call" 0 \
    "$(grep -c 'admin: .* drains backend' "$TMP/switchover.log" || true)"
sw_finish
