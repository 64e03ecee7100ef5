# aws_lib.sh: moto_server, the loopback stub and fixtures for the AWS
# tests.  Sourcing it sources lib.sh, runs sw_init and skips the test
# (exit 77) without moto.  Every server started here is one of the
# test's PIDS, killed by sw_cleanup.

source "$TESTLIB"
sw_init

: "${AWS_DRIVER:=./tests/aws_driver}"
AWS_FIXTURE="${TOP_SRCDIR:-.}/tests/integration/aws_fixture.py"
AWS_STUB="${TOP_SRCDIR:-.}/tests/integration/aws_stub.py"

# Skip (exit 77) with a clear message where moto is absent.
aws_require() {
	if ! python3 -c 'import moto, boto3' 2>/dev/null ||
	    ! command -v moto_server >/dev/null 2>&1; then
		echo "SKIP: Python moto (server mode) and boto3 are needed:" \
		    "pip install 'moto[server]' boto3"
		exit 77
	fi
	# The module must never reach real AWS or a real metadata service.
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
	    AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN \
	    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_ENDPOINT_URL_ECS \
	    AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2
	export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	    AWS_CONFIG_FILE=/dev/null
}

# wait_tcp PORT SECONDS: until something listens there.  A TCP connect,
# not an HTTP request: moto counts requests toward
# INITIAL_NO_AUTH_ACTION_COUNT, and a slow machine may start it slowly.
wait_tcp() {
	local i
	for i in $(seq $(( $2 * 5 ))); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.2
	done
	echo "nothing listens on port $1 after $2 s" >&2
	return 1
}

# start_moto [VAR=VALUE...]: moto_server on a free loopback port; sets MOTO.
start_moto() {
	local port
	port=$(free_port)
	env "$@" moto_server -H 127.0.0.1 -p "$port" >"$TMP/moto-$port.log" 2>&1 &
	PIDS+=($!)
	MOTO="http://127.0.0.1:$port"
	wait_tcp "$port" 60
}

# start_stub MODE [UPSTREAM]: aws_stub.py on a free port; sets STUB, STUB_LOG.
start_stub() {
	local port
	port=$(free_port)
	STUB_LOG="$TMP/stub-$port.requests"
	: >"$STUB_LOG"
	python3 "$AWS_STUB" "$port" "$STUB_LOG" "$@" >"$TMP/stub-$port.log" 2>&1 &
	PIDS+=($!)
	STUB="http://127.0.0.1:$port"
	wait_port "$port"
}

fixture() { python3 "$AWS_FIXTURE" "$@"; }

# moto_fixtures [VAR=VALUE...]: start moto and create the ALB/ECS fixtures
# (sets MOTO, LISTENER_ARN, SOURCE_TG_ARN, TARGET_TG_ARN).
moto_fixtures() {
	start_moto "$@"
	eval "$(fixture "$MOTO" setup)"
}

# aws_section SYNC [MORE]: an [aws] section for the moto fixtures.
aws_section() {
	cat <<CONF
[aws]
sync = $1
region = us-east-1
listener_arn = $LISTENER_ARN
source_target_group = ALBSourceProxy-dev-TG
target_target_group = ALBTargetProxy-dev-TG
ecs_cluster = migration-dev
source_service = capture-proxy
target_service = target-proxy
request_timeout = 5s
${2:-}
CONF
}

# aws_backends: backends src and tgt on free ports S and T; the proxy's port P.
aws_backends() {
	P=$(free_port); S=$(free_port); T=$(free_port)
	start_backend "$S" src
	start_backend "$T" tgt
}

# aws_conf SOURCE_WEIGHT TARGET_WEIGHT SYNC [MORE]: (re)write $TMP/sw.conf
# for those backends, with an [aws] section.
aws_conf() {
	proxy_conf "$TMP/sw.conf" "$P" "127.0.0.1:$S" "$1" "127.0.0.1:$T" "$2" \
	    "$(aws_section "$3" "${4:-}")"
}

# driver CONF ARGS...: run tests/aws_driver, output in OUT, status in RC.
driver() {
	local conf=$1
	shift
	set +e
	OUT=$(AWS_DRIVER_LOG="$TMP/driver.log" "$AWS_DRIVER" -T 60 -c "$conf" "$@" 2>&1)
	RC=$?
	set -e
}

aws_require
