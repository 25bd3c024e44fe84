#!/usr/bin/env bash
# Seed step for the metrics at scale (issue 12 item 3, issue 15 part 6), off
# unless BENCH_FEEDBACK_BULK is set: that many feedback items over 2025, spread
# over the accounts of seed_transactions.sh and four channels, written by SQL
# straight into BENCH_DATABASE_URL (sqlite3 or psql), because a million posts
# take half an hour. Their shape follows seed_feedback.sh: 40 % surveys (NPS
# and CSAT, half of them CES too), 30 % complaints, 10 % each inquiries, praise
# and suggestions; of the complaints and inquiries 20 % are resolved and 10 %
# in progress, with first-response and resolution times. It runs after
# seed_transactions.sh and before the insights refresh (name order).
#
#   BENCH_FEEDBACK_BULK=1000000 BENCH_SEEDS='transactions' \
#     BENCH_ONLY='metrics_' benches/run.sh
set -euo pipefail

count="${BENCH_FEEDBACK_BULK:-}"
[ -n "$count" ] || exit 0
[[ "$count" =~ ^[0-9]+$ ]] || { echo "BENCH_FEEDBACK_BULK must be a number" >&2; exit 1; }

auth="Authorization: Bearer $BENCH_TOKEN"
for name in web phone email chat; do
  curl -fsS -o /dev/null "$BENCH_BASE/v1/channels" -H "$auth" -H 'Content-Type: application/json' \
    -d "{\"kind\":\"$name\",\"name\":\"Bulk $name $RANDOM$RANDOM\",\"first_response_minutes\":240}"
done

# One SELECT for both engines: $1 makes a new id, $2 … $3 around seconds since 1970 make a time.
select_sql() {
  local uuid="$1" at_open="$2" at_close="$3"
  local at="${at_open}t${at_close}"
  cat <<SQL
SELECT $uuid, kind, 'Bulk bench item',
  CASE WHEN kind = 'survey' THEN 1 + n % 5 END,
  CASE WHEN kind = 'survey' THEN n % 11 END,
  CASE WHEN kind = 'survey' AND n % 20 < 8 THEN 1 + n % 7 END,
  (SELECT id FROM bulk_accounts WHERE k = (n * 7919) % NULLIF((SELECT COUNT(*) FROM bulk_accounts), 0)),
  (SELECT id FROM bulk_channels WHERE k = n % 4),
  CASE n % 3 WHEN 0 THEN 'billing' WHEN 1 THEN 'service' END,
  'normal',
  CASE WHEN workflow THEN CASE WHEN n % 50 < 10 THEN 'resolved' WHEN n % 50 < 15 THEN 'in_progress' ELSE 'new' END END,
  ${at_open}t${at_close},
  CASE WHEN workflow THEN 240 END,
  CASE WHEN workflow THEN 10 END,
  CASE WHEN workflow THEN ${at_open}t + 14400${at_close} END,
  CASE WHEN workflow THEN ${at_open}t + 11520${at_close} END,
  CASE WHEN workflow THEN ${at_open}t + 1209600${at_close} END,
  CASE WHEN workflow THEN ${at_open}t + 967680${at_close} END,
  CASE WHEN workflow AND n % 50 < 15 THEN ${at_open}t + 3600 + (n % 7) * 1800${at_close} END,
  CASE WHEN workflow AND n % 50 < 15 THEN 3600 + (n % 7) * 1800 END,
  CASE WHEN workflow AND n % 50 < 10 THEN ${at_open}t + 86400 + (n % 13) * 20000${at_close} END,
  CASE WHEN workflow AND n % 50 < 10 THEN 86400 + (n % 13) * 20000 END,
  0, 0, 1, $at, $at
SQL
}
columns="id, kind, text, csat, nps, ces, account_id, channel_id, category, priority, status, received_at,
  first_response_target_minutes, resolution_target_business_days, first_response_due_at, first_response_risk_at,
  resolution_due_at, resolution_risk_at, first_responded_at, first_response_seconds, resolved_at, resolution_seconds,
  paused_micros, reopen_count, version, created_at, updated_at"
# n from 0 to count - 1, t its second of 2025 (evenly spread), kind by n % 10.
rows="n, 1735689600 + n * (31536000.0 / $count) AS t,
  CASE WHEN n % 10 < 4 THEN 'survey' WHEN n % 10 < 7 THEN 'complaint' WHEN n % 10 = 7 THEN 'inquiry'
       WHEN n % 10 = 8 THEN 'praise' ELSE 'suggestion' END AS kind,
  n % 10 IN (4, 5, 6, 7) AS workflow"

started=$(date +%s)
case "$BENCH_DATABASE_URL" in
  sqlite:*)
    path="${BENCH_DATABASE_URL#sqlite://}"
    path="${path%%\?*}"
    command -v sqlite3 >/dev/null || { echo "seed_transactions_feedback.sh needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
    sqlite3 "$path" <<SQL
.timeout 60000
CREATE TEMP TABLE bulk_channels AS SELECT id, ROW_NUMBER() OVER (ORDER BY created_at DESC) - 1 AS k FROM channels;
DELETE FROM bulk_channels WHERE k >= 4;
CREATE TEMP TABLE bulk_accounts AS SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM accounts WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX temp.bulk_accounts_k ON bulk_accounts (k);
BEGIN IMMEDIATE;
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < $count - 1),
     items AS (SELECT $rows FROM seq)
INSERT INTO feedback ($columns)
$(select_sql "randomblob(16)" "strftime('%Y-%m-%dT%H:%M:%S+00:00', " ", 'unixepoch')") FROM items;
COMMIT;
SQL
    ;;
  postgres:*|postgresql:*)
    PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d "$BENCH_DATABASE_URL" <<SQL
CREATE TEMP TABLE bulk_channels AS SELECT id, (ROW_NUMBER() OVER (ORDER BY created_at DESC) - 1)::int AS k FROM channels;
DELETE FROM bulk_channels WHERE k >= 4;
CREATE TEMP TABLE bulk_accounts AS SELECT id, (ROW_NUMBER() OVER (ORDER BY id) - 1)::int AS k FROM accounts WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX ON bulk_accounts (k);
INSERT INTO feedback ($columns)
$(select_sql "gen_random_uuid()" "to_timestamp(" ")") FROM (SELECT $rows FROM generate_series(0::bigint, $count - 1) n) items;
VACUUM ANALYZE feedback;
VACUUM ANALYZE transactions;
VACUUM ANALYZE accounts;
SQL
    ;;
  *) echo "seed_transactions_feedback.sh: unknown database URL $BENCH_DATABASE_URL" >&2; exit 1 ;;
esac
echo "bench: $count feedback items written by SQL in $(( $(date +%s) - started )) s" >&2
