#!/usr/bin/env bash
# Browser end-to-end and accessibility tests (playwright-core + axe-core, node:test).
#
#   tests/e2e/run.sh                 run every spec
#   tests/e2e/run.sh specs/02-roles.test.mjs   run some (paths relative to tests/e2e)
#
# Starts `cdconcerns demo` (target/release/cdconcerns; built if missing) on a free port with its
# own throwaway PostgreSQL cluster in a temp dir (emails written as files to $tmp/mail, which the
# specs read as E2E_MAIL_DIR), waits for /readyz, runs the specs, and always
# cleans up. The exit code is the tests'. Screenshots go to tests/e2e/artifacts/ (with the server
# log). Environment:
#   CDC_BIN        the service binary (default target/release/cdconcerns)
#   CHROMIUM_PATH  the browser (default /usr/bin/chromium; installed with apt-get when missing)
#   E2E_CONCURRENCY  spec files run in parallel (default 4)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
started=$SECONDS

# ---- dependencies ----------------------------------------------------------------------------
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "e2e: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM_PATH" ]]; then
  if [[ "$CHROMIUM_PATH" == /usr/bin/chromium && $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "e2e: installing chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation
  else
    echo "e2e: no browser at $CHROMIUM_PATH (apt-get install -y --no-install-recommends chromium fonts-liberation)" >&2
    exit 2
  fi
fi

bin="${CDC_BIN:-$root/target/release/cdconcerns}"
if [[ ! -x "$bin" ]]; then
  echo "e2e: building $bin"
  (cd "$root" && cargo build --release)
fi

# shellcheck disable=SC2317  # only called from cleanup, which the EXIT trap calls
pg_bindir() {
  if command -v pg_config >/dev/null; then
    pg_config --bindir
  else
    find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
  fi
}

# ---- server ----------------------------------------------------------------------------------
port="$(node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})")"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/cdc-e2e.XXXXXX")"
# The cluster runs as the postgres user when we are root: it must be able to reach the data dir.
chmod 0711 "$tmp"
data="$tmp/data"
state="$tmp/state"
log="$tmp/server.log"
mkdir -p "$data" "$state"
artifacts="$here/artifacts"
mkdir -p "$artifacts"
rm -f "$artifacts"/*.png "$artifacts/server.log"

server_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local rc=$?
  set +e
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null
  fi
  if [[ -f "$data/pg/data/postmaster.pid" ]]; then
    local pg_ctl
    pg_ctl="$(pg_bindir)/pg_ctl"
    if [[ $EUID -eq 0 ]]; then
      runuser -u postgres -- "$pg_ctl" -D "$data/pg/data" -m fast -s stop
    else
      "$pg_ctl" -D "$data/pg/data" -m fast -s stop
    fi
  fi
  cp -f "$log" "$artifacts/server.log" 2>/dev/null
  rm -rf "$tmp"
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

password="e2e-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
base="http://127.0.0.1:$port"
echo "e2e: starting the demo on $base (data in $data)"
# The sign-in limit per IP (default 10 a minute) is raised: every spec signs in from 127.0.0.1.
CDC_BIND="127.0.0.1:$port" \
  CDC_PUBLIC_URL="$base" \
  CDC_DATA_DIR="$data" \
  CDC_DEMO_PASSWORD="$password" \
  CDC_SIGNIN_RATE_LIMIT=1000 \
  CDC_SMTP_URL="file://$tmp/mail" \
  "$bin" demo >"$log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 1 600); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    break
  fi
  if curl -fsS -o /dev/null --max-time 2 "$base/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "e2e: the server did not become ready within 60 s; its log:" >&2
  else
    wait "$server_pid" && code=0 || code=$?
    server_pid=""
    echo "e2e: the server exited (status $code) before it was ready; its log:" >&2
  fi
  cat "$log" >&2
  exit 1
fi
creds="$data/demo-credentials.json"
if [[ ! -s "$creds" ]]; then
  echo "e2e: the server is ready but wrote no $creds; its log:" >&2
  cat "$log" >&2
  exit 1
fi
echo "e2e: ready after $((SECONDS - started)) s"

# ---- tests -----------------------------------------------------------------------------------
if [[ $# -gt 0 ]]; then
  specs=("$@")
else
  specs=(specs/*.test.mjs)
fi
status=0
E2E_BASE_URL="$base" \
  E2E_CREDENTIALS="$creds" \
  E2E_STATE_DIR="$state" \
  E2E_MAIL_DIR="$tmp/mail" \
  E2E_ARTIFACTS="$artifacts" \
  node --test --test-reporter=spec --test-concurrency="${E2E_CONCURRENCY:-4}" "${specs[@]}" || status=$?
echo "e2e: finished in $((SECONDS - started)) s with exit code $status (screenshots and server log in $artifacts)"
exit "$status"
