#!/usr/bin/env bash
# Disk full: the database lives on a small tmpfs that fills up. Submissions, tagging, sign-in (sessions) and
# an administrator's changes (accounts, links, export jobs, each with its audit entry) must get a 503 with a
# clear message and never an acknowledgement for something not stored; once space is freed, the service stores
# again without a restart. Needs root (mount).
#   tests/fault/disk_full.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/fault/lib.sh
build_wenji

tmp="$(mktemp -d)"
mnt="$tmp/small-disk"
mkdir -p "$mnt"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  umount "$mnt" 2>/dev/null || true
  [ -n "${KEEP_TMP:-}" ] && cp "$tmp/server.log" /tmp/wtc-diskfull-server.log; rm -rf "$tmp"
}
trap cleanup EXIT
mount -t tmpfs -o size=6m tmpfs "$mnt"

WENJI_DATABASE_URL="sqlite://$mnt/wenji.db?mode=rwc" WENJI_FORMS_DIR=forms WENJI_DATA_DIR="$tmp/data" \
  WENJI_SUBMIT_BURST=4000000000 WENJI_SUBMIT_PER_MINUTE=4000000000 serve_in_background
export WENJI_FAULT_PASSWORD="fault-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$WENJI_FAULT_PASSWORD" | WENJI_DATABASE_URL="sqlite://$mnt/wenji.db?mode=rwc" WENJI_FORMS_DIR=forms \
  WENJI_DATA_DIR="$tmp/data" "$bin" user add fault-analyst --role analyst >/dev/null 2>&1
echo "$WENJI_FAULT_PASSWORD" | WENJI_DATABASE_URL="sqlite://$mnt/wenji.db?mode=rwc" WENJI_FORMS_DIR=forms \
  WENJI_DATA_DIR="$tmp/data" "$bin" user add fault-admin --role admin >/dev/null 2>&1
python3 tests/fault/disk_full.py tag "$url" login "$tmp/cookies"
python3 tests/fault/disk_full.py admin "$url" login "$tmp/admin-cookies"
python3 tests/fault/disk_full.py changes "$url" login "$tmp/change-cookies" "$mnt/wenji.db"

echo "== filling the 6 MB filesystem that holds the database"
dd if=/dev/zero of="$mnt/filler" bs=64k status=none 2>/dev/null || true
df -h "$mnt" | tail -1
rc=0
python3 tests/fault/disk_full.py full "$url" "$tmp/answers.json" || rc=1
python3 tests/fault/disk_full.py tag "$url" full "$tmp/cookies" || rc=1
python3 tests/fault/disk_full.py admin "$url" full "$tmp/admin-cookies" || rc=1
python3 tests/fault/disk_full.py changes "$url" full "$tmp/change-cookies" "$mnt/wenji.db" || rc=1
python3 tests/fault/disk_full.py health "$url" full || rc=1

echo "== freeing space (the server keeps running)"
rm -f "$mnt/filler"
python3 tests/fault/disk_full.py recover "$url" "$tmp/answers.json" "$mnt/wenji.db" || rc=1
python3 tests/fault/disk_full.py tag "$url" freed "$tmp/cookies" || rc=1
python3 tests/fault/disk_full.py admin "$url" freed "$tmp/admin-cookies" || rc=1
python3 tests/fault/disk_full.py changes "$url" freed "$tmp/change-cookies" "$mnt/wenji.db" || rc=1
python3 tests/fault/disk_full.py health "$url" freed || rc=1
grep -c "storage unavailable" "$tmp/server.log" | xargs echo "server log lines 'storage unavailable':"
if [ $rc -ne 0 ]; then echo "DISK-FULL TEST FAILED" >&2; exit 1; fi
echo "disk-full test passed"
