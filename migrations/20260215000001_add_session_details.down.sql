ALTER TABLE sessions
  DROP COLUMN token_id,
  DROP COLUMN user_agent,
  DROP COLUMN ip_address,
  DROP COLUMN signed_in_at,
  DROP COLUMN last_seen_at;
