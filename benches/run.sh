#!/usr/bin/env bash
# The benchmark: a release build of Rapport under wrk on loopback, on SQLite
# and (when reachable) PostgreSQL, one run per endpoint in benches/endpoints.txt.
#
#   benches/run.sh
#
# Settings (environment):
#   BENCH_SECONDS=10        measured seconds per endpoint (after a 2 s warm-up)
#   BENCH_CONNECTIONS=64    wrk connections;  BENCH_THREADS=2  wrk threads
#   BENCH_ENGINES="sqlite postgres"   engines to try
#   BENCH_ONLY=regex        run only endpoints whose name matches
#   BENCH_SEEDS=regex       run only seed steps whose file name matches
#   BENCH_CONTACTS=100000   contacts seeded for the contact endpoints
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432   server for the PostgreSQL run
#   BENCH_BIN=path          use this binary instead of building one
#
# Seed steps: every benches/seed_*.sh runs (with bash, in
# name order) after a server starts and before its endpoints are measured,
# with BENCH_BASE (e.g. http://127.0.0.1:41234), BENCH_TOKEN (an admin access
# token), BENCH_ENGINE, BENCH_DATABASE_URL and BENCH_VARS in its environment. It may append
# NAME=value lines to the file $BENCH_VARS: each becomes an environment
# variable for the Lua scripts and replaces {NAME} in endpoint paths.
#
# Results: a table on stdout, also written to bench-results/<time>.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
benches="$root/benches"
cd "$root"

seconds="${BENCH_SECONDS:-10}"
connections="${BENCH_CONNECTIONS:-64}"
threads="${BENCH_THREADS:-2}"
engines="${BENCH_ENGINES:-sqlite postgres}"
only="${BENCH_ONLY:-.}"
seeds="${BENCH_SEEDS:-.}"
pg_url="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
pg_url="${pg_url%/}"
pg_db=rapport_bench

export BENCH_ADMIN_EMAIL=bench-admin@rapport.test
export BENCH_ADMIN_PASSWORD="bench-password-$RANDOM-$RANDOM"

log() { printf '%s\n' "bench: $*" >&2; }
die() { log "$*"; exit 1; }

# --- tools ---------------------------------------------------------------
for tool in curl; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! $sudo apt-get install -y -q wrk >/dev/null 2>&1; then
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q wrk >/dev/null
  fi
  command -v wrk >/dev/null || die "could not install wrk (apt-get install wrk)"
fi

# --- build ---------------------------------------------------------------
if [ -n "${BENCH_BIN:-}" ]; then
  built="$BENCH_BIN"
else
  log "cargo build --release"
  cargo build --release --quiet
  built="${CARGO_TARGET_DIR:-$root/target}/release/rapport"
fi
[ -x "$built" ] || die "no binary at $built"

# --- clean-up ------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/rapport-bench.XXXXXX")"
server_pid=""
pg_created=""

stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
pg_admin() {
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -At -d "$pg_url/postgres" "$@"
}
cleanup() {
  stop_server
  if [ -n "$pg_created" ]; then
    pg_admin -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || log "could not drop $pg_db"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private copy: a build in a shared target directory cannot swap it mid-run.
bin="$work/rapport"
cp "$built" "$bin"
# Seed steps that write rows by SQL run it to rebuild what the server derives from them.
export BENCH_RAPPORT="$bin"

# --- server --------------------------------------------------------------
# Starts the server on $1 (a database URL) on a free port; sets $base.
start_server() {
  local url="$1" out="$work/server.log" port=""
  : >"$out"
  export BENCH_DATABASE_URL="$url"
  # One admin token drives 64 connections, far above the default
  # per-credential quota: the limiter stays on with a quota it does not reach.
  RAPPORT_RATE_LIMIT_PER_MINUTE=100000000 \
  RAPPORT_DATABASE_URL="$url" RAPPORT_LISTEN=127.0.0.1:0 RAPPORT_LOG=warn \
    RAPPORT_ADMIN_EMAIL="$BENCH_ADMIN_EMAIL" RAPPORT_ADMIN_PASSWORD="$BENCH_ADMIN_PASSWORD" \
    "$bin" serve >"$out" 2>&1 </dev/null &
  server_pid=$!
  for _ in $(seq 1 300); do
    port="$(sed -n 's#^Rapport listening on http://[^:]*:\([0-9]*\)/.*#\1#p' "$out" | head -n 1)"
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$out" >&2; die "the server exited"; }
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$out" >&2; die "the server did not start within 30 s"; }
  base="http://127.0.0.1:$port"
  curl -fsS "$base/readyz" >/dev/null || die "$base/readyz failed"
}

sign_in() {
  local response
  response="$(curl -sS "$base/v1/auth/token" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$BENCH_ADMIN_EMAIL\",\"password\":\"$BENCH_ADMIN_PASSWORD\"}")"
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$response" | grep . \
    || die "sign-in failed: $response"
}

# Replaces {NAME} in a path with the value of the environment variable NAME.
expand_path() {
  local path="$1" name
  while [[ "$path" =~ \{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
    name="${BASH_REMATCH[1]}"
    [ -n "${!name:-}" ] || die "path $1 needs {$name}, which no seed step set"
    path="${path//\{$name\}/${!name}}"
  done
  printf '%s' "$path"
}

trim() {
  local s="$1"
  s="${s#"${s%%[![:space:]]*}"}"
  printf '%s' "${s%"${s##*[![:space:]]}"}"
}

ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }

load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
results="$work/results"
: >"$results"

# Measures every endpoint against the running server.
run_endpoints() {
  local engine="$1" name method path script lua output line seed
  export BENCH_ENGINE="$engine" BENCH_BASE="$base" BENCH_VARS="$work/vars-$engine"
  : >"$BENCH_VARS"
  BENCH_TOKEN="$(sign_in)"
  export BENCH_TOKEN
  for seed in "$benches"/seed_*.sh; do
    [ -e "$seed" ] || continue
    [[ "$(basename "$seed")" =~ $seeds ]] || continue
    log "$engine: seeding with $(basename "$seed")"
    bash "$seed" || die "$(basename "$seed") failed"
  done
  while IFS='=' read -r name line; do
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && export "$name=$line"
  done <"$BENCH_VARS"

  local conns
  while IFS='|' read -r -u 3 name method path script conns; do
    name="$(trim "$name")"
    [ -z "$name" ] || [[ "$name" == \#* ]] && continue
    [[ "$name" =~ $only ]] || continue
    method="$(trim "$method")"
    path="$(expand_path "$(trim "$path")")"
    script="$(trim "${script:-}")"
    conns="$(trim "${conns:-}")"
    conns="${conns:-$connections}"
    lua="$work/$name.lua"
    cat "$benches/lua/common.lua" >"$lua"
    if [ -n "$script" ]; then
      [ -f "$benches/lua/$script" ] || die "no script benches/lua/$script for $name"
      cat "$benches/lua/$script" >>"$lua"
    fi
    # A fresh token each time: access tokens live 15 minutes.
    BENCH_TOKEN="$(sign_in)"
    export BENCH_METHOD="$method" BENCH_TOKEN
    log "$engine: $method $path (${seconds}s, $conns connections)"
    local t=$(( threads < conns ? threads : conns ))
    # A long timeout: a slow endpoint shows its real latency, not timeouts.
    wrk -t"$t" -c"$conns" -d2s --timeout 30s -s "$lua" "$base$path" >/dev/null
    output="$(wrk -t"$t" -c"$conns" -d"${seconds}s" --timeout 30s --latency -s "$lua" "$base$path")"
    line="$(grep '^BENCH_RESULT' <<<"$output")" || { echo "$output" >&2; die "wrk printed no result"; }
    printf '%s %s %s %s %s conns=%s\n' "$engine" "$name" "$method" "$path" "$line" "$conns" >>"$results"
  done 3<"$benches/endpoints.txt"
}

# --- engines -------------------------------------------------------------
for engine in $engines; do
  case "$engine" in
    sqlite)
      log "sqlite: starting the server"
      start_server "sqlite://$work/rapport.db"
      run_endpoints sqlite
      stop_server
      ;;
    postgres)
      if ! command -v psql >/dev/null || ! pg_admin -c 'SELECT 1' >/dev/null 2>&1; then
        log "postgres: $pg_url is not reachable; skipped"
        continue
      fi
      pg_admin -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null
      pg_admin -c "CREATE DATABASE $pg_db" >/dev/null
      pg_created=1
      log "postgres: starting the server"
      start_server "$pg_url/$pg_db"
      run_endpoints postgres
      stop_server
      pg_admin -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null
      pg_created=""
      ;;
    *) die "unknown engine $engine (sqlite or postgres)" ;;
  esac
done

# --- report --------------------------------------------------------------
[ -s "$results" ] || die "nothing was measured"
report="$work/report.md"
{
  echo "Rapport $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ)," \
    "$(nproc) cores (load average before: $load_before), wrk -t$threads -c$connections -d${seconds}s on loopback"
  echo
  echo "| engine | endpoint | connections | requests/s | p50 | p99 | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  while read -r engine name method path rest; do
    declare -A r=()
    for kv in $rest; do
      [[ "$kv" == *=* ]] && r["${kv%%=*}"]="${kv#*=}"
    done
    errors=$(( ${r[errors]:-0} + ${r[socket_errors]:-0} ))
    printf '| %s | %s `%s %s` | %s | %s | %s | %s | %s |\n' "$engine" "$name" "$method" "$path" "${r[conns]}" \
      "$(printf '%.0f' "${r[rps]}")" "$(ms "${r[p50_us]}")" "$(ms "${r[p99_us]}")" "$errors"
    unset r
  done <"$results"
} >"$report"
mkdir -p "$root/bench-results"
cp "$report" "$root/bench-results/$(date -u +%Y%m%dT%H%M%SZ).md"
echo
cat "$report"
if awk -F'|' 'NR > 4 && $8 + 0 > 0 { bad = 1 } END { exit !bad }' "$report"; then
  log "some requests failed (errors column): those numbers do not measure the endpoint"
  exit 1
fi
