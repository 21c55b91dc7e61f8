-- Minimal matching: the new person's digests, and every other case holding one of them.
\set n random(1, 1000000)
SELECT o.case_id, array_agg(DISTINCT o.kind) FROM bench_digests mine
JOIN bench_digests o ON o.kind = mine.kind AND o.digest = mine.digest AND o.case_id <> mine.case_id
WHERE mine.case_id = (SELECT id FROM bench_ids WHERE n = :n) GROUP BY o.case_id;
