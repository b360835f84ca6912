#!/usr/bin/env bash
# `make test-pi`: the aarch64 static binary under qemu-user, through a smoke scenario:
# version, memory-set/get, cron-add/next/list (SQLite, zoneinfo), and an agent turn against
# a stand-in server on loopback. Usage: tests/pi_smoke.sh BINARY
set -euo pipefail
binary=$(realpath "$1")
run() { qemu-aarch64-static "$binary" "$@"; }
home=$(mktemp -d)
trap 'rm -rf "$home"; kill "$server" 2>/dev/null || true' EXIT
export NANOPYBOT_HOME=$home TZ=UTC
passed=0
check() { # name expected actual
  if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok   $1";
  else echo "FAIL $1: expected [$2], got [$3]"; echo "$passed passed, 1 failed"; exit 1; fi
}

check "version" "nanopy $(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)" "$(run --version)"
run memory-set city '{"name": "Bogor"}'
check "memory round trip" '{"name":"Bogor"}' "$(run memory-get city)"
check "cron-next across DST" "2026-03-29T03:00:00+02:00" \
  "$(run cron-next '30 2 * * *' -n 1 --tz Europe/Berlin --from 2026-03-28T12:00:00Z)"
run cron-add --name pi --message hi --cron '0 7 * * MON-FRI' --tz Asia/Jakarta >/dev/null
check "cron store" "Asia/Jakarta" "$(run cron-list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["tz"])')"

# An agent turn against the stand-in server on loopback.
port_file=$home/port
python3 - "$port_file" <<'PY' &
import sys, time
sys.path.insert(0, "bench")
import fake_openai
url = fake_openai.start()
open(sys.argv[1], "w").write(url)
time.sleep(120)
PY
server=$!
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
export NANOPY_BASE_URL=$(cat "$port_file")
check "agent turn" "Hello from the local stand-in server." "$(run agent hello </dev/null)"
echo "$passed passed, 0 failed"
