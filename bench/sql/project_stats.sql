-- The statistics query (db::stats::counts, by category, the CDAO's area).
SELECT k AS key, count(*) AS n FROM cases c CROSS JOIN LATERAL unnest(c.categories) AS k
WHERE true AND c.area_id = ANY(ARRAY[:area]::uuid[]) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 500;
