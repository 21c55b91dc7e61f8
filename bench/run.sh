#!/usr/bin/env bash
# The benchmark suite (SPEC §10): one command, from a fresh clone, in under 15 minutes.
#
#   bash bench/run.sh                 # writes docs/PERFORMANCE.md
#   OUT=/tmp/perf.md DURATION=10 bash bench/run.sh
#   CDC_BIN=/path/to/cdconcerns bash bench/run.sh   # measure that binary, build nothing
#
# Builds the release binary, starts `cdconcerns demo` on a private PostgreSQL cluster in a
# temporary directory (PostgreSQL's durable defaults), generates a realistic data set in SQL
# (1 M cases over 7 areas and 20,000 organisations, a person with blind indexes per case,
# 2,000 shares delivered as alerts), and loads the minimal schema (bench/limit/, copied
# unchanged from shared/bench) into a second database of the same cluster. Then, for each
# operation, in the same run on the same machine: the service under wrk at 1 client and at
# CLIENTS (32) clients, pgbench with CLIENTS clients running the least SQL the operation needs
# on the minimal schema (bench/limit/ and bench/sql/limit_*.sql), and pgbench running the
# project's own queries on its own schema (bench/sql/project_*.sql). Prints and writes
# throughput, p50/p99, errors, both ratios and the service's peak resident memory.
#
# Needs: cargo, wrk (apt-get install wrk), pgbench and psql (the PostgreSQL client), python3, curl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${DURATION:-8}"        # seconds per measurement at CLIENTS clients
duration_one="${DURATION_ONE:-4}" # seconds per single-client measurement
clients="${CLIENTS:-32}"
out="${OUT:-$root/docs/PERFORMANCE.md}"
for tool in wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh needs $tool (apt-get install $tool)" >&2; exit 1; }
done
pgbin="$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
[[ -x "$pgbin/pgbench" ]] || pgbin_bench="$(command -v pgbench)"
pgbench="${pgbin_bench:-$pgbin/pgbench}"
began=$(date +%s)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
bin="${CDC_BIN:-$root/target/release/cdconcerns}"
if [[ -z "${CDC_BIN:-}" ]]; then
  echo "== building the release binary"
  cargo build --release --quiet
fi

data="$(mktemp -d /tmp/cdc-bench.XXXXXX)"
chmod 755 "$data"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export CDC_DATA_DIR="$data" CDC_BIND="127.0.0.1:$port" CDC_PUBLIC_URL="$base" \
       CDC_API_RATE_LIMIT=0 CDC_DEMO_PASSWORD="bench-password-1" RUST_LOG=warn
server_pid=""
sampler_pid=""
cleanup() {
  set +e
  [[ -n "$sampler_pid" ]] && kill "$sampler_pid" 2>/dev/null
  [[ -n "$server_pid" ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [[ -f "$data/pg/data/postmaster.pid" ]]; then
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$pgbin/pg_ctl" -D "$data/pg/data" -m fast -w stop >/dev/null 2>&1
    else "$pgbin/pg_ctl" -D "$data/pg/data" -m fast -w stop >/dev/null 2>&1; fi
  fi
  [[ "${KEEP:-}" == 1 ]] && { echo "kept $data"; return; }
  rm -rf "$data"
}
trap cleanup EXIT
"$bin" demo > "$data/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.25; done
curl -sf "$base/readyz" >/dev/null || { cat "$data/server.log"; exit 1; }
sock="$data/pg/sock"
[[ -S "$sock/.s.PGSQL.5432" ]] || sock="$(dirname "$(ls -t /tmp/cdc-pg-*/.s.PGSQL.5432 | head -1)")"
psqlc() { "$pgbin/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h "$sock" -p 5432 -U postgres "$@"; }
# The service's resident memory, sampled every 0.2 s (and the kernel's high-water mark at the end).
( while kill -0 "$server_pid" 2>/dev/null; do awk '/VmRSS/{print $2}' "/proc/$server_pid/status" 2>/dev/null; sleep 0.2; done ) > "$data/rss.txt" &
sampler_pid=$!

echo "== generating the data set (1 M cases, 7 areas, 20,000 organisations, persons, alerts)"
t0=$(date +%s)
psqlc -d cdconcerns -f bench/sql/generate_scale.sql >/dev/null
psqlc -d cdconcerns -f bench/generate_million.sql >/dev/null
psqlc -d cdconcerns -v refs="BM-%" -v n=2000 -f bench/sql/generate_alerts.sql >/dev/null
gen_secs=$(( $(date +%s) - t0 ))
psqlc -d postgres -c "CREATE DATABASE bench_limit" >/dev/null
# The minimal schema is used as it was given. Its data step writes `random()*1500 || ' days'`,
# which fails when random() is under 1e-4/1500 and prints in exponent form ("4.5e-05 days" is
# not an interval): about one load in 15 for 1 M rows. The file drops its tables first, so a
# failed load is simply loaded again.
for attempt in 1 2 3; do
  psqlc -d bench_limit -f bench/limit/limit_schema.sql >/dev/null 2>"$data/limit_schema.err" && break
  [[ $attempt == 3 ]] && { cat "$data/limit_schema.err" >&2; exit 1; }
  echo "   (the minimal schema's random data failed to load; loading it again)"
done
psqlc -d bench_limit -f bench/sql/limit_extra.sql >/dev/null
# Both databases as a database that has been running holds them: vacuumed. A table just loaded
# in bulk has no visibility map yet, so every index-only read of it visits the table as well
# (the case list's total, counting new cases, read 1,001 table rows a request); autovacuum
# would get there in its own time.
t1=$(date +%s)
psqlc -d cdconcerns -c "VACUUM (ANALYZE)" >/dev/null
psqlc -d bench_limit -c "VACUUM (ANALYZE)" >/dev/null
echo "   vacuumed in $(( $(date +%s) - t1 )) s"
counts="$(psqlc -d cdconcerns -F ' ' -c "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM areas), (SELECT count(*) FROM organisations), (SELECT count(*) FROM persons), (SELECT count(*) FROM alerts)")"
read -r n_cases n_areas n_orgs n_persons n_alerts <<<"$counts"
echo "   $n_cases cases, $n_areas areas, $n_orgs organisations, $n_persons persons, $n_alerts alerts in $(( $(date +%s) - t0 )) s"

REPORTER="$("$bin" token issue --email reporter@demo.cdconcerns.test --days 1)"
CDAO="$("$bin" token issue --email cdao@demo.cdconcerns.test --days 1)"
MEMBER="$("$bin" token issue --email member@demo.cdconcerns.test --days 1)"
ids="$(psqlc -d cdconcerns -c "SELECT u.organisation_id, oa.area_id, u.id FROM users u JOIN organisation_areas oa ON oa.organisation_id = u.organisation_id WHERE u.email = 'reporter@demo.cdconcerns.test' LIMIT 1")"
IFS='|' read -r org area reporter <<<"$ids"
cdao_area="$(psqlc -d cdconcerns -c "SELECT ua.area_id FROM user_areas ua JOIN users u ON u.id = ua.user_id WHERE u.email = 'cdao@demo.cdconcerns.test' LIMIT 1")"
member_org="$(psqlc -d cdconcerns -c "SELECT organisation_id FROM users WHERE email = 'member@demo.cdconcerns.test'")"
# Cases whose identities the service sealed itself (the generated persons hold random bytes).
TOKEN="$REPORTER" wrk -t2 -c4 -d3s -s bench/post_person_concern.lua "$base/api/v1/person-concerns" >/dev/null
psqlc -d cdconcerns -c "SELECT id FROM cases WHERE area_id = '$cdao_area' AND reference LIKE 'CD-%' AND kind = 'person_concern' ORDER BY random() LIMIT 500" > "$data/case_ids.txt"
psqlc -d cdconcerns -v refs="CD-%" -v n=1000 -f bench/sql/generate_alerts.sql >/dev/null
psqlc -d cdconcerns -c "SELECT a.id FROM alerts a JOIN shares s ON s.id = a.share_id JOIN cases c ON c.id = s.case_id WHERE a.organisation_id = '$member_org' AND c.reference LIKE 'CD-%' ORDER BY random() LIMIT 500" > "$data/alert_ids.txt"
psqlc -d cdconcerns >/dev/null <<SQL
CREATE TABLE bench_audit (LIKE audit_events INCLUDING DEFAULTS INCLUDING INDEXES EXCLUDING CONSTRAINTS);
ALTER TABLE bench_audit DROP COLUMN IF EXISTS stripe, DROP COLUMN IF EXISTS seq, DROP COLUMN IF EXISTS case_id;
SQL
psqlc -d cdconcerns -c "CREATE TABLE bench_ids AS SELECT (row_number() OVER ())::int AS n, id::uuid AS id FROM (SELECT unnest(string_to_array('$(paste -sd, "$data/case_ids.txt")', ',')) AS id) x; ALTER TABLE bench_ids ADD PRIMARY KEY (n);" >/dev/null
psqlc -d cdconcerns -c "CREATE TABLE bench_alert_ids AS SELECT (row_number() OVER ())::int AS n, id::uuid AS id FROM (SELECT unnest(string_to_array('$(paste -sd, "$data/alert_ids.txt")', ',')) AS id) x; ALTER TABLE bench_alert_ids ADD PRIMARY KEY (n);" >/dev/null
body='{"subject_type":"registered_professional","person":{"full_name":"Dr Bench Mark","date_of_birth":"1971-02-03","registrations":[{"register":"gmc","number":"7654321"}]},"concern_categories":["diversion_or_theft"],"provenance":"colleague","status":"alleged","description":"Benchmark person."}'
curl -sf -H "Authorization: Bearer $REPORTER" -H 'Content-Type: application/json' -d "$body" "$base/api/v1/person-concerns" >/dev/null
new_case="$(curl -sf -H "Authorization: Bearer $REPORTER" -H 'Content-Type: application/json' -d "$body" "$base/api/v1/person-concerns" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
echo "$new_case" > "$data/new_case.txt"

results="$data/results.tsv"
: > "$results"
# Waits (up to 60 s) until no other client's statement is still running: a query that the
# previous step's load left in flight (a statistics query runs for seconds) would otherwise be
# measured as part of the next step.
quiesce() {
  local busy
  for _ in $(seq 1 120); do
    busy="$(psqlc -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()")"
    [[ "$busy" == "0" ]] && return 0
    sleep 0.5
  done
  echo "   (statements still running after 60 s: $busy)"
}
# wrk at 1 and at $clients clients: OP URL TOKEN [IDS_FILE PREFIX SUFFIX] [lua]
service() {
  local op="$1" url="$2" token="$3" idsfile="${4:-}" prefix="${5:-}" suffix="${6:-}" lua="${7:-bench/get_with_token.lua}"
  local line
  quiesce
  export TOKEN="$token" IDS_FILE="$idsfile" PATH_PREFIX="$prefix" PATH_SUFFIX="$suffix"
  [[ -z "$idsfile" ]] && unset IDS_FILE
  wrk -t1 -c4 -d2s -s "$lua" "$url" >/dev/null 2>&1 || true
  line="$(wrk -t1 -c1 -d"${duration_one}s" --timeout 30s --latency -s "$lua" "$url" | tail -1)"
  printf '%s\tservice_1\t%s\n' "$op" "$line" >> "$results"
  line="$(wrk -t2 -c"$clients" -d"${duration}s" --timeout 30s --latency -s "$lua" "$url" | tail -1)"
  printf '%s\tservice_n\t%s\n' "$op" "$line" >> "$results"
  echo "   $op: service 1 client: $(grep -P "^$op\tservice_1" "$results" | cut -f3)"
  echo "   $op: service $clients clients: $line"
}
# pgbench with $clients clients: OP KIND DB FILE [-D name=value ...]
baseline() {
  local op="$1" kind="$2" db="$3" file="$4"; shift 4
  local out tps lat failed
  quiesce
  out="$(PGHOST="$sock" "$pgbench" -n -M prepared -U postgres -p 5432 -c "$clients" -j 2 -T "$duration" "$@" -f "$file" "$db" 2>&1 || true)"
  tps="$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$out" | head -1)"
  lat="$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' <<<"$out" | head -1)"
  failed="$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' <<<"$out" | head -1)"
  [[ -n "$tps" ]] || { echo "pgbench $file failed:"; echo "$out" | tail -5; tps=0; }
  printf '%s\t%s\ttps=%s avg_ms=%s failed=%s file=%s\n' "$op" "$kind" "$tps" "${lat:-?}" "${failed:-0}" "$file" >> "$results"
  echo "   $op: pgbench $kind ($file): $tps tx/s, average ${lat:-?} ms"
}

echo "== measuring ($clients clients for ${duration} s, 1 client for ${duration_one} s, each beside pgbench)"
echo 5 > "/proc/$server_pid/clear_refs" 2>/dev/null || true
service submission "$base/api/v1/incidents" "$REPORTER" "" "" "" bench/post_incident.lua
baseline submission minimal bench_limit bench/limit/limit_submit.sql
baseline submission project cdconcerns bench/sql/project_submission.sql -D org="$org" -D area="$area" -D reporter="$reporter"

service case_list "$base/api/v1/cases?status=new&limit=50" "$CDAO"
baseline case_list minimal bench_limit bench/limit/limit_dashboard.sql
baseline case_list project cdconcerns bench/sql/project_case_list.sql -D area="$cdao_area"

service case_page "$base" "$CDAO" "$data/case_ids.txt" /api/v1/cases/
baseline case_page minimal bench_limit bench/sql/limit_case_page.sql
baseline case_page project cdconcerns bench/sql/project_case_page.sql -D nids="$(wc -l < "$data/case_ids.txt")" -D area="$cdao_area"

service alert_inbox "$base/api/v1/alerts" "$MEMBER"
baseline alert_inbox minimal bench_limit bench/sql/limit_inbox.sql
baseline alert_inbox project cdconcerns bench/sql/project_inbox.sql -D org="$member_org"

service alert_page "$base" "$MEMBER" "$data/alert_ids.txt" /api/v1/alerts/
baseline alert_page minimal bench_limit bench/sql/limit_case_page.sql
baseline alert_page project cdconcerns bench/sql/project_alert_page.sql -D org="$member_org" -D nids="$(wc -l < "$data/alert_ids.txt")"

service matching "$base" "$CDAO" "$data/new_case.txt" /api/v1/cases/ /matches
baseline matching minimal bench_limit bench/sql/limit_match.sql
baseline matching project cdconcerns bench/sql/project_match.sql -D case="$new_case"

service statistics "$base/api/v1/stats?group_by=category" "$CDAO"
baseline statistics minimal bench_limit bench/sql/limit_stats.sql
baseline statistics project cdconcerns bench/sql/project_stats.sql -D area="$cdao_area"

# Per-request overhead: an authenticated one-query read beside a request that does nothing,
# one after the other three times (what else the machine does moves both alike; the report
# takes the median of the three gaps).
export TOKEN="$CDAO"; unset IDS_FILE
quiesce
for round in 1 2 3; do
  for op in healthz areas; do
    url="$base/healthz"; [[ $op == areas ]] && url="$base/api/v1/areas"
    wrk -t1 -c1 -d1s -s bench/get_with_token.lua "$url" >/dev/null 2>&1 || true
    printf 'overhead_%s\tround%s\t%s\n' "$op" "$round" "$(wrk -t1 -c1 -d"${duration_one}s" --timeout 30s --latency -s bench/get_with_token.lua "$url" | tail -1)" >> "$results"
  done
done

kill "$sampler_pid" 2>/dev/null || true; sampler_pid=""
rss_peak_kb=$(sort -n "$data/rss.txt" | tail -1)
hwm_kb=$(awk '/VmHWM/{print $2}' "/proc/$server_pid/status")
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
stored="$(psqlc -d cdconcerns -c "SELECT count(*) FROM cases WHERE reference LIKE 'CD-%'")"
mkdir -p "$(dirname "$out")"
python3 bench/report.py "$results" "$out" \
  "cpu=$(lscpu | sed -nE 's/^Model name: *//p' | head -1)" "cores=$(nproc)" \
  "memory=$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)" \
  "postgres=$("$pgbin/postgres" --version)" "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  "commit=${COMMIT_LABEL:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')}" \
  "load_before=$load_before" "load_after=$load_after" "clients=$clients" "duration=$duration" \
  "duration_one=$duration_one" "rss_peak_mib=$(( rss_peak_kb / 1024 ))" "hwm_mib=$(( hwm_kb / 1024 ))" \
  "data=$n_cases cases, $n_areas areas, $n_orgs organisations, $n_persons persons, $n_alerts alerts (generated in ${gen_secs} s)" \
  "stored=$stored" "elapsed=$(( $(date +%s) - began ))"
echo "== wrote $out ($(( $(date +%s) - began )) s in all)"
