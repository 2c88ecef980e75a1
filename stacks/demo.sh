#!/bin/sh
# make demo: runs stacks/web.yaml against a local AWS emulator (moto):
# plan, apply, a no-op plan, destroy. Nothing here touches a real account.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cairn=${CAIRN_BIN:-$here/../cairn}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

if command -v moto_server >/dev/null 2>&1; then
	moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
else
	python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
fi
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$work"' EXIT INT TERM
python3 - "$port" <<'PY'
import sys, time, urllib.request
url = "http://127.0.0.1:%s/moto-api/" % sys.argv[1]
for _ in range(300):
    try:
        urllib.request.urlopen(url, timeout=1); break
    except Exception:
        time.sleep(0.1)
else:
    sys.exit("moto did not start")
PY

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export CAIRN_STATE="$work/cairn.db"

step() { printf '\n\033[1m$ cairn %s\033[0m\n' "$*"; }
step plan -f stacks/web.yaml
"$cairn" plan -f "$here/web.yaml"
step apply -f stacks/web.yaml --auto-approve
"$cairn" apply -f "$here/web.yaml" --auto-approve
step plan -f stacks/web.yaml --detailed-exitcode
"$cairn" plan -f "$here/web.yaml" --detailed-exitcode
step state list -f stacks/web.yaml
"$cairn" state list -f "$here/web.yaml"
step destroy -f stacks/web.yaml --auto-approve
"$cairn" destroy -f "$here/web.yaml" --auto-approve
printf '\nThe same stack deploys to a real AWS account: unset AWS_ENDPOINT_URL and use real credentials.\n'
