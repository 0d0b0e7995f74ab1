DROP TABLE IF EXISTS candle_imports;
-- The primary key allows one bar per series and time: traders' own bars go.
DELETE FROM candles WHERE owner IS NOT NULL;
DROP INDEX IF EXISTS candles_owner_series_time;
ALTER TABLE candles DROP COLUMN IF EXISTS owner;
ALTER TABLE candles ADD CONSTRAINT candles_pkey PRIMARY KEY (pair, timeframe, time);
