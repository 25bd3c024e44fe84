#!/usr/bin/env bash
# A flood of wrong-password sign-ins against a release build (issue 11,
# item 3): 1,000 concurrent connections spraying guesses for 10 s while 8
# connections list contacts. Prints the flood's answers by status, the list's
# latency during the flood, and the server's resident memory (peak and after).
#
#   benches/login_flood.sh                         # defaults (rate limits on)
#   FLOOD_ENV="RAPPORT_RATE_LIMIT_ANONYMOUS_PER_MINUTE=0" benches/login_flood.sh
#
# Settings: BENCH_BIN (default: cargo build --release), FLOOD_CONNECTIONS
# (1000), FLOOD_SECONDS (10), FLOOD_ENGINE (sqlite | postgres),
# BENCH_PG_URL (postgres://postgres@127.0.0.1:5432).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
connections="${FLOOD_CONNECTIONS:-1000}"
seconds="${FLOOD_SECONDS:-10}"
engine="${FLOOD_ENGINE:-sqlite}"
pg_url="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
command -v wrk >/dev/null || { echo "login_flood: wrk is required (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BENCH_BIN:-}" ]; then
  cargo build --release -q
  BENCH_BIN="${CARGO_TARGET_DIR:-target}/release/rapport"
fi
ulimit -n 20000 2>/dev/null || true
work="$(mktemp -d "${TMPDIR:-/tmp}/rapport-flood.XXXXXX")"
password="flood-admin-password-$RANDOM"
if [ "$engine" = postgres ]; then
  psql -q "$pg_url/postgres" -c "drop database if exists rapport_flood with (force)" -c "create database rapport_flood" >/dev/null
  url="$pg_url/rapport_flood"
else
  url="sqlite://$work/rapport.db"
fi
port=$((20000 + RANDOM % 5000))
# The lister is one credential calling far above its default quota; its
# limit is raised so its latency measures the server, not the limiter.
# shellcheck disable=SC2086
env RAPPORT_RATE_LIMIT_PER_MINUTE=100000000 ${FLOOD_ENV:-} RAPPORT_DATABASE_URL="$url" RAPPORT_LISTEN="127.0.0.1:$port" RAPPORT_LOG=error \
  RAPPORT_ADMIN_EMAIL=flood@rapport.test RAPPORT_ADMIN_PASSWORD="$password" \
  "$BENCH_BIN" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 200); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
token=$(curl -s "$base/v1/auth/token" -H 'content-type: application/json' \
  -d "{\"email\":\"flood@rapport.test\",\"password\":\"$password\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
rss() { awk "/^$1/{print int(\$2/1024)}" "/proc/$server/status"; }
echo "before: resident ${FLOOD_ENV:-defaults}: $(rss VmRSS) MB"
wrk -t1 -c8 -d$((seconds + 4))s --latency -H "Authorization: Bearer $token" \
  "$base/v1/contacts?limit=50" >"$work/list.txt" 2>&1 &
lister=$!
sleep 2
wrk -t2 -c"$connections" -d"${seconds}s" --timeout 30s -s benches/lua/wrong_login.lua \
  "$base/v1/auth/token" >"$work/flood.txt" 2>&1
wait $lister
peak=$(rss VmHWM); after=$(rss VmRSS)
echo "flood: $connections connections, ${seconds}s: $(awk '/requests in/{print $1}' "$work/flood.txt") sign-ins, \
$(awk '/Socket errors/{print}' "$work/flood.txt" | tr -s ' ')"
curl -s "$base/metrics" | grep '^rapport_http_requests_total.*auth/token' |
  sed 's/.*status="\([0-9]*\)"} \([0-9]*\)/  answered \1: \2/'
echo "list 50 during the flood: $(awk '/Requests\/sec/{print $2}' "$work/list.txt") req/s, \
p50 $(awk '/^ +50%/{print $2}' "$work/list.txt"), p99 $(awk '/^ +99%/{print $2}' "$work/list.txt"), \
non-2xx $(awk '/Non-2xx/{print $5}' "$work/list.txt"; true)"
echo "resident memory: peak $peak MB, after $after MB"
