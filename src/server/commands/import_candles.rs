//! `trading_strategy import-candles`: a candle CSV into the `candles` table, read by the same
//! reader as `backtest`, stored in batches, and a report of rows imported, skipped as
//! duplicates and rejected (with line and reason). What it imports is shared market data, read
//! by every trader who has no upload of that pair and timeframe.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sqlx::PgPool;

use crate::backtests::candles::read_candles_csv;
use crate::market_data::ssr::{insert_candles, CandleOwner, Series};

#[derive(Debug, clap::Args)]
pub struct ImportCandlesArgs {
    /// The trading pair as strategies write it: BASE/QUOTE in capitals, e.g. BTC/USD.
    #[arg(long)]
    pub pair: String,
    /// The bar size of the file: 1m, 5m, 15m, 30m, 1h, 4h, 1d or 1w.
    #[arg(long)]
    pub timeframe: String,
    /// Candles as CSV: a header naming time (or date), open, high, low, close and volume.
    pub file: PathBuf,
}

/// Imports the file and prints the report. An unreadable file or one without a usable header
/// is an error (the caller exits non-zero); rejected rows are reported and the rest imported.
pub async fn run_import_candles(
    pool: &PgPool,
    args: &ImportCandlesArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let series = Series::parse(&args.pair, &args.timeframe)?;
    let file = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("{file}: cannot read the file"))?;
    let import = read_candles_csv(&text).with_context(|| format!("{file}: not a candle file"))?;
    let mut connection = pool.acquire().await?;
    let stored = insert_candles(
        &mut connection,
        CandleOwner::Shared,
        &series,
        &source_name(&args.file),
        &import.candles,
        |_| {},
    )
    .await
    .context("storing the candles failed")?;
    writeln!(
        out,
        "{file} into {} {}: {} data rows",
        series.pair,
        series.timeframe.name(),
        import.candles.len() + import.rejected.len()
    )?;
    writeln!(out, "  imported: {}", stored.inserted)?;
    writeln!(
        out,
        "  skipped as duplicates: {} (their times were already stored)",
        stored.skipped_as_duplicates
    )?;
    writeln!(out, "  rejected: {}", import.rejected.len())?;
    for row in &import.rejected {
        writeln!(out, "{file}:{}: rejected: {}", row.line, row.reason)?;
    }
    Ok(())
}

/// The file's name without its folders: what the `source` column records.
fn source_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
