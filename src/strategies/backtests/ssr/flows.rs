//! The server side of backtests in the app: the strategy page's panel (what the start form
//! offers, the runs so far), starting and cancelling a run, a run's results, and the trades
//! as a CSV download. Runs themselves happen in `worker`.

use crate::strategies::StrategyId;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use tower_sessions::Session;
use uuid::Uuid;

use super::queue::{self, TradePage};
use crate::accounts::UserId;
use crate::{
    backtests::Trade,
    error::AppError,
    language,
    market_data::ssr::candle_store::{bars_between, stored_span, Series},
    state::AppState,
    strategies::{
        backtests::{
            plain_number, trades_csv, BacktestPanel, RunForm, RunResults, StoredRange,
            TRADES_PER_PAGE,
        },
        ssr::{document_text::validated, repository},
    },
};

/// The cash a run starts with unless the trader chooses otherwise.
const DEFAULT_CASH: f64 = 10_000.0;
/// The commission the form suggests, in percent per side.
const DEFAULT_COMMISSION_PERCENT: f64 = 0.1;

fn day_of(seconds: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .date_naive()
}

/// The pair and timeframe a document names, when it is valid enough to say.
async fn series_of(
    state: &AppState,
    user_id: UserId,
    content: &str,
    format: language::Format,
) -> Result<Option<Series>, AppError> {
    let validation = validated(state, user_id, content, format).await?;
    Ok(validation.into_valid().ok().and_then(|strategy| {
        Some(Series {
            pair: strategy.trading_pair,
            timeframe: strategy.timeframe?,
        })
    }))
}

/// The span of the series this trader's backtests read (their own upload, else the shared one).
async fn stored_range(
    state: &AppState,
    user_id: UserId,
    series: &Series,
) -> Result<Option<StoredRange>, AppError> {
    Ok(stored_span(&state.pool, user_id, series)
        .await?
        .map(|(first, last, bars)| StoredRange {
            first: day_of(first),
            last: day_of(last),
            bars,
        }))
}

pub async fn panel(
    state: &AppState,
    user_id: UserId,
    strategy_id: StrategyId,
) -> Result<BacktestPanel, AppError> {
    let mut connection = state.pool.acquire().await?;
    let document = repository::find(&mut connection, user_id, strategy_id)
        .await?
        .document;
    drop(connection);
    let series = series_of(state, user_id, &document.content, document.format).await?;
    let stored = match &series {
        Some(series) => stored_range(state, user_id, series).await?,
        None => None,
    };
    let defaults = RunForm {
        from: stored
            .as_ref()
            .map(|range| range.first.to_string())
            .unwrap_or_default(),
        to: stored
            .as_ref()
            .map(|range| range.last.to_string())
            .unwrap_or_default(),
        cash: plain_number(DEFAULT_CASH),
        commission: plain_number(DEFAULT_COMMISSION_PERCENT),
        slippage: plain_number(0.0),
    };
    Ok(BacktestPanel {
        strategy_id,
        current_version: document.version,
        series: series.map(|series| (series.pair, series.timeframe.name().to_string())),
        stored,
        defaults,
        runs: queue::list(&state.pool, user_id, strategy_id).await?,
    })
}

/// Queues a backtest of the strategy's current version; answers the run's id.
pub async fn start(
    state: &AppState,
    user_id: UserId,
    strategy_id: StrategyId,
    form: RunForm,
) -> Result<Uuid, AppError> {
    // A run costs the server minutes of CPU: only an account that confirmed its email starts
    // one.
    if !crate::accounts::ssr::repository::is_confirmed(&state.pool, user_id).await? {
        return Err(AppError::Forbidden {
            message: crate::accounts::confirm_email_first("run backtests"),
        });
    }
    let mut transaction = state.pool.begin().await?;
    // Holds the row, so the version queued is the version checked.
    repository::lock(&mut transaction, user_id, strategy_id).await?;
    let document = repository::find(&mut transaction, user_id, strategy_id)
        .await?
        .document;
    let Some(series) = series_of(state, user_id, &document.content, document.format).await? else {
        return Err(AppError::Conflict {
            message: format!(
                "Version {} has errors; fix them before running a backtest.",
                document.version
            ),
            current_version: Some(document.version),
        });
    };
    let choice = form.parse()?;
    let described = format!("{} {}", series.pair, series.timeframe.name());
    let Some(stored) = stored_range(state, user_id, &series).await? else {
        return Err(AppError::field(
            "from",
            format!("No {described} candles are stored yet; import some first."),
        ));
    };
    if choice.to < stored.first || choice.from > stored.last {
        return Err(AppError::field(
            "from",
            format!(
                "The stored {described} candles cover {} to {}; choose days in that range.",
                stored.first, stored.last
            ),
        ));
    }
    let (from, to) = (
        choice.from.and_time(NaiveTime::MIN).and_utc().timestamp(),
        choice.to.and_time(NaiveTime::MIN).and_utc().timestamp() + 86_399,
    );
    let bars = bars_between(&state.pool, user_id, &series, Some(from), to).await?;
    let max_bars = state.settings.bounds.backtest_max_bars as i64;
    if bars > max_bars {
        crate::web::instruments::limit_hit("backtest_bars");
        return Err(AppError::field(
            "from",
            format!(
                "These days hold {bars} {described} bars, more than the {max_bars} one backtest may read; choose a shorter range."
            ),
        ));
    }
    let id = queue::enqueue(
        &mut transaction,
        user_id,
        strategy_id,
        document.version,
        (&series.pair, series.timeframe.name()),
        &choice,
        state.settings.bounds.backtests_per_user,
    )
    .await?;
    transaction.commit().await?;
    tracing::info!(%strategy_id, run_id = %id, version = document.version, "backtest queued");
    Ok(id)
}

pub async fn cancel(
    state: &AppState,
    user_id: UserId,
    strategy_id: StrategyId,
    run_id: Uuid,
) -> Result<(), AppError> {
    let mut transaction = state.pool.begin().await?;
    let cancelled = queue::cancel(&mut transaction, user_id, strategy_id, run_id).await?;
    transaction.commit().await?;
    if cancelled {
        tracing::info!(%run_id, "backtest cancelled");
        return Ok(());
    }
    // Either not this user's (not found) or already over.
    let run = queue::find(
        &state.pool,
        user_id,
        strategy_id,
        run_id,
        TradePage { first: 0, count: 0 },
    )
    .await?;
    Err(AppError::Conflict {
        message: format!(
            "This backtest is already {}; only a waiting or running one can be cancelled.",
            run.summary.status.label().to_lowercase()
        ),
        current_version: None,
    })
}

fn stored_json<T: serde::de::DeserializeOwned>(
    value: Option<serde_json::Value>,
) -> Result<Option<T>, AppError> {
    value
        .map(serde_json::from_value)
        .transpose()
        .map_err(AppError::internal)
}

/// A run's results with page `page` (1-based; past the last, the last) of its trades. The
/// charts are what the run stored (thinned when it ended), so no candle is read here.
pub async fn results(
    state: &AppState,
    user_id: UserId,
    strategy_id: StrategyId,
    run_id: Uuid,
    page: u32,
) -> Result<RunResults, AppError> {
    let page_of = |page: u32| TradePage {
        first: i64::from(page.max(1) - 1) * TRADES_PER_PAGE,
        count: TRADES_PER_PAGE,
    };
    let mut stored = queue::find(&state.pool, user_id, strategy_id, run_id, page_of(page)).await?;
    let last_page =
        u32::try_from((stored.trades_kept.max(1) - 1) / TRADES_PER_PAGE + 1).unwrap_or(u32::MAX);
    if page > last_page {
        stored = queue::find(
            &state.pool,
            user_id,
            strategy_id,
            run_id,
            page_of(last_page),
        )
        .await?;
    }
    let mut connection = state.pool.acquire().await?;
    let strategy = repository::find(&mut connection, user_id, strategy_id)
        .await?
        .document;
    drop(connection);
    Ok(RunResults {
        run: stored.summary,
        strategy_name: strategy.name,
        current_version: strategy.version,
        metrics: stored_json(stored.metrics)?,
        trades: stored_json(stored.trades)?.unwrap_or_default(),
        trades_first: page_of(page.min(last_page)).first,
        trades_kept: stored.trades_kept,
        equity: stored_json(stored.equity)?.unwrap_or_default(),
        // Runs from before the series was kept with them show the equity alone.
        prices: stored_json(stored.prices)?.unwrap_or_default(),
    })
}

/// `GET /strategies/{id}/backtests/{run}/trades.csv`: the run's trades; another user's run,
/// like a missing one, is a 404.
pub async fn trades_download(
    State(state): State<AppState>,
    session: Session,
    Path((strategy_id, run_id)): Path<(StrategyId, Uuid)>,
) -> Response {
    let user = match crate::accounts::ssr::sessions::current_user(&session, &state.pool).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return AppError::NotFound.into_response(),
        Err(error) => return error.into_response(),
    };
    let stored = match queue::find(&state.pool, user, strategy_id, run_id, TradePage::ALL).await {
        Ok(stored) => stored,
        Err(error) => return error.into_response(),
    };
    let trades: Vec<Trade> = match stored_json(stored.trades) {
        Ok(trades) => trades.unwrap_or_default(),
        Err(error) => return error.into_response(),
    };
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"backtest-{}-version-{}-trades.csv\"",
                    &run_id.simple().to_string()[..8],
                    stored.summary.version
                ),
            ),
        ],
        trades_csv(&trades),
    )
        .into_response()
}
