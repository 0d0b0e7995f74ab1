DROP INDEX IF EXISTS candle_imports_one_running_per_user;
ALTER TABLE candle_imports
  DROP COLUMN IF EXISTS updated_at,
  DROP COLUMN IF EXISTS bytes_read,
  DROP COLUMN IF EXISTS bytes_total,
  DROP COLUMN IF EXISTS status;
ALTER TABLE candles ADD COLUMN source TEXT;
UPDATE candles c SET source = s.name FROM candle_sources s WHERE s.id = c.source_id;
ALTER TABLE candles ALTER COLUMN source SET NOT NULL;
ALTER TABLE candles DROP COLUMN source_id;
DROP TABLE IF EXISTS candle_sources;
