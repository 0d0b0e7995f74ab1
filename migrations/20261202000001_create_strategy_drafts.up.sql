-- Working copies: what an editor tab had typed, stored about a second after the user paused
-- (valid or not), so that nothing typed is lost to a crash, a closed tab or a lost
-- connection. One row per user and editor tab; a write with an older sequence number than the
-- stored one changes nothing.
CREATE TABLE strategy_drafts (
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  tab_id UUID NOT NULL,
  strategy_id UUID REFERENCES strategies(id) ON DELETE CASCADE,
  sequence BIGINT NOT NULL,
  format VARCHAR(16) NOT NULL CHECK (format IN ('yaml', 'toml')),
  content TEXT NOT NULL,
  base_lock_version INTEGER,
  updated_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
  PRIMARY KEY (user_id, tab_id)
);

CREATE INDEX strategy_drafts_user_strategy_idx ON strategy_drafts (user_id, strategy_id, updated_at DESC);
