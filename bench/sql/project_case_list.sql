-- The same indexed read as the CDAO case list (GET /api/v1/cases?status=new&limit=50):
-- the area's newest cases with that status, as db::cases::list_cases builds it.
SELECT * FROM ((SELECT c.id, c.reference, c.kind, c.status, c.organisation_id, o.name AS organisation_name, c.area_id,
                       c.submitted_at, c.occurred_on, c.harm, c.categories, c.schedules, c.high_dose,
                       c.priority, c.assignee_id, c.sector, c.triage_due_at,
                       CASE WHEN c.kind = 'person_concern'
                            THEN ARRAY(SELECT p.subject_type FROM persons p WHERE p.case_id = c.id ORDER BY p.created_at)
                            ELSE '{}' END AS subject_types
                FROM cases c JOIN organisations o ON o.id = c.organisation_id
                WHERE c.area_id = :area AND c.status = 'new'
                ORDER BY c.submitted_at DESC, c.id DESC LIMIT 51)) x
ORDER BY submitted_at DESC, id DESC LIMIT 51;
