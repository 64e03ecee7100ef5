#!/usr/bin/env bash
# jsclient: the official OpenSearch JavaScript client
# (@opensearch-project/opensearch, from npm, cached in the build tree)
# through switchover against two scripted fake clusters
# (fake_cluster.py): the scroll helper and a PIT search across a
# switchover, without and with compression, stay on the cluster that
# issued their ids; the bulk helper with retries off, while the weights
# flip every 250 ms through the admin API, loses and duplicates nothing
# (counted at the fake clusters).  See jsclient.js.  SKIPs (77) only when
# the npm registry cannot be reached and nothing is cached.
set -euo pipefail
source "$TESTLIB"
sw_init
for tool in node npm python3; do
	command -v "$tool" >/dev/null || { echo "$tool is needed: ./bootstrap installs it (Debian nodejs, python3)"; exit 1; }
done

JSC_VERSION=2.13.0
NODE_DIR=${NODE_DIR:-$PWD/tests/node}
mod="$NODE_DIR/node_modules/@opensearch-project/opensearch"
if ! grep -q "\"version\": \"$JSC_VERSION\"" "$mod/package.json" 2>/dev/null; then
	mkdir -p "$NODE_DIR"
	if ! timeout 180 npm install --prefix "$NODE_DIR" --no-audit --no-fund \
	    --no-save "@opensearch-project/opensearch@$JSC_VERSION" >"$TMP/npm.log" 2>&1; then
		if ! timeout 30 npm ping >>"$TMP/npm.log" 2>&1; then
			echo "#######################################################"
			echo "# SKIP: the npm registry cannot be reached, and"
			echo "# @opensearch-project/opensearch@$JSC_VERSION is not cached"
			echo "# in $NODE_DIR: the real-client test did NOT run."
			echo "#######################################################"
			tail -n 5 "$TMP/npm.log"
			exit 77
		fi
		cat "$TMP/npm.log"
		fail "npm install @opensearch-project/opensearch@$JSC_VERSION failed (the registry answers)"
		sw_finish
	fi
fi
echo "# @opensearch-project/opensearch $JSC_VERSION, node $(node --version)"

FAKE="$TOP_SRCDIR/tests/integration/fake_cluster.py"
P=$(free_port); S=$(free_port); T=$(free_port)
python3 "$FAKE" "$S" source >"$TMP/fake-source.log" 2>&1 &
PIDS+=($!)
python3 "$FAKE" "$T" target >"$TMP/fake-target.log" 2>&1 &
PIDS+=($!)
wait_port "$S"
wait_port "$T"
proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0 \
    "$(printf '[drain]\nspread = 500ms\n')"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"

set +e
NODE_PATH="$NODE_DIR/node_modules" timeout 90 node \
    "$TOP_SRCDIR/tests/integration/jsclient.js" "http://127.0.0.1:$P" \
    "http://127.0.0.1:$ADMIN_PORT" "http://127.0.0.1:$S" \
    "http://127.0.0.1:$T" 20000 >"$TMP/js.out" 2>&1
rc=$?
set -e
grep -E '^(ok|FAIL) - ' "$TMP/js.out" || true
echo "# $(tail -n 1 "$TMP/js.out" | cut -c1-600)"
check "the client run passed every check" 0 "$rc"
n=$(grep -c '^ok - ' "$TMP/js.out" || true)
if [ "$n" -ge 30 ]; then ok "$n client checks passed"; else fail "only $n client checks passed"; fi
sw_finish
