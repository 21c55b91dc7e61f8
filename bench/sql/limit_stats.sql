-- Minimal statistics: one area's reports counted by category.
\set r random(0, 6)
SELECT category, count(*) FROM incidents WHERE region_id = :r GROUP BY 1 ORDER BY 2 DESC;
