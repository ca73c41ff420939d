#!/usr/bin/env bash
# PostgreSQL made read-only for a while (ALTER DATABASE … SET default_transaction_read_only, as a standby
# after a failover would be), then RESET: submissions get 503 meanwhile (never 500) and 201 again within a
# second of the RESET, without a restart; /healthz says 503 meanwhile. Connections opened during the window carry the setting for their
# life; Wenji closes them at checkout (store::opened_before_refusal). Not in CI: it alters a database-wide
# setting. Run by hand: WENJI_FAULT_DEBUG=1 tests/fault/pg_read_only_window.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/fault/lib.sh
build_wenji
db="wenji_ro_$$"
tmp="$(mktemp -d)"
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $db"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export WENJI_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" WENJI_FORMS_DIR=forms WENJI_DATA_DIR="$tmp/data"
serve_in_background
post() {
  curl -s -o /dev/null -w "%{http_code}" -H 'Content-Type: application/json' -H "Idempotency-Key: ro-$1-$$" \
    -d '{"category":"qz","answers":{"team":"数据库只读期间提交的意见","has_member":"no","satisfaction":"3"}}' \
    "$url/api/v1/forms/zhengqiu/responses"
}
before="$(post a) $(post b)"
psql -h 127.0.0.1 -U postgres -d test -qc "ALTER DATABASE $db SET default_transaction_read_only = on" \
  -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db'" >/dev/null
sleep 1
during=""; for i in $(seq 8); do during="$during $(post w$i)"; sleep 0.3; done
health_during="$(curl -s -w " %{http_code}" "$url/healthz")"
psql -h 127.0.0.1 -U postgres -d test -qc "ALTER DATABASE $db RESET default_transaction_read_only" >/dev/null
sleep 1
after=""; for i in $(seq 12); do after="$after $(post r$i)"; sleep 0.5; done
health_after="$(curl -s -w " %{http_code}" "$url/healthz")"
echo "before: $before"; echo "read-only:$during"; echo "after RESET:$after"
echo "/healthz read-only: $health_during; after RESET: $health_after"
[[ "$before" == "201 201" && "$during" == *503* && "$during" != *500* && "$after" != *503* && "$after" != *500* ]] \
  || { echo "READ-ONLY WINDOW TEST FAILED" >&2; exit 1; }
[[ "$health_during" == *"refuses writes"*503 && "$health_after" == "ok 200" ]] \
  || { echo "READ-ONLY WINDOW TEST FAILED" >&2; exit 1; }
echo "read-only window test passed"
