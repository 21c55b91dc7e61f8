#!/usr/bin/env bash
# The API contract gate (issue 13), against a demo server:
#   1. the served document is valid OpenAPI 3.1 (openapi-spec-validator), and a client generated
#      from it by openapi-python-client files an incident with an Idempotency-Key, reads it back
#      and gets a typed 422 for a bad one (pytest, tests/contract/);
#   2. schemathesis, one run per role with that role's token, `--checks all`, a fixed seed, a
#      bounded number of examples, the stateful phase included.
#
#   scripts/fuzz-api.sh                   every role (reporter org_lead cdao member admin auditor analyst)
#   scripts/fuzz-api.sh cdao member       some roles (the contract tests always run)
#
# Starts `cdconcerns demo` (target/release/cdconcerns; built if missing) on a free port with its
# own throwaway PostgreSQL cluster in a temp dir and issues an API token for each demo user with
# `cdconcerns token issue`. Exits non-zero on any failure. Reports (JUnit XML), each run's output
# and the server log go to target/fuzz-api/.
#
# Environment:
#   CDC_BIN          the service binary (default target/release/cdconcerns)
#   FUZZ_VENV        the Python virtualenv holding the tools (default target/fuzz-venv; made, and
#                    tests/contract/requirements.txt installed into it with pip, when missing)
#   FUZZ_EXAMPLES    examples per operation and phase (default 8)
#   FUZZ_SEED        the seed (default 13)
#   FUZZ_PARALLEL    roles run at once (default 2)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$SECONDS
out="$root/target/fuzz-api"
mkdir -p "$out"
rm -f "$out"/*.xml "$out"/*.txt "$out"/*.summary "$out"/server.log

examples="${FUZZ_EXAMPLES:-8}"
seed="${FUZZ_SEED:-13}"
parallel="${FUZZ_PARALLEL:-2}"
if [[ $# -gt 0 ]]; then
  roles=("$@")
else
  roles=(reporter org_lead cdao member admin auditor analyst)
fi

# ---- tools ---------------------------------------------------------------------------------
venv="${FUZZ_VENV:-$root/target/fuzz-venv}"
requirements="$root/tests/contract/requirements.txt"
if [[ ! -x "$venv/bin/st" || ! -f "$venv/.requirements" ]] || ! cmp -s "$requirements" "$venv/.requirements"; then
  echo "fuzz: installing tests/contract/requirements.txt into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/.requirements"
fi

bin="${CDC_BIN:-$root/target/release/cdconcerns}"
if [[ ! -x "$bin" ]]; then
  echo "fuzz: building $bin"
  cargo build --release
fi

pg_bindir() {
  if command -v pg_config >/dev/null; then
    pg_config --bindir
  else
    find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
  fi
}

# ---- server --------------------------------------------------------------------------------
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/cdc-fuzz.XXXXXX")"
chmod 0711 "$tmp" # the cluster runs as the postgres user when we are root
data="$tmp/data"
mkdir -p "$data"
log="$out/server.log"
server_pid=""
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
  rm -rf "$tmp"
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

base="http://127.0.0.1:$port"
echo "fuzz: starting the demo on $base"
# No API rate limit while fuzzing: the gate is about answers, not throttling (429 is tested
# in the Rust suite).
export CDC_DATA_DIR="$data"
CDC_BIND="127.0.0.1:$port" CDC_PUBLIC_URL="$base" CDC_API_RATE_LIMIT=0 \
  CDC_SIGNIN_RATE_LIMIT=1000 RUST_LOG="warn" \
  "$bin" demo >"$log" 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 1 600); do
  kill -0 "$server_pid" 2>/dev/null || break
  if curl -fsS -o /dev/null --max-time 2 "$base/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  echo "fuzz: the server did not become ready; its log:" >&2
  cat "$log" >&2
  exit 1
fi
creds="$data/demo-credentials.json"
echo "fuzz: ready after $((SECONDS - started)) s"

token_for() {
  local email
  email="$(python3 -c 'import json,sys; print(next(u["email"] for u in json.load(open(sys.argv[1])) if u["role"] == sys.argv[2]))' "$creds" "$1")"
  "$bin" token issue --email "$email" --days 1
}

# ---- 1. the document, and a client generated from it --------------------------------------
echo "fuzz: contract tests (openapi-spec-validator, openapi-python-client)"
gen="$tmp/gen"
mkdir -p "$gen"
PATH="$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate \
  --url "$base/api/v1/openapi.json" --output-path "$gen/cdc_client" --meta none \
  >"$out/client-generation.txt" 2>&1 || {
  echo "fuzz: openapi-python-client could not generate a client:" >&2
  cat "$out/client-generation.txt" >&2
  exit 1
}
contract_rc=0
CDC_CONTRACT_BASE_URL="$base" CDC_CONTRACT_TOKEN="$(token_for reporter)" PYTHONPATH="$gen" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -s "$root/tests/contract" \
  --junitxml "$out/contract.xml" || contract_rc=$?
if [[ $contract_rc -ne 0 ]]; then
  echo "fuzz: the contract tests failed" >&2
  exit 1
fi

# ---- 2. schemathesis, one run per role -----------------------------------------------------
config="$root/scripts/schemathesis.toml"
run_role() {
  local role="$1" token rc=0 t0=$SECONDS
  token="$(token_for "$role" 2>>"$out/$role.txt")"
  # schemathesis keeps a .schemathesis/ folder in its working directory: give it its own.
  mkdir -p "$tmp/st-$role"
  (cd "$tmp/st-$role" && "$venv/bin/st" --config-file "$config" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --seed "$seed" \
    --max-examples "$examples" \
    --phases examples,coverage,fuzzing,stateful \
    --workers 1 \
    --generation-database none \
    --report junit --report-junit-path "$out/$role.xml" \
    --no-color) >>"$out/$role.txt" 2>&1 || rc=$?
  echo "$role: exit $rc, $((SECONDS - t0)) s, $(grep -Eo '[0-9]+ (generated|test cases)' "$out/$role.txt" | tail -1 || true)" >"$out/$role.summary"
  return "$rc"
}

pids=()
names=()
failed=()
for role in "${roles[@]}"; do
  run_role "$role" &
  pids+=($!)
  names+=("$role")
  while [[ $(jobs -rp | grep -vc "^$server_pid$") -ge $((parallel)) ]]; do sleep 0.5; done
done
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    failed+=("${names[$i]}")
  fi
done

echo
for role in "${roles[@]}"; do
  echo "---- $role ----------------------------------------------------------------"
  # Each failure with the request that reproduces it, then the closing summary (the full
  # output is in target/fuzz-api/<role>.txt).
  sed -n '/^=* *FAILURES/,/^=* *SUMMARY/p' "$out/$role.txt" | head -n 200
  sed -n '/^=* *SUMMARY/,$p' "$out/$role.txt" | tail -n 40
  cat "$out/$role.summary" 2>/dev/null || true
done
echo
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: FAILED for ${failed[*]} after $((SECONDS - started)) s (details in target/fuzz-api/)"
  exit 1
fi
echo "fuzz: ${#roles[@]} passed, 0 failed in $((SECONDS - started)) s"
