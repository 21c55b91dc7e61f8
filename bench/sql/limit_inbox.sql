-- Minimal alert inbox: the newest 500 rows of one index range (the inbox's page size).
\set r random(0, 6)
SELECT id, org_id, status, category, harm, drug, occurred_on, created_at FROM incidents
WHERE region_id = :r AND status = 'new' ORDER BY created_at DESC LIMIT 500;
