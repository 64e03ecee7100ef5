#!/usr/bin/env bash
# upstream_extra: bytes a backend sends after a complete keep-alive answer
# (a second, unsolicited answer, or junk; in the same write or a moment
# later) never reach a client: the upstream connection goes with them,
# and the next request is answered on a fresh one.  The backend is
# tests/integration/rawbackend.py; one worker, so one pool.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); R=$(free_port)
python3 "$TOP_SRCDIR/tests/integration/rawbackend.py" "$R" "$TMP/raw.requests" \
    >"$TMP/rawbackend.log" 2>&1 &
PIDS+=($!)
wait_port "$R"
WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$R" 1 "127.0.0.1:$R" 0
start_proxy "$TMP/sw.conf"
U="http://127.0.0.1:$P"

# conn_of PATH: the backend connection number of PATH's last request.
conn_of() { sed -n "s|^conn=\([0-9]*\) req=[0-9]* [A-Z]* $1\$|\1|p" "$TMP/raw.requests" | tail -n 1; }

# A plain request first: the pool then holds a connection, and reuse of
# a clean one is shown to work (else "not reused" below proves nothing).
# (wait_port's probe was the backend's connection 1.)
check_match "warm-up answered" '^conn=[0-9]+ req=1 /warm$' "$(curl -s "$U/warm")"
check_match "a clean connection is reused" '^conn=[0-9]+ req=2 /reuse$' "$(curl -s "$U/reuse")"
check "  the same one" "$(conn_of /warm)" "$(conn_of /reuse)"

# CASE EXTRA_PATH NEXT_PATH [SLEEP]: EXTRA_PATH's answer is followed by
# extra bytes; NEXT_PATH, on a new client connection, must get its own
# answer, from another backend connection.
extra_case() {
	local name=$1 extra=$2 next=$3 got c1 c2
	got=$(curl -s "$U$extra")
	check_match "$name: the answer itself is whole" "^conn=[0-9]+ req=[0-9]+ $extra\$" "$got"
	[ -z "${4:-}" ] || sleep "$4"
	got=$(curl -s -D "$TMP/next.head" "$U$next")
	check_match "$name: the next request gets its own answer" "^conn=[0-9]+ req=[0-9]+ $next\$" "$got"
	check_no_match "$name: and never the extra bytes" 'STALE|JUNK' "$got"
	check "$name: no X-Stale header" 0 "$(grep -ci '^X-Stale' "$TMP/next.head" || true)"
	c1=$(conn_of "$extra"); c2=$(conn_of "$next")
	if [ -n "$c1" ] && [ -n "$c2" ] && [ "$c1" != "$c2" ]; then
		ok "$name: the connection that sent them was not reused ($c1, then $c2)"
	else
		fail "$name: backend connection of $extra '$c1', of $next '$c2'"
	fi
}
extra_case "second answer in the same write" /extra /after-extra
extra_case "junk in the same write" /extra-junk /after-junk
# The late answer comes 0.3 s after the first, while the connection idles
# in the pool: wait for it (1 s) so it is there before the next request.
extra_case "second answer while pooled" /extra-late /after-late 1

# Same client connection: the next request on it is not hurt either.
out=$(curl -s "$U/extra" "$U/same-conn")
check_match "one client connection: both answered, in order" \
    '^conn=[0-9]+ req=[0-9]+ /extra(conn=[0-9]+ req=[0-9]+ /same-conn)$' "$out"
check_no_match "one client connection: no extra bytes" 'STALE|JUNK' "$out"
kill -0 "$SW_PID" && ok "proxy alive" || fail "proxy died"
sw_finish
