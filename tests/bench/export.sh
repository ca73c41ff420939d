#!/usr/bin/env bash
# Export benchmark (prints figures, asserts nothing): seeds 100,000 and 1,000,000 invented opinions into
# fresh SQLite files, times `wenji export` (xlsx, both shipped forms) and, on the same database, Python's
# XlsxWriter writing the same workbook: every sheet, the same cell values, widths and formats, both charts,
# tallies counted from the rows (tests/bench/xlsxwriter_export.py), with peak RSS from /usr/bin/time; then
# the CSV, and a leader's protected xlsx of the opinion form (rows of a day shuffled).
# Targets: ≤ 5 s (100k), ≤ 45 s (1M), peak RSS ≤ 150 MB, ≥ 5× faster than XlsxWriter.
#
#   tests/bench/export.sh                       # both sizes
#   WENJI_BENCH_SIZES="100000" tests/bench/export.sh
#   WENJI_BENCH_SKIP_PY=1 …  (Rust only; XlsxWriter takes minutes at a million)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
[ -n "${WENJI_BENCH_NO_BUILD:-}" ] || cargo build --quiet --release --bin wenji --example seed
bin="$CARGO_TARGET_DIR/release"
python3 -c 'import xlsxwriter' 2>/dev/null || pip install --quiet xlsxwriter
work="${WENJI_BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$work"
echo "working in $work ($(nproc) cores)"
printf '%-10s %-8s %10s %10s %12s %10s %10s %12s %8s\n' opinions what seconds "peak MB" "file MB" "py s" "py MB" "py file MB" speedup
for n in ${WENJI_BENCH_SIZES:-100000 1000000}; do
  db="$work/bench-$n.db"
  rm -f "$db" "$db-wal" "$db-shm" "$work/rust-$n".* "$work/rust-$n-leader.xlsx"
  url="sqlite://$db?mode=rwc"
  "$bin/examples/seed" --database-url "$url" --opinions "$n" --forms-dir forms
  sync; sleep 1
  /usr/bin/time -f "%e %M" -o "$work/rust.time" "$bin/wenji" --database-url "$url" --forms-dir forms \
    --data-dir "$work/data" export --form zhengqiu --form ceping --format xlsx --unprotected --out "$work/rust-$n.xlsx" >/dev/null
  if [ -n "${WENJI_BENCH_SKIP_PY:-}" ]; then
    echo "0 0" > "$work/py.time"; : > "$work/py-$n.xlsx"
  else
    /usr/bin/time -f "%e %M" -o "$work/py.time" python3 tests/bench/xlsxwriter_export.py "$db" forms "$work/py-$n.xlsx" >/dev/null
  fi
  read -r rs rkb < <(tail -1 "$work/rust.time")
  read -r ps pkb < <(tail -1 "$work/py.time")
  rmb=$(stat -c %s "$work/rust-$n.xlsx"); pmb=$(stat -c %s "$work/py-$n.xlsx")
  awk -v n="$n" -v rs="$rs" -v rkb="$rkb" -v rmb="$rmb" -v ps="$ps" -v pkb="$pkb" -v pmb="$pmb" 'BEGIN {
    printf "%-10s %-8s %10.1f %10.0f %12.1f %10.1f %10.0f %12.1f %7.1fx\n", n, "xlsx", rs, rkb/1024, rmb/1048576, ps, pkb/1024, pmb/1048576, ps/rs }'
  /usr/bin/time -f "%e %M" -o "$work/csv.time" "$bin/wenji" --database-url "$url" --forms-dir forms \
    --data-dir "$work/data" export --form zhengqiu --form ceping --format csv --unprotected --out "$work/rust-$n.csv" >/dev/null
  read -r cs ckb < <(tail -1 "$work/csv.time")
  awk -v n="$n" -v cs="$cs" -v ckb="$ckb" -v cmb="$(stat -c %s "$work/rust-$n.csv")" 'BEGIN {
    printf "%-10s %-8s %10.1f %10.0f %12.1f\n", n, "csv", cs, ckb/1024, cmb/1048576 }'
  # A leader's protected file of the opinion form: the disclosure policy, and each day's rows shuffled.
  /usr/bin/time -f "%e %M" -o "$work/leader.time" "$bin/wenji" --database-url "$url" --forms-dir forms \
    --data-dir "$work/data" export --form zhengqiu --format xlsx --out "$work/rust-$n-leader.xlsx" >/dev/null 2>&1
  read -r ls lkb < <(tail -1 "$work/leader.time")
  awk -v n="$n" -v ls="$ls" -v lkb="$lkb" -v lmb="$(stat -c %s "$work/rust-$n-leader.xlsx")" 'BEGIN {
    printf "%-10s %-8s %10.1f %10.0f %12.1f\n", n, "leader", ls, lkb/1024, lmb/1048576 }'
  [ -n "${WENJI_BENCH_KEEP:-}" ] || rm -f "$db" "$db-wal" "$db-shm" "$work"/rust-"$n".* "$work"/py-"$n".xlsx
done
