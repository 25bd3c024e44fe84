#!/usr/bin/env bash
# Side by side in one run: Rapport against the naive actix+sqlx baseline in
# ../shared/perf-baseline (built here), same wrk settings, same 100k-contact
# size, both engines; prints both tables and the ratio of each line.
#   benches/side_by_side.sh [DUR]          (from the project root)
#   needs wrk, psql, sqlite3, PostgreSQL on 127.0.0.1:5432; seeds with benches/seed_contacts.sh (SEED= to change)
# Adapted from ../shared/perf-baseline/side-by-side.sh: Rapport's one-token
# quota is raised (64 connections on one token are far above the default
# per-credential rate limit, which would measure 429s), and the ratios are printed.
set -euo pipefail
DUR=${1:-10}; C=${C:-64}
root=$(cd "$(dirname "$0")/.." && pwd); cd "$root"
pb=${PERF_BASELINE:-$root/../shared/perf-baseline}; here="$pb"
if [ -z "${RAPPORT_BIN:-}" ]; then cargo build --release -q; RAPPORT_BIN=${CARGO_TARGET_DIR:-target}/release/rapport; fi
RAPPORT_BIN="$(cd "$(dirname "$RAPPORT_BIN")" && pwd)/$(basename "$RAPPORT_BIN")"
ANCHOR_BIN=${ANCHOR_BIN:-}
if [ -z "$ANCHOR_BIN" ]; then (cd "$pb" && CARGO_TARGET_DIR=${TMPDIR:-/tmp}/perf-baseline-target cargo build --release -q) && ANCHOR_BIN=${TMPDIR:-/tmp}/perf-baseline-target/release/anchor; fi
SEED=${SEED:-benches/seed_contacts.sh}
PG=postgres://postgres@127.0.0.1:5432
W=$(mktemp -d "${TMPDIR:-/tmp}/side.XXXXXX"); out=$W/results.tsv
echo -e "system\tengine\tendpoint\treq/s\tp50\tp99\tnon2xx\terrors" > $out
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; psql -q $PG/postgres -c "drop database if exists side_rapport with (force)" -c "drop database if exists side_anchor with (force)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
row() { # system engine endpoint wrk-output-file
  local f=$4
  local rps=$(awk '/^Requests\/sec/{print $2}' $f) p50=$(awk '/^ +50%/{print $2}' $f) p99=$(awk '/^ +99%/{print $2}' $f)
  local non2=$(awk '/Non-2xx/{print $5}' $f) sock=$(awk '/Socket errors/{gsub(",","");print $4+$6+$8+$10}' $f)
  echo -e "$1\t$2\t$3\t$rps\t$p50\t$p99\t${non2:-0}\t${sock:-0}" | tee -a $out
}
bench() { # system engine endpoint url [lua]
  local f=$W/$1-$2-$3.txt lua=${5:-}
  local args="-t2 -c$C --timeout 30s --latency"; [ -n "$lua" ] && args="$args -s $lua"
  RUNID=w$RANDOM$RANDOM wrk $args -d2s "$4" >/dev/null 2>&1 || true
  RUNID=m$RANDOM$RANDOM wrk $args -d${DUR}s "$4" > $f 2>&1
  row $1 $2 $3 $f
}
# ---------- Rapport ----------
for engine in sqlite postgres; do
  port=$((19000 + RANDOM % 500)); d=$W/rapport-$engine; mkdir -p $d
  if [ $engine = sqlite ]; then url="sqlite://$d/rapport.db"; else psql -q $PG/postgres -c "drop database if exists side_rapport with (force)" -c "create database side_rapport" >/dev/null; url=$PG/side_rapport; fi
  (cd $d && RAPPORT_RATE_LIMIT_PER_MINUTE=100000000 RAPPORT_DATABASE_URL=$url RAPPORT_LISTEN=127.0.0.1:$port RAPPORT_LOG=warn RAPPORT_ADMIN_EMAIL=side@example.com RAPPORT_ADMIN_PASSWORD=side-by-side-password-1 exec $RAPPORT_BIN > server.log 2>&1) & pids+=($!)
  for i in $(seq 100); do curl -sf 127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
  tok=$(curl -s 127.0.0.1:$port/v1/auth/token -H 'content-type: application/json' -d '{"email":"side@example.com","password":"side-by-side-password-1"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  BENCH_ENGINE=$engine BENCH_DATABASE_URL=$url BENCH_VARS=$W/vars-$engine BENCH_CONTACTS=100000 bash "$SEED" 2>/dev/null
  if [ $engine = sqlite ]; then sqlite3 $d/rapport.db "select lower(substr(hex(id),1,8)||'-'||substr(hex(id),9,4)||'-'||substr(hex(id),13,4)||'-'||substr(hex(id),17,4)||'-'||substr(hex(id),21)) from contacts order by random() limit 10000" > $W/ids-$engine.txt
  else psql -At $url -c "select id from contacts order by random() limit 10000" > $W/ids-$engine.txt; fi
  export AUTH_TOKEN=$tok
  IDS=$W/ids-$engine.txt PATH_PREFIX=/v1/contacts/ bench rapport $engine get_by_id "http://127.0.0.1:$port/v1/contacts/x" $pb/get_by_id.lua
  bench rapport $engine list50 "http://127.0.0.1:$port/v1/contacts?limit=50&sort=-created_at" $here/tok.lua
  bench rapport $engine post "http://127.0.0.1:$port/v1/contacts" $here/post_rapport.lua
  IDEMPOTENCY=1 bench rapport $engine post_idem "http://127.0.0.1:$port/v1/contacts" $here/post_rapport.lua
  grep -h '^VmHWM' /proc/${pids[-1]}/status | awk -v e=$engine '{print "rapport " e " peak RSS " $2/1024 " MB"}' || true
  kill ${pids[-1]}; wait ${pids[-1]} 2>/dev/null || true
done
# ---------- naive anchor ----------
psql -q $PG/postgres -c "drop database if exists side_anchor with (force)" -c "create database side_anchor" >/dev/null
psql -q $PG/side_anchor -f $pb/schema.sql >/dev/null
psql -At $PG/side_anchor -c "select id from contacts order by random() limit 10000" > $W/ids-anchor.txt
psql -q $PG/side_anchor -c "insert into contacts (id, account_id, first_name, last_name, email) values ('c667b5d4-064a-1e5f-39f8-736c05428488','c667b5d4-064a-1e5f-39f8-736c05428488','x','y','seed@x')" >/dev/null 2>&1 || true
python3 - "$W/crm.sqlite" <<PY
import sqlite3, subprocess, sys, json
rows = subprocess.run(["psql","-At","-F","\t","$PG/side_anchor","-c","select id,account_id,first_name,last_name,email,coalesce(phone,''),coalesce(country,''),lifecycle_stage,array_to_json(tags),to_char(created_at at time zone 'UTC','YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),to_char(updated_at at time zone 'UTC','YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') from contacts"],capture_output=True,text=True).stdout.splitlines()
d = sqlite3.connect(sys.argv[1]); d.execute("pragma journal_mode=wal")
d.execute("create table contacts (id text primary key, account_id text not null, first_name text not null, last_name text not null, email text not null unique, phone text, country text, lifecycle_stage text not null default 'lead', tags text not null default '[]', created_at text not null, updated_at text not null)")
d.executemany("insert into contacts values (?,?,?,?,?,?,?,?,?,?,?)", [r.split("\t") for r in rows])
d.execute("create index contacts_created_at_idx on contacts(created_at desc)"); d.commit(); d.close()
PY
SECRET=perf-anchor-secret-perf-anchor-secret
atok=$(python3 -c "
import hmac,hashlib,base64,json,time
b=lambda x: base64.urlsafe_b64encode(x).rstrip(b'=').decode()
h=b(json.dumps({'alg':'HS256','typ':'JWT'}).encode()); p=b(json.dumps({'sub':'bench','exp':int(time.time())+3600}).encode())
s=b(hmac.new(b'$SECRET',(h+'.'+p).encode(),hashlib.sha256).digest()); print(h+'.'+p+'.'+s)")
for engine in sqlite postgres; do
  port=$((19600 + RANDOM % 300))
  if [ $engine = sqlite ]; then mode=sqlite; url="sqlite://$W/crm.sqlite"; else mode=pg; url=$PG/side_anchor; fi
  MODE=$mode AUTH=1 POOL=16 DATABASE_URL=$url BIND=127.0.0.1:$port $ANCHOR_BIN > $W/anchor-$engine.log 2>&1 & pids+=($!)
  for i in $(seq 100); do curl -s -o /dev/null 127.0.0.1:$port/hello && break; sleep 0.1; done
  export AUTH_TOKEN=$atok
  IDS=$W/ids-anchor.txt PATH_PREFIX=/contacts/ bench naive $engine get_by_id "http://127.0.0.1:$port/contacts/x" $pb/get_by_id.lua
  bench naive $engine list50 "http://127.0.0.1:$port/contacts?limit=50" $here/tok.lua
  POST_PATH=/contacts bench naive $engine post "http://127.0.0.1:$port/contacts" $pb/post_contact.lua
  kill ${pids[-1]}; wait ${pids[-1]} 2>/dev/null || true
done
echo; echo "== side by side (c$C, ${DUR}s, 2 wrk threads) =="; column -t -s $'\t' $out
echo; echo "== ratio Rapport / naive (req/s) =="
awk -F'\t' 'NR>1 {rps[$1" "$2" "$3]=$4} END {
  n=split("get_by_id list50 post post_idem", eps, " ")
  for (e=1; e<=2; e++) { engine = (e==1 ? "sqlite" : "postgres")
    for (i=1; i<=n; i++) { ep=eps[i]; base=(ep=="post_idem" ? "post" : ep)
      r=rps["rapport " engine " " ep]; b=rps["naive " engine " " base]
      if (r != "" && b > 0) printf "%-10s %-10s %8.0f / %8.0f = %.2f\n", engine, ep, r, b, r/b } } }' $out
cp $out ${TMPDIR:-/tmp}/side-by-side-last.tsv
