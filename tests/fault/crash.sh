#!/usr/bin/env bash
# Crash test: under continuous submissions (HTML form and JSON API), kill -9 the server at random moments,
# restart it, and check that every acknowledged submission is stored exactly once and the database passes
# PRAGMA integrity_check.
#   tests/fault/crash.sh [--short] [--kills N]     (default 25 kills; --short: 5, for CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
kills=25
while [ $# -gt 0 ]; do
  case "$1" in
    --short) kills=5; shift ;;
    --kills) kills="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
source tests/fault/lib.sh
build_wenji

tmp="$(mktemp -d)"
server=""
client=""
cleanup() {
  [ -n "$client" ] && kill "$client" 2>/dev/null || true
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(free_port)
url="http://127.0.0.1:$port"
export WENJI_DATABASE_URL="sqlite://$tmp/wenji.db?mode=rwc" WENJI_FORMS_DIR=forms WENJI_DATA_DIR="$tmp/data" \
  WENJI_SUBMIT_BURST=4000000000 WENJI_SUBMIT_PER_MINUTE=4000000000
start() {
  "$bin" serve --bind "127.0.0.1:$port" >>"$tmp/server.log" 2>&1 &
  server=$!
  wait_healthy "$url" "$tmp/server.log"
}

start
python3 tests/fault/crash_client.py run "$url" "$tmp/acks.txt" "$tmp/stop" 8 &
client=$!
survived=0
for i in $(seq "$kills"); do
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 1.5), 2))')"
  kill -9 "$server"
  wait "$server" 2>/dev/null || true
  start
  survived=$((survived + 1))
  printf "kill -9 %d/%d, restarted; acknowledged so far: %d\n" "$i" "$kills" "$(wc -l <"$tmp/acks.txt" 2>/dev/null || echo 0)"
done
echo
sleep 1
touch "$tmp/stop"
client_rc=0
wait "$client" || client_rc=$?
client=""
kill -9 "$server"; wait "$server" 2>/dev/null || true
server=""

echo "== checking the database against the client's receipts"
check_rc=0
python3 tests/fault/crash_client.py check "$tmp/wenji.db" "$tmp/acks.txt" || check_rc=$?
echo "kills survived: $survived"
if [ "$client_rc" -ne 0 ] || [ "$check_rc" -ne 0 ]; then
  echo "CRASH TEST FAILED" >&2
  exit 1
fi
echo "crash test passed"
