-- Market data for backtests and the signal preview: one row per bar of a pair and timeframe.
-- `source` says where a bar came from (the imported file's name, or 'synthetic' for the
-- generated sample data), so synthetic bars are never mistaken for real ones.
CREATE TABLE candles (
  pair TEXT NOT NULL,
  timeframe TEXT NOT NULL,
  time TIMESTAMPTZ NOT NULL,
  open DOUBLE PRECISION NOT NULL,
  high DOUBLE PRECISION NOT NULL,
  low DOUBLE PRECISION NOT NULL,
  close DOUBLE PRECISION NOT NULL,
  volume DOUBLE PRECISION NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  CONSTRAINT candles_pkey PRIMARY KEY (pair, timeframe, time),
  CONSTRAINT candles_prices_check CHECK (open > 0 AND high > 0 AND low > 0 AND close > 0),
  CONSTRAINT candles_high_low_check CHECK (high >= low),
  CONSTRAINT candles_volume_check CHECK (volume >= 0)
);
