//! Market data's server-side behaviour: the page's overview, the signal preview's candles and
//! an upload turned into the trader's own bars and a stored report.

use std::time::Instant;

use uuid::Uuid;

use super::reports::{self, NewReport};
use crate::{
    backtests::{
        candles::CandleImport,
        read_candles_csv,
        ssr::{
            import::{parse_pair, parse_timeframe},
            repository::{
                insert_candles, latest_candles, series_owner_for, stored_series, CandleOwner,
                Series,
            },
        },
    },
    error::AppError,
    market_data::{MarketDataOverview, PreviewCandles, RECENT_BARS, SHOWN_REJECTIONS},
    state::AppState,
    stored_text::storable,
};

pub async fn overview(
    state: &AppState,
    user_id: Uuid,
    import: Option<Uuid>,
) -> Result<MarketDataOverview, AppError> {
    let series = stored_series(&state.pool, user_id).await?;
    let report = match import {
        Some(id) => reports::find(&state.pool, user_id, id).await?,
        None => None,
    };
    Ok(MarketDataOverview { series, report })
}

/// The last `RECENT_BARS` bars of the series the trader reads for a pair and timeframe.
pub async fn recent_candles(
    state: &AppState,
    user_id: Uuid,
    pair: &str,
    timeframe: &str,
) -> Result<PreviewCandles, AppError> {
    let series = Series {
        pair: parse_pair(pair).map_err(|message| AppError::field("pair", message))?,
        timeframe: parse_timeframe(timeframe)
            .map_err(|message| AppError::field("timeframe", message))?,
    };
    let owner = series_owner_for(&state.pool, user_id, &series).await?;
    let candles = latest_candles(&state.pool, owner, &series, RECENT_BARS as i64).await?;
    Ok(PreviewCandles {
        pair: series.pair,
        timeframe: series.timeframe.name().to_string(),
        candles,
        own: owner != CandleOwner::Shared,
    })
}

/// An upload as the form sent it.
#[derive(Debug, Default)]
pub struct Upload {
    pub pair: String,
    pub timeframe: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Imports an upload as the trader's own bars (in one transaction, in batches) and stores its
/// report, also when the file is refused as a whole; returns the report's id.
#[tracing::instrument(skip_all, fields(bytes = upload.bytes.len()))]
pub async fn import_upload(
    state: &AppState,
    user_id: Uuid,
    upload: Upload,
) -> Result<Uuid, AppError> {
    let started = Instant::now();
    let Upload {
        pair,
        timeframe,
        file_name,
        bytes,
    } = upload;
    let (pair, timeframe) = (
        storable(&pair).into_owned(),
        storable(&timeframe).into_owned(),
    );
    let checked = {
        let (pair, timeframe) = (pair.clone(), timeframe.clone());
        tokio::task::spawn_blocking(move || checked_upload(&pair, &timeframe, &bytes))
            .await
            .map_err(|error| AppError::internal(format!("reading the upload failed: {error}")))?
    };
    let read_ms = started.elapsed().as_millis() as u64;
    let file_name = shortened(&storable(&file_name), 200);
    let report = match &checked {
        Ok((series, import)) => {
            let mut transaction = state.pool.begin().await?;
            let stored = insert_candles(
                &mut transaction,
                CandleOwner::User(user_id),
                series,
                &file_name,
                &import.candles,
                |_| {},
            )
            .await?;
            transaction.commit().await?;
            tracing::info!(
                rows = import.candles.len(),
                inserted = stored.inserted,
                read_ms,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "imported an upload"
            );
            NewReport {
                user_id,
                pair: &series.pair,
                timeframe: series.timeframe.name(),
                file_name: &file_name,
                imported: stored.inserted as i64,
                skipped_as_duplicates: stored.skipped_as_duplicates as i64,
                rejected: import.rejected.len() as i64,
                first_rejections: &import.rejected[..import.rejected.len().min(SHOWN_REJECTIONS)],
                refusal: None,
            }
        }
        Err(refusal) => NewReport {
            user_id,
            pair: &shortened(pair.trim(), 40),
            timeframe: &shortened(timeframe.trim(), 10),
            file_name: &file_name,
            imported: 0,
            skipped_as_duplicates: 0,
            rejected: 0,
            first_rejections: &[],
            refusal: Some(refusal),
        },
    };
    reports::insert(&state.pool, report).await
}

/// The series and the read file, or why nothing can be imported.
fn checked_upload(
    pair: &str,
    timeframe: &str,
    bytes: &[u8],
) -> Result<(Series, CandleImport), String> {
    let series = Series {
        pair: parse_pair(pair.trim()).map_err(|reason| format!("The pair: {reason}."))?,
        timeframe: parse_timeframe(timeframe.trim())
            .map_err(|reason| format!("The timeframe: {reason}."))?,
    };
    if bytes.is_empty() {
        return Err("No file arrived: choose a CSV file to import.".to_string());
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "The file is not text (UTF-8): export the candles as CSV.".to_string())?;
    // Rejection reasons quote the row's values, and the report keeps them.
    let import = read_candles_csv(&storable(text))
        .map_err(|error| format!("Not a candle file: {error}."))?;
    if import.candles.is_empty() && import.rejected.is_empty() {
        return Err("The file has a header but no data rows.".to_string());
    }
    Ok((series, import))
}

/// At most `limit` characters of `text`, for the report's labels.
fn shortened(text: &str, limit: usize) -> String {
    text.chars().take(limit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_without_a_valid_pair_timeframe_or_file_is_refused_with_the_reason() {
        let file = b"date,open,high,low,close\n2024-01-01,1,2,1,1\n";
        let refusal = |pair: &str, timeframe: &str, bytes: &[u8]| {
            checked_upload(pair, timeframe, bytes).unwrap_err()
        };
        assert!(refusal("btc/usd", "1d", file).contains("`BTC/USD`"));
        assert!(refusal("BTC/USD", "1M", file).contains("unknown timeframe"));
        assert!(refusal("BTC/USD", "1d", b"").contains("choose a CSV file"));
        assert!(refusal("BTC/USD", "1d", b"\xff\xfe").contains("not text"));
        assert!(refusal("BTC/USD", "1d", b"time,open\n").contains("no `high` column"));
        assert!(refusal("BTC/USD", "1d", b"time,open,high,low,close\n").contains("no data rows"));
    }

    #[test]
    fn a_good_upload_keeps_its_rows_and_its_rejections() {
        let (series, import) = checked_upload(
            " ETH/USD ",
            "1h",
            b"date,open,high,low,close\n2024-01-01,1,2,1,1\n2024-01-02,1,0.5,1,1\n",
        )
        .unwrap();
        assert_eq!(series.pair, "ETH/USD");
        assert_eq!(import.candles.len(), 1);
        assert_eq!(import.rejected[0].line, 3);
    }
}
