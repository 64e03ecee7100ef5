#!/usr/bin/env bash
# admin_csrf: the admin API takes no orders from a web page.  A request
# whose Host is not the admin API (DNS rebinding) is refused, and so is a
# state-changing request that a browser marks as coming from another
# origin (Origin, Sec-Fetch-Site); nothing changes and the refusal is
# logged.  Tools that send neither (curl, switchoverctl) keep working, and
# so does a same-origin page and a name in [admin] allowed_hosts.
set -euo pipefail
source "$TESTLIB"
sw_init

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source-1
start_backend "$T" target-1
ADMIN_EXTRA="allowed_hosts = switchover.internal, ops.example:8443" \
    WORKERS=1 proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 "
[state]
audit_log = $TMP/audit.log"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
: >"$TMP/audit.log"

# code METHOD PATH [CURL ARGS...]: the HTTP status; the body in $TMP/out.
code() {
	local m=$1 p=$2
	shift 2
	curl -s -o "$TMP/out" -w '%{http_code}' -X "$m" "$@" "$A$p"
}
weights() { curl -s "$A/weights" | tr -d ' \n'; }

# A forged cross-site POST (fetch(..., {mode: 'no-cors'}) from any page).
check "POST /switchover from another origin: 403" 403 \
    "$(code POST /switchover -H 'Origin: http://evil.example')"
check_match "  in the proxy's error shape" '"type": *"security_exception".*"status": *403' "$(tr -d '\n' <"$TMP/out")"
check_match "  and says why" 'Origin.*evil\.example' "$(cat "$TMP/out")"
check "  weights unchanged" '{"source":1,"target":0}' "$(weights)"
check "PUT /weights from another origin: 403" 403 \
    "$(code PUT /weights -H 'Origin: http://evil.example' --data-binary '{"target":1}')"
check "POST /fallback from a null origin: 403" 403 \
    "$(code POST /fallback -H 'Origin: null')"
check "POST from the admin's address on another port: 403" 403 \
    "$(code POST /switchover -H "Origin: http://127.0.0.1:$P")"
check "POST /drain from another origin: 403" 403 \
    "$(code POST '/drain?backend=source' -H 'Origin: https://evil.example')"
check "Sec-Fetch-Site: cross-site: 403" 403 \
    "$(code POST /switchover -H 'Sec-Fetch-Site: cross-site')"
check "Sec-Fetch-Site: same-site: 403" 403 \
    "$(code POST /switchover -H 'Sec-Fetch-Site: same-site')"
check "  weights still unchanged" '{"source":1,"target":0}' "$(weights)"

# DNS rebinding: a page whose name now points at 127.0.0.1.
check "GET /stats with a foreign Host: 403" 403 \
    "$(code GET /stats -H "Host: evil.example:$ADMIN_PORT")"
check_no_match "  and no stats in the answer" '"backends"|"requests"' "$(cat "$TMP/out")"
check "GET /weights with a foreign Host: 403" 403 \
    "$(code GET /weights -H 'Host: evil.example')"
check "PUT /weights with a foreign Host: 403" 403 \
    "$(code PUT /weights -H "Host: evil.example:$ADMIN_PORT" --data-binary '{"target":1}')"
check "a Host that only starts like localhost: 403" 403 \
    "$(code GET /stats -H "Host: localhost.evil.example:$ADMIN_PORT")"
check "a Host of the right name with another port: 403" 403 \
    "$(code GET /stats -H "Host: localhost:$P")"
check "  weights unchanged by all of it" '{"source":1,"target":0}' "$(weights)"
check "no change was audited" 0 "$(wc -l <"$TMP/audit.log")"
check_match "refusals are logged" 'admin: 127\.0\.0\.1:[0-9]+: /switchover refused: Origin "http://evil\.example"' "$(cat "$TMP/switchover.log")"

# What an operator does keeps working.
check "plain curl POST /fallback: 200" 200 "$(code POST /fallback)"
check "GET /stats with Host localhost:PORT: 200" 200 \
    "$(code GET /stats -H "Host: localhost:$ADMIN_PORT")"
check "GET /stats with Host localhost: 200" 200 \
    "$(code GET /stats -H "Host: localhost")"
check "a same-origin page may POST" 200 \
    "$(code PUT /weights -H "Origin: http://127.0.0.1:$ADMIN_PORT" -H 'Sec-Fetch-Site: same-origin' --data-binary '{"source":2}')"
check "  and it applied" '{"source":2,"target":0}' "$(weights)"
check "Origin http://localhost:PORT may POST" 200 \
    "$(code POST /fallback -H "Origin: http://localhost:$ADMIN_PORT")"
check "allowed_hosts name as Host: 200" 200 \
    "$(code GET /stats -H "Host: switchover.internal:$ADMIN_PORT")"
check "allowed_hosts name, any case, as Host and Origin: 200" 200 \
    "$(code POST /switchover -H 'Host: Switchover.Internal' -H "Origin: http://switchover.internal:$ADMIN_PORT")"
check "  and it applied" '{"source":0,"target":1}' "$(weights)"
check "allowed_hosts name:port as Host: 200" 200 \
    "$(code GET /weights -H 'Host: ops.example:8443')"
check "allowed_hosts name:port with another port: 403" 403 \
    "$(code GET /weights -H "Host: ops.example:$ADMIN_PORT")"
check "switchoverctl works" 0 "$("$SWITCHOVERCTL" -a "127.0.0.1:$ADMIN_PORT" fallback >/dev/null 2>&1; echo $?)"
check "  weights back on source" '{"source":1,"target":0}' "$(weights)"

# A bad allowed_hosts entry is a config error naming the file and line.
sed 's/^allowed_hosts = .*/allowed_hosts = good.example, bad\/host/' "$TMP/sw.conf" >"$TMP/bad.conf"
set +e
tout=$("$SWITCHOVER" -t -c "$TMP/bad.conf" 2>&1); trc=$?
set -e
check "-t refuses a bad allowed_hosts" 1 "$trc"
check_match "  naming file, line and entry" 'bad\.conf:[0-9]+: allowed_hosts: "bad/host"' "$tout"
sw_finish
