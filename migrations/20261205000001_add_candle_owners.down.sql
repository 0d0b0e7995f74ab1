DROP TABLE IF EXISTS candle_imports;
DROP TRIGGER IF EXISTS users_delete_their_candles ON users;
DROP FUNCTION IF EXISTS delete_candles_of_deleted_user();
-- The primary key allows one bar per series and time: traders' own bars go.
DELETE FROM candles WHERE owner IS NOT NULL;
DROP INDEX IF EXISTS candles_owner_series_time;
ALTER TABLE candles DROP COLUMN IF EXISTS owner;
ALTER TABLE candles ADD CONSTRAINT candles_pkey PRIMARY KEY (pair, timeframe, time);
