-- Retention and erasure reach the oversight data too (issue 10 with issue 12): the work
-- address blind indexes of a person go with the person's identity.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT DELETE ON prescriber_addresses TO cdconcerns_app';
    END IF;
END
$$;
