#!/bin/sh
# make demo: runs stacks/web.yaml through plan, apply, a no-op plan and
# destroy against a local AWS emulator (moto) on a free port, with a
# temporary state. Nothing touches a real AWS account: every endpoint is
# the emulator's. Without AWS_ENDPOINT_URL and with real credentials the
# same commands deploy the stack to AWS.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAIRN=${CAIRN_BIN:-$ROOT/cairn}
WORK=$(mktemp -d)
MOTO_PID=

cleanup() {
	if [ -n "$MOTO_PID" ]; then
		kill "$MOTO_PID" 2>/dev/null || true
		wait "$MOTO_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! python3 -c 'import moto.server' 2>/dev/null; then
	echo "demo: installing the AWS emulator (python3 -m pip install 'moto[server]')"
	python3 -m pip install --quiet 'moto[server]'
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
url = "http://127.0.0.1:%s/moto-api/" % sys.argv[1]
for _ in range(300):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("demo: the emulator did not start")
PY

# Only the emulator: none of the developer's own AWS set-up is used.
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$WORK/no-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/no-credentials"
export AWS_EC2_METADATA_DISABLED=true
export CAIRN_STATE="$WORK/cairn.db"
unset AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true

step() {
	if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
		printf '\n\033[1m==> %s\033[0m\n\n' "$*"
	else
		printf '\n==> %s\n\n' "$*"
	fi
}

cd "$ROOT"
step "cairn plan -f stacks/web.yaml   (emulator at $AWS_ENDPOINT_URL)"
"$CAIRN" plan -f stacks/web.yaml

step "cairn apply -f stacks/web.yaml --auto-approve"
"$CAIRN" apply -f stacks/web.yaml --auto-approve

step "cairn plan -f stacks/web.yaml --detailed-exitcode   (nothing left to do)"
"$CAIRN" plan -f stacks/web.yaml --detailed-exitcode

step "cairn state list -f stacks/web.yaml"
"$CAIRN" state list -f stacks/web.yaml

step "cairn destroy -f stacks/web.yaml --auto-approve"
"$CAIRN" destroy -f stacks/web.yaml --auto-approve

step "demo complete: planned, applied, re-planned with no changes, destroyed"
