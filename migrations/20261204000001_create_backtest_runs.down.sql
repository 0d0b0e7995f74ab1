DROP TABLE IF EXISTS backtest_runs;
