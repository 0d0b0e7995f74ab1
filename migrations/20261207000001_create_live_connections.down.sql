DROP TRIGGER IF EXISTS session_tokens_announce_their_end ON users_tokens;
DROP TRIGGER IF EXISTS sessions_announce_their_end ON sessions;
DROP FUNCTION IF EXISTS announce_session_ended();
DROP TABLE IF EXISTS live_connections;
