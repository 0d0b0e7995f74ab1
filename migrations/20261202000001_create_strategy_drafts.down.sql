DROP TABLE IF EXISTS strategy_drafts;
