#!/usr/bin/env bash
# Checks that the report workbooks open in LibreOffice: seeds invented data into a fresh SQLite file,
# writes a leader's protected workbook and the office's full one (`--unprotected`, both forms) with
# `wenji export`, converts each with `soffice --headless --convert-to pdf`, and fails if a conversion fails
# or a PDF is empty. CI runs it; run it by hand from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v soffice >/dev/null || { echo "soffice not found (apt-get install libreoffice-calc-nogui)"; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
db="sqlite://$work/wenji.db?mode=rwc"
opinions="${WENJI_LO_OPINIONS:-400}"

cargo build --quiet --bin wenji --example seed
target="${CARGO_TARGET_DIR:-target}/debug"
"$target/examples/seed" --database-url "$db" --opinions "$opinions" --forms-dir forms
"$target/wenji" --database-url "$db" --forms-dir forms --data-dir "$work/data" \
  export --form zhengqiu --format xlsx --out "$work/report.xlsx"
"$target/wenji" --database-url "$db" --forms-dir forms --data-dir "$work/data" \
  export --form zhengqiu --form ceping --format xlsx --unprotected --out "$work/full.xlsx" 2>/dev/null

# A private profile: a LibreOffice already running under this user would otherwise take the job and
# return without converting anything.
timeout 600 soffice -env:UserInstallation="file://$work/lo-profile" --headless --convert-to pdf \
  --outdir "$work/pdf" "$work/report.xlsx" "$work/full.xlsx" 2>&1 | grep -v javaldx || true
for name in report full; do
  pdf="$work/pdf/$name.pdf"
  if [ ! -s "$pdf" ]; then
    echo "FAIL: LibreOffice could not convert $name.xlsx to PDF"
    exit 1
  fi
  pages="$(grep -c '/Type */Page[^s]' "$pdf" || true)"
  if [ "${pages:-0}" -lt 1 ]; then
    echo "FAIL: the PDF of $name.xlsx has no pages"
    exit 1
  fi
  echo "ok: LibreOffice converted $name.xlsx ($(stat -c %s "$work/$name.xlsx") bytes) to a PDF of $pages pages"
done
