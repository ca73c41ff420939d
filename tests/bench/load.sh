#!/usr/bin/env bash
# Load benchmark: Wenji's submission path against references on this machine, at 64 connections.
#   tests/bench/load.sh [--duration SECONDS] [--connections N] [--rounds N] [--postgres URL]
# Builds the release binaries (CARGO_TARGET_DIR, default target), installs wrk if missing, then measures in
# rounds (3 by default): (a) a static page from a minimal axum server, (b) a minimal axum handler committing
# one row per request (sqlx, synchronous=NORMAL), (c) the same with synchronous=FULL (durable), and Wenji
# (acknowledged only after its group commit, synchronous=FULL) through the HTML form and the JSON API on a
# fresh database. Targets are judged on the median of the rounds' ratios (the machine is shared and noisy:
# a ratio is only fair between runs close in time). The load average is printed with the figures.
# --postgres URL (a database the script may fill, e.g. postgres://postgres@127.0.0.1:5432/wenji_bench):
# Wenji on PostgreSQL instead, one instance, then two instances on the same database behind one wrk each.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=10
conns=64
rounds=3
pg=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) conns="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --postgres) pg="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
threads=2

if ! command -v wrk >/dev/null; then
  echo "installing wrk"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
echo "== building release binaries in $CARGO_TARGET_DIR"
cargo build --release --quiet --bin wenji --example ref_static --example ref_commit --example bench_data
bin="$CARGO_TARGET_DIR/release"

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; return 1; }

export WENJI_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
keys=$((duration * 40000))
echo "== generating $keys signed keys and 256 submissions of 1-5 KB"
"$bin/examples/bench_data" "$tmp/data" "$keys"

# Runs wrk and prints "rps p50_ms p99_ms requests non_2xx_3xx errors".
measure() {
  local url="$1" mode="$2" out
  out="$(BENCH_MODE="$mode" BENCH_DIR="$tmp/data" BENCH_THREADS=$threads BENCH_RUN="r$RANDOM$RANDOM" \
    BENCH_PART="${part:-0}" BENCH_PARTS="${parts:-1}" \
    wrk -t$threads -c"$conns" -d"${duration}s" --latency ${mode:+-s tests/bench/post.lua} "$url")"
  echo "$out" >> "$tmp/wrk.log"
  echo "$out" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec:/ { rps=$2 }
    /^ +50%/ { p50=ms($2) }
    /^ +99%/ { p99=ms($2) }
    /requests in/ { req=$1 }
    /Non-2xx or 3xx responses:/ { bad=$5 }
    /Socket errors:/ { err=$0; sub(/.*Socket errors: /, "", err); gsub(/ /, "", err) }
    END { printf "%s %.2f %.2f %s %s %s\n", rps, p50, p99, req, bad+0, (err=="" ? "none" : err) }'
}

# Stops the server started last and forgets it (so a second call stops the one before).
stop_last() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

# Starts Wenji on a fresh database (SQLite file, or the PostgreSQL database emptied) and sets $port.
start_wenji() {
  port=$(free_port)
  local url="sqlite://$tmp/wenji.db?mode=rwc"
  if [ -n "$pg" ]; then
    url="$pg"
    [ "${1:-}" = keep ] || psql "$pg" -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1
  else
    rm -rf "$tmp/wenji.db"* "$tmp/wenji-data"
  fi
  WENJI_DATABASE_URL="$url" WENJI_FORMS_DIR=forms WENJI_DATA_DIR="$tmp/wenji-data" \
    WENJI_SUBMIT_BURST=4000000000 WENJI_SUBMIT_PER_MINUTE=4000000000 WENJI_LOG=info \
    "$bin/wenji" serve --bind "127.0.0.1:$port" >>"$tmp/wenji.log" 2>&1 & pids+=($!)
  wait_http "http://127.0.0.1:$port/healthz"
}

# Two wrk runs at once, half the connections each, against two servers, each with its own half of the keys
# (citizens spread over the servers, not every submission sent to both); prints the summed figures
# ("rps p50 p99 requests bad errors": p50 and p99 the higher of the two).
measure_two() {
  local mode="$1" half=$((conns / 2))
  (conns=$half part=0 parts=2; measure "http://127.0.0.1:$2" "$mode" > "$tmp/one") &
  local a=$!
  (conns=$half part=1 parts=2; measure "http://127.0.0.1:$3" "$mode" > "$tmp/two")
  wait $a || true
}

# One line per round and run: "round run rps p50 p99 requests non_2xx_3xx errors".
results="$tmp/results"
: > "$results"
load=()
for round in $(seq "$rounds"); do
  load+=("$(cut -d' ' -f1 /proc/loadavg)")
  echo "== round $round of $rounds: (a) static page, minimal axum"
  port=$(free_port); "$bin/examples/ref_static" "127.0.0.1:$port" >/dev/null & pids+=($!)
  wait_http "http://127.0.0.1:$port/"
  echo "$round a $(measure "http://127.0.0.1:$port/" "")" >> "$results"
  stop_last

  for ref in b c; do
    sync=$([ $ref = b ] && echo normal || echo full)
    echo "== round $round of $rounds: ($ref) one row per request in its own transaction (sqlx, synchronous=$sync)"
    rm -f "$tmp/ref_commit.db"*
    port=$(free_port); "$bin/examples/ref_commit" "127.0.0.1:$port" "$tmp/ref_commit.db" $sync >/dev/null & pids+=($!)
    wait_http "http://127.0.0.1:$port/nothing"
    echo "$round $ref $(measure "http://127.0.0.1:$port" ref)" >> "$results"
    stop_last
  done

  echo "== round $round of $rounds: Wenji on a fresh ${pg:+PostgreSQL }database (group commit, durable on acknowledgement)"
  start_wenji
  [ -z "$pg" ] && python3 tests/bench/reader.py "$tmp/wenji.db" $((2 * duration)) >> "$tmp/reader.out" &
  for run in html json; do
    echo "$round $run $(measure "http://127.0.0.1:$port" $run)" >> "$results"
  done
  stop_last
  if [ -n "$pg" ]; then
    echo "== round $round of $rounds: two Wenji instances on one PostgreSQL database, $((conns / 2)) connections each"
    start_wenji; first=$port
    start_wenji keep; second=$port
    measure_two html "$first" "$second"
    python3 - "$tmp/one" "$tmp/two" "$round" >> "$results" <<'PY'
import sys
a, b = (open(f).read().split() for f in sys.argv[1:3])
print(sys.argv[3], "two", f"{float(a[0]) + float(b[0]):.2f}", max(float(a[1]), float(b[1])),
      max(float(a[2]), float(b[2])), int(a[3]) + int(b[3]), int(a[4]) + int(b[4]), a[5])
PY
    stop_last; stop_last
  fi
  wait 2>/dev/null || true
done
if [ -z "$pg" ]; then
  query() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1], timeout=30).execute(sys.argv[2]).fetchone()[0])' "$tmp/wenji.db" "$1"; }
  stored=$(query "select count(*) from responses"); opinions=$(query "select count(*) from opinions")
  behind=$(query "select count(*) from opinions where id > (select indexed_upto from search_index_state)")
else
  query() { psql "$pg" -tAc "$1"; }
  stored=$(query "select count(*) from responses"); opinions=$(query "select count(*) from opinions"); behind=0
fi

echo
echo "Load benchmark: $conns connections, ${duration}s per run, wrk -t$threads, $(nproc) CPUs, $rounds rounds, ${pg:+PostgreSQL}${pg:-SQLite}"
echo "load average (1 min) at the start of each round: ${load[*]}"
printf "%-6s %-44s %10s %9s %9s %9s %s\n" "round" "run" "req/s" "p50 ms" "p99 ms" "non-2/3xx" "socket errors"
while read -r round run rps p50 p99 req bad err; do
  case $run in
    a) name="(a) static page, minimal axum" ;;
    b) name="(b) one commit per request, sync=NORMAL" ;;
    c) name="(c) one commit per request, sync=FULL" ;;
    two) name="Wenji HTML, two instances on one database" ;;
    html) name="Wenji HTML form POST /f/zhengqiu" ;;
    json) name="Wenji JSON POST /api/v1/.../responses" ;;
  esac
  printf "%-6s %-44s %10s %9s %9s %9s %s\n" "$round" "$name" "$rps" "$p50" "$p99" "$bad" "$err"
done < "$results"
echo
# Each round's ratios are taken between runs a minute apart at most; the targets are judged on their median.
python3 - "$results" "$pg" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    rnd, run, rps, p50, p99, *_ = line.split()
    runs[(rnd, run)] = (float(rps), float(p99))
rounds = sorted({r for r, _ in runs}, key=int)
pg = bool(sys.argv[2])
for run in ("html", "json") + (("two",) if pg else ()):
    med = lambda ref: statistics.median(runs[(r, run)][0] / runs[(r, ref)][0] for r in rounds)
    rps = statistics.median(runs[(r, run)][0] for r in rounds)
    p99 = max(runs[(r, run)][1] for r in rounds)
    if pg:
        print(f"Wenji {run} on PostgreSQL: median {rps:.0f} req/s [target >= 3000], highest p99 {p99:.2f} ms "
              f"[target <= 50]; {med('b'):.2f}x (b), {med('c'):.2f}x (c)")
    else:
        print(f"Wenji {run}: median {med('c'):.2f}x reference (c) [target >= 5], {med('b'):.2f}x reference (b) "
              f"[target >= 2], highest p99 {p99:.2f} ms [target <= 50]; median {rps:.0f} req/s")
if pg:
    two = statistics.median(runs[(r, "two")][0] / runs[(r, "html")][0] for r in rounds)
    print(f"two instances / one (HTML): median {two:.2f} [target > 1]")
PY
[ -f "$tmp/reader.out" ] && cat "$tmp/reader.out"
echo "search index: $behind opinions not yet indexed at the end (search reads them directly meanwhile)"
echo "stored: $stored responses, $opinions opinions (the last ${pg:+PostgreSQL }database)"
