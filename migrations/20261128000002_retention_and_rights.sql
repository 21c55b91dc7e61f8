-- Kept no longer than needed, and fair to the person named (issue 10): case data retention,
-- subject access requests, outcomes passed on to recipients, erasure of a person entered in
-- error.

-- Retention removes identities, free text and evidence from closed cases past their period,
-- keeping the reference, kind, dates, codes, outcome and counts.
ALTER TABLE cases ADD COLUMN details_removed_at timestamptz;
ALTER TABLE persons
    ALTER COLUMN identity_enc DROP NOT NULL,
    ADD COLUMN removed_at timestamptz,
    ADD COLUMN removal_reason text CHECK (removal_reason IN ('retention', 'entered_in_error')),
    ADD CONSTRAINT persons_identity_or_removed CHECK (identity_enc IS NOT NULL OR removed_at IS NOT NULL);
ALTER TABLE attachments
    ALTER COLUMN data_enc DROP NOT NULL,
    ADD COLUMN removed_at timestamptz,
    ADD CONSTRAINT attachments_data_or_removed CHECK (data_enc IS NOT NULL OR removed_at IS NOT NULL);

-- The report as submitted never changes, but once: when retention removes its free text.
CREATE OR REPLACE FUNCTION cases_report_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.reference IS DISTINCT FROM OLD.reference OR NEW.submitted_at IS DISTINCT FROM OLD.submitted_at
       OR NEW.reporter_id IS DISTINCT FROM OLD.reporter_id
       OR (NEW.report IS DISTINCT FROM OLD.report
           AND NOT (OLD.details_removed_at IS NULL AND NEW.details_removed_at IS NOT NULL)) THEN
        RAISE EXCEPTION 'a submitted report cannot be changed: append an amendment' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

-- Jobs that run on a schedule, taken with FOR UPDATE SKIP LOCKED so that two instances never
-- run one twice.
CREATE TABLE scheduled_jobs (
    name         text PRIMARY KEY,
    next_run_at  timestamptz NOT NULL,
    last_run_at  timestamptz,
    last_result  jsonb
);
INSERT INTO scheduled_jobs (name, next_run_at) VALUES ('retention', now());

-- A subject access request: which cases the person's identifiers found, and why it was asked
-- (the identifiers themselves are never kept).
CREATE TABLE subject_access_requests (
    id             uuid PRIMARY KEY,
    requested_by   uuid NOT NULL REFERENCES users (id),
    purpose        text NOT NULL,
    case_ids       uuid[] NOT NULL,
    person_ids     uuid[] NOT NULL,
    created_at     timestamptz NOT NULL,
    downloaded_at  timestamptz
);
CREATE INDEX subject_access_requests_by_idx ON subject_access_requests (requested_by, created_at DESC);

-- Removing a person record entered in error, under the two-person rule.
CREATE TABLE person_erasures (
    id              uuid PRIMARY KEY,
    person_id       uuid NOT NULL REFERENCES persons (id),
    case_id         uuid NOT NULL REFERENCES cases (id),
    area_id         uuid NOT NULL REFERENCES areas (id),
    requested_by    uuid NOT NULL REFERENCES users (id),
    reason          text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'declined')),
    decided_by      uuid REFERENCES users (id),
    decided_at      timestamptz,
    decision_reason text,
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX person_erasures_one_pending ON person_erasures (person_id) WHERE status = 'pending';
CREATE INDEX person_erasures_case_idx ON person_erasures (case_id);

ALTER TABLE notification_outbox DROP CONSTRAINT IF EXISTS notification_outbox_kind_check;
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_kind_check
    CHECK (kind IN ('new_alert', 'alert_reminder', 'information_requested', 'share_awaiting_approval',
                    'case_shared_with_team', 'access_request_received', 'case_outcome', 'person_removed',
                    'erasure_awaiting_approval'));

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT SELECT, UPDATE ON scheduled_jobs TO cdconcerns_app';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON subject_access_requests, person_erasures TO cdconcerns_app';
        EXECUTE 'GRANT DELETE ON person_identifiers TO cdconcerns_app';
        EXECUTE 'GRANT UPDATE (text) ON case_amendments TO cdconcerns_app';
        EXECUTE 'GRANT UPDATE (filename, data_enc, removed_at) ON attachments TO cdconcerns_app';
        EXECUTE 'GRANT UPDATE (body) ON alert_responses TO cdconcerns_app';
    END IF;
END
$$;
