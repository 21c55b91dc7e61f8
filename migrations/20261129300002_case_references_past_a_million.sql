-- A case's reference, `CD-<year>-<number>`: the number padded to six digits, and written out
-- in full from the millionth case of a year on (CD-2026-1000000). The two statements that
-- file cases wrote `lpad(number, 6, '0')`, which cuts a longer number to six characters: every
-- case after the 999,999th of a year came out as CD-2026-100000 and was refused as a
-- duplicate. Tens of thousands of reports a year will never get there, but a reference must
-- not depend on that.
CREATE FUNCTION case_reference(year integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    n bigint := next_case_number(year);
BEGIN
    RETURN format('CD-%s-%s', year, CASE WHEN n < 1000000 THEN lpad(n::text, 6, '0') ELSE n::text END);
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION case_reference(integer) TO cdconcerns_app';
    END IF;
END
$$;
