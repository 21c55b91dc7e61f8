-- Oversight the regulators ask for (issue 12): the overseas prescriber's registration sealed
-- beside the report, improvement initiatives for the opioid outcome charts, and the blind
-- index of the work addresses reported for each prescriber code.

-- The online supply and CBPM facts are part of the report as submitted (`cases.report`);
-- the overseas prescriber's registration is an identity, so it is kept apart from it, sealed
-- with AES-256-GCM (nonce || ciphertext, bound to the case) and blind-indexed (HMAC-SHA-256
-- under the index key, over the normalised registration) for the prescriber view.
ALTER TABLE cases
    ADD COLUMN online_registration_key_id  smallint,
    ADD COLUMN online_registration_enc     bytea,
    ADD COLUMN online_registration_digest  bytea,
    ADD CONSTRAINT cases_online_registration_sealed
        CHECK ((online_registration_enc IS NULL) = (online_registration_key_id IS NULL));
CREATE INDEX cases_online_registration_idx ON cases (online_registration_digest)
    WHERE online_registration_digest IS NOT NULL;

-- What a CDAO team changed on purpose to improve an opioid outcome measure: the XmR chart
-- recalculates its limits from the start month and says whether a signal followed.
CREATE TABLE improvement_initiatives (
    id           uuid PRIMARY KEY,
    area_id      uuid NOT NULL REFERENCES areas (id),
    measure      text NOT NULL CHECK (measure IN ('high_dose_opioid', 'opioid_harm', 'ost_serious_harm', 'all_incidents')),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    start_month  date NOT NULL CHECK (extract(day FROM start_month) = 1),
    change       text NOT NULL CHECK (length(change) BETWEEN 1 AND 5000),
    created_by   uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL
);
CREATE INDEX improvement_initiatives_area_idx ON improvement_initiatives (area_id, measure, start_month);

-- Work addresses reported for a person with a prescriber code, as blind indexes (HMAC of the
-- normalised address), so that "reported at 3 or more addresses" is counted in SQL without
-- opening identities. Filled from the sealed identities as they are first needed; a person
-- is listed in `prescriber_address_scans` once their addresses have been indexed.
CREATE TABLE prescriber_address_scans (
    person_id   uuid PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
    scanned_at  timestamptz NOT NULL
);
CREATE TABLE prescriber_addresses (
    person_id       uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    address_digest  bytea NOT NULL,
    PRIMARY KEY (person_id, address_digest)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT SELECT, INSERT ON improvement_initiatives, prescriber_address_scans,
                 prescriber_addresses TO cdconcerns_app';
    END IF;
END
$$;
