-- 1 million cases (and a person with blind indexes for each), generated in SQL for the
-- triage benchmarks. Run by bench/million.sh on the demo database (three areas, demo
-- organisations). Identities are random bytes: nothing here is a real person.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
CREATE TEMP TABLE orgs AS
    SELECT o.id, oa.area_id, o.sector, row_number() OVER (ORDER BY o.id) - 1 AS i
    FROM organisations o JOIN organisation_areas oa ON oa.organisation_id = o.id
    WHERE o.kind = 'provider';
CREATE TEMP TABLE reporters AS
    SELECT u.organisation_id, min(u.id::text)::uuid AS id FROM users u WHERE u.role IN ('reporter', 'org_lead') GROUP BY 1;
-- Every provider needs a reporter: use the demo reporter for those without one.
INSERT INTO reporters SELECT o.id, (SELECT id FROM users WHERE email = 'reporter@demo.cdconcerns.test')
FROM orgs o WHERE NOT EXISTS (SELECT 1 FROM reporters r WHERE r.organisation_id = o.id);
CREATE TEMP TABLE drug_list AS SELECT id, schedule, row_number() OVER (ORDER BY id) - 1 AS i FROM drugs;

-- Indexes are built once at the end (far faster than a million random insertions each);
-- those behind constraints (keys, unique references) stay.
CREATE TEMP TABLE saved_indexes AS
    SELECT i.indexname, i.indexdef FROM pg_indexes i
    WHERE i.schemaname = 'public' AND i.tablename IN ('cases', 'persons', 'person_identifiers')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexname FROM saved_indexes LOOP
        EXECUTE format('DROP INDEX %I', r.indexname);
    END LOOP;
END
$$;
ALTER TABLE cases DISABLE TRIGGER cases_report_fixed;
INSERT INTO cases (id, reference, kind, status, priority, organisation_id, area_id, reporter_id, submitted_at, updated_at,
                   occurred_on, harm, categories, schedules, drug_ids, high_dose, report, search_text, sector,
                   priority_suggested, triage_due_at)
SELECT gen_random_uuid(),
       format('BM-%s-%s', 2025 + (g % 2), lpad(g::text, 7, '0')),
       CASE WHEN g % 4 = 0 THEN 'person_concern' ELSE 'incident' END,
       (ARRAY['new', 'in_review', 'awaiting_information', 'investigating', 'closed', 'closed', 'closed', 'closed'])[1 + g % 8],
       (ARRAY['low', 'medium', 'high', 'urgent', NULL])[1 + g % 5],
       o.id, o.area_id, r.id,
       t, t,
       (t - interval '1 day')::date,
       CASE WHEN g % 4 = 0 THEN NULL ELSE (ARRAY['none', 'none', 'none', 'low', 'moderate', 'severe', 'death'])[1 + g % 7] END,
       CASE WHEN g % 4 = 0 THEN ARRAY[(ARRAY['self_or_family_prescribing', 'diversion_or_theft', 'impairment', 'multiple_sourcing'])[1 + g % 4]]
            ELSE ARRAY[(ARRAY['stock_discrepancy', 'lost_missing', 'theft_or_diversion', 'dispensing_error', 'prescribing_error',
                              'administration_error', 'overseas_online_prescribing', 'cbpm'])[1 + g % 8]] END,
       ARRAY[d.schedule], ARRAY[d.id], g % 50 = 0,
       jsonb_build_object('location', 'Dispensary', 'description', 'Generated case ' || g || ' for the benchmark: balance discrepancy found at the weekly check.'),
       to_tsvector('english', 'Dispensary generated case ' || g || ' balance discrepancy weekly check'),
       o.sector,
       'medium',
       t + interval '2 days'
FROM generate_series(1, 1000000) AS g
CROSS JOIN LATERAL (SELECT now() - (g % 730) * interval '1 day' - (g % 86400) * interval '1 second' AS t) tt
JOIN orgs o ON o.i = g % (SELECT count(*) FROM orgs)
JOIN reporters r ON r.organisation_id = o.id
JOIN drug_list d ON d.i = g % (SELECT count(*) FROM drug_list);
ALTER TABLE cases ENABLE TRIGGER cases_report_fixed;

-- One person per case, with blind indexes: a random GMC-like digest each, and a name+DOB
-- digest shared by pairs (so some match).
INSERT INTO persons (id, case_id, role, subject_type, key_id, identity_enc, created_at)
SELECT gen_random_uuid(), c.id, 'subject', 'registered_professional', 1, decode(md5(random()::text || c.id::text), 'hex'), c.submitted_at
FROM cases c WHERE c.reference LIKE 'BM-%';
INSERT INTO person_identifiers (person_id, case_id, area_id, kind, digest)
SELECT p.id, p.case_id, c.area_id, 'gmc', sha256(convert_to('gmc:' || (hashtext(c.reference) % 400000)::text, 'UTF8'))
FROM persons p JOIN cases c ON c.id = p.case_id WHERE c.reference LIKE 'BM-%';
INSERT INTO person_identifiers (person_id, case_id, area_id, kind, digest)
SELECT p.id, p.case_id, c.area_id, 'name_and_date_of_birth', sha256(convert_to('nd:' || c.reference, 'UTF8'))
FROM persons p JOIN cases c ON c.id = p.case_id WHERE c.reference LIKE 'BM-%';
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT indexdef FROM saved_indexes LOOP
        EXECUTE r.indexdef;
    END LOOP;
END
$$;
ANALYZE;
