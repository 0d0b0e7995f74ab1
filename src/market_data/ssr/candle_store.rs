//! The `candles` table: batched imports that skip bars already stored, and reading a pair and
//! timeframe back as the engine's columnar series. Bars belong to an owner: the shared market
//! data (`CandleOwner::Shared`, what `migrate` and the command line store) or one trader's
//! uploads; a trader's readers (`candles_for`) prefer that trader's own series of a pair and
//! timeframe over the shared one. Errors stay `sqlx::Error`, so the command line prints their
//! detail and a server function turns them into `AppError` with `?`.
//!
//! The readers match an owner with `(owner = $n OR ($n::uuid IS NULL AND owner IS NULL))`
//! rather than the shorter `owner IS NOT DISTINCT FROM $n`: Postgres cannot search a btree
//! index with `IS NOT DISTINCT FROM`, while each arm of the `OR` is an index condition on the
//! primary key `(owner, pair, timeframe, time)`.

use futures_util::TryStreamExt;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::accounts::UserId;
use crate::backtests::candles::{Candle, Candles, StoredSeries};
use crate::language::model::Timeframe;
use crate::language::validate::is_trading_pair;

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

/// Why a pair and timeframe name no series: the field at fault and a reason that says how to
/// fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeriesError {
    Pair(String),
    Timeframe(String),
}

impl SeriesError {
    /// The form field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            SeriesError::Pair(_) => "pair",
            SeriesError::Timeframe(_) => "timeframe",
        }
    }

    /// What is wrong, without the field's name.
    pub fn reason(&self) -> &str {
        match self {
            SeriesError::Pair(reason) | SeriesError::Timeframe(reason) => reason,
        }
    }
}

impl std::fmt::Display for SeriesError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "the {}: {}", self.field(), self.reason())
    }
}

impl std::error::Error for SeriesError {}

impl Series {
    /// The series a trader's form or the command line names: the pair by the strategy
    /// language's rule (`trading_pair`), so imported data and strategies name a market the same
    /// way, and one of the language's timeframes.
    pub fn parse(pair: &str, timeframe: &str) -> Result<Series, SeriesError> {
        Ok(Series {
            pair: parse_pair(pair).map_err(SeriesError::Pair)?,
            timeframe: Timeframe::from_name(timeframe).ok_or_else(|| {
                let names: Vec<&str> = Timeframe::ALL.iter().map(|t| t.name()).collect();
                SeriesError::Timeframe(format!(
                    "unknown timeframe `{timeframe}`; use one of {}",
                    names.join(", ")
                ))
            })?,
        })
    }
}

fn parse_pair(raw: &str) -> Result<String, String> {
    if is_trading_pair(raw) {
        return Ok(raw.to_string());
    }
    let upper = raw.trim().to_uppercase();
    if is_trading_pair(&upper) {
        return Err(format!("trading pairs are written in capitals: `{upper}`"));
    }
    Err(format!(
        "`{raw}` is not a trading pair; write BASE/QUOTE, each 1 to 12 capital letters or digits, e.g. `BTC/USD`"
    ))
}

/// Whose bars an import stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandleOwner {
    /// The market data every trader reads: the sample data and the command line's imports.
    Shared,
    /// One trader's upload, read only by that trader.
    User(Uuid),
}

impl CandleOwner {
    /// The `owner` column's value.
    fn id(self) -> Option<Uuid> {
        match self {
            CandleOwner::Shared => None,
            CandleOwner::User(id) => Some(id),
        }
    }
}

/// What one import stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoredCount {
    pub inserted: u64,
    /// Bars whose time the series already had; the stored bar is kept.
    pub skipped_as_duplicates: u64,
}

/// The id of the source named `name` (a file name, or `synthetic`), made the first time.
#[tracing::instrument(skip_all)]
pub async fn candle_source(connection: &mut PgConnection, name: &str) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO candle_sources (name) VALUES ($1)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
         RETURNING id",
        name
    )
    .fetch_one(connection)
    .await
}

/// Stores `candles` in batches of `BATCH_SIZE`, each one `INSERT ... SELECT FROM UNNEST`; a bar
/// whose time the series already has is skipped, not overwritten. `progress` hears the rows
/// done after each batch.
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name(), rows = candles.len()))]
pub async fn insert_candles(
    connection: &mut PgConnection,
    owner: CandleOwner,
    series: &Series,
    source: &str,
    candles: &Candles,
    mut progress: impl FnMut(usize),
) -> Result<StoredCount, sqlx::Error> {
    let source = candle_source(&mut *connection, source).await?;
    let mut count = StoredCount::default();
    let mut start = 0;
    while start < candles.len() {
        let end = (start + BATCH_SIZE).min(candles.len());
        let inserted = sqlx::query!(
            "INSERT INTO candles (owner, pair, timeframe, time, open, high, low, close, volume, source_id)
             SELECT $10, $1, $2, to_timestamp(time), open, high, low, close, volume, $3
             FROM UNNEST($4::int8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
               AS batch (time, open, high, low, close, volume)
             ON CONFLICT (owner, pair, timeframe, time) DO NOTHING",
            series.pair,
            series.timeframe.name(),
            source,
            &candles.time[start..end],
            &candles.open[start..end],
            &candles.high[start..end],
            &candles.low[start..end],
            &candles.close[start..end],
            &candles.volume[start..end],
            owner.id(),
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

/// The shared bars of `series` (the sample data and the command line's imports) with a time in
/// `from..=to` (Unix seconds, either bound optional), sorted by time.
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name()))]
pub async fn read_candles(
    pool: &PgPool,
    series: &Series,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Candles, sqlx::Error> {
    read_owned_candles(pool, CandleOwner::Shared, series, from, to).await
}

/// The bars a trader's backtests read for `series` in `from..=to` (Unix seconds, either bound
/// optional), sorted by time: the trader's own upload of that pair and timeframe when there is
/// one, the shared series otherwise. Another trader's uploads are never read.
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name()))]
pub async fn candles_for(
    pool: &PgPool,
    user_id: UserId,
    series: &Series,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Candles, sqlx::Error> {
    let owner = series_owner_for(pool, user_id, series).await?;
    read_owned_candles(pool, owner, series, from, to).await
}

/// The last `count` bars of `owner`'s `series`, sorted by time: what the editor's signal
/// preview draws (with `series_owner_for` choosing the owner as `candles_for` does).
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name()))]
pub async fn latest_candles(
    pool: &PgPool,
    owner: CandleOwner,
    series: &Series,
    count: i64,
) -> Result<Candles, sqlx::Error> {
    let rows = sqlx::query_as!(
        Candle,
        r#"SELECT extract(epoch FROM time)::bigint AS "time!", open, high, low, close, volume
           FROM candles
           WHERE (owner = $1 OR ($1::uuid IS NULL AND owner IS NULL)) AND pair = $2 AND timeframe = $3
           ORDER BY time DESC
           LIMIT $4"#,
        owner.id(),
        series.pair,
        series.timeframe.name(),
        count,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().rev().collect())
}

/// Whose series of `series` a trader reads: the trader's own when it has any bar, else the
/// shared one.
pub async fn series_owner_for(
    pool: &PgPool,
    user_id: UserId,
    series: &Series,
) -> Result<CandleOwner, sqlx::Error> {
    let own = sqlx::query_scalar!(
        r#"SELECT EXISTS (
             SELECT 1 FROM candles WHERE owner = $1 AND pair = $2 AND timeframe = $3
           ) AS "exists!""#,
        user_id.0,
        series.pair,
        series.timeframe.name(),
    )
    .fetch_one(pool)
    .await?;
    Ok(if own {
        CandleOwner::User(user_id.0)
    } else {
        CandleOwner::Shared
    })
}

async fn read_owned_candles(
    pool: &PgPool,
    owner: CandleOwner,
    series: &Series,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Candles, sqlx::Error> {
    let mut rows = sqlx::query_as!(
        Candle,
        r#"SELECT extract(epoch FROM time)::bigint AS "time!", open, high, low, close, volume
           FROM candles
           WHERE (owner = $5 OR ($5::uuid IS NULL AND owner IS NULL)) AND pair = $1 AND timeframe = $2
             AND ($3::bigint IS NULL OR time >= to_timestamp($3))
             AND ($4::bigint IS NULL OR time <= to_timestamp($4))
           ORDER BY time"#,
        series.pair,
        series.timeframe.name(),
        from,
        to,
        owner.id(),
    )
    .fetch(pool);
    // Each bar goes into the columns as it arrives: no second copy of the range is held.
    let mut candles = Candles::default();
    while let Some(candle) = rows.try_next().await? {
        candles.push(candle);
    }
    Ok(candles)
}

/// How many bars of the series a trader's backtests read for `series` (as `candles_for`
/// chooses it) lie in `from..=to` (Unix seconds; no `from`: from the first bar): what a run
/// would read, counted before it is read.
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name()))]
pub async fn bars_between(
    pool: &PgPool,
    user_id: UserId,
    series: &Series,
    from: Option<i64>,
    to: i64,
) -> Result<i64, sqlx::Error> {
    let owner = series_owner_for(pool, user_id, series).await?;
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "bars!" FROM candles
           WHERE (owner = $1 OR ($1::uuid IS NULL AND owner IS NULL)) AND pair = $2 AND timeframe = $3
             AND ($4::bigint IS NULL OR time >= to_timestamp($4)) AND time <= to_timestamp($5)"#,
        owner.id(),
        series.pair,
        series.timeframe.name(),
        from,
        to as f64,
    )
    .fetch_one(pool)
    .await
}

/// The time of the `bars`-th bar before `before` in the series a trader's backtests read (the
/// first bar a run's indicators warm up on), or `None` when fewer bars come before it.
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name()))]
pub async fn history_start(
    pool: &PgPool,
    user_id: UserId,
    series: &Series,
    before: i64,
    bars: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let owner = series_owner_for(pool, user_id, series).await?;
    sqlx::query_scalar!(
        r#"SELECT extract(epoch FROM time)::bigint AS "time!" FROM candles
           WHERE (owner = $1 OR ($1::uuid IS NULL AND owner IS NULL)) AND pair = $2 AND timeframe = $3
             AND time < to_timestamp($4)
           ORDER BY time DESC
           OFFSET $5::int8 - 1 LIMIT 1"#,
        owner.id(),
        series.pair,
        series.timeframe.name(),
        before as f64,
        bars.max(1),
    )
    .fetch_optional(pool)
    .await
}

/// Every series a trader can read: the shared ones and the trader's own, each with its first and
/// last time and its number of bars, by pair and timeframe.
#[tracing::instrument(skip_all)]
pub async fn stored_series(
    pool: &PgPool,
    user_id: UserId,
) -> Result<Vec<StoredSeries>, sqlx::Error> {
    sqlx::query_as!(
        StoredSeries,
        r#"SELECT pair AS "pair!", timeframe AS "timeframe!", (owner IS NOT NULL) AS "own!",
                  (SELECT string_agg(name, ', ' ORDER BY name) FROM candle_sources
                   WHERE id = ANY(array_agg(DISTINCT c.source_id))) AS "sources!",
                  extract(epoch FROM min(time))::bigint AS "first_time!",
                  extract(epoch FROM max(time))::bigint AS "last_time!",
                  count(*) AS "bars!"
           FROM candles c
           WHERE owner IS NULL OR owner = $1
           GROUP BY owner, pair, timeframe
           ORDER BY pair, timeframe, owner NULLS LAST"#,
        user_id.0,
    )
    .fetch_all(pool)
    .await
}

/// How many bars `user_id` uploaded, over every series: what the candle quota counts.
#[tracing::instrument(skip_all)]
pub async fn owned_rows(pool: &PgPool, user_id: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "rows!" FROM candles WHERE owner = $1"#,
        user_id.0
    )
    .fetch_one(pool)
    .await
}

/// Whether the table holds no shared bar at all (a fresh install, before the sample data).
#[tracing::instrument(skip_all)]
pub async fn no_candles_stored(connection: &mut PgConnection) -> Result<bool, sqlx::Error> {
    Ok(!sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM candles WHERE owner IS NULL) AS "exists!""#
    )
    .fetch_one(connection)
    .await?)
}

/// The first and last bar of the series a trader's backtests read for `series` (as
/// `candles_for` chooses it) and how many there are; `None` without any.
#[tracing::instrument(skip_all, fields(pair = %series.pair, timeframe = series.timeframe.name()))]
pub async fn stored_span(
    pool: &PgPool,
    user_id: UserId,
    series: &Series,
) -> Result<Option<(i64, i64, i64)>, sqlx::Error> {
    let owner = series_owner_for(pool, user_id, series).await?;
    let row = sqlx::query!(
        r#"SELECT extract(epoch FROM min(time))::bigint AS first, extract(epoch FROM max(time))::bigint AS last,
                  count(*) AS "bars!"
           FROM candles
           WHERE (owner = $3 OR ($3::uuid IS NULL AND owner IS NULL)) AND pair = $1 AND timeframe = $2"#,
        series.pair,
        series.timeframe.name(),
        owner.id(),
    )
    .fetch_one(pool)
    .await?;
    Ok(match (row.first, row.last) {
        (Some(first), Some(last)) => Some((first, last, row.bars)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair_error(pair: &str) -> String {
        Series::parse(pair, "1d").unwrap_err().reason().to_string()
    }

    #[test]
    fn pairs_follow_the_language_rule_and_say_how_to_fix_them() {
        assert_eq!(Series::parse("BTC/USD", "1d").unwrap().pair, "BTC/USD");
        assert!(pair_error("btc/usd").contains("`BTC/USD`"));
        assert!(pair_error("BTCUSD").contains("not a trading pair"));
    }

    #[test]
    fn timeframes_are_the_languages_list() {
        assert_eq!(
            Series::parse("BTC/USD", "1d").unwrap().timeframe,
            Timeframe::OneDay
        );
        let error = Series::parse("BTC/USD", "1M").unwrap_err();
        assert_eq!(error.field(), "timeframe");
        assert!(error.reason().contains("1h, 4h, 1d, 1w"));
    }
}
