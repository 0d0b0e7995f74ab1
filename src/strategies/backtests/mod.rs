//! Backtests run from the app, as the pages and server functions share them: a run's status
//! and settings, the start form's values read at the edge (`RunSettings::parse`), a strategy's
//! list of runs and one run's results. Everything of a run is in this folder: its pages
//! (`views.rs`) and charts (`charts.rs`), and behind `ssr` its flows, the queue (table and
//! claims) and the worker that runs the engine (`crate::backtests`, the workspace's crate).

mod charts;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod views;

use crate::strategies::StrategyId;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    backtests::{
        candles::{FIRST_YEAR, LAST_YEAR},
        Metrics, Trade,
    },
    error::{AppError, FieldError},
};

/// Where a run is in the queue.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Finished,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Finished,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Queued => "Waiting",
            RunStatus::Running => "Running",
            RunStatus::Finished => "Finished",
            RunStatus::Failed => "Failed",
            RunStatus::Cancelled => "Cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Still waiting or running: it may be cancelled, and its page expects news.
    pub fn is_pending(self) -> bool {
        matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// The settings of one run, as stored: the series comes from the strategy's document, the
/// range and costs from the start form. Costs are fractions (0.001 is 0.1%).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunSettings {
    pub pair: String,
    pub timeframe: String,
    /// First day traded (from 00:00 UTC).
    pub from: NaiveDate,
    /// Last day traded (until 23:59:59 UTC).
    pub to: NaiveDate,
    pub initial_cash: f64,
    pub commission: f64,
    pub slippage: f64,
}

/// The largest cost the engine accepts, as a percentage (below 10%).
pub const MAX_COST_PERCENT: f64 = 10.0;

/// The start form's values as the page sends them (text, as typed).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct RunForm {
    pub from: String,
    pub to: String,
    pub cash: String,
    /// Percent per side (`0.1` is 0.1%).
    pub commission: String,
    /// Percent per fill.
    pub slippage: String,
}

/// The range and costs of a run, checked; the series is added from the document.
#[derive(Clone, Debug, PartialEq)]
pub struct RunChoice {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub initial_cash: f64,
    pub commission: f64,
    pub slippage: f64,
}

impl RunForm {
    /// Reads every field, reporting each unreadable one next to its input.
    pub fn parse(&self) -> Result<RunChoice, AppError> {
        let mut problems = Vec::new();
        let date = |field: &str, text: &str, problems: &mut Vec<FieldError>| {
            let read = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d");
            match read {
                Ok(day) if (FIRST_YEAR..=LAST_YEAR).contains(&day.year()) => Some(day),
                Ok(_) => {
                    problems.push(FieldError::new(
                        field,
                        format!("Choose a day in the years {FIRST_YEAR} to {LAST_YEAR}."),
                    ));
                    None
                }
                Err(_) => {
                    problems.push(FieldError::new(
                        field,
                        "Enter a date as YYYY-MM-DD, for example 2010-01-31.",
                    ));
                    None
                }
            }
        };
        let from = date("from", &self.from, &mut problems);
        let to = date("to", &self.to, &mut problems);
        let number = |text: &str| text.trim().replace([',', '_', ' '], "").parse::<f64>().ok();
        let initial_cash = match number(&self.cash) {
            Some(cash) if cash.is_finite() && cash > 0.0 && cash <= 1e15 => Some(cash),
            _ => {
                problems.push(FieldError::new(
                    "cash",
                    "Enter the starting cash as a positive amount, for example 10000.",
                ));
                None
            }
        };
        let mut percent = |field: &str, text: &str, what: &str| match number(text) {
            Some(value) if (0.0..MAX_COST_PERCENT).contains(&value) => Some(value / 100.0),
            _ => {
                problems.push(FieldError::new(
                    field,
                    format!(
                        "Enter the {what} as a percentage from 0 to below {MAX_COST_PERCENT}, for example 0.1."
                    ),
                ));
                None
            }
        };
        let commission = percent("commission", &self.commission, "commission");
        let slippage = percent("slippage", &self.slippage, "slippage");
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                problems.push(FieldError::new(
                    "to",
                    "The last day must not come before the first day.",
                ));
            }
        }
        match (from, to, initial_cash, commission, slippage) {
            (Some(from), Some(to), Some(initial_cash), Some(commission), Some(slippage))
                if problems.is_empty() =>
            {
                Ok(RunChoice {
                    from,
                    to,
                    initial_cash,
                    commission,
                    slippage,
                })
            }
            _ => Err(AppError::validation(problems)),
        }
    }
}

/// A number as a form shows it back: no trailing zeros (`0.1`, `10000`).
pub fn plain_number(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// The stored bars of the strategy's series: what the start form offers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StoredRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub bars: i64,
}

/// One run in a strategy's list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunSummary {
    pub id: Uuid,
    pub strategy_id: StrategyId,
    pub version: i32,
    pub status: RunStatus,
    pub settings: RunSettings,
    #[serde(with = "crate::wire_time")]
    pub queued_at: DateTime<Utc>,
    #[serde(default, with = "crate::wire_time::optional")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::wire_time::optional")]
    pub finished_at: Option<DateTime<Utc>>,
    /// For a waiting run: 1 when it is next, across every user's runs.
    pub place_in_line: Option<i64>,
    pub total_return: Option<f64>,
    pub trades: Option<i64>,
    pub error: Option<String>,
}

/// The strategy page's backtest panel: what the form offers and the runs so far.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BacktestPanel {
    pub strategy_id: StrategyId,
    pub current_version: i32,
    /// The strategy's pair and timeframe, when its current version names them.
    pub series: Option<(String, String)>,
    /// `None` when no bar of the series is stored.
    pub stored: Option<StoredRange>,
    pub defaults: RunForm,
    pub runs: Vec<RunSummary>,
}

/// An equity curve kept small enough to draw: at most a few thousand points.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct EquityCurve {
    pub time: Vec<i64>,
    pub equity: Vec<f64>,
}

/// Closing prices of the run's range, thinned like the equity curve, for the price chart.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct PriceSeries {
    pub time: Vec<i64>,
    pub close: Vec<f64>,
}

/// The most points a stored curve or a drawn price series keeps.
pub const CHART_POINTS: usize = 2000;

impl EquityCurve {
    /// A long curve brought down to `CHART_POINTS` that still shows its peaks and drawdowns
    /// (largest triangle three buckets), first and last points kept.
    pub fn thinned(time: &[i64], equity: &[f64]) -> Self {
        let (time, equity) = thin(time, equity);
        EquityCurve { time, equity }
    }
}

impl PriceSeries {
    pub fn thinned(time: &[i64], close: &[f64]) -> Self {
        let (time, close) = thin(time, close);
        PriceSeries { time, close }
    }
}

/// Largest-triangle-three-buckets: the first and last points, and from each of
/// `CHART_POINTS - 2` buckets between them the point that makes the largest triangle with the
/// point kept before it and the average of the next bucket. The shape a chart of every point
/// shows survives; a series short enough is kept whole.
fn thin(time: &[i64], values: &[f64]) -> (Vec<i64>, Vec<f64>) {
    let count = time.len().min(values.len());
    if count <= CHART_POINTS {
        return (time[..count].to_vec(), values[..count].to_vec());
    }
    let buckets = CHART_POINTS - 2;
    let bucket_of = |index: usize| 1 + index * (count - 2) / buckets;
    let mut kept = Vec::with_capacity(CHART_POINTS);
    kept.push(0);
    let mut previous = 0;
    for bucket in 0..buckets {
        let (start, end) = (bucket_of(bucket), bucket_of(bucket + 1));
        let (next_start, next_end) = (end, bucket_of(bucket + 2).min(count - 1).max(end + 1));
        let next = &time[next_start..next_end.min(count)];
        let average_time = next.iter().map(|&t| t as f64).sum::<f64>() / next.len().max(1) as f64;
        let average_value =
            values[next_start..next_end.min(count)].iter().sum::<f64>() / next.len().max(1) as f64;
        let (anchor_time, anchor_value) = (time[previous] as f64, values[previous]);
        let area = |index: usize| {
            ((anchor_time - average_time) * (values[index] - anchor_value)
                - (anchor_time - time[index] as f64) * (average_value - anchor_value))
                .abs()
        };
        let chosen = (start..end.max(start + 1))
            .max_by(|&a, &b| area(a).total_cmp(&area(b)))
            .unwrap_or(start);
        kept.push(chosen);
        previous = chosen;
    }
    kept.push(count - 1);
    (
        kept.iter().map(|&i| time[i]).collect(),
        kept.iter().map(|&i| values[i]).collect(),
    )
}

#[cfg(test)]
mod thinning {
    use super::*;

    #[test]
    fn a_long_curve_keeps_chart_points_with_its_extremes_first_and_last() {
        let count = 1_000_000;
        let time: Vec<i64> = (0..count as i64).collect();
        let mut values: Vec<f64> = (0..count)
            .map(|i| 100.0 + (i as f64 / 5000.0).sin())
            .collect();
        values[123_457] = 10.0;
        values[654_321] = 1_000.0;
        let (kept_time, kept) = thin(&time, &values);
        assert_eq!(kept.len(), CHART_POINTS);
        assert_eq!(
            (kept_time[0], *kept_time.last().unwrap()),
            (0, count as i64 - 1)
        );
        assert!(
            kept.contains(&10.0) && kept.contains(&1_000.0),
            "the drawdown and the peak stay"
        );
        assert!(kept_time.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn a_short_curve_is_kept_whole() {
        let (time, values) = thin(&[1, 2, 3], &[1.0, 2.0, 3.0]);
        assert_eq!((time, values), (vec![1, 2, 3], vec![1.0, 2.0, 3.0]));
    }
}

/// The results page: the run, what it tested, and (once finished) its figures.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunResults {
    pub run: RunSummary,
    pub strategy_name: String,
    /// The strategy's version now (the run may be of an older one).
    pub current_version: i32,
    pub metrics: Option<Metrics>,
    /// One page of the kept trades (`TRADES_PER_PAGE`), starting at `trades_first` (0-based).
    pub trades: Vec<Trade>,
    #[serde(default)]
    pub trades_first: i64,
    /// How many trades the run kept (the metrics count all of them; a run keeps the first
    /// 10,000).
    #[serde(default)]
    pub trades_kept: i64,
    pub equity: EquityCurve,
    pub prices: PriceSeries,
}

/// Trades on one page of a run's results.
pub const TRADES_PER_PAGE: i64 = 200;

impl RunResults {
    /// "Results of version 3; the strategy is now at version 5", when it was edited since.
    pub fn outdated_notice(&self) -> Option<String> {
        (self.current_version != self.run.version).then(|| {
            format!(
                "Results of version {}; the strategy is now at version {}.",
                self.run.version, self.current_version
            )
        })
    }
}

/// A backtest's status changed: what the live channel tells its owner's pages.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunChange {
    pub strategy_id: StrategyId,
    pub run_id: Uuid,
    pub status: RunStatus,
}

/// The trades of a run as CSV, one row per round trip (times in UTC, RFC 3339).
pub fn trades_csv(trades: &[Trade]) -> String {
    let mut text = String::from(
        "entry_time,exit_time,entry_price,exit_price,quantity,pnl,return_pct,commission,exit_reason\n",
    );
    let time = |seconds: i64| {
        DateTime::<Utc>::from_timestamp(seconds, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    for trade in trades {
        text.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            time(trade.entry_time),
            time(trade.exit_time),
            trade.entry_price,
            trade.exit_price,
            trade.quantity,
            trade.pnl,
            trade.return_pct,
            trade.commission,
            trade.exit_reason.name()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(from: &str, to: &str, cash: &str, commission: &str, slippage: &str) -> RunForm {
        RunForm {
            from: from.into(),
            to: to.into(),
            cash: cash.into(),
            commission: commission.into(),
            slippage: slippage.into(),
        }
    }

    #[test]
    fn a_form_with_readable_values_becomes_fractions_of_costs() {
        let choice = form("2010-01-01", "2012-12-31", "10,000", "0.1", "0")
            .parse()
            .unwrap();
        assert_eq!(choice.from, NaiveDate::from_ymd_opt(2010, 1, 1).unwrap());
        assert_eq!(choice.initial_cash, 10_000.0);
        assert!((choice.commission - 0.001).abs() < 1e-12);
        assert_eq!(choice.slippage, 0.0);
    }

    #[test]
    fn every_unreadable_field_is_reported_next_to_its_input() {
        let error = form("yesterday", "2012-12-31", "-5", "12", "x")
            .parse()
            .unwrap_err();
        for field in ["from", "cash", "commission", "slippage"] {
            assert!(error.field_message(field).is_some(), "{field}");
        }
        assert!(error.field_message("to").is_none());
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_refused_on_the_last_day() {
        let error = form("2012-01-01", "2011-01-01", "1000", "0", "0")
            .parse()
            .unwrap_err();
        assert!(error.field_message("to").unwrap().contains("before"));
    }

    #[test]
    fn a_long_curve_is_thinned_but_keeps_its_first_and_last_points() {
        let time: Vec<i64> = (0..10_000).collect();
        let equity: Vec<f64> = time.iter().map(|t| *t as f64).collect();
        let curve = EquityCurve::thinned(&time, &equity);
        assert!(curve.time.len() <= CHART_POINTS + 1);
        assert_eq!(curve.time.first(), Some(&0));
        assert_eq!(curve.time.last(), Some(&9_999));
        assert_eq!(curve.equity.last(), Some(&9_999.0));
    }

    #[test]
    fn numbers_show_back_without_trailing_zeros() {
        assert_eq!(plain_number(0.1), "0.1");
        assert_eq!(plain_number(10_000.0), "10000");
    }
}
