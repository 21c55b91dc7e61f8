-- Performance without weaker rules (issue 14).
--
-- 1. Anything an API token's actor is made of (the token, its user's role, status, name,
--    organisation and areas, the organisation's state, name and areas) notifies
--    `cdc_auth_changed` when it changes, whoever changes it: every instance empties its token
--    cache when the notification arrives (src/authcache.rs). Statement-level, after the change;
--    PostgreSQL delivers the notification at commit.
CREATE FUNCTION notify_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cdc_auth_changed', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER api_tokens_auth_changed AFTER UPDATE OF revoked_at, expires_at, user_id OR DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed();
CREATE TRIGGER users_auth_changed AFTER UPDATE OF role, status, organisation_id, name, email OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed();
CREATE TRIGGER user_areas_auth_changed AFTER INSERT OR UPDATE OR DELETE ON user_areas
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed();
CREATE TRIGGER organisations_auth_changed AFTER UPDATE OF disabled_at, name, kind OR DELETE ON organisations
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed();
CREATE TRIGGER organisation_areas_auth_changed AFTER INSERT OR UPDATE OR DELETE ON organisation_areas
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed();

-- 2. Appending an audit event in one round trip: the chain head of the connection's stripe is
--    locked, the event hashed and inserted and the head moved, in one call. The service hands
--    over the canonical content around the three parts only the head knows (src/audit.rs):
--    the hashed bytes are  p_prefix || stripe || ',' || seq || ',' || p_middle || ',"' ||
--    hex(previous hash) || '"]',  exactly what `audit::canonical` makes and verification checks.
CREATE FUNCTION audit_append(p_id uuid, p_stripes integer, p_at timestamptz, p_actor_id uuid, p_action text,
                             p_subject_type text, p_subject_id uuid, p_case_id uuid, p_details jsonb,
                             p_prefix text, p_middle text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    h record;
    new_hash bytea;
BEGIN
    SELECT stripe, seq, head_hash INTO STRICT h FROM audit_chain_heads
    WHERE stripe = (pg_backend_pid() % p_stripes)::smallint FOR UPDATE;
    new_hash := sha256(convert_to(p_prefix || h.stripe::text || ',' || (h.seq + 1)::text || ',' || p_middle
                                  || ',"' || encode(h.head_hash, 'hex') || '"]', 'UTF8'));
    INSERT INTO audit_events (id, stripe, seq, at, actor_id, action, subject_type, subject_id, case_id, details,
                              prev_hash, hash)
    VALUES (p_id, h.stripe, h.seq + 1, p_at, p_actor_id, p_action, p_subject_type, p_subject_id, p_case_id,
            p_details, h.head_hash, new_hash);
    UPDATE audit_chain_heads SET seq = h.seq + 1, head_hash = new_hash WHERE stripe = h.stripe;
    RETURN p_id;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION audit_append(uuid, integer, timestamptz, uuid, text, text, uuid, uuid, jsonb, text, text) TO cdconcerns_app';
        EXECUTE 'GRANT EXECUTE ON FUNCTION notify_auth_changed() TO cdconcerns_app';
    END IF;
END
$$;
