-- The case page's own main queries, as the holding team's page makes them: the case row
-- (access::load, simplified), the persons, the rest of the case in one statement
-- (db::triage::holding_parts: triage facts, amendments, evidence, timeline and links, each
-- list aggregated with json_agg), the shares (db::shares::shares_for_case), and the view's
-- audit row (into bench_audit, a copy of audit_events without the chain), for a random case of
-- the area (bench_ids holds the ids the service is asked for).
\set n random(1, :nids)
BEGIN;
SELECT c.id, c.reference, c.kind, c.status, c.priority, c.assignee_id, c.organisation_id, o.name, c.sector, c.area_id,
       ar.name, c.reporter_id, c.submitted_at, c.updated_at, c.report, c.details_removed_at
FROM cases c JOIN organisations o ON o.id = c.organisation_id JOIN areas ar ON ar.id = c.area_id
WHERE c.id = (SELECT id FROM bench_ids WHERE n = :n);
SELECT id, subject_type, key_id, identity_enc FROM persons WHERE case_id = (SELECT id FROM bench_ids WHERE n = :n) ORDER BY created_at, id;
SELECT c.priority_suggested, c.assignee_id, u.name, c.risk_consequence, c.risk_likelihood,
       c.triage_due_at, c.triaged_at, c.closed_at, c.outcome, c.well_founded, c.sector,
       COALESCE((SELECT json_agg(x ORDER BY x.created_at)
                 FROM (SELECT o.id AS case_id, o.reference, l.relation, l.created_at
                       FROM case_links l JOIN cases o ON o.id = l.other_id
                       WHERE l.case_id = c.id AND o.area_id = ANY(ARRAY[:area]::uuid[])
                       UNION ALL
                       SELECT o.id, o.reference,
                              CASE l.relation WHEN 'duplicate_of' THEN 'duplicated_by' ELSE 'related' END, l.created_at
                       FROM case_links l JOIN cases o ON o.id = l.case_id
                       WHERE l.other_id = c.id AND o.area_id = ANY(ARRAY[:area]::uuid[])) x), '[]'),
       COALESCE((SELECT json_agg(x ORDER BY x.created_at, x.id)
                 FROM (SELECT id, author_id, text, created_at FROM case_amendments WHERE case_id = c.id) x), '[]'),
       COALESCE((SELECT json_agg(x ORDER BY x.created_at, x.id)
                 FROM (SELECT id, filename, content_type, size_bytes, uploaded_by, created_at, holds_patient_data
                       FROM attachments WHERE case_id = c.id AND removed_at IS NULL) x), '[]'),
       COALESCE((SELECT json_agg(x ORDER BY x.at, x.id)
                 FROM (SELECT e.id, e.at, e.actor_id, e.kind, e.data,
                              COALESCE(u2.organisation_id = c.organisation_id, false) AS from_reporting_side
                       FROM case_events e LEFT JOIN users u2 ON u2.id = e.actor_id
                       WHERE e.case_id = c.id) x), '[]')
FROM cases c LEFT JOIN users u ON u.id = c.assignee_id
WHERE c.id = (SELECT id FROM bench_ids WHERE n = :n);
SELECT s.id, s.created_by, u.name, s.disclosure, s.include_patient_data, s.lawful_basis, s.purpose, s.summary,
       s.action_required, s.respond_by, s.expires_at, s.approval, s.revoked_at, s.created_at,
       ARRAY(SELECT sa.attachment_id FROM share_attachments sa WHERE sa.share_id = s.id)
FROM shares s JOIN users u ON u.id = s.created_by
WHERE s.case_id = (SELECT id FROM bench_ids WHERE n = :n) ORDER BY s.created_at;
INSERT INTO bench_audit (id, at, actor_id, action, subject_type, subject_id, details, prev_hash, hash)
VALUES (gen_random_uuid(), now(), gen_random_uuid(), 'case.viewed', 'case', gen_random_uuid(), '{"persons": 1}', sha256('prev'), sha256('this'));
COMMIT;
