-- Routing to LIN members: shares (routed alerts), their recipients, responses, and the
-- notification outbox.

CREATE TABLE shares (
    id                        uuid PRIMARY KEY,
    case_id                   uuid NOT NULL REFERENCES cases (id),
    area_id                   uuid NOT NULL REFERENCES areas (id),
    created_by                uuid NOT NULL REFERENCES users (id),
    disclosure                text NOT NULL CHECK (disclosure IN ('summary', 'identified')),
    include_patient_data      boolean NOT NULL DEFAULT false,
    patient_data_reason       text,
    include_organisation_name boolean NOT NULL DEFAULT false,
    lawful_basis              text NOT NULL CHECK (lawful_basis IN ('public_task_health_care', 'legal_obligation',
                                                                    'preventing_detecting_unlawful_acts', 'safeguarding')),
    purpose                   text NOT NULL,
    summary                   text NOT NULL,
    action_required           text NOT NULL CHECK (action_required IN ('for_information', 'for_action')),
    respond_by                date,
    expires_at                timestamptz NOT NULL,
    approval                  text NOT NULL CHECK (approval IN ('pending', 'approved')),
    approved_by               uuid REFERENCES users (id),
    approved_at               timestamptz,
    revoked_at                timestamptz,
    revoked_by                uuid REFERENCES users (id),
    created_at                timestamptz NOT NULL,
    CHECK (NOT include_patient_data OR patient_data_reason IS NOT NULL),
    CHECK (approval = 'pending' OR approved_at IS NOT NULL)
);
CREATE INDEX shares_case_idx ON shares (case_id, created_at);
CREATE INDEX shares_pending_idx ON shares (area_id, created_at) WHERE approval = 'pending' AND revoked_at IS NULL;

-- One alert per recipient organisation of a share.
CREATE TABLE alerts (
    id               uuid PRIMARY KEY,
    share_id         uuid NOT NULL REFERENCES shares (id),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    received_at      timestamptz,          -- when the share was approved (delivered)
    read_at          timestamptz,
    read_by          uuid REFERENCES users (id),
    acknowledged_at  timestamptz,
    acknowledged_by  uuid REFERENCES users (id),
    ack_due_at       timestamptz,          -- acknowledgement target (2 working days)
    reminded_at      timestamptz,
    reminders        integer NOT NULL DEFAULT 0,
    UNIQUE (share_id, organisation_id)
);
CREATE INDEX alerts_org_idx ON alerts (organisation_id, received_at DESC);
CREATE INDEX alerts_unacknowledged_idx ON alerts (ack_due_at) WHERE acknowledged_at IS NULL AND received_at IS NOT NULL;

-- What a member organisation answers on an alert, and the actions it took.
CREATE TABLE alert_responses (
    id            uuid PRIMARY KEY,
    alert_id      uuid NOT NULL REFERENCES alerts (id),
    author_id     uuid NOT NULL REFERENCES users (id),
    body          text NOT NULL,
    action_taken  text CHECK (action_taken IN ('investigation_opened', 'crime_recorded', 'regulator_referral',
                                               'fitness_to_practise', 'inspection', 'advice_given', 'no_action', 'other')),
    created_at    timestamptz NOT NULL
);
CREATE INDEX alert_responses_alert_idx ON alert_responses (alert_id, created_at);

-- The transactional outbox: a notification is written in the same transaction as the event
-- it announces, and a worker sends it (taken with FOR UPDATE SKIP LOCKED, so two instances
-- never send the same one). Notifications carry no case content: only their kind.
CREATE TABLE notification_outbox (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('new_alert', 'alert_reminder', 'information_requested', 'share_awaiting_approval')),
    user_id       uuid NOT NULL REFERENCES users (id),
    subject_id    uuid,
    created_at    timestamptz NOT NULL,
    available_at  timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    sent_at       timestamptz,
    failed_at     timestamptz,
    last_error    text
);
CREATE INDEX notification_outbox_due_idx ON notification_outbox (available_at) WHERE sent_at IS NULL AND failed_at IS NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON shares, alerts, notification_outbox TO cdconcerns_app';
        EXECUTE 'GRANT SELECT, INSERT ON alert_responses TO cdconcerns_app';
    END IF;
END
$$;
