#!/usr/bin/env bash
# Memory under a burst of sign-ins (SPEC §10, issue 9 item 10).
#
#   bash bench/signin-burst.sh            # 24 concurrent attempts, as the spec measures
#   BURST=48 ROUNDS=3 bash bench/signin-burst.sh
#
# Starts the release binary's demo (its own PostgreSQL cluster in a temp dir) with
# CDC_SIGNIN_RATE_LIMIT=1000, fires BURST concurrent wrong-password sign-ins, each from its own
# loopback address (127.0.0.2, 127.0.0.3, …: "many addresses", so the per-address limiter is
# not what stops them), ROUNDS times, and prints the service's resident memory: before, the
# peak during the bursts (the kernel's VmHWM, reset before the first burst, and 20 ms samples),
# and 2 s after the last burst. Target: peak and after ≤ 100 MB. Needs curl.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
BURST="${BURST:-24}"
ROUNDS="${ROUNDS:-1}"
bin="${CDC_BIN:-$root/target/release/cdconcerns}"
if [[ ! -x "$bin" ]]; then
  echo "signin-burst: building $bin"
  (cd "$root" && cargo build --release)
fi

pg_bindir() {
  if command -v pg_config >/dev/null; then pg_config --bindir; else
    find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1; fi
}
port="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/cdc-burst.XXXXXX")"
chmod 0711 "$tmp"
data="$tmp/data"
mkdir -p "$data"
pid=""
cleanup() {
  set +e
  [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  if [[ -f "$data/pg/data/postmaster.pid" ]]; then
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$(pg_bindir)/pg_ctl" -D "$data/pg/data" -m fast -s stop
    else "$(pg_bindir)/pg_ctl" -D "$data/pg/data" -m fast -s stop; fi
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

base="http://127.0.0.1:$port"
CDC_BIND="127.0.0.1:$port" CDC_PUBLIC_URL="$base" CDC_DATA_DIR="$data" \
  CDC_DEMO_PASSWORD="burst-demo-password-$RANDOM-$RANDOM" CDC_SIGNIN_RATE_LIMIT=1000 \
  RUST_LOG=warn "$bin" demo >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null --max-time 2 "$base/readyz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
  sleep 0.1
done
email="$(python3 -c 'import json,sys;print(next(u["email"] for u in json.load(open(sys.argv[1])) if u["role"]=="cdao"))' "$data/demo-credentials.json")"
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$pid/status"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f MB", k/1024}'; }

sleep 1
before=$(rss)
echo 5 > "/proc/$pid/clear_refs" 2>/dev/null || true   # reset the peak (VmHWM) to now
peak_file="$tmp/peak"; echo 0 > "$peak_file"
( while kill -0 "$pid" 2>/dev/null; do r=$(rss); [[ $r -gt $(cat "$peak_file") ]] && echo "$r" > "$peak_file"; sleep 0.02; done ) &
sampler=$!
started=$(date +%s.%N)
for round in $(seq 1 "$ROUNDS"); do
  curls=()
  for i in $(seq 1 "$BURST"); do
    addr="127.0.$(( i / 250 )).$(( i % 250 + 2 ))"
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --interface "$addr" \
      --data-urlencode "email=$email" --data-urlencode "password=wrong password $i" \
      "$base/sign-in" >>"$tmp/times" &
    curls+=($!)
  done
  wait "${curls[@]}" || true
done
elapsed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e-s}')
sleep 2
after=$(rss)
kill "$sampler" 2>/dev/null || true
peak=$(( $(hwm) > $(cat "$peak_file") ? $(hwm) : $(cat "$peak_file") ))
slowest=$(awk '{print $2}' "$tmp/times" | sort -n | tail -n 1)
codes=$(awk '{print $1}' "$tmp/times" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
cores=$(nproc)
echo "signin-burst: $ROUNDS x $BURST concurrent wrong-password sign-ins from $BURST addresses, $cores cores"
echo "  answers:          $codes slowest ${slowest}s, all in ${elapsed}s"
echo "  resident before:  $(mb "$before")"
echo "  resident peak:    $(mb "$peak")"
echo "  resident after:   $(mb "$after") (2 s after the burst)"
target=$((100 * 1024))
if [[ $peak -le $target && $after -le $target ]]; then echo "  within 100 MB: yes"; else echo "  within 100 MB: NO"; exit 1; fi
