#!/usr/bin/env bash
# The OpenAPI contract test. From a clone, after the server is built:
#
#   contract/run.sh
#
#  1. openapi-spec-validator: the document is valid OpenAPI 3.1;
#  2. redocly lint (recommended rules, redocly.yaml): 0 errors and 0 warnings;
#  3. openapi-typescript generates the client types, and `tsc --strict`
#     compiles scenario.ts (openapi-fetch calls, no casts) against them;
#  then, on SQLite and on PostgreSQL, against a live server on a fresh database:
#  4. the compiled scenario runs (a day's work, asserting statuses and fields);
#  5. schemathesis drives every operation as the admin (examples, coverage,
#     fuzzing, and stateful sequences that follow the document's links) with
#     the checks not_a_server_error, status_code_conformance,
#     content_type_conformance, response_headers_conformance and
#     response_schema_conformance.
# Each numbered item is one step; the last line is `contract: N passed, M failed`
# and the exit status is non-zero when any step failed.
#
# The tools are pinned (package-lock.json, requirements.txt) and installed
# outside the clone, in a cache keyed by a hash of those files: a warm run
# installs nothing. Generated files and reports go to contract/generated/
# (ignored by git).
#
# Environment (all optional):
#   RAPPORT_BIN            the server binary; default ${CARGO_TARGET_DIR:-target}/debug/rapport
#   RAPPORT_OPENAPI        the document to check; default openapi/openapi.json
#   RAPPORT_TOOLS_CACHE    the tools cache; default ~/.cache/rapport-contract
#   RAPPORT_CONTRACT_ENGINES      "sqlite postgres" (default), or one of them
#   RAPPORT_CONTRACT_PG_URL       default postgres://postgres@127.0.0.1:5432/test
#   RAPPORT_CONTRACT_MAX_EXAMPLES schemathesis cases per operation and phase; default 30
set -uo pipefail

caller_dir="$PWD"
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1
HERE="$PWD"
ROOT="$(cd .. && pwd)"

absolute() { # absolute PATH: PATH made absolute against the caller's directory
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$caller_dir/$1" ;;
  esac
}

DOC="$(absolute "${RAPPORT_OPENAPI:-$ROOT/openapi/openapi.json}")"
if [ -n "${RAPPORT_BIN:-}" ]; then
  BIN="$(absolute "$RAPPORT_BIN")"
elif [ -n "${CARGO_TARGET_DIR:-}" ]; then
  BIN="$(absolute "$CARGO_TARGET_DIR")/debug/rapport"
else
  BIN="$ROOT/target/debug/rapport"
fi
CACHE="${RAPPORT_TOOLS_CACHE:-${HOME:-/root}/.cache/rapport-contract}"
ENGINES="${RAPPORT_CONTRACT_ENGINES:-sqlite postgres}"
PG_URL="${RAPPORT_CONTRACT_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
MAX_EXAMPLES="${RAPPORT_CONTRACT_MAX_EXAMPLES:-30}"
# Access tokens live 15 minutes and schemathesis signs in once: it must finish
# well within that, or the rest of its run would be 401s.
SCHEMATHESIS_TIMEOUT=780

ADMIN_EMAIL="contract-admin@rapport.test"
ADMIN_PASSWORD="contract-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
OUT="$HERE/generated"
export PYTHONDONTWRITEBYTECODE=1 REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

passed=0
failed=0
step() { # step NAME COMMAND...: one counted step
  local name="$1" started=$SECONDS
  shift
  echo "== contract: $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "   ok: $name ($((SECONDS - started)) s)"
  else
    failed=$((failed + 1))
    echo "contract: FAILED: $name ($((SECONDS - started)) s)" >&2
  fi
}
finish() {
  echo "contract: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# --- cleanup -----------------------------------------------------------------
scratch="$(mktemp -d "${TMPDIR:-/tmp}/rapport-contract.XXXXXX")"
server_pid=""
pg_schema=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
  fi
}
drop_pg_schema() {
  if [ -n "$pg_schema" ]; then
    psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c "DROP SCHEMA IF EXISTS \"$pg_schema\" CASCADE" >/dev/null 2>&1 ||
      echo "contract: could not drop the PostgreSQL schema $pg_schema" >&2
    pg_schema=""
  fi
}
cleanup() {
  stop_server
  drop_pg_schema
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'echo "contract: interrupted" >&2; exit 130' INT TERM

# --- tools -------------------------------------------------------------------
for tool in node npm python3 curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "contract: $tool is not installed" >&2
    failed=$((failed + 1))
    finish
  fi
done
mkdir -p "$CACHE"

install_node_tools() {
  node_dir="$CACHE/node-$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
  if [ ! -d "$node_dir/node_modules" ]; then
    echo "== contract: installing the Node tools (package-lock.json) into $node_dir"
    local tmp="$node_dir.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp" && cp package.json package-lock.json "$tmp/" &&
      (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) &&
      mv "$tmp" "$node_dir" || { rm -rf "$tmp"; return 1; }
  fi
  # Node and tsc resolve `openapi-fetch` from scenario.ts's folder upwards.
  if [ -L node_modules ] || [ ! -e node_modules ]; then
    ln -sfn "$node_dir/node_modules" node_modules
  else
    echo "contract: contract/node_modules is a real folder; using it as it is" >&2
  fi
}

install_python_tools() {
  venv="$CACHE/python-$({ cat requirements.txt; python3 --version; } | sha256sum | cut -c1-16)"
  if [ ! -f "$venv/.installed" ]; then
    echo "== contract: installing the Python tools (requirements.txt) into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" &&
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r requirements.txt &&
      touch "$venv/.installed" || { rm -rf "$venv"; return 1; }
  fi
}

install_tools() {
  # One installer at a time: two runs sharing the cache wait for each other.
  exec 9>"$CACHE/.install.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  install_node_tools && install_python_tools
  local status=$?
  exec 9>&-
  return $status
}
if ! install_tools; then
  echo "contract: FAILED: installing the pinned tools" >&2
  failed=$((failed + 1))
  finish
fi
BINS="$node_dir/node_modules/.bin"
# Every tool reads the same snapshot of the document, even if it is rewritten
# (cargo run -- openapi > openapi/openapi.json) while the run goes on.
echo "== contract: the document is $DOC"
cp "$DOC" "$scratch/openapi.json" || { failed=$((failed + 1)); finish; }
DOC="$scratch/openapi.json"
rm -rf "$OUT"
mkdir -p "$OUT/reports"

# --- the document ------------------------------------------------------------
validate_document() {
  # The validator quotes the whole document in some messages: shorten them.
  "$venv/bin/openapi-spec-validator" --schema 3.1 --validation-errors all "$DOC" >"$scratch/validator.txt" 2>&1
  local status=$?
  cut -c1-400 "$scratch/validator.txt"
  return $status
}

lint_document() {
  # redocly.yaml and its ignore file apply to the document as `openapi.json`
  # beside them, wherever RAPPORT_OPENAPI points.
  local dir="$scratch/lint"
  mkdir -p "$dir" && cp redocly.yaml .redocly.lint-ignore.yaml "$DOC" "$dir/" || return 1
  (cd "$dir" && "$BINS/redocly" lint openapi.json --config redocly.yaml --format json --max-problems 10000 \
    >"$OUT/reports/redocly.json" 2>"$scratch/redocly.err")
  local status=$?
  python3 - "$OUT/reports/redocly.json" "$status" <<'EOF'
import collections, json, sys

try:
    report = json.load(open(sys.argv[1]))
except ValueError:
    print("redocly did not produce a report (exit %s)" % sys.argv[2])
    print(open(sys.argv[1]).read()[-2000:])
    sys.exit(1)
totals = report["totals"]
by_rule = collections.defaultdict(list)
for problem in report["problems"]:
    by_rule[(problem["severity"], problem["ruleId"])].append(problem)
for (severity, rule), problems in sorted(by_rule.items(), key=lambda item: (item[0][0] != "error", -len(item[1]))):
    print("  %s %s: %d" % (severity, rule, len(problems)))
    for problem in problems[:5]:
        where = problem["location"][0]
        line = where.get("start", {}).get("line", "?")
        print("    line %s %s: %s" % (line, where.get("pointer", ""), problem["message"]))
    if len(problems) > 5:
        print("    ... and %d more" % (len(problems) - 5))
print("  redocly: %d errors, %d warnings (%d ignored in .redocly.lint-ignore.yaml)"
      % (totals["errors"], totals["warnings"], totals.get("ignored", 0)))
sys.exit(0 if totals["errors"] == 0 and totals["warnings"] == 0 and sys.argv[2] == "0" else 1)
EOF
}

compile_scenario() {
  "$BINS/openapi-typescript" "$DOC" --output "$OUT/api.d.ts" >"$scratch/openapi-typescript.log" 2>&1 || {
    cat "$scratch/openapi-typescript.log"
    return 1
  }
  # Types are checked strictly; the JS is emitted even when they fail, so that
  # the scenario still runs and reports what the live server does.
  "$BINS/tsc" -p tsconfig.json --pretty false
}

step "the document is valid OpenAPI 3.1 (openapi-spec-validator)" validate_document
step "redocly lint, recommended rules: 0 errors, 0 warnings" lint_document
step "the generated client compiles the scenario under tsc --strict" compile_scenario

# --- against live servers ----------------------------------------------------
[ -x "$BIN" ] || echo "contract: no server binary at $BIN (cargo build, or set RAPPORT_BIN)" >&2

start_server() { # start_server ENGINE DATABASE_URL
  local log="$OUT/reports/$1/server.log"
  [ -x "$BIN" ] || return 1
  # The fuzzer calls far faster than any client should: the limiter stays on,
  # with quotas it does not reach.
  RAPPORT_DATABASE_URL="$2" RAPPORT_LISTEN=127.0.0.1:0 RAPPORT_LOG=warn \
    RAPPORT_RATE_LIMIT_PER_MINUTE=1000000 RAPPORT_RATE_LIMIT_ANONYMOUS_PER_MINUTE=1000000 \
    RAPPORT_ADMIN_EMAIL="$ADMIN_EMAIL" RAPPORT_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    "$BIN" serve >"$log" 2>&1 </dev/null &
  server_pid=$!
  base=""
  for _ in $(seq 1 300); do
    if [ -z "$base" ]; then
      base="$(sed -n 's#^Rapport listening on \(http://[^/ ]*\)/.*#\1#p' "$log" | head -n 1)"
    fi
    if [ -n "$base" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = "200" ]; then
      echo "   server: $base ($1), log in ${log#"$ROOT/"}"
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "contract: the server did not answer 200 on /readyz within 30 s; its log:" >&2
  tail -n 30 "$log" >&2
  stop_server
  return 1
}

run_scenario() {
  [ -f "$OUT/build/scenario.js" ] || { echo "contract: the scenario did not compile"; return 1; }
  RAPPORT_BASE_URL="$base" RAPPORT_ADMIN_EMAIL="$ADMIN_EMAIL" RAPPORT_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    node "$OUT/build/scenario.js"
}

sign_in() {
  curl -s "$base/v1/auth/token" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

session_works() { # session_works TOKEN: whether the token is still accepted
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/me" -H "Authorization: Bearer $1")" = "200" ]
}

run_schemathesis() { # run_schemathesis ENGINE
  local token admin_id status
  token="$(sign_in)" || { echo "contract: could not sign in as the admin"; return 1; }
  admin_id="$(curl -s "$base/v1/me" -H "Authorization: Bearer $token" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')" || return 1
  # Every operation is driven, none excluded, as the admin. Two could end the
  # run's own session half-way, after which it would go on with 401s only (a
  # documented status, so nothing would fail):
  # - POST /v1/auth/logout revokes refresh tokens, never an access token: it
  #   runs as generated.
  # - PATCH and DELETE /v1/users/{id} on the admin itself (a new password,
  #   role or active flag, or a deletion) revoke its access tokens:
  #   schemathesis_hooks.py points those calls, and only those, at an unknown
  #   id. The session is checked once more after the run.
  # The database is this engine's own, used by nothing after this step.
  # One worker: with two, hypothesis 6.170 fails at random in its lambda
  # introspection (an "AST constructor recursion depth mismatch" runtime
  # error), and on two cores the server needs the other one anyway.
  # Run from the scratch folder: schemathesis keeps caches in its working
  # directory (.hypothesis, .schemathesis), which must not land in the clone.
  : >"$scratch/hook.log"
  (cd "$scratch" && RAPPORT_CONTRACT_ADMIN_ID="$admin_id" RAPPORT_CONTRACT_HOOK_LOG="$scratch/hook.log" \
    SCHEMATHESIS_HOOKS="$HERE/schemathesis_hooks.py" \
    timeout "$SCHEMATHESIS_TIMEOUT" "$venv/bin/schemathesis" --config-file "$HERE/schemathesis.toml" \
    run "$DOC" --url "$base" -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" --seed 20261201 --workers 1 --generation-database none \
    --no-color --output-truncate true \
    --report junit,ndjson --report-dir "$OUT/reports/$1")
  status=$?
  if [ "$status" -eq 124 ]; then
    echo "contract: schemathesis ran longer than $SCHEMATHESIS_TIMEOUT s (the access token lives 900 s)"
  fi
  echo "   schemathesis_hooks.py kept $(wc -l <"$scratch/hook.log") call(s) off the admin's own record"
  if ! session_works "$token"; then
    echo "contract: the admin's access token stopped working during the run, so part of it ran unauthenticated"
    status=1
  fi
  return $status
}

on_engine() { # on_engine ENGINE DATABASE_URL
  mkdir -p "$OUT/reports/$1"
  step "$1: the server starts and /readyz answers 200" start_server "$1" "$2" || true
  if [ -z "$server_pid" ]; then
    echo "contract: FAILED: $1: the scenario (no server)" >&2
    echo "contract: FAILED: $1: schemathesis (no server)" >&2
    failed=$((failed + 2))
    return
  fi
  step "$1: the scenario against the live server" run_scenario
  step "$1: schemathesis finds no failure" run_schemathesis "$1"
  stop_server
}

for engine in $ENGINES; do
  case "$engine" in
    sqlite)
      on_engine sqlite "sqlite://$scratch/contract.db"
      ;;
    postgres)
      # Schemas are named rapport_contract_p<pid>_<random>: drop those of runs
      # that were killed before their trap could (their process is gone), and
      # no other: a schema of a run still going is in use.
      psql -X -q -At "$PG_URL" -c "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rapport\_contract\_%'" 2>/dev/null |
        while read -r old; do
          old_pid="$(sed -n 's/^rapport_contract_p\([0-9][0-9]*\)_[0-9a-f]*$/\1/p' <<<"$old")"
          if [ -n "$old_pid" ] && ! kill -0 "$old_pid" 2>/dev/null; then
            psql -X -q "$PG_URL" -c "DROP SCHEMA IF EXISTS \"$old\" CASCADE" >/dev/null 2>&1
          fi
        done
      pg_schema="rapport_contract_p$$_$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
      if psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c "CREATE SCHEMA \"$pg_schema\"" >/dev/null; then
        separator='?'
        case "$PG_URL" in *\?*) separator='&' ;; esac
        on_engine postgres "$PG_URL${separator}options=-c%20search_path%3D$pg_schema"
      else
        echo "contract: FAILED: postgres: could not create a schema at $PG_URL (is PostgreSQL running?)" >&2
        pg_schema=""
        failed=$((failed + 3))
      fi
      drop_pg_schema
      ;;
    *)
      echo "contract: unknown engine $engine (sqlite or postgres)" >&2
      failed=$((failed + 1))
      ;;
  esac
done

finish
