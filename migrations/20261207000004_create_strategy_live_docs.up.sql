-- Co-editing: the shared working copy of a saved strategy. Seeded once, by the server, from the
-- strategy's content when the first editor joins; every accepted push moves `version` on by one
-- per update, rewrites `text` and appends its changes to strategy_live_updates, in one
-- transaction, so an acknowledged keystroke is a committed one.
CREATE TABLE strategy_live_docs (
  strategy_id         UUID PRIMARY KEY REFERENCES strategies(id) ON DELETE CASCADE,
  version             BIGINT NOT NULL CHECK (version >= 0),
  format              VARCHAR(16) NOT NULL CHECK (format IN ('yaml', 'toml')),
  -- The text at `version` ("\n" line breaks only, as CodeMirror splits lines).
  text                TEXT NOT NULL,
  -- An older text the log replays from, to rebuild the text at any version since.
  snapshot            TEXT NOT NULL,
  snapshot_version    BIGINT NOT NULL,
  -- The strategy version it was seeded from, and the live version last saved as a version.
  seeded_from_version INTEGER NOT NULL,
  saved_version       INTEGER NOT NULL,
  saved_live_version  BIGINT NOT NULL,
  updated_at          TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

CREATE TABLE strategy_live_updates (
  strategy_id UUID NOT NULL REFERENCES strategy_live_docs(strategy_id) ON DELETE CASCADE,
  -- Moves the document from version - 1 to version.
  version     BIGINT NOT NULL,
  -- The editor that made it (its confirmation), or "server" for a save, restore or form post.
  client_id   VARCHAR(32) NOT NULL,
  user_id     UUID REFERENCES users(id) ON DELETE SET NULL,
  changes     JSONB NOT NULL,
  -- Set when this update switched the notation.
  format      VARCHAR(16) CHECK (format IN ('yaml', 'toml')),
  inserted_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
  PRIMARY KEY (strategy_id, version)
);
CREATE INDEX strategy_live_updates_age_idx ON strategy_live_updates (inserted_at);
