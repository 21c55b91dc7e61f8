-- Work waiting (issue 11): when a CDAO last looked at their dashboard, and the start of the
-- window "since your last visit" that the dashboard reports on. Only times, no content.
ALTER TABLE users
    ADD COLUMN dashboard_seen_at  timestamptz,
    ADD COLUMN dashboard_since    timestamptz;

-- Responses received by an area's shares, newest first (the dashboard's card and the badge).
CREATE INDEX alert_responses_created_idx ON alert_responses (created_at DESC);
-- Questions waiting for a reporter or an organisation (status awaiting_information).
CREATE INDEX cases_reporter_awaiting_idx ON cases (reporter_id) WHERE status = 'awaiting_information';
CREATE INDEX cases_org_awaiting_idx ON cases (organisation_id) WHERE status = 'awaiting_information';
-- Unread alerts of an organisation.
CREATE INDEX alerts_unread_idx ON alerts (organisation_id) WHERE read_at IS NULL AND received_at IS NOT NULL;
