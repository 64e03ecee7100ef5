#!/usr/bin/env bash
# aws_reload: SIGHUP re-reads [aws] too.  Added, changed and removed
# sections take effect without a restart (/stats says which settings the
# AWS module runs with); a section that cannot run (no region anywhere)
# or does not parse is refused with the whole reload, and the running
# module keeps its settings.  No AWS endpoint is reached: credentials are
# absent and the endpoint is a closed local port, so calls just fail.
set -euo pipefail
source "$TESTLIB"
sw_init
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)"; exit 1; }
unset AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
    AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
export AWS_CONFIG_FILE="$TMP/aws-config" AWS_SHARED_CREDENTIALS_FILE="$TMP/nothing"
export AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="http://127.0.0.1:$(free_port)"

P=$(free_port); S=$(free_port); T=$(free_port)
start_backend "$S" source-1
start_backend "$T" target-1
ARN1="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/mig/0123456789abcdef/1111111111111111"
ARN2="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/mig/0123456789abcdef/2222222222222222"
aws_section() {	# REGION-LINE LISTENER-ARN
	printf '[aws]\nsync = push\n%s\nlistener_arn = %s\nsource_target_group = ALBSourceProxy-dev-TG\ntarget_target_group = ALBTargetProxy-dev-TG\n' "$1" "$2"
}
proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" 1 "127.0.0.1:$T" 0
cp "$TMP/sw.conf" "$TMP/base.conf"
start_proxy "$TMP/sw.conf"
wait_port "$ADMIN_PORT"
A="http://127.0.0.1:$ADMIN_PORT"
aws() { curl -s "$A/stats" | jq -c '.aws // "none" | if type == "object" then [.sync, .listener_arn] else . end'; }
# hup EXPECT: rewrite nothing, send SIGHUP, wait for "reload done" or
# "reload failed" (EXPECT says which) in the log.
hup() {
	local n0 i
	n0=$(grep -c "reload $1" "$TMP/switchover.log" || true)
	kill -HUP "$SW_PID"
	for i in $(seq 100); do
		[ "$(grep -c "reload $1" "$TMP/switchover.log" || true)" -gt "$n0" ] && return 0
		sleep 0.1
	done
	echo "no 'reload $1' after 10 s" >&2
	return 1
}
check "no AWS module at start" '"none"' "$(aws)"

# Added, but no region anywhere: refused, nothing runs.
{ cat "$TMP/base.conf"; aws_section "" "$ARN1"; } >"$TMP/sw.conf"
hup failed
check "no region: the reload is refused" 1 "$(grep -c 'aws: no region' "$TMP/switchover.log")"
check "still no AWS module" '"none"' "$(aws)"

# The region from the profile in ~/.aws/config: now it runs.
printf '[default]\nregion = eu-west-1\n' >"$AWS_CONFIG_FILE"
hup done
check "added by SIGHUP: the module runs" "[\"push\",\"$ARN1\"]" "$(aws)"
check "with the profile's region" 1 "$(grep -c 'aws: sync = push, region eu-west-1' "$TMP/switchover.log")"

# Changed: the module restarts with the new listener.
{ cat "$TMP/base.conf"; aws_section "region = us-east-1" "$ARN2"; } >"$TMP/sw.conf"
hup done
check "changed by SIGHUP: the new listener" "[\"push\",\"$ARN2\"]" "$(aws)"

# A bad section (not an ARN) is refused; the running one stays.
{ cat "$TMP/base.conf"; aws_section "region = us-east-1" "not-an-arn"; } >"$TMP/sw.conf"
hup failed
check "a bad [aws] keeps the running module" "[\"push\",\"$ARN2\"]" "$(aws)"
# So is one the module could not run with (no region once more).
rm -f "$AWS_CONFIG_FILE"
{ cat "$TMP/base.conf"; aws_section "" "$ARN1"; } >"$TMP/sw.conf"
hup failed
check "an [aws] without a region keeps the running module" "[\"push\",\"$ARN2\"]" "$(aws)"

# Removed: the module stops.
cp "$TMP/base.conf" "$TMP/sw.conf"
hup done
check "removed by SIGHUP: no AWS module" '"none"' "$(aws)"
check "the proxy served all along" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")"
kill -TERM "$SW_PID"
wait_exit "$SW_PID" 20
check "proxy exits 0" 0 "$WAIT_RC"
sw_finish
