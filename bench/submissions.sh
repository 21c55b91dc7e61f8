#!/usr/bin/env bash
# Submission throughput (SPEC §10): POST /api/v1/incidents with 32 clients (wrk) against the
# release service, beside pgbench committing the least a submission must write (the case row
# and an audit event, in one transaction) on the same PostgreSQL, in the same run.
#
#   bash bench/submissions.sh            # 20 s each; DURATION=60 for longer
#
# Needs: target/release/cdconcerns, wrk (apt-get install wrk), pgbench (PostgreSQL's).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${DURATION:-20}"
clients="${CLIENTS:-32}"
bin="$root/target/release/cdconcerns"
[[ -x "$bin" ]] || cargo build --release
pgbin="$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | tail -1)"
data="$(mktemp -d /tmp/cdc-bench.XXXXXX)"
chmod 755 "$data"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export CDC_DATA_DIR="$data" CDC_BIND="127.0.0.1:$port" CDC_PUBLIC_URL="http://127.0.0.1:$port" \
       CDC_API_RATE_LIMIT=0 CDC_DEMO_PASSWORD="bench-password-1" RUST_LOG=warn
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  if [[ -f "$data/pg/data/postmaster.pid" ]]; then
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$pgbin/pg_ctl" -D "$data/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    else "$pgbin/pg_ctl" -D "$data/pg/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  fi
  rm -rf "$data"
}
trap cleanup EXIT
"$bin" demo > "$data/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.25; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$data/server.log"; exit 1; }
TOKEN="$("$bin" token issue --email reporter@demo.cdconcerns.test --days 1)"
export TOKEN
sock="$(ls -d "$data"/pg/sock 2>/dev/null || true)"
[[ -S "$sock/.s.PGSQL.5432" ]] || sock="$(dirname "$(ls /tmp/cdc-pg-*/.s.PGSQL.5432 2>/dev/null | head -1)")"
psqlc() { "$pgbin/psql" -X -q -t -A -h "$sock" -p 5432 -U postgres -d cdconcerns "$@"; }
ids="$(psqlc -c "SELECT u.organisation_id, oa.area_id, u.id FROM users u JOIN organisation_areas oa ON oa.organisation_id = u.organisation_id WHERE u.email = 'reporter@demo.cdconcerns.test'")"
IFS='|' read -r org area reporter <<<"$ids"
psqlc -c "CREATE TABLE IF NOT EXISTS bench_audit (LIKE audit_events INCLUDING DEFAULTS INCLUDING INDEXES EXCLUDING CONSTRAINTS); ALTER TABLE bench_audit DROP COLUMN IF EXISTS stripe, DROP COLUMN IF EXISTS seq, DROP COLUMN IF EXISTS case_id;" >/dev/null

echo "warming up"
wrk -t2 -c"$clients" -d5s -s bench/post_incident.lua "http://127.0.0.1:$port/api/v1/incidents" >/dev/null
echo "service: POST /api/v1/incidents, $clients clients, ${duration}s"
rss_max=0
( while kill -0 "$server_pid" 2>/dev/null; do awk '/VmRSS/{print $2}' "/proc/$server_pid/status"; sleep 0.5; done ) > "$data/rss.txt" &
rss_pid=$!
service_line="$(wrk -t2 -c"$clients" -d"${duration}s" --latency -s bench/post_incident.lua "http://127.0.0.1:$port/api/v1/incidents" | tail -1)"
kill "$rss_pid" 2>/dev/null || true
rss_max=$(sort -n "$data/rss.txt" | tail -1)
echo "  $service_line"
echo "  service peak RSS: $((rss_max / 1024)) MiB"
echo "  cases written: $(psqlc -c "SELECT count(*) FROM cases") (each one answered 201)"
echo "pgbench: the case row + an audit event per transaction, $clients clients, ${duration}s"
pg_out="$(PGHOST="$sock" "$pgbin/pgbench" -n -U postgres -c "$clients" -j 2 -T "$duration" \
  -D org="'$org'" -D area="'$area'" -D reporter="'$reporter'" -f bench/pgbench_submission.sql cdconcerns 2>&1 || true)"
pg_line="$(grep -E "^tps|latency average|error|ERROR|FATAL" <<<"$pg_out" | tr "\n" " ")"
echo "  $pg_line"
service_rps="$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$service_line")"
pg_tps="$(sed -E 's/.*tps = ([0-9.]+).*/\1/' <<<"$pg_line")"
python3 -c "print(f'ratio: service {float(\"$service_rps\"):.0f}/s ÷ pgbench {float(\"$pg_tps\"):.0f}/s = {100*float(\"$service_rps\")/float(\"$pg_tps\"):.1f}% (bar: ≥ 40%)')"
