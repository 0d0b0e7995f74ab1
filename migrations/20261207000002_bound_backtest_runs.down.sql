DROP INDEX IF EXISTS backtest_runs_user_live_idx;
ALTER TABLE backtest_runs DROP COLUMN IF EXISTS prices;
