-- The open live connections (websockets) of each user, on whichever server holds them, so that
-- a user's count is bounded across every server; a connection's row goes when it closes, and
-- rows a dead server left behind stop counting after 90 seconds.
CREATE TABLE live_connections (
  connection_id UUID PRIMARY KEY,
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  opened_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX live_connections_user_seen_idx ON live_connections (user_id, seen_at);

-- Whenever a session row or a session token goes (log-out, a revoked session, a password
-- change, the cleanup of expired rows), every server hears which user lost a session, and the
-- live connections of that user check whether their own session is still there. Identical
-- notices of one transaction arrive once.
CREATE FUNCTION announce_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.user_id IS NOT NULL THEN
    PERFORM pg_notify('session_ended', OLD.user_id::text);
  END IF;
  RETURN OLD;
END
$$;
CREATE TRIGGER sessions_announce_their_end AFTER DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION announce_session_ended();
CREATE TRIGGER session_tokens_announce_their_end AFTER DELETE ON users_tokens
  FOR EACH ROW WHEN (OLD.context = 'session') EXECUTE FUNCTION announce_session_ended();
