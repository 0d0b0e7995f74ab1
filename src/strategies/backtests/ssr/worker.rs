//! One backtest worker per server process: it claims queued runs while the cap allows
//! (`queue::claim_next`) and this process has a thread free for one, runs each on a
//! blocking thread with the engine over the stored candles, keeps the run's lease alive
//! meanwhile, and stores the results. It wakes on every `BacktestChanged` (a run queued, or a
//! place freed) and on a periodic poll, which also finds runs whose server died (their lease
//! expired).
//!
//! A run is bounded: it reads at most `BACKTEST_MAX_BARS` bars (the traded days and the
//! history its indicators warm up on, never the whole series), runs at most
//! `BACKTEST_TIME_LIMIT_SECS`, and keeps at most `MAX_STORED_TRADES` trades. Cancelling it
//! stops the engine itself within a block of bars (the engine asks a flag), and its thread is
//! counted until it has stopped, so this process never runs more engines than the cap.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use chrono::NaiveTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::queue::{self, ClaimedRun, RunEnd, MAX_STORED_TRADES};
use crate::{
    backtests::{footprint, run_backtest_until, BacktestError, BacktestSettings},
    error::AppError,
    language::{model::Timeframe, syntax_test::history_needed, Format},
    market_data::ssr::candle_store::{bars_between, candles_for, history_start, Series},
    state::AppState,
    strategies::{
        backtests::{EquityCurve, PriceSeries, RunStatus},
        ssr::{document_text::validated, events::BacktestChanged},
    },
};

/// How long a claim holds a run without news from its worker; extended every third of it.
pub const LEASE: Duration = Duration::from_secs(30);

/// This process's engines: a thread each (`MAX_CONCURRENT_BACKTESTS`), and the megabytes
/// their runs may hold together (`BACKTEST_MEMORY_MB`), taken by each run's estimate.
#[derive(Clone)]
pub struct Engines {
    threads: Arc<Semaphore>,
    memory_mb: Arc<Semaphore>,
    budget_mb: u32,
}

impl Engines {
    pub fn new(state: &AppState) -> Self {
        let budget_mb = state.settings.bounds.backtest_memory_mb;
        Engines {
            threads: Arc::new(Semaphore::new(
                state.settings.max_concurrent_backtests as usize,
            )),
            memory_mb: Arc::new(Semaphore::new(budget_mb as usize)),
            budget_mb,
        }
    }
}

/// Starts this process's worker.
pub fn spawn(state: &AppState, poll: Duration) {
    let state = state.clone();
    let mut wake = state.realtime.subscribe::<BacktestChanged>();
    let worker_id = Uuid::new_v4();
    let engines = Engines::new(&state);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(poll);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    if let Err(error) = queue::give_up_exhausted(&state.pool).await {
                        tracing::warn!(%error, "could not give up stalled backtests");
                    }
                }
                event = wake.recv() => if event.is_none() { break },
            }
            claim_while_allowed(&state, worker_id, &engines).await;
        }
    });
}

/// Claims runs until the queue is empty, the cap is reached or this process has no engine
/// thread free, each run on its own task holding one of `engines` until its thread is done;
/// when a run's thread is done (finished, failed or stopped), its place is offered again at
/// once.
pub fn claim_while_allowed<'a>(
    state: &'a AppState,
    worker_id: Uuid,
    engines: &'a Engines,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        let cap = i64::from(state.settings.max_concurrent_backtests);
        loop {
            let Ok(engine) = engines.threads.clone().try_acquire_owned() else {
                break;
            };
            match queue::claim_next(&state.pool, worker_id, LEASE.as_secs_f64(), cap).await {
                Ok(Some(run)) => {
                    tracing::info!(run_id = %run.id, attempt = "claimed", "backtest started");
                    let (state, engines) = (state.clone(), engines.clone());
                    tokio::spawn(async move {
                        run_claimed(&state, worker_id, run, engine, &engines).await;
                        claim_while_allowed(&state, worker_id, &engines).await;
                    });
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "could not claim a backtest");
                    break;
                }
            }
        }
    })
}

/// Runs a claimed backtest to its end: results stored, or the reason it failed; nothing when
/// it was cancelled (or taken over) meanwhile. `engine` is held until the engine's thread has
/// returned.
pub async fn run_claimed(
    state: &AppState,
    worker_id: Uuid,
    run: ClaimedRun,
    engine: OwnedSemaphorePermit,
    engines: &Engines,
) {
    let cancelled = Arc::new(AtomicBool::new(false));
    let mut changes = state.realtime.subscribe::<BacktestChanged>();
    // Until the run ends: the lease is kept, and a cancel (from any server) or a lost lease
    // raises the flag the engine asks.
    let watch = async {
        let mut extend = tokio::time::interval(LEASE / 3);
        extend.tick().await;
        loop {
            tokio::select! {
                _ = extend.tick() => {
                    match queue::extend_lease(&state.pool, run.id, worker_id, LEASE.as_secs_f64()).await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(error) => tracing::warn!(%error, run_id = %run.id, "could not extend a lease"),
                    }
                }
                change = changes.recv() => match change {
                    Some(BacktestChanged { change, .. })
                        if change.run_id == run.id && change.status == RunStatus::Cancelled => break,
                    Some(_) => {}
                    None => break,
                },
            }
        }
        cancelled.store(true, Ordering::Relaxed);
        std::future::pending::<()>().await
    };
    let outcome = tokio::select! {
        outcome = compute(state, &run, cancelled.clone(), engine, engines) => outcome,
        () = watch => unreachable!("the watch never ends by itself"),
    };
    if cancelled.load(Ordering::Relaxed) {
        tracing::info!(run_id = %run.id, "backtest cancelled; its engine stopped and its results are discarded");
        return;
    }
    let reason;
    let end = match &outcome {
        Ok(computed) => {
            let metrics = serde_json::to_value(&computed.report.metrics);
            let kept =
                &computed.report.trades[..computed.report.trades.len().min(MAX_STORED_TRADES)];
            let trades = serde_json::to_value(kept);
            match (metrics, trades) {
                (Ok(metrics), Ok(trades)) => RunEnd::Finished {
                    metrics,
                    trades,
                    equity: &computed.equity,
                    prices: &computed.prices,
                },
                _ => RunEnd::Failed("The results could not be stored."),
            }
        }
        Err(RunFailure::Backtest(BacktestError::Stopped)) => {
            crate::web::instruments::limit_hit("backtest_time");
            let seconds = state.settings.bounds.backtest_time_limit.as_secs();
            reason = format!(
                "The backtest ran for {seconds} second{}, the longest one may run, so it was \
                 stopped; choose a shorter range.",
                if seconds == 1 { "" } else { "s" }
            );
            RunEnd::Failed(&reason)
        }
        Err(RunFailure::Backtest(error)) => {
            reason = sentence(error);
            RunEnd::Failed(&reason)
        }
        Err(RunFailure::Refused(refusal)) => RunEnd::Failed(refusal),
        Err(RunFailure::Internal(error)) => {
            tracing::error!(%error, run_id = %run.id, "a backtest could not run");
            RunEnd::Failed(
                "The backtest could not run because of an error on our side; start it again.",
            )
        }
    };
    let stored = queue::conclude(&state.pool, &run, worker_id, end).await;
    match stored {
        Ok(true) => tracing::info!(run_id = %run.id, "backtest ended"),
        Ok(false) => {
            tracing::info!(run_id = %run.id, "backtest cancelled; its results are discarded")
        }
        Err(error) => tracing::warn!(%error, run_id = %run.id, "could not store a backtest's end"),
    }
}

enum RunFailure {
    /// The engine refused: the trader can do something about it.
    Backtest(BacktestError),
    /// A bound of the run, said as a sentence.
    Refused(String),
    Internal(AppError),
}

impl From<AppError> for RunFailure {
    fn from(error: AppError) -> Self {
        RunFailure::Internal(error)
    }
}

impl From<sqlx::Error> for RunFailure {
    fn from(error: sqlx::Error) -> Self {
        RunFailure::Internal(AppError::from(error))
    }
}

/// Returns once `cancelled` is raised (asked every 50 ms): what a run's waits give way to.
async fn raised(cancelled: &AtomicBool) {
    while !cancelled.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The engine's reason as a sentence: "There are no candles in the chosen range."
fn sentence(error: &BacktestError) -> String {
    let text = error.to_string();
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), characters.as_str()),
        None => text,
    }
}

/// What a finished run stores besides its metrics and trades.
struct Computed {
    report: crate::backtests::BacktestReport,
    equity: EquityCurve,
    prices: PriceSeries,
}

/// Bars read before the first traded day for every bar of warm-up the conditions need:
/// indicators that average over all their history (EMA, RSI) settle within a few times their
/// period.
const HISTORY_PER_WARM_UP_BAR: i64 = 5;

/// The candles of the run's days and the history its indicators warm up on (never more than
/// `BACKTEST_MAX_BARS`), and the engine on a blocking thread that stops when `cancelled` is
/// raised or the time limit passes. `engine` is let go when that thread returns.
async fn compute(
    state: &AppState,
    run: &ClaimedRun,
    cancelled: Arc<AtomicBool>,
    engine: OwnedSemaphorePermit,
    engines: &Engines,
) -> Result<Computed, RunFailure> {
    let bounds = state.settings.bounds;
    // The time limit counts from the claim: reading the bars is part of the run.
    let deadline = Instant::now() + bounds.backtest_time_limit;
    let format = Format::from_name(&run.format)
        .ok_or_else(|| AppError::internal(format!("unknown format {:?} stored", run.format)))?;
    let timeframe = Timeframe::from_name(&run.settings.timeframe).ok_or_else(|| {
        AppError::internal(format!("unknown timeframe {:?}", run.settings.timeframe))
    })?;
    let series = Series {
        pair: run.settings.pair.clone(),
        timeframe,
    };
    let from = run
        .settings
        .from
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp();
    let to = run
        .settings
        .to
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp()
        + 86_399;
    let strategy = validated(state, run.user_id, &run.content, format)
        .await?
        .into_valid()
        .map_err(|diagnostics| RunFailure::Backtest(BacktestError::InvalidStrategy(diagnostics)))?;
    let history = (i64::from(history_needed(&strategy)) + 1) * HISTORY_PER_WARM_UP_BAR;
    // The trader's own upload of the series when there is one, as the start form showed.
    // None: fewer bars come before the first day than the warm-up asks; all of them then.
    let first = history_start(&state.pool, run.user_id, &series, from, history).await?;
    let bars = bars_between(&state.pool, run.user_id, &series, first, to).await?;
    if bars > bounds.backtest_max_bars as i64 {
        crate::web::instruments::limit_hit("backtest_bars");
        return Err(RunFailure::Refused(format!(
            "This backtest would read {bars} bars, more than the {} one run may read; choose a shorter range.",
            bounds.backtest_max_bars
        )));
    }
    // Room for what the run will hold, before its bars are read: it waits while other runs
    // hold the rest of the budget.
    let needed_mb = footprint::estimated_bytes(&strategy, bars as u64).div_ceil(1024 * 1024);
    if needed_mb > u64::from(engines.budget_mb) {
        crate::web::instruments::limit_hit("backtest_memory");
        return Err(RunFailure::Refused(format!(
            "This backtest would hold about {needed_mb} MB ({bars} bars, {} columns), more than the {} MB this server gives its backtests; choose a shorter range or fewer indicators.",
            footprint::columns(&strategy),
            engines.budget_mb
        )));
    }
    // A cancel stops the waits and the reading at once, not only the engine.
    let memory = tokio::select! {
        permit = engines.memory_mb.clone().acquire_many_owned(needed_mb.max(1) as u32) => {
            permit.map_err(AppError::internal)?
        }
        () = raised(&cancelled) => return Err(RunFailure::Backtest(BacktestError::Stopped)),
    };
    let candles = tokio::select! {
        candles = candles_for(&state.pool, run.user_id, &series, first, Some(to)) => candles?,
        () = raised(&cancelled) => return Err(RunFailure::Backtest(BacktestError::Stopped)),
    };
    let settings = BacktestSettings {
        initial_cash: run.settings.initial_cash,
        commission: run.settings.commission,
        slippage: run.settings.slippage,
        from: Some(from),
        to: Some(to),
    };
    // The engine on a thread of its own, below the async threads' priority (as the work
    // pool's), so that pages and `/health` answer while runs compute.
    let (answer, computed) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("backtest-engine".into())
        .spawn(move || {
            crate::work_pool::lower_this_thread_s_priority();
            let _held = (
                engine,
                memory,
                crate::web::instruments::EngineRunning::started(),
            );
            let stop = || cancelled.load(Ordering::Relaxed) || Instant::now() >= deadline;
            let outcome = run_backtest_until(&strategy, &candles, &settings, &stop).map(|report| {
                let (times, values): (Vec<i64>, Vec<f64>) = report
                    .equity_curve
                    .iter()
                    .map(|point| (point.time, point.equity))
                    .unzip();
                let traded = candles.bar_range(Some(from), Some(to));
                Computed {
                    equity: EquityCurve::thinned(&times, &values),
                    prices: PriceSeries::thinned(
                        &candles.time[traded.clone()],
                        &candles.close[traded],
                    ),
                    report,
                }
            });
            // The run may have been given up meanwhile; then nobody waits for the outcome.
            let _ = answer.send(outcome);
        })
        .map_err(AppError::internal)?;
    let computed = computed.await.map_err(AppError::internal)?;
    computed.map_err(RunFailure::Backtest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_refusal_reads_as_a_sentence() {
        assert_eq!(
            sentence(&BacktestError::NoCandles),
            "There are no candles in the chosen range."
        );
    }
}
