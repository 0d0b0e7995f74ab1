//! One backtest worker per server process: it claims queued runs while the cap allows
//! (`backtest_queue::claim_next`), runs each on a blocking thread with the engine over the
//! stored candles, keeps the run's lease alive meanwhile, and stores the results. It wakes on
//! every `BacktestChanged` (a run queued, or a place freed) and on a periodic poll, which also
//! finds runs whose server died (their lease expired).

use std::time::Duration;

use chrono::NaiveTime;
use uuid::Uuid;

use super::{
    backtest_queue::{self, ClaimedRun, RunEnd},
    events::BacktestChanged,
};
use crate::{
    backtests::{
        backtest_document,
        ssr::repository::{candles_for, Series},
        BacktestError, BacktestSettings,
    },
    error::AppError,
    language::{model::Timeframe, Format},
    state::AppState,
    strategies::backtests::EquityCurve,
};

/// How long a claim holds a run without news from its worker; extended every third of it.
pub const LEASE: Duration = Duration::from_secs(30);

/// Starts this process's worker.
pub fn spawn(state: &AppState, poll: Duration) {
    let state = state.clone();
    let mut wake = state.realtime.subscribe::<BacktestChanged>();
    let worker_id = Uuid::new_v4();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(poll);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    if let Err(error) = backtest_queue::give_up_exhausted(&state.pool).await {
                        tracing::warn!(%error, "could not give up stalled backtests");
                    }
                }
                event = wake.recv() => if event.is_none() { break },
            }
            claim_while_allowed(&state, worker_id).await;
        }
    });
}

/// Claims runs until the queue is empty or the cap is reached, each run on its own task.
pub async fn claim_while_allowed(state: &AppState, worker_id: Uuid) {
    let cap = i64::from(state.settings.max_concurrent_backtests);
    loop {
        match backtest_queue::claim_next(&state.pool, worker_id, LEASE.as_secs_f64(), cap).await {
            Ok(Some(run)) => {
                tracing::info!(run_id = %run.id, attempt = "claimed", "backtest started");
                let state = state.clone();
                tokio::spawn(async move { run_claimed(&state, worker_id, run).await });
            }
            Ok(None) => break,
            Err(error) => {
                tracing::warn!(%error, "could not claim a backtest");
                break;
            }
        }
    }
}

/// Runs a claimed backtest to its end: results stored, or the reason it failed; nothing when
/// it was cancelled (or taken over) meanwhile.
pub async fn run_claimed(state: &AppState, worker_id: Uuid, run: ClaimedRun) {
    let keep_lease = async {
        loop {
            tokio::time::sleep(LEASE / 3).await;
            match backtest_queue::extend_lease(&state.pool, run.id, worker_id, LEASE.as_secs_f64())
                .await
            {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => tracing::warn!(%error, run_id = %run.id, "could not extend a lease"),
            }
        }
    };
    let outcome = tokio::select! {
        outcome = compute(state, &run) => outcome,
        () = keep_lease => {
            tracing::info!(run_id = %run.id, "backtest cancelled; its results are discarded");
            return;
        }
    };
    let (equity, reason);
    let end = match outcome {
        Ok(report) => {
            let (times, values): (Vec<i64>, Vec<f64>) = report
                .equity_curve
                .iter()
                .map(|point| (point.time, point.equity))
                .unzip();
            equity = EquityCurve::thinned(&times, &values);
            let metrics = serde_json::to_value(&report.metrics);
            let trades = serde_json::to_value(&report.trades);
            match (metrics, trades) {
                (Ok(metrics), Ok(trades)) => RunEnd::Finished {
                    metrics,
                    trades,
                    equity: &equity,
                },
                _ => RunEnd::Failed("The results could not be stored."),
            }
        }
        Err(RunFailure::Backtest(error)) => {
            reason = sentence(&error);
            RunEnd::Failed(&reason)
        }
        Err(RunFailure::Internal(error)) => {
            tracing::error!(%error, run_id = %run.id, "a backtest could not run");
            RunEnd::Failed(
                "The backtest could not run because of an error on our side; start it again.",
            )
        }
    };
    let stored = backtest_queue::conclude(&state.pool, &run, worker_id, end).await;
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
    Internal(AppError),
}

impl From<AppError> for RunFailure {
    fn from(error: AppError) -> Self {
        RunFailure::Internal(error)
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

/// The candles up to the run's last day (earlier bars warm the indicators up) and the engine
/// on a blocking thread.
async fn compute(
    state: &AppState,
    run: &ClaimedRun,
) -> Result<crate::backtests::BacktestReport, RunFailure> {
    let format = Format::from_name(&run.format).unwrap_or(Format::Yaml);
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
    // The trader's own upload of the series when there is one, as the start form showed.
    let candles = candles_for(&state.pool, run.user_id, &series, None, Some(to))
        .await
        .map_err(AppError::from)?;
    let settings = BacktestSettings {
        initial_cash: run.settings.initial_cash,
        commission: run.settings.commission,
        slippage: run.settings.slippage,
        from: Some(from),
        to: Some(to),
    };
    let content = run.content.clone();
    tokio::task::spawn_blocking(move || backtest_document(&content, format, &candles, &settings))
        .await
        .map_err(AppError::internal)?
        .map_err(RunFailure::Backtest)
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
