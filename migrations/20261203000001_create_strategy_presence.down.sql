DROP TABLE IF EXISTS strategy_presence;
