-- Reports and the cases that follow them: incidents and persons of concern.
--
-- A case keeps its report exactly as submitted (`report`, never updated); corrections are
-- appended as amendments. Identities of persons are stored apart, sealed with AES-256-GCM
-- (`persons.identity_enc`), and matched through HMAC blind indexes (`person_identifiers`),
-- so a dump of the database holds no name, date of birth, NHS number or registration number.

-- References CD-YYYY-NNNNNN: one sequence per year, made on first use. Sequences never
-- block concurrent submissions (a rolled-back submission leaves a gap, which is fine).
CREATE FUNCTION next_case_number(year integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    seq text := format('case_number_%s', year);
BEGIN
    IF year < 2000 OR year > 2999 THEN
        RAISE EXCEPTION 'year out of range: %', year;
    END IF;
    BEGIN
        RETURN nextval(seq::regclass);
    EXCEPTION WHEN undefined_table THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL; -- made by a concurrent submission
        END;
        RETURN nextval(seq::regclass);
    END;
END
$$;

CREATE TABLE cases (
    id              uuid PRIMARY KEY,
    reference       text NOT NULL UNIQUE,
    kind            text NOT NULL CHECK (kind IN ('incident', 'person_concern')),
    status          text NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'in_review', 'awaiting_information', 'investigating', 'closed')),
    priority        text CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    area_id         uuid NOT NULL REFERENCES areas (id),
    reporter_id     uuid NOT NULL REFERENCES users (id),
    submitted_at    timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- Facets of the report, copied out for filtering and statistics (the report is the record).
    occurred_on     date,
    harm            text CHECK (harm IN ('none', 'low', 'moderate', 'severe', 'death')),
    categories      text[] NOT NULL DEFAULT '{}',
    schedules       text[] NOT NULL DEFAULT '{}',
    drug_ids        uuid[] NOT NULL DEFAULT '{}',
    high_dose       boolean NOT NULL DEFAULT false,
    -- The report exactly as submitted, without identities (those are in `persons`).
    report          jsonb NOT NULL,
    -- Free text of the report (description, actions), for search.
    search_text     tsvector NOT NULL
);
CREATE INDEX cases_area_submitted_idx ON cases (area_id, submitted_at DESC, id DESC);
CREATE INDEX cases_org_submitted_idx ON cases (organisation_id, submitted_at DESC, id DESC);
CREATE INDEX cases_reporter_submitted_idx ON cases (reporter_id, submitted_at DESC, id DESC);
CREATE INDEX cases_status_idx ON cases (area_id, status, submitted_at DESC);
CREATE INDEX cases_categories_idx ON cases USING gin (categories);
CREATE INDEX cases_schedules_idx ON cases USING gin (schedules);
CREATE INDEX cases_search_idx ON cases USING gin (search_text);

-- Persons named in a report (the subject of a person-of-concern report).
CREATE TABLE persons (
    id            uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    role          text NOT NULL CHECK (role IN ('subject')),
    subject_type  text NOT NULL CHECK (subject_type IN ('registered_professional', 'unregistered_staff', 'patient', 'member_of_public')),
    -- The identity (name, date of birth, NHS number, registrations, prescriber code, job role,
    -- work addresses) as JSON, sealed: nonce || AES-256-GCM ciphertext, bound to this row.
    key_id        smallint NOT NULL,
    identity_enc  bytea NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX persons_case_idx ON persons (case_id);

-- Blind indexes: HMAC-SHA-256 (index key) of normalised identifiers. Matching needs no
-- decryption and a dump reveals nothing.
CREATE TABLE person_identifiers (
    person_id  uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    case_id    uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    area_id    uuid NOT NULL REFERENCES areas (id),
    kind       text NOT NULL CHECK (kind IN ('nhs_number', 'gmc', 'gphc', 'nmc', 'hcpc', 'gdc', 'prescriber_code', 'name_and_date_of_birth')),
    digest     bytea NOT NULL,
    PRIMARY KEY (person_id, kind, digest)
);
CREATE INDEX person_identifiers_lookup_idx ON person_identifiers (kind, digest);

-- Corrections, appended beside the report (which never changes).
CREATE TABLE case_amendments (
    id         uuid PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    author_id  uuid NOT NULL REFERENCES users (id),
    text       text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX case_amendments_case_idx ON case_amendments (case_id, created_at);

-- The case timeline. `audience` says who besides the area's CDAOs may see an event:
-- 'reporter' (the reporter and their organisation's CD lead) or 'cdao' (CDAOs only).
CREATE TABLE case_events (
    id         uuid PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    actor_id   uuid REFERENCES users (id),
    kind       text NOT NULL,
    audience   text NOT NULL CHECK (audience IN ('reporter', 'cdao')),
    data       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case_idx ON case_events (case_id, at, id);

-- Evidence files, sealed like identities (they may show names and numbers).
CREATE TABLE attachments (
    id            uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    uploaded_by   uuid NOT NULL REFERENCES users (id),
    filename      text NOT NULL,
    content_type  text NOT NULL,
    size_bytes    integer NOT NULL CHECK (size_bytes > 0 AND size_bytes <= 10485760),
    sha256        bytea NOT NULL,
    key_id        smallint NOT NULL,
    data_enc      bytea NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX attachments_case_idx ON attachments (case_id, created_at);

-- A retried submission (same user, same Idempotency-Key) gets the first answer again.
CREATE TABLE idempotency_keys (
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    -- Checked at commit: the key is claimed before the case row is written.
    case_id       uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Quarterly occurrence returns: one per organisation per quarter; a correction replaces the
-- counts and keeps the earlier version in `occurrence_return_versions`.
CREATE TABLE occurrence_returns (
    id               uuid PRIMARY KEY,
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    year             integer NOT NULL CHECK (year BETWEEN 2013 AND 2999),
    quarter          smallint NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    nil_return       boolean NOT NULL,
    counts           jsonb NOT NULL,
    declared_by      uuid NOT NULL REFERENCES users (id),
    declared_at      timestamptz NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    UNIQUE (organisation_id, year, quarter)
);

CREATE TABLE occurrence_return_versions (
    return_id    uuid NOT NULL REFERENCES occurrence_returns (id) ON DELETE CASCADE,
    version      integer NOT NULL,
    nil_return   boolean NOT NULL,
    counts       jsonb NOT NULL,
    declared_by  uuid NOT NULL REFERENCES users (id),
    declared_at  timestamptz NOT NULL,
    PRIMARY KEY (return_id, version)
);

-- The report as submitted never changes, whoever asks.
CREATE FUNCTION cases_report_is_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.report IS DISTINCT FROM OLD.report OR NEW.reference IS DISTINCT FROM OLD.reference
       OR NEW.submitted_at IS DISTINCT FROM OLD.submitted_at OR NEW.reporter_id IS DISTINCT FROM OLD.reporter_id THEN
        RAISE EXCEPTION 'a submitted report cannot be changed: append an amendment' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER cases_report_fixed BEFORE UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_report_is_fixed();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON cases, persons, person_identifiers, case_events,
                 occurrence_returns TO cdconcerns_app';
        EXECUTE 'GRANT SELECT, INSERT ON case_amendments, attachments, idempotency_keys,
                 occurrence_return_versions TO cdconcerns_app';
        EXECUTE 'GRANT DELETE ON idempotency_keys TO cdconcerns_app';
        EXECUTE 'GRANT EXECUTE ON FUNCTION next_case_number(integer) TO cdconcerns_app';
    END IF;
END
$$;
