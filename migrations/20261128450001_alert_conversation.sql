-- Alerts a police officer can act on (issue 11): the CDAO team's mailbox on each area (the
-- contact a member sees on an alert), replies from the CDAO team in an alert's conversation,
-- and the content-free email that tells the members a reply is waiting.

ALTER TABLE areas ADD COLUMN cdao_mailbox text;

-- A member's response (from_cdao = false) or the CDAO team's reply (true) on one alert.
ALTER TABLE alert_responses ADD COLUMN from_cdao boolean NOT NULL DEFAULT false;
ALTER TABLE alert_responses ADD CONSTRAINT alert_responses_reply_has_no_action
    CHECK (NOT from_cdao OR action_taken IS NULL);

ALTER TABLE notification_outbox DROP CONSTRAINT IF EXISTS notification_outbox_kind_check;
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_kind_check
    CHECK (kind IN ('new_alert', 'alert_reminder', 'information_requested', 'share_awaiting_approval',
                    'case_shared_with_team', 'access_request_received', 'case_outcome', 'person_removed',
                    'erasure_awaiting_approval', 'alert_reply'));
