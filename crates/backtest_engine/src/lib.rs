//! The backtest engine: candles in, indicators over whole series, conditions compiled once,
//! the simulation DSL.md's "Backtest semantics" describes, and the metrics. Pure code without
//! I/O, web or database dependencies (this crate has none), so the server, the command line
//! (`src/server/commands/`), the tests and the browser share it.

pub mod candles;
pub mod conditions;
pub mod footprint;
pub mod indicators;
pub mod metrics;
pub mod signals;
pub mod simulation;
pub mod streams;
mod tolerance;
pub mod trades;

#[cfg(test)]
mod seeded;

use thiserror::Error;

use strategy_language::model::{Diagnostic, Format};

pub use candles::{
    read_candles_csv, Candle, CandleImport, CandleRows, Candles, RejectedRow, RowRead,
};
pub use indicators::{compute_indicators, IndicatorColumns};
pub use metrics::Metrics;
pub use simulation::{run_backtest, run_backtest_until, BacktestReport, BacktestSettings};
pub use trades::{EquityPoint, ExitReason, Trade};

/// Why a backtest cannot run.
#[derive(Debug, Error, PartialEq)]
pub enum BacktestError {
    #[error("the strategy has {} error(s); fix them before backtesting", .0.len())]
    InvalidStrategy(Vec<Diagnostic>),
    #[error("the strategy names an unknown indicator `{0}`")]
    UnknownIndicator(String),
    #[error("the indicator `{0}` reads a source that does not exist")]
    UnknownSource(String),
    #[error("the indicators {0:?} depend on each other in a cycle")]
    IndicatorCycle(Vec<String>),
    #[error("the engine does not support {0}")]
    Unsupported(String),
    #[error("there are no candles in the chosen range")]
    NoCandles,
    /// Asked to stop (a cancelled run, a time limit) before it ended.
    #[error("the backtest was stopped before it ended")]
    Stopped,
    #[error("the setting `{name}` must be {rule}, got {value}")]
    BadSetting {
        name: &'static str,
        rule: &'static str,
        value: f64,
    },
}

/// Validates a strategy document and backtests it: the path every caller takes, so the
/// backtest always runs the one validator's model.
pub fn backtest_document(
    text: &str,
    format: Format,
    candles: &Candles,
    settings: &BacktestSettings,
) -> Result<BacktestReport, BacktestError> {
    let strategy = strategy_language::validate(text, format)
        .into_valid()
        .map_err(BacktestError::InvalidStrategy)?;
    run_backtest(&strategy, candles, settings)
}

/// [`backtest_document`] with a question whether to stop (see [`run_backtest_until`]).
pub fn backtest_document_until(
    text: &str,
    format: Format,
    candles: &Candles,
    settings: &BacktestSettings,
    stop: &dyn Fn() -> bool,
) -> Result<BacktestReport, BacktestError> {
    let strategy = strategy_language::validate(text, format)
        .into_valid()
        .map_err(BacktestError::InvalidStrategy)?;
    run_backtest_until(&strategy, candles, settings, stop)
}
