//! `trading_strategy backtest` and `trading_strategy indicators`: read a strategy document and
//! a candle CSV, then print the backtest (a table for people, JSON for programs) or every
//! indicator output per bar as CSV. Like `check`, they need no configuration.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use super::check::{render_diagnostic, EXIT_INVALID, EXIT_UNREADABLE};
use crate::backtests::candles::{
    format_unix_time, parse_time, read_candles_csv, CandleFileError, Candles, RejectedRow,
};
use crate::backtests::indicators::compute_indicators;
use crate::backtests::simulation::{run_backtest, BacktestReport, BacktestSettings};
use crate::backtests::BacktestError;
use crate::language::model::{Format, Strategy};
use crate::language::validate;

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// The strategy document (.yaml, .yml or .toml).
    #[arg(long)]
    pub strategy: PathBuf,
    /// Candles as CSV: a header naming time (or date), open, high, low, close and volume.
    #[arg(long)]
    pub candles: PathBuf,
    /// First bar to trade (ISO date or date-time, or Unix seconds); earlier bars still warm up
    /// the indicators.
    #[arg(long)]
    pub from: Option<String>,
    /// Last bar to trade (a date alone includes that whole day).
    #[arg(long)]
    pub to: Option<String>,
    /// Starting cash, in the quote currency.
    #[arg(long, default_value_t = 10_000.0)]
    pub cash: f64,
    /// Commission per side, as a fraction of the traded value (0.001 is 0.1%).
    #[arg(long, default_value_t = 0.0)]
    pub commission: f64,
    /// Slippage per fill, as a fraction of the price (0.0005 is 0.05%).
    #[arg(long, default_value_t = 0.0)]
    pub slippage: f64,
    /// Print the metrics, the trades and the equity curve as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct IndicatorsArgs {
    /// The strategy document (.yaml, .yml or .toml).
    #[arg(long)]
    pub strategy: PathBuf,
    /// Candles as CSV: a header naming time (or date), open, high, low, close and volume.
    #[arg(long)]
    pub candles: PathBuf,
}

/// Why a command stopped; each prints as one line.
#[derive(Debug, Error)]
enum CommandError {
    #[error("{file}: cannot read the file: {error}")]
    Unreadable { file: String, error: std::io::Error },
    #[error("{0}: cannot tell the format: name the file .yaml, .yml or .toml")]
    UnknownFormat(String),
    #[error("{file}: {error}")]
    CandleFile {
        file: String,
        error: CandleFileError,
    },
    #[error("{file}: no valid candles")]
    NoCandles { file: String },
    #[error("--{option}: {reason}")]
    BadOption {
        option: &'static str,
        reason: String,
    },
    #[error("{0}")]
    Backtest(#[from] BacktestError),
    /// The diagnostics are printed before this; the line only sums up.
    #[error("{file}: the strategy has {count} error(s); fix them before backtesting")]
    InvalidStrategy { file: String, count: usize },
}

impl CommandError {
    fn exit_status(&self) -> i32 {
        match self {
            CommandError::InvalidStrategy { .. } => EXIT_INVALID,
            _ => EXIT_UNREADABLE,
        }
    }
}

/// Runs `backtest`; returns the exit status (0, 1 for a strategy with errors, 2 otherwise).
pub fn run_backtest_command(args: &BacktestArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    finish(backtest(args, out, err), err)
}

/// Runs `indicators`; returns the exit status as `run_backtest_command` does.
pub fn run_indicators_command(
    args: &IndicatorsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    finish(indicators(args, out, err), err)
}

fn finish(result: Result<(), CommandError>, err: &mut dyn Write) -> i32 {
    match result {
        Ok(()) => 0,
        Err(error) => {
            let _ = writeln!(err, "error: {error}");
            error.exit_status()
        }
    }
}

fn load_strategy(path: &Path, err: &mut dyn Write) -> Result<Strategy, CommandError> {
    let file = path.display().to_string();
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_default();
    let format =
        Format::from_file_name(&name).ok_or_else(|| CommandError::UnknownFormat(file.clone()))?;
    let text = std::fs::read_to_string(path).map_err(|error| CommandError::Unreadable {
        file: file.clone(),
        error,
    })?;
    let validation = validate(&text, format);
    let errors: Vec<_> = validation.errors().cloned().collect();
    if !errors.is_empty() {
        for diagnostic in &errors {
            let _ = write!(err, "{}", render_diagnostic(&file, &text, diagnostic));
        }
        return Err(CommandError::InvalidStrategy {
            file,
            count: errors.len(),
        });
    }
    validation
        .into_valid()
        .map_err(|errors| CommandError::InvalidStrategy {
            file,
            count: errors.len(),
        })
}

fn load_candles(
    path: &Path,
    err: &mut dyn Write,
) -> Result<(Candles, Vec<RejectedRow>), CommandError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| CommandError::Unreadable {
        file: file.clone(),
        error,
    })?;
    let import = read_candles_csv(&text).map_err(|error| CommandError::CandleFile {
        file: file.clone(),
        error,
    })?;
    for row in &import.rejected {
        let _ = writeln!(err, "{file}:{}: rejected: {}", row.line, row.reason);
    }
    if import.candles.is_empty() {
        return Err(CommandError::NoCandles { file });
    }
    Ok((import.candles, import.rejected))
}

const SECONDS_PER_DAY: i64 = 86_400;

fn parse_bound(
    option: &'static str,
    raw: &Option<String>,
    end_of_day: bool,
) -> Result<Option<i64>, CommandError> {
    let Some(raw) = raw else { return Ok(None) };
    let time =
        parse_time(raw.trim()).map_err(|reason| CommandError::BadOption { option, reason })?;
    let date_only = raw.trim().len() == 10 && raw.contains('-');
    Ok(Some(if end_of_day && date_only {
        time + SECONDS_PER_DAY - 1
    } else {
        time
    }))
}

#[derive(Serialize)]
struct BacktestJson<'a> {
    strategy: String,
    candles: String,
    rejected_rows: &'a [RejectedRow],
    #[serde(flatten)]
    report: &'a BacktestReport,
}

fn backtest(
    args: &BacktestArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let strategy = load_strategy(&args.strategy, err)?;
    let (candles, rejected) = load_candles(&args.candles, err)?;
    let settings = BacktestSettings {
        initial_cash: args.cash,
        commission: args.commission,
        slippage: args.slippage,
        from: parse_bound("from", &args.from, false)?,
        to: parse_bound("to", &args.to, true)?,
    };
    let report = run_backtest(&strategy, &candles, &settings)?;
    if args.json {
        let json = BacktestJson {
            strategy: args.strategy.display().to_string(),
            candles: args.candles.display().to_string(),
            rejected_rows: &rejected,
            report: &report,
        };
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    } else {
        let _ = write!(out, "{}", report_table(&strategy, &report));
    }
    Ok(())
}

fn percent(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |value| format!("{:.2}%", value * 100.0))
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |value| format!("{value:.2}"))
}

/// The report as people read it: the metrics, then one line per trade.
fn report_table(strategy: &Strategy, report: &BacktestReport) -> String {
    let metrics = &report.metrics;
    let (first, last) = match (report.equity_curve.first(), report.equity_curve.last()) {
        (Some(first), Some(last)) => (format_unix_time(first.time), format_unix_time(last.time)),
        _ => (String::new(), String::new()),
    };
    let rows = [
        ("Strategy", strategy.name.clone()),
        (
            "Period",
            format!("{first} to {last} ({} bars)", metrics.bars),
        ),
        ("Initial cash", format!("{:.2}", metrics.initial_cash)),
        ("Final equity", format!("{:.2}", metrics.final_equity)),
        ("Total return", percent(Some(metrics.total_return))),
        (
            "Buy and hold return",
            percent(Some(metrics.buy_and_hold_return)),
        ),
        ("CAGR", percent(metrics.cagr)),
        ("Sharpe ratio", ratio(metrics.sharpe)),
        ("Sortino ratio", ratio(metrics.sortino)),
        ("Max drawdown", percent(Some(metrics.max_drawdown))),
        ("Trades", metrics.trades.to_string()),
        ("Win rate", percent(metrics.win_rate)),
        ("Profit factor", ratio(metrics.profit_factor)),
        ("Exposure", percent(Some(metrics.exposure))),
        ("Commissions", format!("{:.2}", metrics.commissions)),
    ];
    let mut text = String::new();
    for (label, value) in rows {
        text.push_str(&format!("{label:<20} {value}\n"));
    }
    if report.trades.is_empty() {
        return text;
    }
    text.push_str(&format!(
        "\n{:>4}  {:<19}  {:>12}  {:<19}  {:>12}  {:>14}  {:>12}  {:>8}  {}\n",
        "#",
        "entry",
        "entry price",
        "exit",
        "exit price",
        "quantity",
        "pnl",
        "return",
        "exit reason"
    ));
    for (number, trade) in report.trades.iter().enumerate() {
        text.push_str(&format!(
            "{:>4}  {:<19}  {:>12.4}  {:<19}  {:>12.4}  {:>14.6}  {:>12.2}  {:>7.2}%  {}\n",
            number + 1,
            format_unix_time(trade.entry_time),
            trade.entry_price,
            format_unix_time(trade.exit_time),
            trade.exit_price,
            trade.quantity,
            trade.pnl,
            trade.return_pct * 100.0,
            trade.exit_reason.name()
        ));
    }
    text
}

fn indicators(
    args: &IndicatorsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let strategy = load_strategy(&args.strategy, err)?;
    let (candles, _) = load_candles(&args.candles, err)?;
    let columns = compute_indicators(&strategy, &candles)?;
    let mut text = String::from("time,open,high,low,close,volume");
    for name in &columns.names {
        text.push(',');
        text.push_str(name);
    }
    text.push('\n');
    let _ = out.write_all(text.as_bytes());
    for bar in 0..candles.len() {
        let mut line = format!(
            "{},{},{},{},{},{}",
            format_unix_time(candles.time[bar]),
            candles.open[bar],
            candles.high[bar],
            candles.low[bar],
            candles.close[bar],
            candles.volume[bar]
        );
        for column in &columns.columns {
            line.push(',');
            // Undefined (warming up) is an empty cell, as spreadsheets and pandas read it.
            if !column[bar].is_nan() {
                line.push_str(&column[bar].to_string());
            }
        }
        line.push('\n');
        let _ = out.write_all(line.as_bytes());
    }
    Ok(())
}
