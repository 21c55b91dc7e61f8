-- Accounts to ASVS level 2 (issue 9) and four eyes on accounts that read cases (issue 8).

-- An account with a role that reads case content (cdao, member, org_lead), made by an admin or
-- changed into such a role, waits for a second person's approval.
ALTER TABLE users DROP CONSTRAINT users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check
    CHECK (status IN ('invited', 'active', 'disabled', 'pending_approval'));
ALTER TABLE users
    ADD COLUMN approval_requested_by uuid REFERENCES users (id),
    ADD COLUMN approval_requested_at timestamptz,
    ADD COLUMN approved_by           uuid REFERENCES users (id),
    ADD COLUMN approved_at           timestamptz,
    ADD COLUMN password_changed_at   timestamptz;
CREATE INDEX users_pending_idx ON users (status) WHERE status = 'pending_approval';

-- Sessions get a public handle (the id hash stays the secret), the browser that made them,
-- and the time of the last fresh proof (password, and code where needed) for minting tokens.
ALTER TABLE sessions
    ADD COLUMN id         uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN user_agent text,
    ADD COLUMN proof_at   timestamptz;
CREATE UNIQUE INDEX sessions_id_key ON sessions (id);

-- Self-service password reset: a one-time link, 1 hour, stored as a SHA-256 hash. The link is
-- also kept sealed (AES-256-GCM under the identity key) only until the email carrying it has
-- been sent, then wiped.
CREATE TABLE password_resets (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    token_key_id smallint,
    token_enc    bytea,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- Recovery codes: single use, each stored as SHA-256 over its own random salt and the code.
CREATE TABLE recovery_codes (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    salt       bytea NOT NULL,
    code_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id) WHERE used_at IS NULL;

-- Notices to a person about their own credentials (content-free), sent by the same worker
-- loop as the notification outbox, taken with SKIP LOCKED.
CREATE TABLE account_notices (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('password_changed', 'password_reset',
                     'password_reset_link', 'mfa_reset', 'recovery_code_used', 'token_created')),
    reset_id     uuid REFERENCES password_resets (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    available_at timestamptz NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    sent_at      timestamptz,
    failed_at    timestamptz,
    last_error   text
);
CREATE INDEX account_notices_due_idx ON account_notices (available_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON password_resets, recovery_codes,
                 account_notices TO cdconcerns_app';
    END IF;
END
$$;
