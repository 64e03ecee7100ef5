#!/usr/bin/env bash
# config: the command line and -t, as an operator meets them.
set -euo pipefail
source "$TESTLIB"
sw_init

conf="${TOP_SRCDIR:-.}/conf/switchover.conf"
check "sample config passes -t" "configuration OK" "$("$SWITCHOVER" -t -c "$conf")"

cat >"$TMP/bad.conf" <<'CONF'
[listener]
address = 0.0.0.0:notaport
[backend source]
servers = 127.0.0.1:1
weight = 0
[backend target]
servers = 127.0.0.1:2
weight = 0
colour = blue
CONF
set +e
out=$("$SWITCHOVER" -t -c "$TMP/bad.conf" 2>&1); rc=$?
set -e
check "-t on a bad file exits 1" 1 "$rc"
check_match "error names file:line" "bad.conf:2: address" "$out"
check_match "every error is listed" "bad.conf:9: unknown key \"colour\"" "$out"
check_match "semantic errors too" "every backend has weight 0" "$out"

set +e
out=$("$SWITCHOVER" -t -c "$TMP/missing.conf" 2>&1); rc=$?
set -e
check "missing file exits 1" 1 "$rc"
check_match "missing file is named" "missing.conf.*No such file" "$out"

check_match "-V prints the version" '^switchover [0-9]+\.[0-9]+' "$("$SWITCHOVER" -V)"
check_match "-h prints usage" 'usage: switchover' "$("$SWITCHOVER" -h)"
set +e
"$SWITCHOVER" -x >/dev/null 2>&1; rc=$?
set -e
check "unknown option exits 2" 2 "$rc"

# A port in use is refused, not silently shared through SO_REUSEPORT.
P=$(free_port)
cat >"$TMP/a.conf" <<CONF
[listener]
address = 127.0.0.1:$P
[admin]
address = off
[backend source]
servers = 127.0.0.1:1
weight = 1
CONF
start_proxy "$TMP/a.conf"
set +e
out=$("$SWITCHOVER" -c "$TMP/a.conf" 2>&1); rc=$?
set -e
check "second instance on the same port exits 1" 1 "$rc"
check_match "and says why" "cannot listen on 127.0.0.1:$P" "$out"
sw_finish
