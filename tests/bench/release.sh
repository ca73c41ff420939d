#!/usr/bin/env bash
# Release-at-midnight benchmark: how long leaders' first requests after a bureau midnight take while the
# release to leaders (store::releases::release_to_leaders) is made, whether 40 requests at that moment make it
# exactly once, and how long citizens' submissions wait meanwhile.
#   tests/bench/release.sh WENJI_BINARY [--responses N] [--postgres URL] [--ports P0,P1]
# Scenarios: SQLite, one instance; with --postgres (a server URL without a database name, e.g.
# postgres://postgres@127.0.0.1:5432; the script creates and drops databases named wenji_bench_release_*):
# PostgreSQL with one instance, then two instances on one database. The servers run under libfaketime
# (package faketime) at noon of 2026-12-05, Beijing time; release.py seeds N waiting responses
# (default 200,000), lets a day pass as tests/web/helpers.rs a_day_passes does, and measures.
# Needs python3 with requests, psql (for --postgres) and libfaketime. Prints a table; details in $work.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -ge 1 ] || { sed -n 5,6p "$0" >&2; exit 2; }
bin="$(realpath "$1")"; shift
responses=200000
pg=""
ports="18520,18521"
while [ $# -gt 0 ]; do
  case "$1" in
    --responses) responses="$2"; shift 2 ;;
    --postgres) pg="${2%/}"; shift 2 ;;
    --ports) ports="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
forms="$here/../../forms"
[ -f "$forms/units.toml" ] || forms="$here/forms"   # run from a copy outside the repo
faketime_lib="$(find /usr/lib /usr/local/lib -name 'libfaketime.so.1' 2>/dev/null | head -1)"
[ -n "$faketime_lib" ] || { echo "libfaketime not found (apt-get install faketime)" >&2; exit 1; }
python3 -c 'import requests' || { echo "python3 requests is needed" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/release_bench.XXXXXX")"
dbs=()  # PostgreSQL databases to drop on exit
cleanup() {
  for f in "$work"/*/serve-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  for d in "${dbs[@]}"; do psql -X -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" || true; done
  rm -f "$work"/sqlite/wenji.db*
  echo "logs and figures kept in $work" >&2
}
trap cleanup EXIT

# scenario NAME DATABASE_URL PORTS: runs release.py, keeps its JSON line in $work/NAME.json.
scenario() {
  local name="$1" url="$2" sports="$3"
  mkdir -p "$work/$name"
  echo "== $name ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  python3 "$here/release.py" --bin "$bin" --work "$work/$name" --forms "$forms" --db "$url" \
    --ports "$sports" --faketime-lib "$faketime_lib" --responses "$responses" > "$work/$name.json"
}

scenario sqlite "sqlite://$work/sqlite/wenji.db?mode=rwc" "${ports%%,*}"
if [ -n "$pg" ]; then
  for n in 1 2; do
    d="wenji_bench_release_pg$n"
    dbs+=("$d")
    psql -X -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" -c "CREATE DATABASE $d"
    p="${ports%%,*}"; [ "$n" = 2 ] && p="$ports"
    scenario "pg$n" "$pg/$d" "$p"
  done
fi

echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
python3 - "$work" <<'EOF'
import json, os, sys
work = sys.argv[1]
rows = [("scenario", "first(s)", "herd p50", "p95", "max", "herd codes", "releases", "released/expected",
         "missed", "submit max a/b (s)", "submit >1s a/b")]
for name in ["sqlite", "pg1", "pg2"]:
    path = os.path.join(work, name + ".json")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        continue
    f = json.load(open(path))
    h, ca, cb = f["herd"], f["first_check"], f["herd_check"]
    rows.append((f"{name} x{f['instances']}", f"{f['first_s']:.1f} ({f['first_code']})", f"{h['p50']:.1f}",
                 f"{h['p95']:.1f}", f"{h['max']:.1f}", " ".join(f"{k}:{v}" for k, v in sorted(h["codes"].items())),
                 f"{ca['release_rows']}/{cb['release_rows']}",
                 f"{ca['released']}/{cb['released']} of {cb['expected']}",
                 f"{ca['missed'] + ca['other_cut'] + ca['opinions_missed']}/{cb['missed'] + cb['other_cut'] + cb['opinions_missed']}",
                 f"{f['first_submit']['max']:.2f}/{f['herd_submit']['max']:.2f}",
                 f"{f['first_submit']['over_1s']}/{f['herd_submit']['over_1s']}"))
widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
for r in rows:
    print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
EOF
