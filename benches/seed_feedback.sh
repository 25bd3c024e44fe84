#!/usr/bin/env bash
# Seed step for the feedback endpoints (see benches/run.sh): four channels and
# 100,000 feedback items received over 2025 (40% survey answers with NPS and
# CSAT, 30% complaints, 10% inquiries, 10% praise, 10% suggestions), with one
# complaint in ten moved to in_progress so the service-level metrics have first
# responses to average. BENCH_FEEDBACK_ITEMS changes the 100,000.
#
# Writes BENCH_FEEDBACK_CHANNEL_ID to $BENCH_VARS.
set -euo pipefail

count="${BENCH_FEEDBACK_ITEMS:-100000}"
auth="Authorization: Bearer $BENCH_TOKEN"
post() {
  curl -fsS "$BENCH_BASE$1" -H "$auth" -H 'Content-Type: application/json' -d "$2"
}
id_of() { sed -n 's/^{"id":"\([^"]*\)".*/\1/p'; } # every resource starts with its id

suffix="$RANDOM$RANDOM"
channels=()
for name in web phone email chat; do
  channels+=("$(post /v1/channels "{\"kind\":\"$name\",\"name\":\"Bench $name $suffix\",\"first_response_minutes\":240}" | id_of)")
done
[ "${#channels[@]}" -eq 4 ] && [ -n "${channels[3]}" ] || { echo "seeding channels failed" >&2; exit 1; }

config="$(mktemp)"
trap 'rm -f "$config"' EXIT

# Runs the requests in $config, 16 at a time; fails unless every answer is $1.
send() {
  local failed
  failed="$(curl -sS --no-progress-meter --parallel --parallel-max 16 -K "$config" | grep -vc "^$1\$" || true)"
  [ "$failed" -eq 0 ] || { echo "$failed feedback requests failed" >&2; exit 1; }
}

# 10,000 requests per curl run keep the config file small.
for ((start = 0; start < count; start += 10000)); do
  end=$(( start + 10000 < count ? start + 10000 : count ))
  awk -v start="$start" -v end="$end" -v base="$BENCH_BASE" -v auth="$auth" \
    -v c0="${channels[0]}" -v c1="${channels[1]}" -v c2="${channels[2]}" -v c3="${channels[3]}" '
    BEGIN {
      split("31 28 31 30 31 30 31 31 30 31 30 31", mdays, " ")
      split(c0 " " c1 " " c2 " " c3, ch, " ")
      split("low normal high urgent", prio, " ")
      for (i = start; i < end; i++) {
        # Spread over 2025: 315 seconds apart.
        t = i * 315; day = int(t / 86400); sec = t % 86400
        m = 1; while (day >= mdays[m]) { day -= mdays[m]; m++ }
        at = sprintf("2025-%02d-%02dT%02d:%02d:%02dZ", m, day + 1, int(sec / 3600), int(sec / 60) % 60, sec % 60)
        k = i % 10
        if (k < 4) body = sprintf("{\"kind\":\"survey\",\"nps\":%d,\"csat\":%d", (i * 7) % 11, 1 + (i * 3) % 5)
        else if (k < 7) body = sprintf("{\"kind\":\"complaint\",\"text\":\"Bench complaint %d\",\"priority\":\"%s\"", i, prio[1 + int(i / 10) % 4])
        else if (k == 7) body = sprintf("{\"kind\":\"inquiry\",\"text\":\"Bench inquiry %d\"", i)
        else if (k == 8) body = sprintf("{\"kind\":\"praise\",\"text\":\"Bench praise %d\"", i)
        else body = sprintf("{\"kind\":\"suggestion\",\"text\":\"Bench suggestion %d\"", i)
        body = body sprintf(",\"channel_id\":\"%s\",\"category\":\"cat%d\",\"received_at\":\"%s\"}", ch[1 + i % 4], i % 7, at)
        gsub(/"/, "\\\"", body)
        if (i > start) print "next"
        print "url = \"" base "/v1/feedback\""
        print "header = \"" auth "\""
        print "header = \"Content-Type: application/json\""
        print "data = \"" body "\""
        print "output = \"/dev/null\""
        print "write-out = \"%{http_code}\\n\""
      }
    }' >"$config"
  send 201
done

# One complaint in ten gets its first response (in_progress).
: >"$config"
cursor=""
n=0
while :; do
  page="$(curl -fsS "$BENCH_BASE/v1/feedback?kind=complaint&status=new&limit=200${cursor:+&cursor=$cursor}" -H "$auth")"
  for id in $(grep -o '"id":"[^"]*","kind"' <<<"$page" | sed 's/"id":"\([^"]*\)".*/\1/'); do
    n=$((n + 1))
    (( n % 10 == 0 )) || continue
    [ -s "$config" ] && echo "next" >>"$config"
    cat >>"$config" <<CONF
url = "$BENCH_BASE/v1/feedback/$id/transitions"
header = "$auth"
header = "Content-Type: application/json"
data = "{\"to\":\"in_progress\"}"
output = "/dev/null"
write-out = "%{http_code}\n"
CONF
  done
  cursor="$(sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p' <<<"$page")"
  [ -n "$cursor" ] || break
done
[ -s "$config" ] && send 200

echo "BENCH_FEEDBACK_CHANNEL_ID=${channels[1]}" >>"$BENCH_VARS"
