//! The `backtest_runs` table, which is also the queue: every statement a `query!`, every one a
//! page reads filtered by the owner (`user_id`) in SQL. A run is claimed with
//! `FOR UPDATE SKIP LOCKED` and a lease; the claim holds a transaction-scoped advisory lock
//! while it counts the runs with a live lease, so two servers claiming at once cannot both
//! take the last free place under `MAX_CONCURRENT_BACKTESTS`. Claims are fair between users:
//! the next run is the oldest of the user with the fewest runs running now, so one user's many
//! runs never make everyone else wait. A user has at most `BACKTESTS_PER_USER` waiting or
//! running, and sees only their own place in line.

use crate::strategies::StrategyId;
use chrono::{DateTime, NaiveTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::accounts::UserId;
use crate::{
    error::AppError,
    realtime,
    strategies::backtests::{
        EquityCurve, PriceSeries, RunChange, RunChoice, RunSettings, RunStatus, RunSummary,
    },
    strategies::ssr::events::BacktestChanged,
};

/// A run whose lease expired this many times (its server died mid-run each time) is given up
/// as failed rather than claimed again.
pub const MAX_ATTEMPTS: i32 = 3;

/// The runs a strategy page lists, newest first.
pub const LISTED_RUNS: i64 = 20;

/// What a worker needs to run a claimed backtest.
#[derive(Debug, Clone)]
pub struct ClaimedRun {
    pub id: Uuid,
    pub user_id: UserId,
    pub strategy_id: StrategyId,
    pub version: i32,
    pub settings: RunSettings,
    /// The text of exactly that version, and its notation.
    pub content: String,
    pub format: String,
}

/// The start of a day and its last second, in UTC: the stored bounds of a run's range.
fn day_bounds(choice: &RunChoice) -> (DateTime<Utc>, DateTime<Utc>) {
    let last_second = NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time");
    (
        choice.from.and_time(NaiveTime::MIN).and_utc(),
        choice.to.and_time(last_second).and_utc(),
    )
}

/// Tells the owner's pages and every server's worker about a run's new status, on commit.
pub async fn announce(
    connection: &mut PgConnection,
    user_id: UserId,
    strategy_id: StrategyId,
    run_id: Uuid,
    status: RunStatus,
) -> Result<(), AppError> {
    let change = RunChange {
        strategy_id,
        run_id,
        status,
    };
    realtime::publish(&mut *connection, &BacktestChanged { user_id, change }).await?;
    Ok(())
}

/// The most trades a finished run keeps (its metrics count every one); a strategy that trades
/// on every other bar of millions would otherwise store hundreds of megabytes.
pub const MAX_STORED_TRADES: usize = 10_000;

/// Queues a run of `version` of the strategy (the series comes from that version's document),
/// unless the user already has `cap` runs waiting or running: then 429 with a sentence. The
/// count and the insert hold the user's queue lock, so two starts at once cannot both pass.
#[tracing::instrument(skip_all)]
pub async fn enqueue(
    connection: &mut PgConnection,
    user_id: UserId,
    strategy_id: StrategyId,
    version: i32,
    series: (&str, &str),
    choice: &RunChoice,
    cap: i64,
) -> Result<Uuid, AppError> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext('backtest_runs_user'), hashtext($1::uuid::text))",
        user_id.0
    )
    .execute(&mut *connection)
    .await?;
    let live = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM backtest_runs
           WHERE user_id = $1 AND status IN ('queued', 'running')"#,
        user_id.0
    )
    .fetch_one(&mut *connection)
    .await?;
    if live >= cap {
        crate::web::instruments::limit_hit("backtests_per_user");
        return Err(AppError::LimitReached {
            message: format!(
                "You have {live} backtests waiting or running, the most one account may have at once; \
                 wait for one to finish or cancel one."
            ),
        });
    }
    let (from, to) = day_bounds(choice);
    let id = sqlx::query_scalar!(
        "INSERT INTO backtest_runs (user_id, strategy_id, version, pair, timeframe, range_from,
                                    range_to, initial_cash, commission, slippage)
         SELECT $1, s.id, $3, $4, $5, to_timestamp($6::bigint), to_timestamp($7::bigint), $8, $9, $10
         FROM strategies s WHERE s.id = $2 AND s.user_id = $1
         RETURNING id",
        user_id.0,
        strategy_id.0,
        version,
        series.0,
        series.1,
        from.timestamp(),
        to.timestamp(),
        choice.initial_cash,
        choice.commission,
        choice.slippage
    )
    .fetch_optional(&mut *connection)
    .await?
    .ok_or(AppError::NotFound)?;
    announce(connection, user_id, strategy_id, id, RunStatus::Queued).await?;
    Ok(id)
}

/// Claims the oldest waiting run (or a running one whose lease expired) for `worker_id`, if
/// fewer than `cap` runs hold a live lease across every server. The claim is announced.
#[tracing::instrument(skip_all)]
pub async fn claim_next(
    pool: &PgPool,
    worker_id: Uuid,
    lease_seconds: f64,
    cap: i64,
) -> Result<Option<ClaimedRun>, AppError> {
    let mut transaction = pool.begin().await?;
    // Claims wait for each other here, so each one counts the others' committed claims.
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('backtest_runs_claim'))")
        .execute(&mut *transaction)
        .await?;
    let claimed = sqlx::query!(
        r#"UPDATE backtest_runs r
           SET status = 'running', worker_id = $1,
               lease_until = clock_timestamp() + make_interval(secs => $2),
               attempts = attempts + 1, started_at = clock_timestamp(), error = NULL
           FROM strategy_versions v
           WHERE r.id = (
               SELECT id FROM backtest_runs
               WHERE (status = 'queued' OR (status = 'running' AND lease_until < clock_timestamp()))
                 AND attempts < $4
               ORDER BY (SELECT count(*) FROM backtest_runs mine
                         WHERE mine.user_id = backtest_runs.user_id AND mine.status = 'running'
                           AND mine.lease_until >= clock_timestamp()),
                        queued_at, id
               FOR UPDATE SKIP LOCKED
               LIMIT 1)
             AND (SELECT count(*) FROM backtest_runs
                  WHERE status = 'running' AND lease_until >= clock_timestamp()) < $3
             AND v.strategy_id = r.strategy_id AND v.number = r.version
           RETURNING r.id, r.user_id, r.strategy_id, r.version, r.pair, r.timeframe,
                     r.range_from AS "range_from: DateTime<Utc>", r.range_to AS "range_to: DateTime<Utc>",
                     r.initial_cash, r.commission, r.slippage, v.content, v.format"#,
        worker_id,
        lease_seconds,
        cap,
        MAX_ATTEMPTS
    )
    .fetch_optional(&mut *transaction)
    .await?;
    let Some(row) = claimed else {
        transaction.commit().await?;
        return Ok(None);
    };
    announce(
        &mut transaction,
        UserId(row.user_id),
        StrategyId(row.strategy_id),
        row.id,
        RunStatus::Running,
    )
    .await?;
    transaction.commit().await?;
    Ok(Some(ClaimedRun {
        id: row.id,
        user_id: UserId(row.user_id),
        strategy_id: StrategyId(row.strategy_id),
        version: row.version,
        settings: RunSettings {
            pair: row.pair,
            timeframe: row.timeframe,
            from: row.range_from.date_naive(),
            to: row.range_to.date_naive(),
            initial_cash: row.initial_cash,
            commission: row.commission,
            slippage: row.slippage,
        },
        content: row.content,
        format: row.format,
    }))
}

/// Keeps a running run's lease; false when the run is no longer this worker's to run
/// (cancelled, or taken over after the lease ran out).
#[tracing::instrument(skip_all)]
pub async fn extend_lease(
    pool: &PgPool,
    run_id: Uuid,
    worker_id: Uuid,
    lease_seconds: f64,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        "UPDATE backtest_runs SET lease_until = clock_timestamp() + make_interval(secs => $3)
         WHERE id = $1 AND worker_id = $2 AND status = 'running'",
        run_id,
        worker_id,
        lease_seconds
    )
    .execute(pool)
    .await?
    .rows_affected()
        == 1)
}

/// How a run ended, as its worker stores it.
pub enum RunEnd<'a> {
    /// The figures, the trades (at most `MAX_STORED_TRADES`), the thinned equity curve and
    /// price series.
    Finished {
        metrics: serde_json::Value,
        trades: serde_json::Value,
        equity: &'a EquityCurve,
        prices: &'a PriceSeries,
    },
    /// A sentence for the trader.
    Failed(&'a str),
}

/// Stores how a run ended, unless it was cancelled or taken over meanwhile (then nothing is
/// stored, the results are discarded, and false comes back).
#[tracing::instrument(skip_all)]
pub async fn conclude(
    pool: &PgPool,
    run: &ClaimedRun,
    worker_id: Uuid,
    end: RunEnd<'_>,
) -> Result<bool, AppError> {
    let (status, metrics, trades, equity, prices, error) = match end {
        RunEnd::Finished {
            metrics,
            trades,
            equity,
            prices,
        } => (
            RunStatus::Finished,
            Some(metrics),
            Some(trades),
            Some(serde_json::to_value(equity).map_err(AppError::internal)?),
            Some(serde_json::to_value(prices).map_err(AppError::internal)?),
            None,
        ),
        RunEnd::Failed(reason) => (RunStatus::Failed, None, None, None, None, Some(reason)),
    };
    let mut transaction = pool.begin().await?;
    let stored = sqlx::query!(
        "UPDATE backtest_runs SET status = $3, finished_at = clock_timestamp(), lease_until = NULL,
                metrics = $4, trades = $5, equity = $6, prices = $7, error = $8
         WHERE id = $1 AND worker_id = $2 AND status = 'running'",
        run.id,
        worker_id,
        status.as_str(),
        metrics,
        trades,
        equity,
        prices,
        error
    )
    .execute(&mut *transaction)
    .await?
    .rows_affected()
        == 1;
    if stored {
        announce(
            &mut transaction,
            run.user_id,
            run.strategy_id,
            run.id,
            status,
        )
        .await?;
    }
    transaction.commit().await?;
    Ok(stored)
}

/// Gives up runs whose servers died mid-run `MAX_ATTEMPTS` times; answers how many.
#[tracing::instrument(skip_all)]
pub async fn give_up_exhausted(pool: &PgPool) -> Result<u64, AppError> {
    let mut transaction = pool.begin().await?;
    let given_up = sqlx::query!(
        "UPDATE backtest_runs SET status = 'failed', finished_at = clock_timestamp(),
                lease_until = NULL,
                error = 'The server running this backtest stopped ' || attempts || ' times; start it again.'
         WHERE status = 'running' AND lease_until < clock_timestamp() AND attempts >= $1
         RETURNING id, user_id, strategy_id",
        MAX_ATTEMPTS
    )
    .fetch_all(&mut *transaction)
    .await?;
    for run in &given_up {
        announce(
            &mut transaction,
            UserId(run.user_id),
            StrategyId(run.strategy_id),
            run.id,
            RunStatus::Failed,
        )
        .await?;
    }
    transaction.commit().await?;
    Ok(given_up.len() as u64)
}

/// Cancels a waiting or running run of this user; false when it had already ended.
#[tracing::instrument(skip_all)]
pub async fn cancel(
    connection: &mut PgConnection,
    user_id: UserId,
    strategy_id: StrategyId,
    run_id: Uuid,
) -> Result<bool, AppError> {
    let cancelled = sqlx::query!(
        "UPDATE backtest_runs SET status = 'cancelled', finished_at = clock_timestamp(),
                lease_until = NULL
         WHERE id = $1 AND user_id = $2 AND strategy_id = $3 AND status IN ('queued', 'running')",
        run_id,
        user_id.0,
        strategy_id.0
    )
    .execute(&mut *connection)
    .await?
    .rows_affected()
        == 1;
    if cancelled {
        announce(
            connection,
            user_id,
            strategy_id,
            run_id,
            RunStatus::Cancelled,
        )
        .await?;
    }
    Ok(cancelled)
}

/// Whether a run of exactly this version finished (the activation gate).
#[tracing::instrument(skip_all)]
pub async fn has_finished_run(
    connection: &mut PgConnection,
    user_id: UserId,
    strategy_id: StrategyId,
    version: i32,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM backtest_runs
             WHERE user_id = $1 AND strategy_id = $2 AND version = $3 AND status = 'finished')
           AS "finished!""#,
        user_id.0,
        strategy_id.0,
        version
    )
    .fetch_one(connection)
    .await?)
}

/// The columns of a run that a list row and the results page share.
struct RunRow {
    id: Uuid,
    strategy_id: Uuid,
    version: i32,
    status: String,
    pair: String,
    timeframe: String,
    range_from: DateTime<Utc>,
    range_to: DateTime<Utc>,
    initial_cash: f64,
    commission: f64,
    slippage: f64,
    queued_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<String>,
    total_return: Option<f64>,
    trades_count: Option<i64>,
    place_in_line: Option<i64>,
}

impl RunRow {
    fn into_summary(self) -> Result<RunSummary, AppError> {
        Ok(RunSummary {
            id: self.id,
            strategy_id: StrategyId(self.strategy_id),
            version: self.version,
            status: RunStatus::parse(&self.status).ok_or_else(|| {
                AppError::internal(format!("unknown backtest status {:?} stored", self.status))
            })?,
            settings: RunSettings {
                pair: self.pair,
                timeframe: self.timeframe,
                from: self.range_from.date_naive(),
                to: self.range_to.date_naive(),
                initial_cash: self.initial_cash,
                commission: self.commission,
                slippage: self.slippage,
            },
            queued_at: self.queued_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            place_in_line: self.place_in_line,
            total_return: self.total_return,
            trades: self.trades_count,
            error: self.error,
        })
    }
}

/// This user's runs of a strategy, newest first, with each waiting run's place in line; only
/// `run` when one is named.
#[tracing::instrument(skip_all)]
async fn runs(
    pool: &PgPool,
    user_id: UserId,
    strategy_id: StrategyId,
    run: Option<Uuid>,
) -> Result<Vec<RunSummary>, AppError> {
    sqlx::query_as!(
        RunRow,
        r#"SELECT r.id, r.strategy_id, r.version, r.status, r.pair, r.timeframe,
                  r.range_from AS "range_from: DateTime<Utc>", r.range_to AS "range_to: DateTime<Utc>",
                  r.initial_cash, r.commission, r.slippage, r.queued_at AS "queued_at: DateTime<Utc>",
                  r.started_at AS "started_at: DateTime<Utc>", r.finished_at AS "finished_at: DateTime<Utc>",
                  r.error,
                  (r.metrics->>'total_return')::float8 AS total_return,
                  (r.metrics->>'trades')::int8 AS trades_count,
                  CASE WHEN r.status = 'queued' THEN
                    (SELECT count(*) FROM backtest_runs q
                     WHERE q.user_id = r.user_id AND q.status = 'queued'
                       AND (q.queued_at, q.id) <= (r.queued_at, r.id))
                  END AS place_in_line
           FROM backtest_runs r
           WHERE r.strategy_id = $1 AND r.user_id = $2 AND ($3::uuid IS NULL OR r.id = $3)
           ORDER BY r.queued_at DESC, r.id
           LIMIT $4"#,
        strategy_id.0,
        user_id.0,
        run,
        LISTED_RUNS
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(RunRow::into_summary)
    .collect()
}

pub async fn list(
    pool: &PgPool,
    user_id: UserId,
    strategy_id: StrategyId,
) -> Result<Vec<RunSummary>, AppError> {
    runs(pool, user_id, strategy_id, None).await
}

/// One run of this user's strategy with its stored results (JSON as stored): one page of its
/// trades, and how many it kept.
pub struct StoredRun {
    pub summary: RunSummary,
    pub metrics: Option<serde_json::Value>,
    pub trades: Option<serde_json::Value>,
    pub trades_kept: i64,
    pub equity: Option<serde_json::Value>,
    pub prices: Option<serde_json::Value>,
}

/// Which of a run's kept trades to read: `count` from the `first` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradePage {
    pub first: i64,
    pub count: i64,
}

impl TradePage {
    /// Every kept trade (the CSV download).
    pub const ALL: TradePage = TradePage {
        first: 0,
        count: MAX_STORED_TRADES as i64,
    };
}

#[tracing::instrument(skip_all)]
pub async fn find(
    pool: &PgPool,
    user_id: UserId,
    strategy_id: StrategyId,
    run_id: Uuid,
    trades: TradePage,
) -> Result<StoredRun, AppError> {
    let summary = runs(pool, user_id, strategy_id, Some(run_id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let stored = sqlx::query!(
        r#"SELECT metrics, equity, prices,
                  CASE WHEN trades IS NULL THEN NULL
                       ELSE jsonb_path_query_array(trades, '$[$first to $last]',
                              jsonb_build_object('first', $3::int8, 'last', $3::int8 + $4::int8 - 1))
                  END AS trades,
                  coalesce(jsonb_array_length(trades), 0) AS "trades_kept!"
           FROM backtest_runs WHERE id = $1 AND user_id = $2"#,
        run_id,
        user_id.0,
        trades.first,
        trades.count
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(StoredRun {
        summary,
        metrics: stored.metrics,
        trades: stored.trades,
        trades_kept: i64::from(stored.trades_kept),
        equity: stored.equity,
        prices: stored.prices,
    })
}

/// How many runs wait and how many run, across every user: the operator's view of the queue
/// (the `/metrics` gauges), never shown to a trader.
pub async fn queue_depth(pool: &PgPool) -> Result<(u64, u64), AppError> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'queued') AS "queued!",
                  count(*) FILTER (WHERE status = 'running') AS "running!"
           FROM backtest_runs WHERE status IN ('queued', 'running')"#
    )
    .fetch_one(pool)
    .await?;
    Ok((
        u64::try_from(row.queued).unwrap_or_default(),
        u64::try_from(row.running).unwrap_or_default(),
    ))
}
