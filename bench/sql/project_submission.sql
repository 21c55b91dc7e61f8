-- The least a submission must write: the case row and its audit event, in one transaction.
-- Run by bench/submissions.sh against the same cluster, with the same 32 clients.
\set n random(1, 2000000000)
BEGIN;
INSERT INTO cases (id, reference, kind, organisation_id, area_id, reporter_id, submitted_at, updated_at,
                   occurred_on, harm, categories, schedules, report, search_text, sector, priority_suggested, triage_due_at)
VALUES (gen_random_uuid(), 'PGB-' || :n || '-' || txid_current(), 'incident', :org, :area, :reporter, now(), now(),
        '2026-11-02', 'none', '{theft_or_diversion,stock_discrepancy}', '{2}',
        '{"location": "Dispensary", "description": "28 morphine sulfate 10 mg tablets missing from the CD register running balance at the weekly check."}',
        to_tsvector('english', 'Dispensary 28 morphine sulfate 10 mg tablets missing from the CD register running balance at the weekly check.'),
        'community_pharmacy', 'high', now() + interval '2 days');
INSERT INTO bench_audit (id, at, actor_id, action, subject_type, subject_id, details, prev_hash, hash)
VALUES (gen_random_uuid(), now(), :reporter, 'case.submitted', 'case', gen_random_uuid(), '{"kind": "incident"}',
        sha256('prev'), sha256('this'));
END;
