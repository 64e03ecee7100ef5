#!/usr/bin/env bash
# aws_auth: moto checks signatures (INITIAL_NO_AUTH_ACTION_COUNT).  Keys
# served by a loopback container-credentials endpoint that demands its
# Authorization token are used and accepted; a wrong secret gets AWS's
# clear auth error; a wrong token gets a credentials error.
set -euo pipefail
source "${TOP_SRCDIR:-.}/tests/integration/aws_lib.sh"

start_moto INITIAL_NO_AUTH_ACTION_COUNT=3
eval "$(fixture "$MOTO" iam-user)"
export FIXTURE_KEY_ID=$KEY_ID FIXTURE_SECRET=$KEY_SECRET
eval "$(fixture "$MOTO" setup)"
export AWS_ENDPOINT_URL=$MOTO
proxy_conf "$TMP/sw.conf" 1 127.0.0.1:1 1 127.0.0.1:2 0 "$(aws_section push)"

# Container credentials, the token read from a file as on ECS/EKS.
start_stub "creds:Bearer s3cret-token:$KEY_ID:$KEY_SECRET"
echo "Bearer s3cret-token" >"$TMP/token"
AWS_CONTAINER_CREDENTIALS_FULL_URI="$STUB/v2/credentials/x" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$TMP/token" \
    driver "$TMP/sw.conf" push 6 4
check "push with container credentials succeeds" 0 "$RC"
check "signature-checking moto accepted it" "6 4 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
check "the endpoint saw our token" "GET /v2/credentials/x Bearer s3cret-token" "$(head -n 1 "$STUB_LOG")"
check_match "status names the source" '"credentials":"container endpoint"' "$OUT"
check_no_match "the secret is never logged" "$KEY_SECRET" "$(cat "$TMP/driver.log")"
check "long-lived credentials are fetched once for three calls" 1 "$(grep -c '^GET' "$STUB_LOG")"

# Credentials that expire within the refresh margin (5 min) are fetched
# again for every call instead of being used until they fail.
STUB_EXPIRES_IN=120 start_stub "creds:Bearer s3cret-token:$KEY_ID:$KEY_SECRET"
AWS_CONTAINER_CREDENTIALS_FULL_URI="$STUB/v2/credentials/x" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer s3cret-token" \
    driver "$TMP/sw.conf" push 6 4
check "push with soon-expiring credentials succeeds" 0 "$RC"
check "they were refreshed before each of the three calls" 3 "$(grep -c '^GET' "$STUB_LOG")"

# A wrong token: a credentials error, nothing sent.
AWS_CONTAINER_CREDENTIALS_FULL_URI="$STUB/v2/credentials/x" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer wrong" \
    driver "$TMP/sw.conf" push 7 3
check "wrong token fails" 1 "$RC"
check_match "as a credentials error" "error: CredentialsError: container endpoint: HTTP 401" "$OUT"

# Environment keys with a wrong secret: AWS's auth error, verbatim.
AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=not-the-secret \
    driver "$TMP/sw.conf" push 7 3
check "wrong secret fails" 1 "$RC"
check_match "with SignatureDoesNotMatch" "error: SignatureDoesNotMatch: " "$OUT"
check "the ALB is unchanged" "6 4 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"

# EC2 instance metadata, IMDSv2 only (a session token first).
start_stub "imds:$KEY_ID:$KEY_SECRET"
AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$STUB \
    driver "$TMP/sw.conf" push 5 5
check "push with instance-metadata credentials succeeds" 0 "$RC"
check_match "status names the source" '"credentials":"instance metadata"' "$OUT"
check "IMDSv2: a token PUT comes first" "PUT /latest/api/token 21600" "$(head -n 1 "$STUB_LOG")"
check "the ALB has it" "5 5 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"

# Environment keys that are right, with a shared-file profile present too:
# the environment wins, as in the SDKs.
printf '[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n' >"$TMP/credentials"
AWS_SHARED_CREDENTIALS_FILE="$TMP/credentials" AWS_ACCESS_KEY_ID=$KEY_ID \
    AWS_SECRET_ACCESS_KEY=$KEY_SECRET driver "$TMP/sw.conf" push 8 2
check "environment keys beat the shared file" 0 "$RC"
# Shared file with a named profile.
printf '[ops]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$KEY_ID" "$KEY_SECRET" >"$TMP/credentials"
AWS_SHARED_CREDENTIALS_FILE="$TMP/credentials" AWS_PROFILE=ops driver "$TMP/sw.conf" push 9 1
check "profile from the shared credentials file works" 0 "$RC"
check_match "status names it" '"credentials":"shared file"' "$OUT"
check "the ALB has it" "9 1 true 3600" "$(fixture "$MOTO" weights "$LISTENER_ARN")"
sw_finish
