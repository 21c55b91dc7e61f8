-- The alert inbox's own query (db::shares::inbox, the first page) for the member's
-- organisation, planned for that organisation as the service plans it.
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SELECT a.id, a.share_id, a.organisation_id, c.id AS case_id, c.reference, c.kind, ar.name, c.sector, o.name,
       a.received_at, a.read_at, a.acknowledged_at, a.ack_due_at, s.disclosure, s.include_patient_data,
       s.include_organisation_name, s.lawful_basis, s.purpose, s.summary, s.action_required, s.respond_by,
       s.expires_at, s.revoked_at, ARRAY(SELECT sa.attachment_id FROM share_attachments sa WHERE sa.share_id = s.id),
       s.created_by, c.closed_at, c.well_founded
FROM alerts a JOIN shares s ON s.id = a.share_id JOIN cases c ON c.id = s.case_id
JOIN areas ar ON ar.id = c.area_id JOIN organisations o ON o.id = c.organisation_id
WHERE a.organisation_id = :org AND s.approval = 'approved' AND a.received_at IS NOT NULL
ORDER BY a.received_at DESC, a.id DESC LIMIT 501;
COMMIT;
