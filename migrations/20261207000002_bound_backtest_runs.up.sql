-- Backtests bounded per user: the queue counts each user's waiting and running runs (at most
-- BACKTESTS_PER_USER at once), claims are fair between users, and a finished run keeps its
-- price series thinned for the chart (so the results page never reads the candles again).
ALTER TABLE backtest_runs ADD COLUMN prices JSONB;
CREATE INDEX backtest_runs_user_live_idx ON backtest_runs (user_id, status)
  WHERE status IN ('queued', 'running');
