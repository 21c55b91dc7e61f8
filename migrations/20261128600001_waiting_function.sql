-- The CDAO's work waiting (issue 11), counted on every page they open. As one statement the
-- five counts cost more to plan (a fresh custom plan each time: their area array is a
-- parameter) than to run; in a function with a generic plan, kept for the session, they are
-- planned once per connection. Every count walks an index on its area and state.
CREATE FUNCTION waiting_cdao(areas uuid[], me uuid, at timestamptz,
                             OUT new_cases bigint, OUT overdue bigint, OUT shares_to_approve bigint,
                             OUT access_requests bigint, OUT member_responses bigint)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    SELECT count(*) INTO new_cases FROM cases c WHERE c.area_id = ANY(areas) AND c.status = 'new';
    SELECT count(*) INTO overdue FROM cases c
     WHERE c.area_id = ANY(areas) AND c.status = 'new' AND c.triage_due_at < at;
    SELECT count(*) INTO shares_to_approve FROM shares s
     WHERE s.area_id = ANY(areas) AND s.approval = 'pending' AND s.revoked_at IS NULL AND s.created_by <> me;
    SELECT count(*) INTO access_requests FROM access_requests r
     WHERE r.holding_area_id = ANY(areas) AND r.status = 'pending';
    SELECT count(*) INTO member_responses FROM alert_responses r
      JOIN alerts a ON a.id = r.alert_id
      JOIN shares s ON s.id = a.share_id
     WHERE s.area_id = ANY(areas)
       AND r.created_at > coalesce((SELECT u.dashboard_seen_at FROM users u WHERE u.id = me), '-infinity');
END;
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION waiting_cdao(uuid[], uuid, timestamptz) TO cdconcerns_app';
    END IF;
END $$;
