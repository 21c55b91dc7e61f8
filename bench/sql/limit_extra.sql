-- Beside ../shared/bench/limit_schema.sql (loaded first, unchanged): what the minimal
-- baselines of the other operations need. bench_ids numbers the incidents so pgbench can pick
-- one at random; bench_digests is a blind index (one digest per incident, pairs share one).
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS bench_ids, bench_digests;
CREATE TABLE bench_ids (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_ids SELECT row_number() OVER (), id FROM incidents;
CREATE TABLE bench_digests (case_id uuid NOT NULL, kind text NOT NULL, digest bytea NOT NULL);
INSERT INTO bench_digests SELECT id, 'gmc', sha256(convert_to('gmc:' || (n / 2)::text, 'UTF8')) FROM bench_ids;
CREATE INDEX ON bench_digests (kind, digest);
CREATE INDEX ON bench_digests (case_id);
ANALYZE;
