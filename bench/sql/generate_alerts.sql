-- After bench/generate_million.sql: up to :n approved shares of the demo CDAO's area's cases
-- whose reference is LIKE :'refs', each delivered as an alert to one member organisation (half
-- to the demo member's). bench/run.sh runs it for 2,000 generated cases (the inbox's volume)
-- and for the cases submitted through the API (whose reports the alert page can disclose).
\set ON_ERROR_STOP on
SET synchronous_commit = off;
CREATE TEMP TABLE cdao AS
SELECT u.id AS user_id, ua.area_id FROM users u JOIN user_areas ua ON ua.user_id = u.id
WHERE u.email = 'cdao@demo.cdconcerns.test' LIMIT 1;
CREATE TEMP TABLE members AS
SELECT o.id, row_number() OVER (ORDER BY (o.id = (SELECT organisation_id FROM users WHERE email = 'member@demo.cdconcerns.test')) DESC, o.id) - 1 AS i
FROM organisations o WHERE o.kind = 'member';
CREATE TEMP TABLE picked AS
SELECT c.id AS case_id, c.submitted_at, row_number() OVER (ORDER BY c.submitted_at DESC) AS n
FROM cases c WHERE c.area_id = (SELECT area_id FROM cdao) AND c.reference LIKE :'refs'
ORDER BY c.submitted_at DESC LIMIT :n;
CREATE TEMP TABLE new_shares AS SELECT gen_random_uuid() AS id, p.* FROM picked p;
INSERT INTO shares (id, case_id, area_id, created_by, disclosure, include_patient_data, include_organisation_name,
                    lawful_basis, purpose, summary, action_required, expires_at, approval, approved_by, approved_at, created_at)
SELECT s.id, s.case_id, (SELECT area_id FROM cdao), (SELECT user_id FROM cdao), 'summary', false, false,
       'public_task_health_care', 'Benchmark share', 'Stock discrepancies of oral morphine in the area.',
       'for_information', now() + interval '60 days', 'approved', (SELECT user_id FROM cdao), now() - (s.n || ' minutes')::interval,
       now() - (s.n || ' minutes')::interval
FROM new_shares s;
INSERT INTO alerts (id, share_id, organisation_id, received_at, ack_due_at)
SELECT gen_random_uuid(), s.id,
       (SELECT m.id FROM members m WHERE m.i = CASE WHEN s.n % 2 = 0 THEN 0 ELSE s.n % (SELECT count(*) FROM members) END),
       now() - (s.n || ' minutes')::interval, now() + interval '2 days'
FROM new_shares s;
ANALYZE;
