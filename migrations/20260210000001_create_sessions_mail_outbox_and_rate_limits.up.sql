-- What accounts need beyond the runbook's tables: server-side sessions (the table layout of
-- tower-sessions' Postgres store, plus the owner so that a password change can end every
-- session of a user), the outgoing mail queue, and the rate-limit counters that several
-- servers share.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY NOT NULL,
  data BYTEA NOT NULL,
  expiry_date TIMESTAMPTZ NOT NULL,
  -- Set by the app after a sign-in; the store itself never writes it.
  user_id UUID REFERENCES users(id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_id_index ON sessions (user_id);
CREATE INDEX sessions_expiry_date_index ON sessions (expiry_date);

CREATE TABLE mail_outbox (
  id BIGSERIAL PRIMARY KEY,
  to_address VARCHAR(255) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at TIMESTAMP NOT NULL,
  sent_at TIMESTAMP,
  -- Set when every retry failed; the mail stays for an operator to see.
  failed_at TIMESTAMP,
  inserted_at TIMESTAMP NOT NULL
);
CREATE INDEX mail_outbox_pending_index ON mail_outbox (next_attempt_at)
  WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE rate_limits (
  key VARCHAR(255) PRIMARY KEY,
  window_started_at TIMESTAMP NOT NULL,
  hits INTEGER NOT NULL
);
