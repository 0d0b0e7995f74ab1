-- Where bars came from, named once per source instead of once per bar: an upload's file name
-- was stored again in every one of its million rows.
CREATE TABLE candle_sources (
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
INSERT INTO candle_sources (name) SELECT DISTINCT source FROM candles;
ALTER TABLE candles ADD COLUMN source_id INTEGER REFERENCES candle_sources(id);
UPDATE candles c SET source_id = s.id FROM candle_sources s WHERE s.name = c.source;
ALTER TABLE candles ALTER COLUMN source_id SET NOT NULL;
ALTER TABLE candles DROP COLUMN source;

-- An upload is imported by a background job from the file the request wrote to disk, in
-- batches: its report says how far it got while it runs ('importing'), and how it ended.
ALTER TABLE candle_imports
  ADD COLUMN status TEXT NOT NULL DEFAULT 'finished'
    CONSTRAINT candle_imports_status_check CHECK (status IN ('importing', 'finished')),
  ADD COLUMN bytes_total BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN bytes_read BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
-- One running import per user: a second upload waits for the first to end.
CREATE UNIQUE INDEX candle_imports_one_running_per_user ON candle_imports (user_id)
  WHERE status = 'importing';
