#!/usr/bin/env bash
# `make test-pi`, `make test-pi32`, `make test-pi-zero`: an ARM static binary under qemu-user,
# through one smoke scenario: version, memory-set/get, cron-add/next/list (SQLite, zoneinfo),
# an agent turn against a stand-in server on loopback, and a scheduled fire run by
# `cron-run --once`. Usage: tests/pi_smoke.sh BINARY QEMU [QEMU-ARGS…], for example
# `tests/pi_smoke.sh nanopy qemu-arm-static -cpu arm1176` (an ARMv6 core: any ARMv7 or NEON
# instruction in the binary traps there as "Illegal instruction").
set -euo pipefail
binary=$(realpath "$1")
shift
qemu=("$@")
run() { "${qemu[@]}" "$binary" "$@"; }
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

# TLS on this CPU: a TLS 1.3 handshake (ring's key exchange, AEAD and signature code) with a
# self-signed server gets as far as judging its certificate, so the error names it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
  -days 2 -keyout "$home/key.pem" -out "$home/cert.pem" 2>/dev/null
tls_port_file=$home/tls_port
python3 - "$home" <<'PY' &
import http.server, ssl, sys
home = sys.argv[1]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(home + "/cert.pem", home + "/key.pem")
server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.timeout = 120
open(home + "/tls_port", "w").write(str(server.server_address[1]))
try:
    server.handle_request()
except Exception:
    pass
PY
tls_server=$!
for _ in $(seq 50); do [ -s "$tls_port_file" ] && break; sleep 0.1; done
tls_error=$(run agent --no-stdin -f "https://127.0.0.1:$(cat "$tls_port_file")/" hi 2>&1 || true)
case $tls_error in
  *"invalid peer certificate"*) check "TLS handshake" ok ok ;;
  *) check "TLS handshake" "invalid peer certificate" "$tls_error" ;;
esac
kill "$tls_server" 2>/dev/null || true

# A scheduled fire: a one-shot job due a second from now, run by the crontab entry point.
run cron-add --name fire --message hi --in 1s >/dev/null
sleep 2
run cron-run --once </dev/null
check "scheduled fire" "ok" "$(run cron-history fire --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"])')"
echo "$passed passed, 0 failed"
