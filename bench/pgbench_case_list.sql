-- The same indexed read as the CDAO case list: 50 newest cases of the area with a status.
SELECT c.id, c.reference, c.kind, c.status, c.organisation_id, o.name, c.area_id, c.submitted_at, c.occurred_on,
       c.harm, c.categories, c.schedules, c.high_dose, c.priority, c.assignee_id, c.sector, c.triage_due_at
FROM cases c JOIN organisations o ON o.id = c.organisation_id
WHERE c.area_id = ANY(ARRAY[:area]::uuid[]) AND c.status = ANY(ARRAY['new'])
ORDER BY c.submitted_at DESC, c.id DESC LIMIT 51;
