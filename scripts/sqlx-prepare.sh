#!/usr/bin/env bash
# Regenerates the compile-time query data in .sqlx/ after a query or migration changes.
#
#   bash scripts/sqlx-prepare.sh
#
# Uses the private test cluster that `cargo test` starts under target/tmp/cdc-test-pg (starting
# it with one quick test when it is not running), migrates a scratch database `cdc_prepare`
# from migrations/, and runs `cargo sqlx prepare -- --all-targets` against it.
# Needs sqlx-cli 0.9: cargo install sqlx-cli --locked --no-default-features --features postgres,rustls,sqlx-toml
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
sock="$target/tmp/cdc-test-pg/pg/sock"
if ! pg_isready -q -h "$sock" -p 5432; then
  echo "sqlx-prepare: starting the private test cluster"
  cargo test -q --test api -- --exact serving::a_request_in_flight_finishes_when_the_server_shuts_down >/dev/null
fi
url="postgres:///cdc_prepare?host=$sock&port=5432&user=postgres"
admin="postgres:///postgres?host=$sock&port=5432&user=postgres"
psql "$admin" -q -c 'DROP DATABASE IF EXISTS cdc_prepare' -c 'CREATE DATABASE cdc_prepare'
DATABASE_URL="$url" cargo sqlx migrate run >/dev/null
DATABASE_URL="$url" SQLX_OFFLINE=false cargo sqlx prepare -- --all-targets
