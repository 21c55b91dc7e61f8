-- Triage by the lead CDAO team: status, priority, assignee, risk grade, targets, outcome;
-- links between cases; access requests for matches held in another area.

ALTER TABLE cases
    ADD COLUMN sector              text,
    ADD COLUMN priority_suggested  text CHECK (priority_suggested IN ('low', 'medium', 'high', 'urgent')),
    ADD COLUMN assignee_id         uuid REFERENCES users (id),
    ADD COLUMN risk_consequence    smallint CHECK (risk_consequence BETWEEN 1 AND 5),
    ADD COLUMN risk_likelihood     smallint CHECK (risk_likelihood BETWEEN 1 AND 5),
    -- When triage is due (2 working days from submission; 1 for urgent).
    ADD COLUMN triage_due_at       timestamptz,
    ADD COLUMN triaged_at          timestamptz,
    ADD COLUMN closed_at           timestamptz,
    ADD COLUMN outcome             text CHECK (outcome IN ('no_further_action', 'local_learning', 'referred_to_regulator',
                                                           'referred_to_police', 'alert_cascaded', 'duplicate', 'other')),
    ADD COLUMN well_founded        text CHECK (well_founded IN ('yes', 'no', 'undetermined'));

UPDATE cases c SET sector = o.sector FROM organisations o WHERE o.id = c.organisation_id AND c.sector IS NULL;
UPDATE cases SET triage_due_at = submitted_at + interval '2 days' WHERE triage_due_at IS NULL;
ALTER TABLE cases ALTER COLUMN sector SET NOT NULL;

CREATE INDEX cases_area_priority_idx ON cases (area_id, priority, submitted_at DESC);
CREATE INDEX cases_area_assignee_idx ON cases (area_id, assignee_id, submitted_at DESC);
CREATE INDEX cases_area_sector_idx ON cases (area_id, sector, submitted_at DESC);
CREATE INDEX cases_area_kind_idx ON cases (area_id, kind, submitted_at DESC);
CREATE INDEX cases_new_due_idx ON cases (area_id, triage_due_at) WHERE status = 'new';
CREATE INDEX cases_drugs_idx ON cases USING gin (drug_ids);

-- Links between cases: related, or a duplicate of another.
CREATE TABLE case_links (
    case_id     uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    other_id    uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    relation    text NOT NULL CHECK (relation IN ('related', 'duplicate_of')),
    created_by  uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (case_id, other_id),
    CHECK (case_id <> other_id)
);
CREATE INDEX case_links_other_idx ON case_links (other_id);

-- A CDAO asks the team holding a matched case in another area for access to it.
CREATE TABLE access_requests (
    id                 uuid PRIMARY KEY,
    case_id            uuid NOT NULL REFERENCES cases (id),      -- the requester's own case
    requester_id       uuid NOT NULL REFERENCES users (id),
    requester_area_id  uuid NOT NULL REFERENCES areas (id),
    holding_area_id    uuid NOT NULL REFERENCES areas (id),
    reason             text NOT NULL,
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'declined')),
    decided_by         uuid REFERENCES users (id),
    decided_at         timestamptz,
    decision_reason    text,
    created_at         timestamptz NOT NULL
);
CREATE INDEX access_requests_holding_idx ON access_requests (holding_area_id, status, created_at DESC);
CREATE INDEX access_requests_requester_idx ON access_requests (requester_area_id, created_at DESC);
CREATE UNIQUE INDEX access_requests_one_pending ON access_requests (case_id, holding_area_id) WHERE status = 'pending';

-- Access granted to another area's CDAO team to cases held elsewhere (an approved request).
CREATE TABLE case_access_grants (
    case_id            uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    area_id            uuid NOT NULL REFERENCES areas (id),
    access_request_id  uuid NOT NULL REFERENCES access_requests (id),
    granted_by         uuid NOT NULL REFERENCES users (id),
    created_at         timestamptz NOT NULL,
    PRIMARY KEY (case_id, area_id)
);
CREATE INDEX case_access_grants_area_idx ON case_access_grants (area_id);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT SELECT, INSERT ON case_links, case_access_grants TO cdconcerns_app';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON access_requests TO cdconcerns_app';
    END IF;
END
$$;
