#!/usr/bin/env bash
# Power loss: the server's data folder (SQLite file, WAL, secret key) lives on powerfs (tests/fault/powerfs.py),
# which keeps every write in memory until its file is fsynced and its name until its folder is. Under
# continuous submissions (HTML form and JSON API, tests/fault/crash_client.py), power is cut at random
# moments: the server is killed, everything unsynced is thrown away, the server restarts on what survived.
# After each cut: every acknowledged submission is stored exactly once with all its opinions,
# PRAGMA integrity_check says ok, and the server's secret key is the one it started with. Needs root, /dev/fuse, libfuse2 and fusepy. See docs/power-loss.md.
#   tests/fault/power_loss.sh [--short] [--cuts N] [--expect-loss]
#     default 20 cuts; --short: 3, for CI
#     --expect-loss: with WENJI_UNSAFE_TEST_NO_SYNC=1 (commits not flushed); passes only if it sees loss,
#                    cutting on (at most 10 times) until it does
set -euo pipefail
cd "$(dirname "$0")/../.."
cuts=20
expect_loss=0
while [ $# -gt 0 ]; do
  case "$1" in
    --short) cuts=3; shift ;;
    --cuts) cuts="$2"; shift 2 ;;
    --expect-loss) expect_loss=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
python3 -c 'import fuse' 2>/dev/null || { echo "needs fusepy and libfuse2 (pip install fusepy; apt-get install fuse libfuse2)" >&2; exit 2; }
source tests/fault/lib.sh
build_wenji

tmp="$(mktemp -d)"
mnt="$tmp/mnt"
mkdir -p "$mnt" "$tmp/snap"
server=""
client=""
fs=""
cleanup() {
  [ -n "$client" ] && kill "$client" 2>/dev/null || true
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null || true
  fusermount -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  [ -n "$fs" ] && kill "$fs" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

python3 tests/fault/powerfs.py "$tmp/disk" "$mnt" >"$tmp/powerfs.log" 2>&1 &
fs=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
mountpoint -q "$mnt" || { echo "powerfs did not mount:" >&2; cat "$tmp/powerfs.log" >&2; exit 1; }
python3 tests/fault/powerfs.py selftest "$mnt"

port=$(free_port)
url="http://127.0.0.1:$port"
unset WENJI_SECRET  # the server makes its own in data/secret.key, which must survive every cut
export WENJI_DATABASE_URL="sqlite://$mnt/wenji.db?mode=rwc" WENJI_FORMS_DIR=forms WENJI_DATA_DIR="$mnt/data" \
  WENJI_SUBMIT_BURST=4000000000 WENJI_SUBMIT_PER_MINUTE=4000000000
if [ "$expect_loss" = 1 ]; then
  export WENJI_UNSAFE_TEST_NO_SYNC=1
  echo "== commits are NOT flushed (WENJI_UNSAFE_TEST_NO_SYNC=1): this run must lose submissions"
fi
start() {
  "$bin" serve --bind "127.0.0.1:$port" >>"$tmp/server.log" 2>&1 &
  server=$!
  wait_healthy "$url" "$tmp/server.log"
}

# Copies what survived (not the -shm, which SQLite rebuilds) and the acknowledgements so far, and checks
# one against the other; the copy keeps the check's own SQLite from changing what the server restarts on.
last=""
check_survivors() {
  rm -f "$tmp"/snap/*
  for f in wenji.db wenji.db-wal; do [ -e "$mnt/$f" ] && cp "$mnt/$f" "$tmp/snap/"; done
  cp "$tmp/acks.txt" "$tmp/snap/acks.txt" 2>/dev/null || : >"$tmp/snap/acks.txt"
  # A line the client is still writing is left for the next check.
  [ -z "$(tail -c1 "$tmp/snap/acks.txt")" ] || sed -i '$d' "$tmp/snap/acks.txt"
  if [ ! -e "$tmp/snap/wenji.db" ]; then
    last="acknowledged: $(wc -l <"$tmp/snap/acks.txt")  stored responses: 0  lost: $(wc -l <"$tmp/snap/acks.txt")  doubled: 0  receipt mismatches: 0  responses without opinions: 0  integrity_check: no database file"
  else
    last=$(python3 tests/fault/crash_client.py check "$tmp/snap/wenji.db" "$tmp/snap/acks.txt" | tail -1 || true)
  fi
}
figure() { local n; n=$(sed -n "s/.*$1: \([0-9]*\).*/\1/p" <<<"$last"); echo "${n:-0}"; }
clean="lost: 0  doubled: 0  receipt mismatches: 0  responses without opinions: 0  integrity_check: ok"
bad=0
cut_power() {
  kill -9 "$server"
  wait "$server" 2>/dev/null || true
  echo cut >"$mnt/.powercut"
  check_survivors
  grep -q "$clean" <<<"$last" || bad=1
  key="kept"
  [ "$(key_hash)" = "$key0" ] || { key="LOST OR CHANGED"; bad=1; }
}
key_hash() { { sha256sum <"$mnt/data/secret.key"; } 2>/dev/null || echo none; }

start
key0=$(key_hash)
python3 tests/fault/crash_client.py run "$url" "$tmp/acks.txt" "$tmp/stop" 8 &
client=$!
prev_acked=0
prev_lost=0
began=$(date +%s)
# Expecting loss, cut until some is seen (at most 10 times): one cut may land right after a flush.
rounds=$cuts
[ "$expect_loss" = 1 ] && [ "$rounds" -lt 10 ] && rounds=10
for i in $(seq "$rounds"); do
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.5, 4), 2))')"
  # Then right after the next acknowledgement: its commit is the likeliest to be still on its way to the disk.
  python3 -c 'import os, sys, time
size = lambda: os.path.getsize(sys.argv[1]) if os.path.exists(sys.argv[1]) else 0
before, until = size(), time.time() + 2
while size() == before and time.time() < until:
    time.sleep(0.001)' "$tmp/acks.txt"
  cut_power
  acked=$(figure acknowledged); lost=$(figure lost); doubled=$(figure doubled)
  printf "cut %2d: acknowledged %6d (+%d)  lost %d (+%d)  doubled %d  integrity_check: %s  secret key: %s | %s\n" \
    "$i" "$acked" $((acked - prev_acked)) "$lost" $((lost - prev_lost)) "$doubled" \
    "${last##*integrity_check: }" "$key" "$(tail -1 "$tmp/powerfs.log" | sed 's/^powerfs: cut [0-9]*: //')"
  prev_acked=$acked; prev_lost=$lost
  start || { echo "the server did not restart after cut $i" >&2; exit 1; }
  if [ "$expect_loss" = 1 ] && [ "$i" -ge "$cuts" ] && [ "$lost" -gt 0 ]; then break; fi
done
echo
stop_client
echo "== final cut, after the client stopped"
cut_power
server=""
echo "$last"
acked=$(figure acknowledged); lost=$(figure lost); doubled=$(figure doubled)
echo "power cuts: $((i + 1)) in $(($(date +%s) - began)) s; acknowledged: $acked  lost: $lost  doubled: $doubled"

if [ "$expect_loss" = 1 ]; then
  if [ "$lost" -gt 0 ]; then
    echo "power-loss test (expect loss) passed: with commits not flushed it reported $lost lost submissions"
    exit 0
  fi
  echo "POWER-LOSS TEST FAILED: commits were not flushed, yet no loss was seen; the test cannot tell" >&2
  exit 1
fi
if [ "$client_rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$acked" -eq 0 ]; then
  echo "POWER-LOSS TEST FAILED" >&2
  exit 1
fi
echo "power-loss test passed"
