-- The matching query (db::triage::matches) for the new person's case.
SELECT o.case_id, c.reference, c.area_id, a.name, array_agg(DISTINCT o.kind ORDER BY o.kind)
FROM person_identifiers mine
JOIN person_identifiers o ON o.kind = mine.kind AND o.digest = mine.digest AND o.case_id <> mine.case_id
JOIN cases c ON c.id = o.case_id JOIN areas a ON a.id = c.area_id
WHERE mine.case_id = :case GROUP BY o.case_id, c.reference, c.area_id, a.name, c.submitted_at
ORDER BY c.submitted_at DESC;
