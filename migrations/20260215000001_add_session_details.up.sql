-- What the list of active sessions in settings shows, and which session token each session
-- row holds (so that revoking one session deletes its token too). Written by the app at sign-in
-- and when it sees the session again; the session store itself never writes them.
ALTER TABLE sessions
  ADD COLUMN token_id UUID,
  ADD COLUMN user_agent TEXT,
  ADD COLUMN ip_address TEXT,
  ADD COLUMN signed_in_at TIMESTAMP,
  ADD COLUMN last_seen_at TIMESTAMP;
