-- Submissions written in batches (issue 14; see src/app/reports/writer.rs): what each new case
-- costs PostgreSQL beyond its rows.

-- 1. The case number without a subtransaction. A plpgsql block with an EXCEPTION clause starts
--    a subtransaction every time it is entered, and `next_case_number` entered one for every
--    case to catch the first use of a year. Now the year's sequence is looked up first and
--    made (in a block of its own, as before) only when it is missing.
CREATE OR REPLACE FUNCTION next_case_number(year integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    seq text := format('case_number_%s', year);
BEGIN
    IF year < 2000 OR year > 2999 THEN
        RAISE EXCEPTION 'year out of range: %', year;
    END IF;
    IF to_regclass(seq) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL; -- made by a concurrent submission
        END;
    END IF;
    RETURN nextval(seq::regclass);
END
$$;

-- 2. Several audit events appended to the connection's chain in one call: the head is locked
--    once, each event hashed from the one before it (the same bytes as `audit_append`:
--    prefix || stripe || ',' || seq || ',' || middle || ',"' || hex(previous hash) || '"]'),
--    the events inserted in one statement and the head moved once. The arrays are parallel,
--    one element per event, in the order they join the chain.
CREATE OR REPLACE FUNCTION audit_append_many(p_stripes integer, p_ids uuid[], p_at timestamptz[], p_actor_ids uuid[],
                                  p_actions text[], p_subject_types text[], p_subject_ids uuid[],
                                  p_case_ids uuid[], p_details jsonb[], p_prefixes text[], p_middles text[])
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(cardinality(p_ids), 0);
    v_stripe smallint := (pg_backend_pid() % p_stripes)::smallint;
    v_seq bigint;
    v_hash bytea;
    seqs bigint[] := '{}';
    prevs bytea[] := '{}';
    hashes bytea[] := '{}';
BEGIN
    IF n = 0 THEN
        RETURN 0;
    END IF;
    SELECT seq, head_hash INTO v_seq, v_hash FROM audit_chain_heads WHERE stripe = v_stripe FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit chain % has no head', v_stripe;
    END IF;
    FOR i IN 1..n LOOP
        v_seq := v_seq + 1;
        prevs[i] := v_hash;
        v_hash := sha256(convert_to(p_prefixes[i] || v_stripe::text || ',' || v_seq::text || ',' || p_middles[i]
                                    || ',"' || encode(v_hash, 'hex') || '"]', 'UTF8'));
        seqs[i] := v_seq;
        hashes[i] := v_hash;
    END LOOP;
    INSERT INTO audit_events (id, stripe, seq, at, actor_id, action, subject_type, subject_id, case_id, details,
                              prev_hash, hash)
    SELECT e.id, v_stripe, e.seq, e.at, e.actor_id, e.action, e.subject_type, e.subject_id, e.case_id, e.details,
           e.prev_hash, e.hash
    FROM unnest(p_ids, seqs, p_at, p_actor_ids, p_actions, p_subject_types, p_subject_ids, p_case_ids, p_details,
                prevs, hashes)
         AS e(id, seq, at, actor_id, action, subject_type, subject_id, case_id, details, prev_hash, hash);
    UPDATE audit_chain_heads SET seq = v_seq, prev_hash = prevs[n], head_hash = v_hash WHERE stripe = v_stripe;
    RETURN n;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION audit_append_many(integer, uuid[], timestamptz[], uuid[], text[], text[], uuid[], uuid[], jsonb[], text[], text[]) TO cdconcerns_app';
    END IF;
END
$$;
