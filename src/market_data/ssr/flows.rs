//! Market data's server-side behaviour: the page's overview, the signal preview's candles and
//! an upload turned into the trader's own bars and a stored report.

use std::path::PathBuf;
use std::time::Instant;

use uuid::Uuid;

use super::{
    candle_store::{
        insert_candles, latest_candles, series_owner_for, stored_series, CandleOwner, Series,
        StoredCount,
    },
    reports::{self, NewReport},
};
use crate::accounts::UserId;
use crate::{
    backtests::{Candle, CandleRows, Candles, RejectedRow, RowRead},
    error::AppError,
    market_data::{MarketDataOverview, PreviewCandles, RECENT_BARS, SHOWN_REJECTIONS},
    state::AppState,
    stored_text::storable,
};

pub async fn overview(
    state: &AppState,
    user_id: UserId,
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
    user_id: UserId,
    pair: &str,
    timeframe: &str,
) -> Result<PreviewCandles, AppError> {
    let series = Series::parse(pair, timeframe)
        .map_err(|error| AppError::field(error.field(), error.reason()))?;
    let owner = series_owner_for(&state.pool, user_id, &series).await?;
    let candles = latest_candles(&state.pool, owner, &series, RECENT_BARS as i64).await?;
    Ok(PreviewCandles {
        pair: series.pair,
        timeframe: series.timeframe.name().to_string(),
        candles,
        own: owner != CandleOwner::Shared,
    })
}

/// An uploaded file on disk, removed when dropped (once its import is over, or when the
/// upload failed).
#[derive(Debug)]
pub struct SpooledFile {
    pub path: PathBuf,
    pub bytes: u64,
}

impl Drop for SpooledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// An upload as the form sent it: its labels, and its file written to disk.
#[derive(Debug, Default)]
pub struct Upload {
    pub pair: String,
    pub timeframe: String,
    pub file_name: String,
    pub file: Option<SpooledFile>,
}

/// Starts importing an upload as the trader's own bars: stores its report (already final when
/// the file is refused as a whole: no series, no file, the account's candle quota full) and
/// imports the file in a background job that outlives the request, reporting its progress in
/// the report. Returns the report's id.
#[tracing::instrument(skip_all)]
pub async fn start_import(
    state: &AppState,
    user_id: UserId,
    upload: Upload,
) -> Result<Uuid, AppError> {
    let Upload {
        pair,
        timeframe,
        file_name,
        file,
    } = upload;
    let (pair, timeframe) = (
        storable(&pair).into_owned(),
        storable(&timeframe).into_owned(),
    );
    let file_name = shortened(&storable(&file_name), 200);
    let quota = state.settings.bounds.quotas.candle_rows;
    let stored = own_candle_rows(state, user_id).await?;
    let checked = checked_upload(
        &pair,
        &timeframe,
        file.as_ref().map_or(0, |file| file.bytes),
    )
    .and_then(|series| {
        if stored >= quota {
            crate::web::instruments::limit_hit("quota_candle_rows");
            Err(candle_quota_sentence(stored, quota))
        } else {
            Ok(series)
        }
    });
    let (series, file) = match (checked, file) {
        (Ok(series), Some(file)) => (series, file),
        (refused, _) => {
            let refusal = refused.err().unwrap_or_else(|| "No file arrived.".into());
            return reports::insert(
                &state.pool,
                NewReport::refused(
                    user_id,
                    &shortened(pair.trim(), 40),
                    &shortened(timeframe.trim(), 10),
                    &file_name,
                    &refusal,
                ),
                state.settings.bounds.quotas.import_reports,
            )
            .await;
        }
    };
    let id = reports::start(
        &state.pool,
        user_id,
        &series,
        &file_name,
        file.bytes,
        state.settings.bounds.quotas.import_reports,
    )
    .await?;
    let job = ImportJob {
        state: state.clone(),
        user_id,
        report: id,
        series,
        source: file_name,
        room: quota - stored,
    };
    tokio::spawn(async move {
        let report = job.report;
        if let Err(error) = job.run(file).await {
            tracing::error!(%error, import = %report, "an import failed");
        }
    });
    Ok(id)
}

/// Candles of the user's own uploads.
async fn own_candle_rows(state: &AppState, user_id: UserId) -> Result<i64, AppError> {
    Ok(super::candle_store::owned_rows(&state.pool, user_id).await?)
}

/// Candles the user uploaded and import reports kept: the settings page's figures.
pub async fn stored_by(state: &AppState, user_id: UserId) -> Result<(i64, i64), AppError> {
    Ok((
        own_candle_rows(state, user_id).await?,
        reports::count(&state.pool, user_id).await?,
    ))
}

fn candle_quota_sentence(stored: i64, quota: i64) -> String {
    format!(
        "Your uploads hold {stored} candles, the most one account may keep ({quota}); delete a series you no longer need to make room."
    )
}

/// The series an upload names, or why it cannot be imported at all.
fn checked_upload(pair: &str, timeframe: &str, bytes: u64) -> Result<Series, String> {
    let series = Series::parse(pair.trim(), timeframe.trim())
        .map_err(|error| format!("The {}: {}.", error.field(), error.reason()))?;
    if bytes == 0 {
        return Err("No file arrived: choose a CSV file to import.".to_string());
    }
    Ok(series)
}

/// Rows a batch holds before it is stored.
const ROWS_PER_BATCH: usize = super::candle_store::BATCH_SIZE;

/// One upload's import, run beside the requests.
struct ImportJob {
    state: AppState,
    user_id: UserId,
    report: Uuid,
    series: Series,
    source: String,
    /// Candles the user's quota still has room for.
    room: i64,
}

/// What the file's reader hands the job: a batch of rows, or the end.
enum Read {
    Batch(Vec<Candle>, u64),
    End(Result<Rejections, String>),
}

/// The rejected rows: how many, and the first `SHOWN_REJECTIONS` with line and reason.
#[derive(Default)]
struct Rejections {
    count: i64,
    first: Vec<RejectedRow>,
}

impl ImportJob {
    /// Reads the file on a blocking thread, a batch at a time (at most two batches wait, so
    /// memory stays bounded whatever the file's size), and stores each batch as it comes,
    /// each in its own statement, with the report's progress after it. Rows already stored
    /// are skipped, so a file imported again (after a failure) completes what is missing.
    async fn run(self, file: SpooledFile) -> Result<(), AppError> {
        let started = Instant::now();
        let (batches, mut arriving) = tokio::sync::mpsc::channel::<Read>(2);
        let reader = tokio::task::spawn_blocking(move || read_batches(&file, &batches));
        let mut count = StoredCount::default();
        let mut stopped: Option<String> = None;
        let mut end = None;
        while let Some(read) = arriving.recv().await {
            match read {
                Read::Batch(mut rows, bytes_read) => {
                    if stopped.is_some() {
                        continue;
                    }
                    let room = (self.room - count.inserted as i64).max(0) as usize;
                    if rows.len() > room {
                        rows.truncate(room);
                        crate::web::instruments::limit_hit("quota_candle_rows");
                        let quota = self.state.settings.bounds.quotas.candle_rows;
                        stopped = Some(format!(
                            "Stopped at the quota: {}",
                            candle_quota_sentence(quota, quota)
                        ));
                    }
                    let candles: Candles = rows.into_iter().collect();
                    let mut connection = self.state.pool.acquire().await?;
                    let batch = insert_candles(
                        &mut connection,
                        CandleOwner::User(self.user_id.0),
                        &self.series,
                        &self.source,
                        &candles,
                        |_| {},
                    )
                    .await?;
                    count.inserted += batch.inserted;
                    count.skipped_as_duplicates += batch.skipped_as_duplicates;
                    reports::progress(&self.state.pool, self.report, &count, bytes_read).await?;
                }
                Read::End(outcome) => end = Some(outcome),
            }
        }
        let _ = reader.await;
        let (rejections, refusal) = match end {
            Some(Ok(rejections)) => (rejections, stopped),
            Some(Err(refusal)) => (Rejections::default(), Some(refusal)),
            None => (
                Rejections::default(),
                Some("The import stopped before the end of the file; import it again (rows already stored are skipped).".into()),
            ),
        };
        reports::finish(
            &self.state.pool,
            self.report,
            &count,
            rejections.count,
            &rejections.first,
            refusal.as_deref(),
        )
        .await?;
        tracing::info!(
            import = %self.report,
            inserted = count.inserted,
            skipped = count.skipped_as_duplicates,
            rejected = rejections.count,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "imported an upload"
        );
        Ok(())
    }
}

/// The file's rows in batches, then how it ended; on a blocking thread.
fn read_batches(file: &SpooledFile, batches: &tokio::sync::mpsc::Sender<Read>) {
    let end = (|| {
        let opened = std::fs::File::open(&file.path)
            .map_err(|error| format!("The uploaded file could not be read again ({error})."))?;
        let mut rows = CandleRows::new(std::io::BufReader::with_capacity(64 * 1024, opened))
            .map_err(|error| format!("Not a candle file: {error}."))?;
        let mut rejections = Rejections::default();
        let mut batch = Vec::with_capacity(ROWS_PER_BATCH);
        let mut data_rows = 0u64;
        #[allow(clippy::while_let_on_iterator)] // `rows` is asked for its bytes inside the loop
        while let Some(row) = rows.next() {
            data_rows += 1;
            match row.map_err(|error| format!("Not a candle file: {error}."))? {
                RowRead::Candle(candle) => batch.push(candle),
                RowRead::Rejected(rejected) => {
                    rejections.count += 1;
                    if rejections.first.len() < SHOWN_REJECTIONS {
                        rejections.first.push(RejectedRow {
                            line: rejected.line,
                            reason: storable(&rejected.reason).into_owned(),
                        });
                    }
                }
            }
            if batch.len() == ROWS_PER_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(ROWS_PER_BATCH));
                if batches
                    .blocking_send(Read::Batch(full, rows.bytes_read()))
                    .is_err()
                {
                    return Err("The import was stopped.".to_string());
                }
            }
        }
        if !batch.is_empty() {
            let _ = batches.blocking_send(Read::Batch(batch, rows.bytes_read()));
        }
        if data_rows == 0 {
            return Err("The file has a header but no data rows.".to_string());
        }
        Ok(rejections)
    })();
    let _ = batches.blocking_send(Read::End(end));
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
        let refusal = |pair: &str, timeframe: &str, bytes: u64| {
            checked_upload(pair, timeframe, bytes).unwrap_err()
        };
        assert!(refusal("btc/usd", "1d", 10).contains("`BTC/USD`"));
        assert!(refusal("BTC/USD", "1M", 10).contains("unknown timeframe"));
        assert!(refusal("BTC/USD", "1d", 0).contains("choose a CSV file"));
        assert_eq!(
            checked_upload(" ETH/USD ", "1h", 10).unwrap().pair,
            "ETH/USD"
        );
    }
}
