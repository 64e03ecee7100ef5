#!/usr/bin/env bash
# man: the manual pages are clean mdoc (mandoc -T lint: no warning, no
# style note but cross-references to pages not installed yet), and
# switchover.conf(5) documents every key and section src/config.c reads.
set -euo pipefail
source "$TESTLIB"
command -v mandoc >/dev/null || { echo "mandoc is needed (apt-get install mandoc)"; exit 1; }
M="$TOP_SRCDIR/man"
pages=("$M/switchover.8" "$M/switchoverctl.8" "$M/switchover.conf.5")

for p in "${pages[@]}"; do
	out=$(mandoc -T lint "$p" 2>&1 | grep -v -e 'referenced manual not found' -e 'mandoc.db' || true)
	check "$(basename "$p"): mandoc -T lint is clean" "" "$out"
done

# Every key: KEY("sec", "k"), the durations and [aws] string tables, and
# the keys compared by hand (backend, tls_*, [cloudwatch], listener), and
# [route NAME]'s in config_route.c.
src="$TOP_SRCDIR/src/config.c"
keys=$( { grep -oE 'KEY\("[a-z]+", "[a-z_]+"\)' "$src" | sed -E 's/.*, "([a-z_]+)"\)/\1/'
	grep -oE '\{ "[a-z]+", "[a-z_]+", offsetof' "$src" | sed -E 's/.*, "([a-z_]+)", offsetof/\1/'
	grep -oE '\{ "[a-z_]+", offsetof' "$src" | sed -E 's/\{ "([a-z_]+)", offsetof/\1/'
	grep -oE 'strcmp\(key, "[a-z_]+"\)' "$src" "$TOP_SRCDIR/src/config_route.c" | sed -E 's/.*"([a-z_]+)"\)/\1/'; } | sort -u)
n=0
missing=""
for k in $keys; do
	n=$((n + 1))
	grep -qE "^\.It Cm (.*[ ,] )?$k( |$)" "$M/switchover.conf.5" || missing="$missing $k"
done
check "all $n keys of config.c are in switchover.conf(5)" "" "$missing"
[ "$n" -ge 60 ] && ok "found $n keys (the extraction works)" || fail "only $n keys found in config.c"

sections=$(sed -n 's/.*static const char \*const plain\[\] = {\(.*\)/\1/p;/"drain", "affinity"/p' "$src" |
    grep -oE '"[a-z]+"' | tr -d '"' | sort -u)
missing=""
for s in $sections backend listener route; do
	grep -qE "^\.Ss \[$s[] ]" "$M/switchover.conf.5" || missing="$missing $s"
done
check "every section has its part in switchover.conf(5)" "" "$missing"
sw_finish
