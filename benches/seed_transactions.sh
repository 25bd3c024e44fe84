#!/usr/bin/env bash
# Seed step for the transaction endpoints (see benches/run.sh): 100,000
# accounts and 1,000,000 transactions among them over 2025 (one in ten a
# refund), posted through POST /v1/transactions/import in batches of 10,000
# rows, so every row builds the accounts' purchase history as a real post
# does. BENCH_TRANSACTION_ACCOUNTS and BENCH_TRANSACTIONS change the sizes.
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
