#!/usr/bin/env bash
# Seeds BENCH_CONTACTS contacts (default 100000) spread over 1,000 accounts,
# straight in SQL: through the import API a million rows would take minutes
# and measure the import, not the reads. Writes for the endpoints:
#   BENCH_CONTACT_ID     a contact in the middle of the set
#   BENCH_DEEP_CURSOR    a cursor 90% of the way through the default sort
set -euo pipefail
n="${BENCH_CONTACTS:-100000}"
echo "seeding $n contacts" >&2

case "$BENCH_ENGINE" in
  sqlite)
    db="${BENCH_DATABASE_URL#sqlite://}"
    sqlite3 "$db" <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < 1000)
INSERT INTO accounts (id, name, name_key, size_segment, size_segment_set, key_account, tags, custom_fields, version, created_at, updated_at)
SELECT randomblob(16), 'Account ' || k, 'account ' || k, 'small', 0, 0, '[]', '{}', 1,
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-400 days'), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-400 days')
FROM i;
CREATE TEMP TABLE bench_accounts AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM accounts;
WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < $n)
INSERT INTO contacts (id, first_name, last_name, name_key, given_name_key, email, account_id, lifecycle_stage,
                      tags, custom_fields, version, created_at, updated_at)
SELECT randomblob(16), 'First' || k, 'Last' || (k % 5000), lower('Last' || (k % 5000) || ' First' || k),
       lower('First' || k || ' Last' || (k % 5000)), 'c' || k || '@bench.example',
       (SELECT id FROM bench_accounts WHERE n = 1 + k % 1000), 'customer', '[]', '{}', 1,
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-' || ($n - k) || ' seconds'),
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-' || ($n - k) || ' seconds')
FROM i;
COMMIT;
ANALYZE;
SQL
    pick() { sqlite3 "$db" "SELECT lower(hex(id)), created_at FROM contacts ORDER BY created_at, id LIMIT 1 OFFSET $1"; }
    ;;
  postgres)
    psql -X -q -v ON_ERROR_STOP=1 "$BENCH_DATABASE_URL" <<SQL
BEGIN;
INSERT INTO accounts (id, name, name_key, size_segment, size_segment_set, key_account, tags, custom_fields, version, created_at, updated_at)
SELECT gen_random_uuid(), 'Account ' || k, 'account ' || k, 'small', false, false, '[]', '{}', 1,
       now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, 1000) AS k;
CREATE TEMP TABLE bench_accounts AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM accounts;
INSERT INTO contacts (id, first_name, last_name, name_key, given_name_key, email, account_id, lifecycle_stage,
                      tags, custom_fields, version, created_at, updated_at)
SELECT gen_random_uuid(), 'First' || k, 'Last' || (k % 5000), lower('Last' || (k % 5000) || ' First' || k),
       lower('First' || k || ' Last' || (k % 5000)), 'c' || k || '@bench.example',
       a.id, 'customer', '[]', '{}', 1,
       date_trunc('milliseconds', now()) - ($n - k) * interval '1 second',
       date_trunc('milliseconds', now()) - ($n - k) * interval '1 second'
FROM generate_series(1, $n) AS k JOIN bench_accounts a ON a.n = 1 + k % 1000;
COMMIT;
ANALYZE;
SQL
    pick() {
      psql -X -At -F '|' "$BENCH_DATABASE_URL" -c \
        "SELECT replace(id::text, '-', ''), to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM contacts ORDER BY created_at, id LIMIT 1 OFFSET $1"
    }
    ;;
  *) echo "unknown engine $BENCH_ENGINE" >&2; exit 1 ;;
esac

as_uuid() { sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12})$/\1-\2-\3-\4-\5/'; }
middle="$(pick $((n / 2)))"
echo "BENCH_CONTACT_ID=$(cut -d'|' -f1 <<<"$middle" | as_uuid)" >>"$BENCH_VARS"
deep="$(pick $((n * 9 / 10)))"
deep_id="$(cut -d'|' -f1 <<<"$deep" | as_uuid)"
deep_key="$(cut -d'|' -f2 <<<"$deep")"
# Cursors are sealed by the server: ask it for the one after the deep row
# (seeded rows have updated_at = created_at, so this filter starts there).
# (Without a server to ask, e.g. under side_by_side.sh, there is none.)
if [ -n "${BENCH_BASE:-}" ]; then
  page="$(curl -fsS -G "$BENCH_BASE/v1/contacts" --data-urlencode "updated_since=$deep_key" -d limit=1 \
    -H "Authorization: Bearer $BENCH_TOKEN")"
  cursor="$(sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p' <<<"$page")"
  [ -n "$cursor" ] || { echo "no deep contact cursor (after $deep_id)" >&2; exit 1; }
  echo "BENCH_DEEP_CURSOR=$cursor" >>"$BENCH_VARS"
fi
