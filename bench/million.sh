#!/usr/bin/env bash
# Triage at scale (SPEC §10): 1 million cases generated in SQL, then with 32 clients (wrk):
# the CDAO case list (50 rows, filtered) beside pgbench running the same indexed read, the
# case page, and matching a new person against a million persons.
#
#   bash bench/million.sh        # DURATION=20 seconds per measurement
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${DURATION:-20}"
clients="${CLIENTS:-32}"
bin="$root/target/release/cdconcerns"
[[ -x "$bin" ]] || cargo build --release
pgbin="$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | tail -1)"
data="$(mktemp -d /tmp/cdc-million.XXXXXX)"
chmod 755 "$data"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export CDC_DATA_DIR="$data" CDC_BIND="127.0.0.1:$port" CDC_PUBLIC_URL="http://127.0.0.1:$port" \
       CDC_API_RATE_LIMIT=0 CDC_DEMO_PASSWORD="bench-password-1" RUST_LOG=warn
base="http://127.0.0.1:$port"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  if [[ -f "$data/pg/data/postmaster.pid" ]]; then
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$pgbin/pg_ctl" -D "$data/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    else "$pgbin/pg_ctl" -D "$data/pg/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  fi
  rm -rf "$data"
}
if [[ "${KEEP:-}" == 1 ]]; then
  trap 'echo "kept: CDC_DATA_DIR=$data, server pid $server_pid on $base"' EXIT
else
  trap cleanup EXIT
fi
"$bin" demo > "$data/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.25; done
curl -sf "$base/readyz" >/dev/null || { cat "$data/server.log"; exit 1; }
sock="$data/pg/sock"
[[ -S "$sock/.s.PGSQL.5432" ]] || sock="$(dirname "$(ls /tmp/cdc-pg-*/.s.PGSQL.5432 2>/dev/null | head -1)")"
psqlc() { "$pgbin/psql" -X -q -t -A -h "$sock" -p 5432 -U postgres -d cdconcerns "$@"; }

start=$(date +%s)
psqlc -f bench/generate_million.sql >/dev/null
echo "generated $(psqlc -c "SELECT count(*) FROM cases") cases and $(psqlc -c "SELECT count(*) FROM persons") persons in $(( $(date +%s) - start )) s"

if [[ "${GENERATE_ONLY:-}" == 1 ]]; then exit 0; fi
TOKEN="$("$bin" token issue --email cdao@demo.cdconcerns.test --days 1)"
export TOKEN
area="$(psqlc -c "SELECT ua.area_id FROM user_areas ua JOIN users u ON u.id = ua.user_id WHERE u.email = 'cdao@demo.cdconcerns.test' LIMIT 1")"
echo "area of the CDAO: $(psqlc -c "SELECT count(*) FROM cases WHERE area_id = '$area'") cases"

echo
echo "case list: GET /api/v1/cases?status=new&limit=50, $clients clients, ${duration}s"
wrk -t2 -c"$clients" -d5s -s bench/get_with_token.lua "$base/api/v1/cases?status=new&limit=50" >/dev/null
list_line="$(wrk -t2 -c"$clients" -d"${duration}s" --latency -s bench/get_with_token.lua "$base/api/v1/cases?status=new&limit=50" | tail -1)"
echo "  service: $list_line"
pg_out="$(PGHOST="$sock" "$pgbin/pgbench" -n -U postgres -c "$clients" -j 2 -T "$duration" -D area="'$area'" -f bench/pgbench_case_list.sql cdconcerns 2>&1 || true)"
pg_line="$(grep -E "^tps|latency average" <<<"$pg_out" | tr "\n" " ")"
echo "  pgbench (same read): $pg_line"
python3 - "$list_line" "$pg_line" <<'PY'
import re, sys
rps = float(re.search(r"rps=([0-9.]+)", sys.argv[1]).group(1))
tps = float(re.search(r"tps = ([0-9.]+)", sys.argv[2]).group(1))
print(f"  ratio: {rps:.0f}/s ÷ {tps:.0f}/s = {100 * rps / tps:.1f}% (bar: ≥ 25%, p99 ≤ 20 ms)")
PY

# Cases whose identities were sealed by the service itself (the generated ones hold random
# bytes, which only stand in for a million persons in the blind index).
REPORTER="$("$bin" token issue --email reporter@demo.cdconcerns.test --days 1)"
TOKEN="$REPORTER" wrk -t2 -c8 -d3s -s bench/post_person_concern.lua "$base/api/v1/person-concerns" >/dev/null
psqlc -c "SELECT id FROM cases WHERE area_id = '$area' AND reference LIKE 'CD-%' AND kind = 'person_concern' ORDER BY random() LIMIT 2000" > "$data/ids.txt"
echo
echo "case page: GET /api/v1/cases/{id} ($(wc -l < "$data/ids.txt") person-of-concern cases of the area, identities decrypted), $clients clients, ${duration}s"
page_line="$(IDS_FILE="$data/ids.txt" PATH_PREFIX=/api/v1/cases/ wrk -t2 -c"$clients" -d"${duration}s" --latency -s bench/get_with_token.lua "$base" | tail -1)"
echo "  service: $page_line (bar: p99 ≤ 20 ms)"

echo
echo "correlation: a new person against $(psqlc -c "SELECT count(*) FROM persons") persons"
body='{"subject_type":"registered_professional","person":{"full_name":"Dr Bench Mark","date_of_birth":"1971-02-03","registrations":[{"register":"gmc","number":"7654321"}]},"concern_categories":["diversion_or_theft"],"provenance":"colleague","status":"alleged","description":"Benchmark person."}'
first="$(curl -sf -H "Authorization: Bearer $REPORTER" -H 'Content-Type: application/json' -d "$body" "$base/api/v1/person-concerns")"
second="$(curl -sf -H "Authorization: Bearer $REPORTER" -H 'Content-Type: application/json' -d "$body" "$base/api/v1/person-concerns")"
new_id="$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['id'])" "$second")"
curl -sf -H "Authorization: Bearer $TOKEN" "$base/api/v1/cases/$new_id/matches" | python3 -c "import json,sys; d=json.load(sys.stdin); print('  matches found:', len(d['items']), [i['matched_on'] for i in d['items']])"
sql_ms="$(psqlc -c "EXPLAIN (ANALYZE, FORMAT JSON) SELECT o.case_id, array_agg(DISTINCT o.kind) FROM person_identifiers mine JOIN person_identifiers o ON o.kind = mine.kind AND o.digest = mine.digest AND o.case_id <> mine.case_id WHERE mine.case_id = '$new_id' GROUP BY o.case_id" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['Execution Time'])")"
echo "  the match query in PostgreSQL: ${sql_ms} ms (bar: ≤ 5 ms)"
echo "$new_id" > "$data/new.txt"
match_line="$(IDS_FILE="$data/new.txt" PATH_PREFIX=/api/v1/cases/ PATH_SUFFIX=/matches wrk -t1 -c1 -d5s --latency -s bench/get_with_token.lua "$base" | tail -1)"
echo "  GET /api/v1/cases/{id}/matches, one client: $match_line"
echo "  service peak RSS now: $(( $(awk '/VmHWM/{print $2}' "/proc/$server_pid/status") / 1024 )) MiB"
