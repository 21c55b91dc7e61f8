-- Before bench/generate_million.sql: England's shape, roughly. Four more areas (seven in all)
-- and 20,000 reporting organisations (pharmacies and GP practices) spread over them. Names
-- and codes are made up: nothing here is a real organisation.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
INSERT INTO areas (id, name, region, two_person_rule, created_at, updated_at)
SELECT gen_random_uuid(), 'Bench area ' || g, 'Bench region ' || g, true, now(), now()
FROM generate_series(1, greatest(0, 7 - (SELECT count(*) FROM areas))) g;
CREATE TEMP TABLE area_list AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM areas;
CREATE TEMP TABLE new_orgs AS
SELECT gen_random_uuid() AS id, g
FROM generate_series(1, greatest(0, 20000 - (SELECT count(*) FROM organisations WHERE kind = 'provider'))) g;
INSERT INTO organisations (id, name, kind, sector, ods_code, created_at, updated_at)
SELECT id, 'Bench provider ' || g, 'provider',
       CASE WHEN g % 3 = 0 THEN 'gp_practice' ELSE 'community_pharmacy' END,
       'BZ' || lpad(g::text, 6, '0'), now(), now()
FROM new_orgs;
INSERT INTO organisation_areas (organisation_id, area_id)
SELECT n.id, a.id FROM new_orgs n JOIN area_list a ON a.i = n.g % (SELECT count(*) FROM area_list);
ANALYZE;
