-- Strategies, owned by a user (the runbook's "Add user fields to strategies" folded into the
-- table's creation, since this schema starts fresh).
CREATE TABLE strategies (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name VARCHAR(255) NOT NULL,
  description TEXT,
  format VARCHAR(255) NOT NULL CHECK (format IN ('yaml', 'toml')),
  content TEXT NOT NULL,
  trading_pair VARCHAR(255) NOT NULL,
  timeframe VARCHAR(255) NOT NULL,
  status VARCHAR(255) NOT NULL DEFAULT 'draft'
    CONSTRAINT strategies_status_check CHECK (status IN ('draft', 'active', 'inactive', 'archived')),
  version INTEGER NOT NULL DEFAULT 1,
  lock_version INTEGER NOT NULL DEFAULT 1,
  metadata JSONB,
  inserted_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

CREATE INDEX strategies_user_id_idx ON strategies (user_id);
CREATE INDEX strategies_status_idx ON strategies (status);
CREATE UNIQUE INDEX strategies_user_name_version_idx ON strategies (user_id, name, version);
