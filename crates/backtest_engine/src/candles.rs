//! Market data as the engine reads it: a columnar candle series, and the CSV reader that builds
//! one from the common layouts, reporting every row it rejects with its line and reason.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A candle series sorted by time, one column per field, so indicators run over plain slices.
/// Times are Unix seconds (UTC). It crosses a server function as columns (the bars of the
/// editor's signal preview).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Candles {
    pub time: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

/// One candle, as a row (for building series in code and tests).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candle {
    pub time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl Candles {
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Candles {
            time: Vec::with_capacity(capacity),
            open: Vec::with_capacity(capacity),
            high: Vec::with_capacity(capacity),
            low: Vec::with_capacity(capacity),
            close: Vec::with_capacity(capacity),
            volume: Vec::with_capacity(capacity),
        }
    }

    pub fn push(&mut self, candle: Candle) {
        self.time.push(candle.time);
        self.open.push(candle.open);
        self.high.push(candle.high);
        self.low.push(candle.low);
        self.close.push(candle.close);
        self.volume.push(candle.volume);
    }

    /// The bars from `first` on.
    pub fn from_bar(&self, first: usize) -> Candles {
        let first = first.min(self.len());
        Candles {
            time: self.time[first..].to_vec(),
            open: self.open[first..].to_vec(),
            high: self.high[first..].to_vec(),
            low: self.low[first..].to_vec(),
            close: self.close[first..].to_vec(),
            volume: self.volume[first..].to_vec(),
        }
    }

    pub fn candle(&self, bar: usize) -> Candle {
        Candle {
            time: self.time[bar],
            open: self.open[bar],
            high: self.high[bar],
            low: self.low[bar],
            close: self.close[bar],
            volume: self.volume[bar],
        }
    }

    /// The bars whose time lies in `from..=to` (either bound optional).
    pub fn bar_range(&self, from: Option<i64>, to: Option<i64>) -> std::ops::Range<usize> {
        let start = from.map_or(0, |from| self.time.partition_point(|&time| time < from));
        let end = to.map_or(self.len(), |to| {
            self.time.partition_point(|&time| time <= to)
        });
        start..end.max(start)
    }
}

impl FromIterator<Candle> for Candles {
    fn from_iter<I: IntoIterator<Item = Candle>>(rows: I) -> Self {
        let rows = rows.into_iter();
        let mut candles = Candles::with_capacity(rows.size_hint().0);
        for candle in rows {
            candles.push(candle);
        }
        candles
    }
}

/// One stored series a trader can read, as the market data page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredSeries {
    pub pair: String,
    pub timeframe: String,
    /// The trader's own upload (otherwise the shared sample or command-line data).
    pub own: bool,
    /// Where its bars came from: file names, or `synthetic`.
    pub sources: String,
    pub first_time: i64,
    pub last_time: i64,
    pub bars: i64,
}

/// A data row the reader refused, with its 1-based line in the file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub line: usize,
    pub reason: String,
}

/// What a CSV file yields: the accepted candles (sorted by time) and every rejected row.
#[derive(Clone, Debug, PartialEq)]
pub struct CandleImport {
    pub candles: Candles,
    pub rejected: Vec<RejectedRow>,
}

/// Why a file cannot be read as candles at all (a single bad row is a `RejectedRow` instead).
#[derive(Debug, Error, PartialEq)]
pub enum CandleFileError {
    #[error("the file is empty; expected a header such as `time,open,high,low,close,volume`")]
    Empty,
    #[error("the header has no `{0}` column; expected a header such as `time,open,high,low,close,volume`")]
    MissingColumn(&'static str),
    #[error("the file is not text (UTF-8); export the candles as CSV")]
    NotText,
    #[error("the header is longer than {MAX_LINE_BYTES} characters; is this a candle file?")]
    HeaderTooLong,
    #[error("the file could not be read ({0})")]
    Unreadable(String),
}

/// Column positions found in the header.
struct Layout {
    time: usize,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
    volume: Option<usize>,
}

impl Layout {
    /// Until the header is read.
    fn placeholder() -> Layout {
        Layout {
            time: 0,
            open: 0,
            high: 0,
            low: 0,
            close: 0,
            volume: None,
        }
    }

    fn from_header(header: &str) -> Result<Layout, CandleFileError> {
        let names: Vec<String> = split_fields(header)
            .map(|name| name.to_ascii_lowercase())
            .collect();
        let find = |accepted: &[&str]| {
            names
                .iter()
                .position(|name| accepted.contains(&name.as_str()))
        };
        // pandas writes its index (the dates) under an empty first header, as in ../shared/data.
        let time = find(&[
            "time",
            "date",
            "datetime",
            "timestamp",
            "date_time",
            "open_time",
            "ts",
        ])
        .or_else(|| (names.first().is_some_and(String::is_empty)).then_some(0))
        .ok_or(CandleFileError::MissingColumn("time"))?;
        Ok(Layout {
            time,
            open: find(&["open", "o"]).ok_or(CandleFileError::MissingColumn("open"))?,
            high: find(&["high", "h"]).ok_or(CandleFileError::MissingColumn("high"))?,
            low: find(&["low", "l"]).ok_or(CandleFileError::MissingColumn("low"))?,
            close: find(&["close", "c"]).ok_or(CandleFileError::MissingColumn("close"))?,
            volume: find(&["volume", "vol", "v"]),
        })
    }
}

fn split_fields(line: &str) -> impl Iterator<Item = &str> {
    line.split(',')
        .map(|field| field.trim().trim_matches('"').trim())
}

/// Reads candles from CSV text. Rows come back sorted by time whatever their order in the file;
/// a row whose time repeats an earlier row's is rejected, the first one kept.
pub fn read_candles_csv(text: &str) -> Result<CandleImport, CandleFileError> {
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for row in CandleRows::new(text.as_bytes())? {
        match row? {
            RowRead::Candle(candle) => rows.push(candle),
            RowRead::Rejected(row) => rejected.push(row),
        }
    }
    rows.sort_by_key(|candle| candle.time);
    let mut candles = Candles::with_capacity(rows.len());
    for candle in rows {
        candles.push(candle);
    }
    Ok(CandleImport { candles, rejected })
}

/// The longest line a candle file may have; a longer one is rejected without being kept.
pub const MAX_LINE_BYTES: usize = 1_000;

/// The longest reason a rejected row keeps (a reason quotes the row's value).
const MAX_REASON_CHARS: usize = 200;

/// One data row as [`CandleRows`] read it.
#[derive(Clone, Debug, PartialEq)]
pub enum RowRead {
    Candle(Candle),
    Rejected(RejectedRow),
}

/// A candle file read row by row from any reader, never whole: the header first (its columns
/// found by name), then each data row as a candle or a rejection with its line. A line is read
/// up to [`MAX_LINE_BYTES`] (a longer one is rejected), so memory stays bounded whatever the
/// file holds. A time that repeats an earlier row's is rejected, the first one kept.
pub struct CandleRows<R> {
    reader: R,
    layout: Layout,
    line: usize,
    bytes_read: u64,
    seen_times: HashSet<i64>,
    buffer: Vec<u8>,
}

/// A line as read: its text, or that it was too long (and skipped to its end).
enum Line {
    Text,
    TooLong,
}

impl<R: std::io::BufRead> CandleRows<R> {
    /// Reads up to the header (the first line that is not blank) and finds its columns.
    pub fn new(reader: R) -> Result<Self, CandleFileError> {
        let mut rows = CandleRows {
            reader,
            layout: Layout::placeholder(),
            line: 0,
            bytes_read: 0,
            seen_times: HashSet::new(),
            buffer: Vec::new(),
        };
        loop {
            match rows.next_line()? {
                None => return Err(CandleFileError::Empty),
                Some(Line::TooLong) => return Err(CandleFileError::HeaderTooLong),
                Some(Line::Text) => {
                    let header = std::str::from_utf8(&rows.buffer)
                        .map_err(|_| CandleFileError::NotText)?
                        .trim_end_matches(['\n', '\r'])
                        .trim_start_matches('\u{feff}');
                    if header.trim().is_empty() {
                        continue;
                    }
                    rows.layout = Layout::from_header(header)?;
                    return Ok(rows);
                }
            }
        }
    }

    /// Bytes of the file read so far (for an upload's progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next line into `buffer`, at most `MAX_LINE_BYTES` of it.
    fn next_line(&mut self) -> Result<Option<Line>, CandleFileError> {
        use std::io::{BufRead, Read};
        self.buffer.clear();
        let unreadable = |error: std::io::Error| CandleFileError::Unreadable(error.to_string());
        let read = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.buffer)
            .map_err(unreadable)?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        self.bytes_read += read as u64;
        if self.buffer.len() <= MAX_LINE_BYTES || self.buffer.ends_with(b"\n") {
            return Ok(Some(Line::Text));
        }
        // Past the limit: the rest of the line is skipped, a chunk at a time.
        loop {
            let available = self.reader.fill_buf().map_err(unreadable)?;
            if available.is_empty() {
                break;
            }
            let (used, ended) = match available.iter().position(|byte| *byte == b'\n') {
                Some(end) => (end + 1, true),
                None => (available.len(), false),
            };
            self.reader.consume(used);
            self.bytes_read += used as u64;
            if ended {
                break;
            }
        }
        Ok(Some(Line::TooLong))
    }
}

impl<R: std::io::BufRead> Iterator for CandleRows<R> {
    type Item = Result<RowRead, CandleFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => return None,
                Err(error) => return Some(Err(error)),
            };
            let rejected = |line: usize, reason: String| {
                let reason = if reason.chars().count() > MAX_REASON_CHARS {
                    let cut: String = reason.chars().take(MAX_REASON_CHARS).collect();
                    format!("{cut}…")
                } else {
                    reason
                };
                Some(Ok(RowRead::Rejected(RejectedRow { line, reason })))
            };
            if let Line::TooLong = line {
                return rejected(
                    self.line,
                    format!("the row is longer than {MAX_LINE_BYTES} characters"),
                );
            }
            let Ok(text) = std::str::from_utf8(&self.buffer) else {
                return rejected(self.line, "the row is not text (UTF-8)".to_string());
            };
            let text = text.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            return match parse_row(&self.layout, text) {
                Ok(candle) if !self.seen_times.insert(candle.time) => rejected(
                    self.line,
                    format!(
                        "the time {} repeats an earlier row's",
                        format_unix_time(candle.time)
                    ),
                ),
                Ok(candle) => Some(Ok(RowRead::Candle(candle))),
                Err(reason) => rejected(self.line, reason),
            };
        }
    }
}

fn parse_row(layout: &Layout, text: &str) -> Result<Candle, String> {
    let fields: Vec<&str> = split_fields(text).collect();
    let field = |index: usize, name: &str| -> Result<&str, String> {
        fields
            .get(index)
            .copied()
            .filter(|field| !field.is_empty())
            .ok_or_else(|| format!("the {name} is missing"))
    };
    let time = parse_plausible_time(field(layout.time, "time")?)?;
    let price = |index: usize, name: &str| -> Result<f64, String> {
        let raw = field(index, name)?;
        let value: f64 = raw
            .parse()
            .map_err(|_| format!("the {name} `{raw}` is not a number"))?;
        if !value.is_finite() || value <= 0.0 {
            return Err(format!("the {name} {raw} is not a positive price"));
        }
        Ok(value)
    };
    let open = price(layout.open, "open")?;
    let high = price(layout.high, "high")?;
    let low = price(layout.low, "low")?;
    let close = price(layout.close, "close")?;
    if high < low {
        return Err(format!("the high {high} is below the low {low}"));
    }
    let volume = match layout.volume.and_then(|index| fields.get(index)).copied() {
        None | Some("") => 0.0,
        Some(raw) => match raw.parse::<f64>() {
            Ok(volume) if volume.is_finite() && volume >= 0.0 => volume,
            _ => return Err(format!("the volume `{raw}` is not a number of at least 0")),
        },
    };
    Ok(Candle {
        time,
        open,
        high,
        low,
        close,
        volume,
    })
}

/// Unix seconds and milliseconds are told apart by size: 10^11 seconds is in the year 5138,
/// so any larger integer is taken as milliseconds.
const LARGEST_UNIX_SECONDS: i64 = 100_000_000_000;

/// The years a bar's time may fall in: wider than any market's history, narrow enough that
/// every time fits Postgres's timestamps and chrono's dates.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2199;

/// 1900-01-01 00:00:00 UTC and 2199-12-31 23:59:59 UTC, in Unix seconds.
const EARLIEST_TIME: i64 = -2_208_988_800;
const LATEST_TIME: i64 = 7_258_118_399;

/// Whether a Unix time lies in the years [`FIRST_YEAR`] to [`LAST_YEAR`].
pub fn is_plausible_time(time: i64) -> bool {
    (EARLIEST_TIME..=LATEST_TIME).contains(&time)
}

/// Parses a time as [`parse_time`] does, refusing one outside [`FIRST_YEAR`]..=[`LAST_YEAR`].
fn parse_plausible_time(raw: &str) -> Result<i64, String> {
    let time = parse_time(raw)?;
    if is_plausible_time(time) {
        Ok(time)
    } else {
        Err(format!(
            "the time `{raw}` is outside the years {FIRST_YEAR} to {LAST_YEAR}"
        ))
    }
}

/// Parses an ISO date (midnight UTC), an ISO date-time (with `T` or a space, optional
/// fraction, optional `Z` or offset; without an offset it is taken as UTC) or Unix seconds or
/// milliseconds.
pub fn parse_time(raw: &str) -> Result<i64, String> {
    if let Ok(number) = raw.parse::<i64>() {
        return Ok(if number.abs() >= LARGEST_UNIX_SECONDS {
            number.div_euclid(1000)
        } else {
            number
        });
    }
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp());
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        return Ok(time.timestamp());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(time.and_utc().timestamp());
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%z"] {
        if let Ok(time) = DateTime::parse_from_str(raw, format) {
            return Ok(time.timestamp());
        }
    }
    Err(format!(
        "the time `{raw}` is neither an ISO date or date-time nor Unix seconds or milliseconds"
    ))
}

/// A time as people read it: the date alone at midnight UTC, else date and time.
pub fn format_unix_time(time: i64) -> String {
    match DateTime::from_timestamp(time, 0) {
        Some(moment) if time % 86_400 == 0 => moment.format("%Y-%m-%d").to_string(),
        Some(moment) => moment.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => time.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> CandleImport {
        read_candles_csv(text).unwrap()
    }

    #[test]
    fn a_line_over_the_limit_is_rejected_unkept_and_the_next_row_is_read() {
        let long = "9".repeat(5 * MAX_LINE_BYTES);
        let import = read(&format!(
            "time,open,high,low,close\n{long}\n2024-01-01,1,2,1,1\n"
        ));
        assert_eq!(import.candles.len(), 1);
        assert_eq!(
            import.rejected,
            vec![RejectedRow {
                line: 2,
                reason: format!("the row is longer than {MAX_LINE_BYTES} characters"),
            }]
        );
    }

    #[test]
    fn a_time_outside_the_years_of_markets_is_a_rejected_row_not_a_failure() {
        let import =
            read("time,open,high,low,close\n9000000000000000000,1,2,1,1\n-5000-01-01,1,2,1,1\n");
        assert!(import.candles.is_empty());
        assert_eq!(import.rejected.len(), 2);
        assert!(
            import.rejected[0]
                .reason
                .contains("outside the years 1900 to 2199"),
            "{:?}",
            import.rejected
        );
    }

    #[test]
    fn rows_are_read_one_at_a_time_from_any_reader_with_the_bytes_counted() {
        let text = "time,open,high,low,close\n2024-01-01,1,2,1,1\nnot,a,row\n";
        let mut rows =
            CandleRows::new(std::io::BufReader::with_capacity(8, text.as_bytes())).unwrap();
        assert!(matches!(rows.next(), Some(Ok(RowRead::Candle(_)))));
        assert!(matches!(
            rows.next(),
            Some(Ok(RowRead::Rejected(RejectedRow { line: 3, .. })))
        ));
        assert!(rows.next().is_none());
        assert_eq!(rows.bytes_read(), text.len() as u64);
    }

    #[test]
    fn the_shared_data_layout_with_an_empty_first_header_reads_dates_as_times() {
        let import =
            read(",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n");
        assert_eq!(import.rejected, vec![]);
        assert_eq!(import.candles.time, vec![1_092_873_600]);
        assert_eq!(import.candles.close, vec![100.34]);
        assert_eq!(import.candles.volume, vec![22_351_900.0]);
    }

    #[test]
    fn columns_may_come_in_any_case_and_order() {
        let import = read("VOLUME,close,Low,HIGH,Open,Date\n5,2,1,3,1.5,2024-01-02\n");
        assert_eq!(
            import.candles.candle(0),
            Candle {
                time: 1_704_153_600,
                open: 1.5,
                high: 3.0,
                low: 1.0,
                close: 2.0,
                volume: 5.0,
            }
        );
    }

    #[test]
    fn iso_date_times_unix_seconds_and_milliseconds_name_the_same_moment() {
        for time in [
            "2024-01-02 03:04:05",
            "2024-01-02T03:04:05Z",
            "2024-01-02T05:04:05+02:00",
            "1704164645",
            "1704164645000",
        ] {
            let import = read(&format!(
                "timestamp,open,high,low,close,volume\n{time},1,2,1,1,0\n"
            ));
            assert_eq!(import.candles.time, vec![1_704_164_645], "{time}");
        }
    }

    #[test]
    fn a_file_without_volume_reads_volume_as_zero() {
        let import = read("time,open,high,low,close\n2024-01-01,1,2,1,1\n");
        assert_eq!(import.candles.volume, vec![0.0]);
    }

    #[test]
    fn rows_are_sorted_by_time_whatever_their_order_in_the_file() {
        let import = read("time,open,high,low,close\n2024-01-02,2,2,2,2\n2024-01-01,1,1,1,1\n");
        assert_eq!(import.candles.close, vec![1.0, 2.0]);
    }

    #[test]
    fn bad_rows_are_rejected_with_their_line_and_reason_and_the_rest_kept() {
        let text = "time,open,high,low,close,volume\n\
                    2024-01-01,1,2,1,1,10\n\
                    2024-01-02,1,1,2,1,10\n\
                    2024-01-03,0,2,1,1,10\n\
                    2024-01-04,1,2,-1,1,10\n\
                    2024-01-01,1,2,1,1,10\n\
                    yesterday,1,2,1,1,10\n\
                    2024-01-07,1,2,1,abc,10\n\
                    2024-01-08,1,2,1\n\
                    2024-01-09,1,2,1,1,10\n";
        let import = read(text);
        assert_eq!(import.candles.len(), 2);
        let lines: Vec<usize> = import.rejected.iter().map(|row| row.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9]);
        let reasons: Vec<&str> = import
            .rejected
            .iter()
            .map(|row| row.reason.as_str())
            .collect();
        assert!(
            reasons[0].contains("high 1 is below the low 2"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].contains("open 0 is not a positive price"),
            "{reasons:?}"
        );
        assert!(
            reasons[2].contains("low -1 is not a positive price"),
            "{reasons:?}"
        );
        assert!(reasons[3].contains("repeats"), "{reasons:?}");
        assert!(reasons[4].contains("`yesterday`"), "{reasons:?}");
        assert!(
            reasons[5].contains("close `abc` is not a number"),
            "{reasons:?}"
        );
        assert!(reasons[6].contains("close is missing"), "{reasons:?}");
    }

    #[test]
    fn a_header_without_a_close_column_is_an_error_naming_it() {
        assert_eq!(
            read_candles_csv("time,open,high,low\n").unwrap_err(),
            CandleFileError::MissingColumn("close")
        );
        assert_eq!(
            read_candles_csv("\n\n").unwrap_err(),
            CandleFileError::Empty
        );
    }

    #[test]
    fn a_bar_range_keeps_the_bars_between_both_bounds_inclusive() {
        let import = read("time,open,high,low,close\n1,1,1,1,1\n2,1,1,1,1\n3,1,1,1,1\n4,1,1,1,1\n");
        assert_eq!(import.candles.bar_range(Some(2), Some(3)), 1..3);
        assert_eq!(import.candles.bar_range(None, None), 0..4);
        assert_eq!(import.candles.bar_range(Some(9), None), 4..4);
    }
}
