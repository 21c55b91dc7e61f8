-- The same indexed read as the CDAO case list (GET /api/v1/cases?status=new&limit=50), as
-- db::cases::list_cases builds it for the API (the fields the API returns, not what the pages'
-- summary lines also read) for a team with no share in force from another area (whose list
-- then has no branch for shared cases), once the total has been counted past 1,000 (the
-- total is then not counted again for 5 seconds): the area's newest cases with that status.
-- The organisations' names are not read with the cases: the service keeps them
-- (reports::OrgNames), and reads those it does not have separately.
SELECT * FROM ((SELECT c.id, c.reference, c.kind, c.status, c.organisation_id, c.area_id,
                       c.submitted_at, c.occurred_on, c.harm, c.categories, c.schedules, c.high_dose, c.priority,
                       c.priority_suggested AS suggested_priority, c.assignee_id, c.sector, c.triage_due_at, true AS holding
                FROM cases c
                WHERE c.area_id = :area AND c.status = 'new'
                ORDER BY c.submitted_at DESC, c.id DESC LIMIT 51)) x
ORDER BY submitted_at DESC, id DESC LIMIT 51;
