-- Access requests end in shares, not grants (issue 8): a share can go to another area's CDAO
-- team instead of member organisations; a share names the evidence it carries; a pending
-- share can be declined with a reason; evidence can be marked as holding patient data.

ALTER TABLE shares
    ADD COLUMN recipient_area_id  uuid REFERENCES areas (id),
    ADD COLUMN access_request_id  uuid REFERENCES access_requests (id),
    ADD COLUMN declined_at        timestamptz,
    ADD COLUMN declined_by        uuid REFERENCES users (id),
    ADD COLUMN decline_reason     text;
ALTER TABLE shares DROP CONSTRAINT IF EXISTS shares_approval_check;
ALTER TABLE shares ADD CONSTRAINT shares_approval_check CHECK (approval IN ('pending', 'approved', 'declined'));
DO $$
DECLARE n text;
BEGIN
    SELECT conname INTO n FROM pg_constraint
    WHERE conrelid = 'shares'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%approved_at IS NOT NULL%';
    IF n IS NOT NULL THEN
        EXECUTE format('ALTER TABLE shares DROP CONSTRAINT %I', n);
    END IF;
END
$$;
ALTER TABLE shares ADD CONSTRAINT shares_approved_has_time CHECK (approval <> 'approved' OR approved_at IS NOT NULL);
ALTER TABLE shares ADD CONSTRAINT shares_declined_has_reason
    CHECK (approval <> 'declined' OR (declined_at IS NOT NULL AND decline_reason IS NOT NULL));
-- A share to a CDAO team is never also to member organisations (it has no alerts).
CREATE INDEX shares_recipient_area_idx ON shares (recipient_area_id, case_id) WHERE recipient_area_id IS NOT NULL;

-- Evidence the CDAO marked as holding patient data travels only with patient data.
ALTER TABLE attachments ADD COLUMN holds_patient_data boolean NOT NULL DEFAULT false;

-- The evidence a share carries, fixed when the share is made.
CREATE TABLE share_attachments (
    share_id       uuid NOT NULL REFERENCES shares (id),
    attachment_id  uuid NOT NULL REFERENCES attachments (id),
    PRIMARY KEY (share_id, attachment_id)
);
CREATE INDEX share_attachments_attachment_idx ON share_attachments (attachment_id);

-- Every lasting grant becomes a share to the requesting team: identified, the request's
-- reason as its purpose, approved as the grant was, expiring 90 days from now.
INSERT INTO shares (id, case_id, area_id, created_by, disclosure, include_patient_data, include_organisation_name,
                    lawful_basis, purpose, summary, action_required, expires_at, approval, approved_by, approved_at,
                    created_at, recipient_area_id, access_request_id)
SELECT gen_random_uuid(), g.case_id, c.area_id, g.granted_by, 'identified', false, true,
       'public_task_health_care', r.reason,
       'Shared with your team in answer to its access request about a possible match.',
       'for_information', now() + interval '90 days', 'approved', g.granted_by, g.created_at,
       g.created_at, g.area_id, g.access_request_id
FROM case_access_grants g
JOIN cases c ON c.id = g.case_id
JOIN access_requests r ON r.id = g.access_request_id;

DROP TABLE case_access_grants;

-- The requester's lawful basis travels to the shares an approval makes.
ALTER TABLE access_requests
    ADD COLUMN lawful_basis text NOT NULL DEFAULT 'public_task_health_care'
        CHECK (lawful_basis IN ('public_task_health_care', 'legal_obligation',
                                'preventing_detecting_unlawful_acts', 'safeguarding'));

-- Teams are told of shares to them and of requests to decide (without content).
ALTER TABLE notification_outbox DROP CONSTRAINT IF EXISTS notification_outbox_kind_check;
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_kind_check
    CHECK (kind IN ('new_alert', 'alert_reminder', 'information_requested', 'share_awaiting_approval',
                    'case_shared_with_team', 'access_request_received'));

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT SELECT, INSERT ON share_attachments TO cdconcerns_app';
        EXECUTE 'GRANT UPDATE (holds_patient_data) ON attachments TO cdconcerns_app';
    END IF;
END
$$;
