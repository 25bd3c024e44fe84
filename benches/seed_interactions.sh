#!/usr/bin/env bash
# Seed step for the interaction and timeline endpoints (see benches/run.sh):
# a channel, a contact with 10,000 interactions (the timeline under test), a
# second contact that the create benchmark logs against, and a cursor half
# way into the timeline (5,000 items deep), to show that a deep page costs
# what page 1 costs. BENCH_TIMELINE_ITEMS changes the 10,000.
# BENCH_TIMELINE_BULK=1 writes the interactions straight in SQL (a million
# through the API take minutes and measure the create, not the reads).
#
# Writes BENCH_CHANNEL_ID, BENCH_TIMELINE_CONTACT_ID, BENCH_CREATE_CONTACT_ID,
# BENCH_TIMELINE_DEEP_CURSOR and BENCH_INTERACTIONS_DEEP_CURSOR (as deep in
# the list of every interaction) to $BENCH_VARS.
set -euo pipefail

count="${BENCH_TIMELINE_ITEMS:-10000}"
auth="Authorization: Bearer $BENCH_TOKEN"

post() {
  curl -fsS "$BENCH_BASE$1" -H "$auth" -H 'Content-Type: application/json' -d "$2"
}
id_of() { sed -n 's/^{"id":"\([^"]*\)".*/\1/p'; } # every resource starts with its id

suffix="$RANDOM$RANDOM"
channel="$(post /v1/channels "{\"kind\":\"phone\",\"name\":\"Bench hotline $suffix\"}" | id_of)"
account="$(post /v1/accounts "{\"name\":\"Bench account $suffix\"}" | id_of)"
contact() {
  post /v1/contacts "{\"first_name\":\"Bench\",\"last_name\":\"$1\",\"email\":\"bench-$1-$suffix@example.com\",\"account_id\":\"$account\"}" | id_of
}
timeline_contact="$(contact timeline)"
create_contact="$(contact create)"
[ -n "$channel" ] && [ -n "$timeline_contact" ] && [ -n "$create_contact" ] || { echo "seeding failed" >&2; exit 1; }

# The interactions a second apart from 2025-06-01, a third of them outbound.
bulk_insert() {
  case "$BENCH_ENGINE" in
    sqlite)
      blob() { echo "X'${1//-/}'"; }
      sqlite3 "${BENCH_DATABASE_URL#sqlite://}" <<SQL
PRAGMA busy_timeout = 10000;
WITH RECURSIVE i(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM i WHERE k < $count - 1)
INSERT INTO interactions (id, contact_id, account_id, channel_id, direction, interaction_type, purpose, subject,
                          occurred_at, duration_seconds, version, created_at, updated_at)
SELECT randomblob(16), $(blob "$timeline_contact"), $(blob "$account"), $(blob "$channel"),
       CASE WHEN k % 3 = 0 THEN 'outbound' ELSE 'inbound' END, 'call', 'service', 'Bench call ' || k,
       strftime('%Y-%m-%dT%H:%M:%f+00:00', '2025-06-01', '+' || k || ' seconds'), k % 900, 1,
       strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')
FROM i;
SQL
      ;;
    postgres)
      psql -q "$BENCH_DATABASE_URL" -c "
INSERT INTO interactions (id, contact_id, account_id, channel_id, direction, interaction_type, purpose, subject,
                          occurred_at, duration_seconds, version, created_at, updated_at)
SELECT gen_random_uuid(), '$timeline_contact', '$account', '$channel',
       CASE WHEN k % 3 = 0 THEN 'outbound' ELSE 'inbound' END, 'call', 'service', 'Bench call ' || k,
       TIMESTAMPTZ '2025-06-01 00:00:00+00' + k * INTERVAL '1 second', k % 900, 1, now(), now()
FROM generate_series(0, $count - 1) AS k;
ANALYZE interactions;" >/dev/null
      ;;
  esac
}

# Through the API: one curl, many parallel requests.
api_insert() {
config="$(mktemp)"
trap 'rm -f "$config"' EXIT
for ((i = 0; i < count; i++)); do
  printf -v at '2025-06-%02dT%02d:%02d:%02dZ' $((1 + i / 86400)) $((i / 3600 % 24)) $((i / 60 % 60)) $((i % 60))
  dir=inbound
  ((i % 3)) || dir=outbound
  ((i == 0)) || echo "next" >>"$config"
  cat >>"$config" <<CONF
url = "$BENCH_BASE/v1/interactions"
header = "$auth"
header = "Content-Type: application/json"
data = "{\"contact_id\":\"$timeline_contact\",\"channel_id\":\"$channel\",\"direction\":\"$dir\",\"type\":\"call\",\"purpose\":\"service\",\"subject\":\"Bench call $i\",\"occurred_at\":\"$at\",\"duration_seconds\":$((i % 900))}"
output = "/dev/null"
write-out = "%{http_code}\n"
CONF
done
failed="$(curl -sS --no-progress-meter --parallel --parallel-max 16 -K "$config" | grep -vc '^201$' || true)"
[ "$failed" -eq 0 ] || { echo "$failed interactions were not created" >&2; exit 1; }
}

if [ "${BENCH_TIMELINE_BULK:-0}" = 1 ]; then bulk_insert; else api_insert; fi

# The cursor half way down a list: `count / 2` items deep, 200 a page.
half_way() {
  local cursor="" page
  for _ in $(seq 1 $(( count / 400 > 0 ? count / 400 : 1 ))); do
    page="$(curl -fsS "$BENCH_BASE$1${cursor:+&cursor=$cursor}" -H "$auth")"
    cursor="$(sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p' <<<"$page")"
  done
  [ -n "$cursor" ] || { echo "no deep cursor for $1" >&2; exit 1; }
  echo "$cursor"
}
cursor="$(half_way "/v1/contacts/$timeline_contact/timeline?limit=200")"
interactions_cursor="$(half_way "/v1/interactions?limit=200")"

{
  echo "BENCH_CHANNEL_ID=$channel"
  echo "BENCH_TIMELINE_CONTACT_ID=$timeline_contact"
  echo "BENCH_CREATE_CONTACT_ID=$create_contact"
  echo "BENCH_TIMELINE_DEEP_CURSOR=$cursor"
  echo "BENCH_INTERACTIONS_DEEP_CURSOR=$interactions_cursor"
} >>"$BENCH_VARS"
