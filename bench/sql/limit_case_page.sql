-- Minimal case page (and alert page): the row by primary key, and the hashed audit row that
-- records the view, in one transaction.
\set n random(1, 1000000)
BEGIN;
SELECT i.* FROM incidents i WHERE i.id = (SELECT id FROM bench_ids WHERE n = :n);
INSERT INTO audit_events (actor, action, subject, prev_hash, hash) VALUES (:n, 'case.viewed', gen_random_uuid(), '\x00', sha256('x'::bytea));
COMMIT;
