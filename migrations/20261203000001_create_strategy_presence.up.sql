-- Who has which strategy open: one row per open editor connection, on whichever server holds
-- it, refreshed while the connection lives; rows not seen for 90 seconds (a server that died)
-- no longer count.
CREATE TABLE strategy_presence (
  connection_id UUID PRIMARY KEY,
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  strategy_id UUID NOT NULL REFERENCES strategies(id) ON DELETE CASCADE,
  seen_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

CREATE INDEX strategy_presence_strategy_idx ON strategy_presence (strategy_id, seen_at);
