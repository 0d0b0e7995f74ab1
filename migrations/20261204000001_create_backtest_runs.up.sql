-- Backtests started from the app, and their queue: a row is queued, then claimed by one
-- server's worker (status 'running', a lease it keeps extending), then finished with its
-- results, failed with a sentence, or cancelled. A run whose lease expired (its server died)
-- is claimed again. The document comes from strategy_versions (strategy_id, version), so a
-- result always names the exact text it tested.
CREATE TABLE backtest_runs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  strategy_id UUID NOT NULL REFERENCES strategies(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  pair TEXT NOT NULL,
  timeframe TEXT NOT NULL,
  range_from TIMESTAMPTZ NOT NULL,
  range_to TIMESTAMPTZ NOT NULL,
  initial_cash DOUBLE PRECISION NOT NULL,
  commission DOUBLE PRECISION NOT NULL,
  slippage DOUBLE PRECISION NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued',
  worker_id UUID,
  lease_until TIMESTAMPTZ,
  attempts INTEGER NOT NULL DEFAULT 0,
  queued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  finished_at TIMESTAMPTZ,
  error TEXT,
  metrics JSONB,
  trades JSONB,
  equity JSONB,
  CONSTRAINT backtest_runs_status_check
    CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
  CONSTRAINT backtest_runs_range_check CHECK (range_from <= range_to),
  CONSTRAINT backtest_runs_version_fkey FOREIGN KEY (strategy_id, version)
    REFERENCES strategy_versions (strategy_id, number) ON DELETE CASCADE
);

-- The queue's claim reads the waiting and running rows in order.
CREATE INDEX backtest_runs_queue_idx ON backtest_runs (queued_at)
  WHERE status IN ('queued', 'running');
-- A strategy's runs, newest first; the activation gate looks for a finished run of a version.
CREATE INDEX backtest_runs_strategy_idx ON backtest_runs (strategy_id, version, status);
