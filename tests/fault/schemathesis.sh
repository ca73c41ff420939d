#!/usr/bin/env bash
# Fuzzes the JSON API from its own OpenAPI document with schemathesis (installed from PyPI into a venv by
# this script): every generated request must get an answer below 500.
#   tests/fault/schemathesis.sh [--short]     (--short: fewer cases per operation, for CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
examples=300
[ "${1:-}" = "--short" ] && examples=60
venv="${WENJI_FUZZ_VENV:-$HOME/.cache/wenji-schemathesis}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "== installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis==4.32.5'
fi
source tests/fault/lib.sh
build_wenji

tmp="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$(free_port)
url="http://127.0.0.1:$port"
WENJI_DATABASE_URL="sqlite://$tmp/wenji.db?mode=rwc" WENJI_FORMS_DIR=forms WENJI_DATA_DIR="$tmp/data" \
  WENJI_SUBMIT_BURST=4000000000 WENJI_SUBMIT_PER_MINUTE=4000000000 \
  "$bin" serve --bind "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server=$!
wait_healthy "$url" "$tmp/server.log"

echo "== schemathesis: up to $examples cases per operation and phase, check: not_a_server_error"
rc=0
"$venv/bin/schemathesis" --config-file tests/fault/schemathesis.toml run "$url/api/openapi.json" --checks not_a_server_error --max-examples "$examples" \
  --phases examples,coverage,fuzzing --generation-database none --no-color --seed 20261126 \
  --report ndjson --report-ndjson-path "$tmp/events.ndjson" | tee "$tmp/st.log" || rc=$?
# Every status code the server answered, from the event log.
read -r requests server_errors < <(python3 - "$tmp/events.ndjson" <<'PY'
import re, sys
codes = [int(c) for line in open(sys.argv[1]) for c in re.findall(r'"status_code": ?(\d{3})', line)]
print(len(codes), sum(c >= 500 for c in codes))
PY
)
cases=$(grep -oE '[0-9]+ generated' "$tmp/st.log" | tail -1 | cut -d' ' -f1)
echo "schemathesis: ${cases:-0} cases generated, $requests responses, 5xx answers: $server_errors, exit code $rc"
[ "$rc" -eq 0 ] && [ "$server_errors" -eq 0 ]
