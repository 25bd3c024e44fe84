#!/usr/bin/env bash
# Seed step for the loyalty endpoints (see benches/run.sh): two members, one
# with a balance of a billion points so that the redeem run never runs dry.
# The earn and redeem runs all hit these same members: the worst case for the
# row lock that keeps a balance from going negative.
#
# Writes BENCH_MEMBER_ID (the rich member) to $BENCH_VARS.
set -euo pipefail
auth="Authorization: Bearer $BENCH_TOKEN"
post() {
  curl -fsS "$BENCH_BASE$1" -H "$auth" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: seed-$RANDOM$RANDOM$RANDOM" -d "$2"
}
id_of() { sed -n 's/^{"id":"\([^"]*\)".*/\1/p'; }

suffix="$RANDOM$RANDOM"
member="$(post /v1/contacts "{\"first_name\":\"Bench\",\"last_name\":\"Member\",\"email\":\"bench-member-$suffix@example.com\"}" | id_of)"
[ -n "$member" ] || { echo "seeding the member failed" >&2; exit 1; }
post /v1/loyalty/members "{\"contact_id\":\"$member\"}" >/dev/null
post "/v1/loyalty/members/$member/earn" '{"points":1000000000,"reason":"benchmark float"}' >/dev/null
# A member in use has a history, and a database in use has statistics (this
# machine's PostgreSQL runs without autovacuum, which would analyse the
# tables as they grow): without either, every connection plans the ledger's
# key check while the ledger is nearly empty, on the member's listing index,
# and keeps that plan while the run adds tens of thousands of entries to it.
seq 1 2000 | xargs -P 8 -I{} curl -fsS -o /dev/null "$BENCH_BASE/v1/loyalty/members/$member/earn" \
  -H "$auth" -H 'Content-Type: application/json' -H "Idempotency-Key: history-$suffix-{}" \
  -d '{"points":1,"reason":"history"}'
if [ "$BENCH_ENGINE" = postgres ]; then
  psql -X -q "$BENCH_DATABASE_URL" -c "ANALYZE" >/dev/null
fi
echo "BENCH_MEMBER_ID=$member" >>"$BENCH_VARS"
