//! The `candles` table: batched imports that skip bars already stored, and reading a pair and
//! timeframe back as the engine's columnar series. Errors stay `sqlx::Error`, so the command
//! line prints their detail and a server function turns them into `AppError` with `?`.

use sqlx::{PgConnection, PgPool};

use crate::backtests::candles::{Candle, Candles};
use crate::language::model::Timeframe;

/// Rows per `INSERT`: large enough that a million rows take a hundred statements, small enough
/// that one statement's arrays stay a few megabytes.
pub const BATCH_SIZE: usize = 10_000;

/// Which series a bar belongs to. Built only from a valid pair (`language`'s rule) and a
/// timeframe the language knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    pub pair: String,
    pub timeframe: Timeframe,
}

/// What one import stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoredCount {
    pub inserted: u64,
    /// Bars whose time the series already had; the stored bar is kept.
    pub skipped_as_duplicates: u64,
}

/// Stores `candles` in batches of `BATCH_SIZE`, each one `INSERT ... SELECT FROM UNNEST`; a bar
/// whose time the series already has is skipped, not overwritten. `progress` hears the rows
/// done after each batch.
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name(), rows = candles.len()))]
pub async fn insert_candles(
    connection: &mut PgConnection,
    series: &Series,
    source: &str,
    candles: &Candles,
    mut progress: impl FnMut(usize),
) -> Result<StoredCount, sqlx::Error> {
    let mut count = StoredCount::default();
    let mut start = 0;
    while start < candles.len() {
        let end = (start + BATCH_SIZE).min(candles.len());
        let inserted = sqlx::query!(
            "INSERT INTO candles (pair, timeframe, time, open, high, low, close, volume, source)
             SELECT $1, $2, to_timestamp(time), open, high, low, close, volume, $3
             FROM UNNEST($4::int8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
               AS batch (time, open, high, low, close, volume)
             ON CONFLICT (pair, timeframe, time) DO NOTHING",
            series.pair,
            series.timeframe.name(),
            source,
            &candles.time[start..end],
            &candles.open[start..end],
            &candles.high[start..end],
            &candles.low[start..end],
            &candles.close[start..end],
            &candles.volume[start..end],
        )
        .execute(&mut *connection)
        .await?
        .rows_affected();
        count.inserted += inserted;
        count.skipped_as_duplicates += (end - start) as u64 - inserted;
        progress(end);
        start = end;
    }
    Ok(count)
}

/// The bars of `series` with a time in `from..=to` (Unix seconds, either bound optional),
/// sorted by time.
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name()))]
pub async fn read_candles(
    pool: &PgPool,
    series: &Series,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Candles, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT extract(epoch FROM time)::bigint AS "time!", open, high, low, close, volume
           FROM candles
           WHERE pair = $1 AND timeframe = $2
             AND ($3::bigint IS NULL OR time >= to_timestamp($3))
             AND ($4::bigint IS NULL OR time <= to_timestamp($4))
           ORDER BY time"#,
        series.pair,
        series.timeframe.name(),
        from,
        to,
    )
    .fetch_all(pool)
    .await?;
    let mut candles = Candles::with_capacity(rows.len());
    for row in rows {
        candles.push(Candle {
            time: row.time,
            open: row.open,
            high: row.high,
            low: row.low,
            close: row.close,
            volume: row.volume,
        });
    }
    Ok(candles)
}

/// Whether the table holds no bar at all (a fresh install, before the sample data).
#[tracing::instrument(skip_all)]
pub async fn no_candles_stored(connection: &mut PgConnection) -> Result<bool, sqlx::Error> {
    Ok(
        !sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM candles) AS "exists!""#)
            .fetch_one(connection)
            .await?,
    )
}

/// The first and last stored bar of `series` and how many there are; `None` without any.
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name()))]
pub async fn stored_span(
    pool: &PgPool,
    series: &Series,
) -> Result<Option<(i64, i64, i64)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT extract(epoch FROM min(time))::bigint AS first, extract(epoch FROM max(time))::bigint AS last,
                  count(*) AS "bars!"
           FROM candles WHERE pair = $1 AND timeframe = $2"#,
        series.pair,
        series.timeframe.name(),
    )
    .fetch_one(pool)
    .await?;
    Ok(match (row.first, row.last) {
        (Some(first), Some(last)) => Some((first, last, row.bars)),
        _ => None,
    })
}
