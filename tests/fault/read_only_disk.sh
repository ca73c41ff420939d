#!/usr/bin/env bash
# A disk that turns read-only under the server, as ext4 mounted `errors=remount-ro` does after an I/O error
# (raised here through /sys/fs/ext4/<device>/trigger_fs_error): /healthz answers 503 saying so (ext4's
# statvfs does not), submissions get 503 and none is acknowledged, and what was acknowledged before is in
# the database, intact. Needs root (a loop mount).
#   tests/fault/read_only_disk.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/fault/lib.sh
build_wenji

tmp="$(mktemp -d)"
mnt="$tmp/disk"
mkdir -p "$mnt"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  umount "$mnt" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
truncate -s 64M "$tmp/ext4.img"
mkfs.ext4 -q "$tmp/ext4.img"
mount -o loop,errors=remount-ro "$tmp/ext4.img" "$mnt"
device="$(basename "$(findmnt -no SOURCE "$mnt")")"

WENJI_DATABASE_URL="sqlite://$mnt/wenji.db?mode=rwc" WENJI_FORMS_DIR=forms WENJI_DATA_DIR="$tmp/data" serve_in_background
rc=0
python3 tests/fault/disk_full.py readonly "$url" writable || rc=1
python3 tests/fault/disk_full.py health "$url" writable || rc=1

echo "== an I/O error: ext4 turns the filesystem read-only"
echo "wenji read-only disk test" > "/sys/fs/ext4/$device/trigger_fs_error"
python3 tests/fault/disk_full.py health "$url" read-only || rc=1
python3 tests/fault/disk_full.py readonly "$url" read-only || rc=1

echo "== stopped, the disk mounted again: what was acknowledged is there"
kill "$server"; wait "$server" 2>/dev/null || true; server=""
umount "$mnt"
e2fsck -fy "$tmp/ext4.img" >/dev/null 2>&1 || true
mount -o loop "$tmp/ext4.img" "$mnt"
python3 - "$mnt/wenji.db" <<'PY' || rc=1
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
stored = db.execute("SELECT count(*) FROM responses").fetchone()[0]
integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
print(f"after the read-only disk: {stored} response(s) stored (1 acknowledged), integrity_check: {integrity}")
sys.exit(0 if stored == 1 and integrity == "ok" else 1)
PY
if [ $rc -ne 0 ]; then echo "READ-ONLY DISK TEST FAILED" >&2; cat "$tmp/server.log" >&2; exit 1; fi
echo "read-only disk test passed"
