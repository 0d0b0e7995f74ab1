//! Market data in the app: the page that lists the candle series a trader can backtest on and
//! uploads the trader's own CSV (preview of the first rows, then a report of rows imported,
//! skipped as duplicates and rejected), and the server function the editor's signal preview
//! reads its candles through. Uploaded bars belong to the trader who uploaded them; the shared
//! sample data belongs to no one (see `market_data::ssr::candle_store`). Behind `ssr`: the upload
//! route (a plain multipart form post, so it works without JavaScript), its flows and the
//! import reports' table.

pub mod api;
pub mod views;

#[cfg(feature = "ssr")]
pub mod ssr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::backtests::candles::StoredSeries;
use crate::backtests::RejectedRow;

pub use api::{follow_import, market_data, recent_candles, MarketDataOverview, PreviewCandles};

/// The page.
pub const MARKET_DATA_PATH: &str = "/market-data";
/// Where the upload form posts (multipart: `pair`, `timeframe`, `file`).
pub const IMPORT_PATH: &str = "/market-data/import";
/// The largest file the upload takes: about a million and a half rows of a typical layout.
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;
/// How many rejected rows a report keeps (with line and reason); the rest are counted.
pub const SHOWN_REJECTIONS: usize = 100;
/// How many of a series' last bars the editor's signal preview fetches: the bars it shows and,
/// before them, bars for indicators to warm up.
pub const RECENT_BARS: usize = 1000;
/// How many rows the upload form previews before importing.
pub const PREVIEW_ROWS: usize = 8;

/// The sentence for a file over `MAX_UPLOAD_BYTES`, in the browser (before uploading) and from
/// the server alike.
pub fn too_large_sentence() -> String {
    format!(
        "This file is too large: the upload limit is {} MiB (about 1.5 million rows). Split it into parts and import them one after another; rows already stored are skipped.",
        MAX_UPLOAD_BYTES / (1024 * 1024)
    )
}

/// What one upload did, or why it was refused as a whole.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ImportReport {
    pub id: Uuid,
    pub pair: String,
    pub timeframe: String,
    pub file_name: String,
    pub imported: i64,
    pub skipped_as_duplicates: i64,
    pub rejected: i64,
    /// The first `SHOWN_REJECTIONS` rejected rows, with line and reason.
    pub first_rejections: Vec<RejectedRow>,
    /// Why nothing (or not everything) was imported: an unknown pair, no file, a file without
    /// a usable header, the account's candle quota.
    pub refusal: Option<String>,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
    /// Still importing: the counts so far, and how much of the file was read.
    #[serde(default)]
    pub importing: bool,
    #[serde(default)]
    pub bytes_total: i64,
    #[serde(default)]
    pub bytes_read: i64,
}

impl ImportReport {
    /// How much of the file was read, from 0 to 100.
    pub fn percent_read(&self) -> i64 {
        if self.bytes_total <= 0 {
            return 0;
        }
        (self.bytes_read.saturating_mul(100) / self.bytes_total).clamp(0, 100)
    }
}

/// The first `rows` data rows of a file's beginning, read as the import will read them: what the
/// upload form previews before anything is sent. The last line of `beginning` may be cut off
/// (the browser reads only the file's first kilobytes), so it is left out unless it is the
/// file's end.
pub fn preview_rows(
    beginning: &str,
    rows: usize,
    whole_file: bool,
) -> Result<crate::backtests::CandleImport, crate::backtests::candles::CandleFileError> {
    let complete = if whole_file {
        beginning
    } else {
        beginning
            .rfind('\n')
            .map_or(beginning, |end| &beginning[..end])
    };
    let head: Vec<&str> = complete.lines().take(rows + 1).collect();
    crate::backtests::read_candles_csv(&head.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_reads_the_first_rows_and_leaves_out_a_cut_off_line() {
        let beginning = "date,open,high,low,close\n2024-01-01,1,2,1,1\n2024-01-02,1,0.5,1,1\n2024-01-03,1,2,1,1\n2024-01-0";
        let preview = preview_rows(beginning, 8, false).unwrap();
        assert_eq!(preview.candles.len(), 2);
        assert_eq!(preview.rejected[0].line, 3);
        let first_row_only = preview_rows(beginning, 1, false).unwrap();
        assert_eq!(first_row_only.candles.len(), 1);
        assert!(first_row_only.rejected.is_empty());
        assert!(preview_rows("time,open\n", 8, true).is_err());
    }
}
