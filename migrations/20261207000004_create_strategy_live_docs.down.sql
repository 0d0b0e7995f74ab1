DROP TABLE strategy_live_updates;
DROP TABLE strategy_live_docs;
