#!/usr/bin/env bash
# Two service instances behind HAProxy on one PostgreSQL (SPEC §9 production shape, §10
# reliability), and one of them killed with SIGKILL in the middle of a submission run.
#
#   bash bench/two-instances.sh                          # builds the release binary
#   CDC_BIN=target/debug/cdconcerns DURATION=5 bash bench/two-instances.sh   # what CI runs
#
# Checks, and exits non-zero if any fails:
#   - every submission answered 201 through the balancer is stored (no acknowledged one lost);
#   - no notification is sent twice (200 queued before the run; both instances' workers take
#     them with FOR UPDATE SKIP LOCKED and lease each before sending; the mail files counted
#     against the rows marked sent, plus at most the one the killed instance held);
#   - HAProxy's health check (GET /readyz every 200 ms) marks the killed instance DOWN within
#     2 s, and after that every request succeeds on the survivor.
# Prints the throughput through the balancer with two instances and with one.
# Needs: haproxy and wrk (apt-get install haproxy wrk), PostgreSQL's binaries, python3, curl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${DURATION:-8}"
clients="${CLIENTS:-32}"
for tool in haproxy wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "two-instances: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
bin="${CDC_BIN:-}"
if [[ -z "$bin" ]]; then cargo build --release --quiet; bin="$root/target/release/cdconcerns"; fi
pgbin="$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
data="$(mktemp -d /tmp/cdc-two.XXXXXX)"
chmod 755 "$data"
pa=$(free_port); pb=$(free_port); lb=$(free_port); stats=$(free_port)
pid_a=""; pid_b=""; pid_lb=""
cleanup() {
  set +e
  for p in "$pid_lb" "$pid_b" "$pid_a"; do [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  if [[ -f "$data/a/pg/data/postmaster.pid" ]]; then
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$pgbin/pg_ctl" -D "$data/a/pg/data" -m fast -w stop >/dev/null 2>&1
    else "$pgbin/pg_ctl" -D "$data/a/pg/data" -m fast -w stop >/dev/null 2>&1; fi
  fi
  [[ "${KEEP:-}" == 1 ]] && { echo "kept $data"; return; }
  rm -rf "$data"
}
trap cleanup EXIT
common=(CDC_API_RATE_LIMIT=0 RUST_LOG=warn CDC_SMTP_URL="file://$data/mail" CDC_PUBLIC_URL="http://127.0.0.1:$lb")
ready() { for _ in $(seq 1 400); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }

# Instance A makes the demo (its PostgreSQL cluster, users, keys); B serves the same database.
env "${common[@]}" CDC_DATA_DIR="$data/a" CDC_BIND="127.0.0.1:$pa" CDC_DEMO_PASSWORD="two-instances-1" \
  "$bin" demo > "$data/a.log" 2>&1 &
pid_a=$!
ready "$pa" || { cat "$data/a.log"; exit 1; }
sock="$data/a/pg/sock"
[[ -S "$sock/.s.PGSQL.5432" ]] || sock="$(dirname "$(ls -t /tmp/cdc-pg-*/.s.PGSQL.5432 | head -1)")"
url="postgres:///cdconcerns?host=$sock&port=5432&user=postgres&sslmode=disable"
{ read -r identity; read -r index; } < "$data/a/keys"
env "${common[@]}" DATABASE_URL="$url" CDC_IDENTITY_KEY="$identity" CDC_INDEX_KEY="$index" \
  CDC_DATA_DIR="$data/b" CDC_BIND="127.0.0.1:$pb" "$bin" serve > "$data/b.log" 2>&1 &
pid_b=$!
ready "$pb" || { cat "$data/b.log"; exit 1; }
psqlc() { "$pgbin/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h "$sock" -p 5432 -U postgres -d cdconcerns "$@"; }

cat > "$data/haproxy.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 2
    option redispatch
listen stats
    bind 127.0.0.1:$stats
    stats enable
    stats uri /stats
frontend cdc
    bind 127.0.0.1:$lb
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 2 rise 2
    server a 127.0.0.1:$pa check
    server b 127.0.0.1:$pb check
CFG
haproxy -f "$data/haproxy.cfg" -db > "$data/haproxy.log" 2>&1 &
pid_lb=$!
server_state() { curl -sf "http://127.0.0.1:$stats/stats;csv" | awk -F, -v s="$1" '$1=="instances" && $2==s {print $18}'; }
for _ in $(seq 1 100); do [[ "$(server_state a)" == UP && "$(server_state b)" == UP ]] && break; sleep 0.1; done
echo "two instances behind HAProxy: a=$(server_state a) b=$(server_state b)"

TOKEN="$(DATABASE_URL="$url" CDC_IDENTITY_KEY="$identity" CDC_INDEX_KEY="$index" \
  "$bin" token issue --email reporter@demo.cdconcerns.test --days 1)"
export TOKEN
rate() { wrk -t2 -c"$clients" -d"${duration}s" --latency -s bench/post_incident.lua "$1" | tail -1; }
wrk -t2 -c8 -d2s -s bench/post_incident.lua "http://127.0.0.1:$lb/api/v1/incidents" >/dev/null
two="$(rate "http://127.0.0.1:$lb/api/v1/incidents")"
one="$(rate "http://127.0.0.1:$pa/api/v1/incidents")"
echo "throughput, $clients clients, ${duration} s, submissions:"
echo "  two instances behind HAProxy: $two"
echo "  one instance:                 $one"

# The kill: 200 notifications queued, then submissions through the balancer, B killed mid-run.
# To the auditor, whom nothing else in the demo notifies, so their mails are these.
user="$(psqlc -c "SELECT id FROM users WHERE email = 'auditor@demo.cdconcerns.test'")"
psqlc -c "INSERT INTO notification_outbox (id, kind, user_id, created_at, available_at)
          SELECT gen_random_uuid(), 'share_awaiting_approval', '$user', now(), now() FROM generate_series(1, 200)" >/dev/null
run_secs=$(( duration + 6 ))
kill_at=3
python3 - "http://127.0.0.1:$lb" "$run_secs" "$data/run.tsv" <<'PY' &
import http.client, json, sys, threading, time, urllib.parse, os
base, secs, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
u = urllib.parse.urlparse(base)
body = json.dumps({"occurred_on": "2026-11-02", "location": "Dispensary", "categories": ["stock_discrepancy"],
    "drugs": [{"name": "unlisted product", "schedule": "2", "formulation": "tablet", "strength": "10 mg", "quantity": 28, "unit": "tablet"}],
    "harm": "none", "near_miss": False, "description": "Balance discrepancy found at the weekly check.",
    "police_informed": False, "patient_involved": False})
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["TOKEN"]}
start = time.time(); rows = []; lock = threading.Lock()
def worker():
    conn = None
    while time.time() - start < secs:
        t = time.time() - start
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            conn.request("POST", "/api/v1/incidents", body, headers)
            r = conn.getresponse(); data = r.read()
            cid = json.loads(data).get("id", "") if r.status == 201 else ""
            with lock: rows.append(f"{t:.3f}\t{r.status}\t{cid}")
        except Exception as e:
            with lock: rows.append(f"{t:.3f}\terror\t{type(e).__name__}")
            try: conn.close()
            except Exception: pass
            conn = None
threads = [threading.Thread(target=worker) for _ in range(16)]
for th in threads: th.start()
for th in threads: th.join()
open(out, "w").write("\n".join(rows) + "\n")
PY
client=$!
sleep "$kill_at"
kill -KILL "$pid_b"; wait "$pid_b" 2>/dev/null || true; pid_b=""
killed=$(date +%s.%N)
down_after=""
for _ in $(seq 1 100); do
  if [[ "$(server_state b)" == DOWN ]]; then down_after=$(python3 -c "import time;print(f'{time.time()-$killed:.2f}')"); break; fi
  sleep 0.05
done
wait "$client"
for _ in $(seq 1 300); do
  [[ "$(psqlc -c "SELECT count(*) FROM notification_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND available_at <= now()")" == 0 ]] && break
  sleep 0.2
done

cut -f3 "$data/run.tsv" | grep -E '^[0-9a-f-]{36}$' > "$data/ids.txt" || true
answered=$(wc -l < "$data/ids.txt")
psqlc -c "CREATE TEMP TABLE acked (id uuid)" -c "\\copy acked FROM '$data/ids.txt'" \
      -c "SELECT count(*) FROM acked a JOIN cases c ON c.id = a.id" > "$data/stored.txt"
stored=$(tail -1 "$data/stored.txt")
sent_rows=$(psqlc -c "SELECT count(*) FROM notification_outbox WHERE sent_at IS NOT NULL AND user_id = '$user'")
mails=$(grep -l '^To: auditor@demo.cdconcerns.test' "$data"/mail/*.eml 2>/dev/null | wc -l)
# Leased by the killed instance as it died: held back for the lease (10 minutes), not lost.
leased=$(psqlc -c "SELECT count(*) FROM notification_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND available_at > now() AND user_id = '$user'")
failures_late=$(awk -F'\t' -v k="$kill_at" -v d="${down_after:-99}" '$2 != 201 && $1 > k + d + 0.5' "$data/run.tsv" | wc -l)
summary=$(awk -F'\t' '{n[$2]++} END {for (s in n) printf "%s=%d ", s, n[s]}' "$data/run.tsv")
echo "SIGKILL of instance b after ${kill_at} s of a $run_secs s run, 16 clients through HAProxy:"
echo "  answers: $summary"
echo "  201 answered: $answered; of them stored: $stored"
echo "  HAProxy marked b DOWN ${down_after:-never} s after the kill; a is $(server_state a)"
echo "  failed requests later than 0.5 s after b was marked DOWN: $failures_late"
echo "  notifications: 200 queued, $sent_rows sent, $leased held by the dead instance's lease, $mails mails written"
ok=1
[[ "$answered" -gt 0 && "$stored" == "$answered" ]] || { echo "FAIL: an acknowledged submission is missing"; ok=0; }
[[ -n "$down_after" ]] || { echo "FAIL: HAProxy did not mark the killed instance DOWN"; ok=0; }
[[ "$failures_late" == 0 ]] || { echo "FAIL: requests failed after the dead instance was dropped"; ok=0; }
# Each sent row mailed once; at most the leased ones mailed besides (by the instance that died).
[[ $(( sent_rows + leased )) == 200 && "$mails" -ge "$sent_rows" && "$mails" -le $(( sent_rows + leased )) ]] ||
  { echo "FAIL: $mails mails for $sent_rows sent and $leased leased notifications (a notification sent twice)"; ok=0; }
[[ $ok == 1 ]] && echo "two-instances: all checks passed" || exit 1
