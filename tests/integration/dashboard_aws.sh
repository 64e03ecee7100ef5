#!/usr/bin/env bash
# dashboard_aws: with [aws] sync = push (against moto), the page shows the
# ALB's weights and push state beside the proxy's, and a switchover
# clicked on the page reaches the ALB's rule.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

moto_fixtures
export AWS_ENDPOINT_URL="$MOTO" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
aws_backends
aws_conf 1 0 push
# The ALB disagrees at start: the page must say so.
fixture "$MOTO" set-weights "$LISTENER_ARN" 4 6
start_proxy "$TMP/sw.conf"

if ADMIN="127.0.0.1:$ADMIN_PORT" TMP="$TMP" \
    "$PY" "$TOP_SRCDIR/tests/integration/dashboard.py" aws; then
	ok "dashboard with the ALB in Chromium"
else
	fail "dashboard with the ALB in Chromium"
fi
check "the ALB's rule has the page's switchover" "0 1 true 3600" \
    "$(fixture "$MOTO" weights "$LISTENER_ARN")"
sw_finish
