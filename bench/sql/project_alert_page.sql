-- The alert page's own query (db::shares::alerts_of with an id) for a random alert of the
-- member's organisation, and its view audit row.
\set n random(1, :nids)
BEGIN;
SELECT a.id, a.share_id, c.id AS case_id, c.reference, c.kind, ar.name, c.sector, o.name,
       a.received_at, a.read_at, a.acknowledged_at, s.disclosure, s.purpose, s.summary, s.expires_at, s.revoked_at,
       ARRAY(SELECT sa.attachment_id FROM share_attachments sa WHERE sa.share_id = s.id), c.report
FROM alerts a JOIN shares s ON s.id = a.share_id JOIN cases c ON c.id = s.case_id
JOIN areas ar ON ar.id = c.area_id JOIN organisations o ON o.id = c.organisation_id
WHERE a.organisation_id = :org AND s.approval = 'approved' AND a.received_at IS NOT NULL
  AND a.id = (SELECT id FROM bench_alert_ids WHERE n = :n);
INSERT INTO bench_audit (id, at, actor_id, action, subject_type, subject_id, details, prev_hash, hash)
VALUES (gen_random_uuid(), now(), gen_random_uuid(), 'alert.viewed', 'alert', gen_random_uuid(), '{}', sha256('prev'), sha256('this'));
COMMIT;
