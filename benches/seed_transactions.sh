#!/usr/bin/env bash
# Seed step for the transaction endpoints (see benches/run.sh): 100,000
# accounts and 1,000,000 transactions among them over 2025 (one in ten a
# refund), posted through POST /v1/transactions/import in batches of 10,000
# rows, so every row builds the accounts' purchase history as a real post
# does. BENCH_TRANSACTION_ACCOUNTS and BENCH_TRANSACTIONS change the sizes.
# With BENCH_TRANSACTIONS_BULK=1 the transactions (same times, kinds and
# amounts) and the accounts' purchase history are written by SQL straight into
# BENCH_DATABASE_URL (sqlite3 or psql) instead: a million imported rows take
# over an hour on the 2-core machine, by SQL under a minute. The rows then have
# no audit entries or events, which no metric reads; the customer metrics'
# totals and spells are rebuilt from them by `rapport migrate` (the binary in
# BENCH_RAPPORT, which benches/run.sh sets).
#
# Writes BENCH_TX_ACCOUNT_ID (an account with about ten transactions) to $BENCH_VARS.
set -euo pipefail

accounts="${BENCH_TRANSACTION_ACCOUNTS:-100000}"
count="${BENCH_TRANSACTIONS:-1000000}"
auth="Authorization: Bearer $BENCH_TOKEN"

config="$(mktemp)"
ids="$(mktemp)"
batch="$(mktemp)"
trap 'rm -f "$config" "$ids" "$batch"' EXIT

# The accounts, 16 requests at a time, 10,000 per curl run.
suffix="$RANDOM$RANDOM"
for ((start = 0; start < accounts; start += 10000)); do
  end=$(( start + 10000 < accounts ? start + 10000 : accounts ))
  : >"$config"
  for ((i = start; i < end; i++)); do
    ((i == start)) || echo "next" >>"$config"
    cat >>"$config" <<CONF
url = "$BENCH_BASE/v1/accounts"
header = "$auth"
header = "Content-Type: application/json"
data = "{\"name\":\"Bench client $i $suffix\"}"
output = "/dev/null"
write-out = "%header{location}\n"
CONF
  done
  # Parallel transfers interleave bodies on stdout: read each id from its Location instead.
  curl -sS --no-progress-meter --parallel --parallel-max 16 -K "$config" \
    | sed -n 's#^/v1/accounts/\([0-9a-f-]*\).*#\1#p' >>"$ids"
done
[ "$(wc -l <"$ids")" -eq "$accounts" ] || { echo "seeding accounts failed" >&2; exit 1; }

# The transactions by SQL: row n of count, t its second of 2025 (evenly spread), one in ten a refund.
bulk_rows="n, 1735689600 + n * (31536000.0 / $count) AS t, CASE WHEN n % 10 = 9 THEN 'refund' ELSE 'purchase' END AS kind,
  1000 + (n * 37) % 100000 AS amount"
bulk_select() {
  local uuid="$1" at_open="$2" at_close="$3" scope="$4"
  cat <<SQL
INSERT INTO transactions (id, kind, account_id, amount, currency, occurred_at, external_id, idempotency_scope,
  request_hash, award_points, created_at)
SELECT $uuid, kind, (SELECT id FROM bulk_accounts WHERE k = (n * 7919) % $accounts), amount, 'EUR',
  ${at_open}t${at_close}, 'B-' || n, $scope, 'bulk', false, ${at_open}t${at_close}
SQL
}
# The purchase history a post keeps on the account (src/transactions/repo.rs), recomputed from the rows.
bulk_history() {
  local object="$1"
  cat <<SQL
INSERT INTO account_revenue (account_id, currency, amount)
SELECT account_id, currency, SUM(CASE WHEN kind = 'purchase' THEN amount ELSE -amount END)
FROM transactions WHERE account_id IS NOT NULL GROUP BY account_id, currency;
UPDATE accounts SET
  purchase_count = (SELECT COUNT(*) FROM transactions t WHERE t.account_id = accounts.id AND t.kind = 'purchase'),
  first_purchase_at = (SELECT MIN(occurred_at) FROM transactions t WHERE t.account_id = accounts.id AND t.kind = 'purchase'),
  last_purchase_at = (SELECT MAX(occurred_at) FROM transactions t WHERE t.account_id = accounts.id AND t.kind = 'purchase'),
  lifetime_revenue = COALESCE((SELECT $object FROM account_revenue r WHERE r.account_id = accounts.id), '{}');
-- The customer metrics' totals and spells: rebuilt by rapport migrate below.
DELETE FROM account_activity_built;
SQL
}
if [ -n "${BENCH_TRANSACTIONS_BULK:-}" ]; then
  started=$(date +%s)
  case "$BENCH_DATABASE_URL" in
    sqlite:*)
      path="${BENCH_DATABASE_URL#sqlite://}"
      path="${path%%\?*}"
      command -v sqlite3 >/dev/null || { echo "BENCH_TRANSACTIONS_BULK needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
      sqlite3 "$path" <<SQL
.timeout 60000
CREATE TEMP TABLE bulk_accounts AS SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM accounts WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX temp.bulk_accounts_k ON bulk_accounts (k);
BEGIN IMMEDIATE;
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < $count - 1),
     items AS (SELECT $bulk_rows FROM seq)
$(bulk_select "randomblob(16)" "strftime('%Y-%m-%dT%H:%M:%S+00:00', " ", 'unixepoch')" "zeroblob(16)") FROM items;
$(bulk_history "json_group_object(currency, amount)")
COMMIT;
SQL
      ;;
    postgres:*|postgresql:*)
      PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d "$BENCH_DATABASE_URL" <<SQL
CREATE TEMP TABLE bulk_accounts AS SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1)::int AS k FROM accounts WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX ON bulk_accounts (k);
BEGIN;
$(bulk_select "gen_random_uuid()" "to_timestamp(" ")" "'00000000-0000-0000-0000-000000000000'") FROM (SELECT $bulk_rows FROM generate_series(0::bigint, $count - 1) n) items;
$(bulk_history "jsonb_object_agg(currency, amount)")
COMMIT;
VACUUM ANALYZE transactions;
VACUUM ANALYZE accounts;
SQL
      ;;
    *) echo "seed_transactions.sh: unknown database URL $BENCH_DATABASE_URL" >&2; exit 1 ;;
  esac
  RAPPORT_DATABASE_URL="$BENCH_DATABASE_URL" RAPPORT_LOG=warn "${BENCH_RAPPORT:-rapport}" migrate >/dev/null
  echo "bench: $count transactions written by SQL in $(( $(date +%s) - started )) s" >&2
  echo "BENCH_TX_ACCOUNT_ID=$(head -n 1 "$ids")" >>"$BENCH_VARS"
  exit 0
fi

# The transactions, 10,000 rows per import.
for ((start = 0; start < count; start += 10000)); do
  end=$(( start + 10000 < count ? start + 10000 : count ))
  awk -v start="$start" -v end="$end" -v count="$count" '
    NR == FNR { account[NR - 1] = $0; n = NR; next }
    END {
      split("31 28 31 30 31 30 31 31 30 31 30 31", mdays, " ")
      printf "["
      for (i = start; i < end; i++) {
        t = int(i * (31536000 / count)); day = int(t / 86400); sec = t % 86400
        m = 1; while (day >= mdays[m]) { day -= mdays[m]; m++ }
        at = sprintf("2025-%02d-%02dT%02d:%02d:%02dZ", m, day + 1, int(sec / 3600), int(sec / 60) % 60, sec % 60)
        kind = (i % 10 == 9) ? "refund" : "purchase"
        printf "%s{\"kind\":\"%s\",\"account_id\":\"%s\",\"amount\":%d,\"currency\":\"EUR\",\"occurred_at\":\"%s\",\"external_id\":\"B-%d\"}", \
          (i > start ? "," : ""), kind, account[(i * 7919) % n], 1000 + (i * 37) % 100000, at, i
      }
      print "]"
    }' "$ids" /dev/null >"$batch"
  status="$(curl -sS -o /dev/null -w '%{http_code}' "$BENCH_BASE/v1/transactions/import" -H "$auth" \
    -H 'Content-Type: application/json' --data-binary "@$batch")"
  [ "$status" = 200 ] || { echo "a transaction import answered $status" >&2; exit 1; }
done

echo "BENCH_TX_ACCOUNT_ID=$(head -n 1 "$ids")" >>"$BENCH_VARS"
