#!/usr/bin/env bash
# Checks that the report workbook opens in LibreOffice: seeds invented data into a fresh SQLite file,
# writes the workbook with `wenji export`, converts it with `soffice --headless --convert-to pdf`, and fails
# if the conversion fails or the PDF is empty. CI runs it; run it by hand from the repository root.
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
  export --form zhengqiu --form ceping --format xlsx --out "$work/report.xlsx"

# A private profile: a LibreOffice already running under this user would otherwise take the job and
# return without converting anything.
timeout 600 soffice -env:UserInstallation="file://$work/lo-profile" --headless --convert-to pdf \
  --outdir "$work/pdf" "$work/report.xlsx" 2>&1 | grep -v javaldx || true
pdf="$work/pdf/report.pdf"
if [ ! -s "$pdf" ]; then
  echo "FAIL: LibreOffice could not convert the workbook to PDF"
  exit 1
fi
pages="$(grep -c '/Type */Page[^s]' "$pdf" || true)"
if [ "${pages:-0}" -lt 1 ]; then
  echo "FAIL: the PDF has no pages"
  exit 1
fi
echo "ok: LibreOffice converted the workbook ($(stat -c %s "$work/report.xlsx") bytes) to a PDF of $pages pages"
