#!/usr/bin/env bash
# Mixed load, the way a CRM is used (issue 12, item 6): 8 connections create
# contacts alone, then 8 create while 8 others list 50 contacts, against a
# release build on SQLite and PostgreSQL. Prints, per engine, the creates'
# throughput alone and under the mix (and the share kept), both sides' p99,
# and the server's peak resident memory.
#
#   benches/mixed_load.sh
#
# Settings: BENCH_BIN (default: cargo build --release), MIXED_SECONDS (30),
# MIXED_CONNECTIONS (8 per side), MIXED_ENGINES ("sqlite postgres"),
# MIXED_CONTACTS (10000 seeded before measuring), BENCH_PG_URL
# (postgres://postgres@127.0.0.1:5432), MIXED_ENV (extra server settings).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${MIXED_SECONDS:-30}"
connections="${MIXED_CONNECTIONS:-8}"
engines="${MIXED_ENGINES:-sqlite postgres}"
contacts="${MIXED_CONTACTS:-10000}"
pg_url="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
command -v wrk >/dev/null || { echo "mixed_load: wrk is required (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BENCH_BIN:-}" ]; then
  cargo build --release -q
  BENCH_BIN="${CARGO_TARGET_DIR:-target}/release/rapport"
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/rapport-mixed.XXXXXX")"
cp "$BENCH_BIN" "$work/rapport"
# wrk takes one script: the shared part first, as run.sh does.
cat benches/lua/common.lua benches/lua/contact_create.lua >"$work/create.lua"
password="mixed-admin-password-$RANDOM"
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

# "req/s p50 p99" from a wrk --latency report.
summary() {
  awk '/Requests\/sec/{r=$2} /^ +50%/{p50=$2} /^ +99%/{p99=$2} /Non-2xx/{e=$5}
       END{printf "%s %s %s %s\n", r, p50, p99, (e == "" ? 0 : e)}' "$1"
}

for engine in $engines; do
  if [ "$engine" = postgres ]; then
    psql -q "$pg_url/postgres" -c "drop database if exists rapport_mixed with (force)" \
      -c "create database rapport_mixed" >/dev/null
    url="$pg_url/rapport_mixed"
  else
    rm -f "$work"/rapport.db*
    url="sqlite://$work/rapport.db"
  fi
  port=$((20000 + RANDOM % 5000))
  # One credential calls far above its default quota: raise it so the
  # figures measure the server, not the limiter.
  # shellcheck disable=SC2086
  env RAPPORT_RATE_LIMIT_PER_MINUTE=100000000 ${MIXED_ENV:-} RAPPORT_DATABASE_URL="$url" \
    RAPPORT_LISTEN="127.0.0.1:$port" RAPPORT_LOG=error \
    RAPPORT_ADMIN_EMAIL=mixed@rapport.test RAPPORT_ADMIN_PASSWORD="$password" \
    "$work/rapport" serve >"$work/server.log" 2>&1 &
  server=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 300); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
  token=$(curl -s "$base/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"email\":\"mixed@rapport.test\",\"password\":\"$password\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  export BENCH_TOKEN="$token" BENCH_METHOD=POST
  # A list worth reading: $contacts contacts, written by wrk itself.
  wrk -t2 -c"$connections" -d60s -s "$work/create.lua" "$base/v1/contacts" >/dev/null 2>&1 &
  seeder=$!
  while [ "$(curl -s "$base/metrics" | awk '/^rapport_http_requests_total.*POST.*\/v1\/contacts"/{s+=$2} END{print s+0}')" -lt "$contacts" ]; do
    kill -0 $seeder 2>/dev/null || break
    sleep 1
  done
  kill $seeder 2>/dev/null || true; wait $seeder 2>/dev/null || true
  # Statistics as autovacuum would have them a minute later: with none, the
  # planner takes every row of a fresh table for deleted and sorts the whole
  # table for each page (measured: list 50 at 134 req/s, 1,597 after ANALYZE).
  [ "$engine" = postgres ] && psql -q "$url" -c "ANALYZE" >/dev/null
  create() { wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/create.lua" "$base/v1/contacts"; }
  create >"$work/alone.txt" 2>&1
  wrk -t1 -c"$connections" -d"$((seconds + 2))s" --latency -H "Authorization: Bearer $token" \
    "$base/v1/contacts?limit=50" >"$work/list.txt" 2>&1 &
  lister=$!
  sleep 1
  create >"$work/mixed.txt" 2>&1
  wait $lister
  peak=$(awk '/^VmHWM/{print int($2/1024)}' "/proc/$server/status")
  read -r alone _ alone_p99 alone_errors < <(summary "$work/alone.txt")
  read -r mixed _ mixed_p99 mixed_errors < <(summary "$work/mixed.txt")
  read -r lists _ list_p99 list_errors < <(summary "$work/list.txt")
  kept=$(awk -v a="$alone" -v m="$mixed" 'BEGIN{printf "%.0f", (a > 0 ? 100 * m / a : 0)}')
  echo "$engine: creates alone $alone/s (p99 $alone_p99) | under the mix $mixed/s (p99 $mixed_p99), kept $kept % |" \
    "lists under the mix $lists/s (p99 $list_p99) | errors $alone_errors/$mixed_errors/$list_errors | peak RSS $peak MB"
  kill $server; wait $server 2>/dev/null || true
  server=""
done
