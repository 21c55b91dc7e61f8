#!/usr/bin/env bash
# The render time of the pages a CDAO lives in (issue 11): the dashboard (`/`) and the case
# list (`/cases`), served by two builds side by side, each a `cdconcerns demo` with its own
# PostgreSQL cluster (durable defaults), signed in as the demo CDAO. Requests alternate between
# the two in random order, so both see the same machine; prints each page's p50 and the ratio.
#
#   bash bench/page-times.sh BEFORE_BIN AFTER_BIN [REQUESTS]   # default 1000 per page and build
#
# e.g. a build of an older commit against this one:
#   git worktree add /tmp/before <commit> && (cd /tmp/before && cargo build --release)
#   cargo build --release
#   bash bench/page-times.sh /tmp/before/target/release/cdconcerns target/release/cdconcerns
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
before="$1" after="$2" requests="${3:-1000}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/cdc-pages.XXXXXX")"
chmod 0711 "$tmp" # the clusters run as the postgres user when we are root
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  for d in "$tmp"/*/pg/data; do
    [[ -f "$d/postmaster.pid" ]] || continue
    if [[ $EUID -eq 0 ]]; then
      runuser -u postgres -- "$(pg_config --bindir)/pg_ctl" -D "$d" -m fast -s stop
    else
      "$(pg_config --bindir)/pg_ctl" -D "$d" -m fast -s stop
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
start() {
  local name="$1" bin="$2" port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  mkdir -p "$tmp/$name"
  CDC_DATA_DIR="$tmp/$name" CDC_BIND="127.0.0.1:$port" CDC_PUBLIC_URL="http://127.0.0.1:$port" \
    RUST_LOG=warn "$bin" demo >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 1200); do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null && break
    sleep 0.1
  done
  started_port="$port"
}
start before "$before"
port_a="$started_port"
start after "$after"
port_b="$started_port"
python3 "$root/bench/page_times.py" "$tmp/before" "$port_a" "$tmp/after" "$port_b" "$requests"
