-- The case page's own main queries (access::load, persons, timeline, amendments,
-- attachments) and its view audit row (into bench_audit, a copy of audit_events without the
-- chain), for a random case of the area (bench_ids holds the ids the service is asked for).
\set n random(1, :nids)
BEGIN;
SELECT c.id, c.reference, c.kind, c.status, c.priority, c.assignee_id, c.organisation_id, o.name, c.sector, c.area_id,
       ar.name, c.reporter_id, c.submitted_at, c.updated_at, c.report, c.details_removed_at
FROM cases c JOIN organisations o ON o.id = c.organisation_id JOIN areas ar ON ar.id = c.area_id
WHERE c.id = (SELECT id FROM bench_ids WHERE n = :n);
SELECT * FROM persons WHERE case_id = (SELECT id FROM bench_ids WHERE n = :n);
SELECT * FROM case_events WHERE case_id = (SELECT id FROM bench_ids WHERE n = :n) ORDER BY at;
SELECT * FROM case_amendments WHERE case_id = (SELECT id FROM bench_ids WHERE n = :n);
SELECT * FROM attachments WHERE case_id = (SELECT id FROM bench_ids WHERE n = :n);
INSERT INTO bench_audit (id, at, actor_id, action, subject_type, subject_id, details, prev_hash, hash)
VALUES (gen_random_uuid(), now(), gen_random_uuid(), 'case.viewed', 'case', gen_random_uuid(), '{"persons": 1}', sha256('prev'), sha256('this'));
COMMIT;
