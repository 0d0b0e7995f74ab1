//! The command line of the `trading_strategy` binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "trading_strategy",
    version,
    about = "Trading Strategy Platform"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (the default).
    Serve,
    /// Create the database if needed, apply every pending migration, and load the sample
    /// market data when no candle is stored yet.
    Migrate,
    /// Revert the last N applied migrations.
    Rollback {
        /// How many migrations to revert, newest first.
        #[arg(default_value_t = 1)]
        count: usize,
    },
    /// List every migration and whether it is applied (up) or not (down).
    Migrations,
    /// Print a new random value for SECRET_KEY_BASE (the runbook's `mix phx.gen.secret`).
    GenSecret,
    /// Check strategy documents and print their diagnostics like a compiler
    /// (exit status 1 when any document has an error).
    Check {
        /// Print the diagnostics as JSON.
        #[arg(long)]
        json: bool,
        /// Print the syntax test (summary and logic warnings) of each document.
        #[arg(long)]
        explain: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Backtest a strategy document on candles from a CSV file and print the metrics and the
    /// trades (exit status 1 when the document has errors).
    Backtest(crate::server::commands::backtest::BacktestArgs),
    /// Print every indicator output of a strategy per bar, as CSV.
    Indicators(crate::server::commands::backtest::IndicatorsArgs),
    /// Import candles from a CSV file into the database (needs DATABASE_URL) and report the
    /// rows imported, skipped as duplicates and rejected.
    ImportCandles(crate::server::commands::import_candles::ImportCandlesArgs),
}
