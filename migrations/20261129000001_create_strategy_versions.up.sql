-- Every committed version of a strategy, immutable and kept forever, and the per-user
-- case-insensitive uniqueness of strategy names (the editor reports it on the `name` line).
CREATE TABLE strategy_versions (
  id BIGSERIAL PRIMARY KEY,
  strategy_id UUID NOT NULL REFERENCES strategies(id) ON DELETE CASCADE,
  number INTEGER NOT NULL CHECK (number >= 1),
  format VARCHAR(16) NOT NULL CHECK (format IN ('yaml', 'toml')),
  content TEXT NOT NULL,
  author_id UUID REFERENCES users(id) ON DELETE SET NULL,
  inserted_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
  CONSTRAINT strategy_versions_strategy_number_key UNIQUE (strategy_id, number)
);

-- A version is a record of what was saved: it is never changed afterwards.
CREATE FUNCTION strategy_versions_are_immutable() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'strategy versions are never changed (version % of strategy %)', OLD.number, OLD.strategy_id;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER strategy_versions_are_immutable BEFORE UPDATE ON strategy_versions
  FOR EACH ROW EXECUTE FUNCTION strategy_versions_are_immutable();

CREATE UNIQUE INDEX strategies_user_lower_name_idx ON strategies (user_id, lower(name));
-- The list page: a user's strategies by last change, by creation, by name.
CREATE INDEX strategies_user_updated_idx ON strategies (user_id, updated_at DESC);
CREATE INDEX strategies_user_inserted_idx ON strategies (user_id, inserted_at DESC);
