//! The results page's charts as SVG, drawn on the server (readable without JavaScript): the
//! equity curve with its drawdown below it, and the price with a marker per entry and exit.
//! Each marker, and each of the thin strips a chart is cut into, has a `<title>`: the
//! browser's hover text, so the details show with or without JavaScript.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::{
    backtests::Trade,
    strategies::backtests::{EquityCurve, PriceSeries},
};

const WIDTH: f64 = 800.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
/// At most this many trades get markers (each has two); the rest are in the table.
pub const MARKED_TRADES: usize = 300;

/// Maps times and values onto a plot area of the SVG.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plot {
    first: i64,
    last: i64,
    low: f64,
    high: f64,
    top: f64,
    height: f64,
}

impl Plot {
    /// A plot of `times` (ascending) and `values` between `top` and `top + height`.
    pub fn fit(times: &[i64], values: &[f64], top: f64, height: f64) -> Self {
        let (mut low, mut high) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::MAX, f64::MIN), |(low, high), v| {
                (low.min(*v), high.max(*v))
            });
        if low > high {
            (low, high) = (0.0, 1.0);
        }
        if high - low < f64::EPSILON * high.abs().max(1.0) {
            (low, high) = (low - 1.0, high + 1.0);
        }
        Plot {
            first: times.first().copied().unwrap_or(0),
            last: times.last().copied().unwrap_or(1),
            low,
            high,
            top,
            height,
        }
    }

    pub fn x(&self, time: i64) -> f64 {
        let span = (self.last - self.first).max(1) as f64;
        LEFT + (time - self.first) as f64 / span * (WIDTH - LEFT - RIGHT)
    }

    pub fn y(&self, value: f64) -> f64 {
        self.top + (self.high - value) / (self.high - self.low) * self.height
    }

    /// An SVG path through the points.
    pub fn line(&self, times: &[i64], values: &[f64]) -> String {
        let mut path = String::with_capacity(times.len() * 16);
        for (i, (time, value)) in times.iter().zip(values).enumerate() {
            if !value.is_finite() {
                continue;
            }
            let command = if i == 0 { 'M' } else { 'L' };
            path.push_str(&format!(
                "{command}{:.1} {:.1} ",
                self.x(*time),
                self.y(*value)
            ));
        }
        path.trim_end().to_string()
    }

    /// The same line closed down to `base` (a filled area).
    pub fn area(&self, times: &[i64], values: &[f64], base: f64) -> String {
        match (times.first(), times.last()) {
            (Some(first), Some(last)) => format!(
                "{} L{:.1} {:.1} L{:.1} {:.1} Z",
                self.line(times, values),
                self.x(*last),
                self.y(base),
                self.x(*first),
                self.y(base)
            ),
            _ => String::new(),
        }
    }
}

/// How far below its running peak the equity is at each point (0 to 1).
pub fn drawdowns(equity: &[f64]) -> Vec<f64> {
    let mut peak = f64::MIN;
    equity
        .iter()
        .map(|value| {
            peak = peak.max(*value);
            if peak > 0.0 {
                1.0 - value / peak
            } else {
                0.0
            }
        })
        .collect()
}

/// A bar's time: the day alone at midnight UTC (daily bars), otherwise with the hour.
pub fn day(time: i64) -> String {
    let format = if time % 86_400 == 0 {
        "%Y-%m-%d"
    } else {
        "%Y-%m-%d %H:%M"
    };
    DateTime::<Utc>::from_timestamp(time, 0)
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

/// A price with the decimals its size needs (`1.18342`, `12.3456`, `1,234.56`).
pub fn price(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = match magnitude {
        m if m < 1.0 => 6,
        m if m < 10.0 => 5,
        m if m < 100.0 => 4,
        _ => return amount(value),
    };
    format!("{value:.decimals$}")
}

/// A value with thousands separators and two decimals (`12,345.67`).
pub fn amount(value: f64) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let text = format!("{:.2}", value.abs());
    let (whole, decimals) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{}{grouped}.{decimals}", if value < 0.0 { "-" } else { "" })
}

pub fn percent(value: f64) -> String {
    if value.is_finite() {
        format!("{:.2}%", value * 100.0)
    } else {
        "–".into()
    }
}

/// How many hover strips a chart has at most (each one's `<title>` names its first point).
const HOVER_STRIPS: usize = 120;

/// Invisible vertical strips over a chart, each with a `<title>`: the browser shows the date
/// and value under the pointer, with or without JavaScript.
#[component]
fn HoverStrips(plot: Plot, times: Vec<i64>, labels: Vec<String>, height: f64) -> impl IntoView {
    let count = times.len().min(labels.len());
    let strips = count.min(HOVER_STRIPS);
    (0..strips)
        .map(|strip| {
            let first = strip * count / strips;
            let next = ((strip + 1) * count / strips).min(count - 1);
            let left = plot.x(times[first]);
            let right = if strip + 1 == strips {
                WIDTH - RIGHT
            } else {
                plot.x(times[next])
            };
            let text = format!("{} · {}", day(times[first]), labels[first]);
            view! {
                <rect class="hover-strip" x=left y=plot.top width=(right - left).max(1.0) height=height - plot.top>
                    <title>{text}</title>
                </rect>
            }
        })
        .collect_view()
}

/// Two labels of the value axis (top and bottom of a plot).
#[component]
fn ValueAxis(plot: Plot, top_label: String, bottom_label: String) -> impl IntoView {
    view! {
        <text x=LEFT - 6.0 y=plot.top + 4.0 text-anchor="end" class="axis-label">{top_label}</text>
        <text x=LEFT - 6.0 y=plot.top + plot.height text-anchor="end" class="axis-label">{bottom_label}</text>
        <line x1=LEFT x2=WIDTH - RIGHT y1=plot.top + plot.height y2=plot.top + plot.height class="axis" />
    }
}

/// The dates under a chart: its first and last.
#[component]
fn TimeAxis(plot: Plot, y: f64) -> impl IntoView {
    view! {
        <text x=LEFT y=y class="axis-label">{day(plot.first)}</text>
        <text x=WIDTH - RIGHT y=y text-anchor="end" class="axis-label">{day(plot.last)}</text>
    }
}

#[component]
pub fn EquityChart(equity: EquityCurve) -> impl IntoView {
    let EquityCurve { time, equity } = equity;
    if time.len() < 2 {
        return view! { <p class="hint">"The run has too few bars to draw its equity."</p> }
            .into_any();
    }
    let height = 330.0;
    let plot = Plot::fit(&time, &equity, 10.0, 200.0);
    let drawdown = drawdowns(&equity);
    let deepest = drawdown.iter().copied().fold(0.0, f64::max);
    let negative: Vec<f64> = drawdown.iter().map(|d| -d).collect();
    let under = Plot::fit(&time, &[0.0, -deepest.max(0.0001)], 240.0, 60.0);
    let description = format!(
        "Equity from {} on {} to {} on {}; deepest drawdown {}.",
        amount(equity[0]),
        day(time[0]),
        amount(*equity.last().unwrap_or(&0.0)),
        day(*time.last().unwrap_or(&0)),
        percent(deepest)
    );
    let labels: Vec<String> = equity
        .iter()
        .zip(&drawdown)
        .map(|(value, down)| format!("equity {} · drawdown {}", amount(*value), percent(*down)))
        .collect();
    view! {
        <Chart id="equity-chart" height plot description times=time.clone() labels value_text=amount>
            <path d=plot.line(&time, &equity) class="equity-line" />
            <text x=LEFT + 4.0 y=236 class="axis-label">"Drawdown"</text>
            <ValueAxis plot=under top_label="0%".to_string() bottom_label=format!("-{}", percent(deepest)) />
            <path d=under.area(&time, &negative, 0.0) class="drawdown-area" />
        </Chart>
    }
    .into_any()
}

#[component]
pub fn PriceChart(prices: PriceSeries, trades: Vec<Trade>, pair: String) -> impl IntoView {
    let PriceSeries { time, close } = prices;
    if time.len() < 2 {
        return view! { <p class="hint">"The candles of this run are no longer stored."</p> }
            .into_any();
    }
    let height = 300.0;
    let mut values = close.clone();
    values.extend(trades.iter().flat_map(|t| [t.entry_price, t.exit_price]));
    let plot = Plot::fit(&time, &values, 10.0, 250.0);
    let marked = trades.len().min(MARKED_TRADES);
    let markers = trades
        .iter()
        .take(MARKED_TRADES)
        .enumerate()
        .map(|(number, trade)| {
            let (entry_x, entry_y) = (plot.x(trade.entry_time), plot.y(trade.entry_price));
            let (exit_x, exit_y) = (plot.x(trade.exit_time), plot.y(trade.exit_price));
            let entry = format!(
                "Trade {}: bought {:.4} at {} on {}",
                number + 1,
                trade.quantity,
                price(trade.entry_price),
                day(trade.entry_time)
            );
            let exit = format!(
                "Trade {}: sold at {} on {} ({}), {} ({})",
                number + 1,
                price(trade.exit_price),
                day(trade.exit_time),
                trade.exit_reason.name().replace('_', " "),
                amount(trade.pnl),
                percent(trade.return_pct)
            );
            view! {
                <path class="marker entry" d=format!("M{entry_x:.1} {:.1} l-5 9 h10 Z", entry_y + 2.0)>
                    <title>{entry}</title>
                </path>
                <path class="marker exit" d=format!("M{exit_x:.1} {:.1} l-5 -9 h10 Z", exit_y - 2.0)>
                    <title>{exit}</title>
                </path>
            }
        })
        .collect_view();
    let description = format!(
        "{pair} closing prices from {} to {}, with {} trade{} marked: up triangles are entries, down triangles exits.",
        day(time[0]),
        day(*time.last().unwrap_or(&0)),
        marked,
        if marked == 1 { "" } else { "s" }
    );
    let labels: Vec<String> = close
        .iter()
        .map(|value| format!("close {}", price(*value)))
        .collect();
    let note = (trades.len() > MARKED_TRADES).then(|| {
        format!(
            " Only the first {MARKED_TRADES} trades are marked; the table lists all {}.",
            trades.len()
        )
    });
    view! {
        <Chart id="price-chart" height plot description times=time.clone() labels value_text=price note>
            <path d=plot.line(&time, &close) class="price-line" />
            <g class="markers">{markers}</g>
        </Chart>
    }
    .into_any()
}

/// A chart's frame: the SVG with its accessible title, the value and time axes, the hover
/// cursor, and the description again as a caption.
#[component]
fn Chart(
    id: &'static str,
    height: f64,
    plot: Plot,
    description: String,
    times: Vec<i64>,
    labels: Vec<String>,
    /// How the value axis prints its values.
    value_text: fn(f64) -> String,
    #[prop(default = None)] note: Option<String>,
    children: Children,
) -> impl IntoView {
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    view! {
        <figure class="chart" id=id>
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-labelledby=labelled_by>
                <title id=title_id>{description.clone()}</title>
                <ValueAxis plot top_label=value_text(plot.high) bottom_label=value_text(plot.low) />
                <HoverStrips plot times labels height=height - 20.0 />
                {children()}
                <TimeAxis plot y=height - 6.0 />
            </svg>
            <figcaption>{description}{note}</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plot_puts_the_highest_value_at_the_top_and_the_last_time_at_the_right() {
        let plot = Plot::fit(&[0, 10], &[5.0, 15.0], 10.0, 100.0);
        assert_eq!(plot.y(15.0), 10.0);
        assert_eq!(plot.y(5.0), 110.0);
        assert_eq!(plot.x(0), LEFT);
        assert_eq!(plot.x(10), WIDTH - RIGHT);
    }

    #[test]
    fn a_line_visits_every_point_in_order() {
        let plot = Plot::fit(&[0, 1, 2], &[1.0, 2.0, 3.0], 0.0, 100.0);
        let path = plot.line(&[0, 1, 2], &[1.0, 2.0, 3.0]);
        assert!(path.starts_with('M'));
        assert_eq!(path.matches('L').count(), 2);
        assert!(path.ends_with(&format!("{:.1} 0.0", WIDTH - RIGHT)));
    }

    #[test]
    fn drawdown_is_the_fall_from_the_running_peak() {
        let down = drawdowns(&[100.0, 120.0, 90.0, 130.0]);
        assert_eq!(down[0], 0.0);
        assert_eq!(down[1], 0.0);
        assert!((down[2] - 0.25).abs() < 1e-12);
        assert_eq!(down[3], 0.0);
    }

    #[test]
    fn a_flat_series_still_gets_a_plot_with_height() {
        let plot = Plot::fit(&[0, 1], &[7.0, 7.0], 0.0, 100.0);
        assert!(plot.y(7.0).is_finite());
    }

    #[test]
    fn prices_keep_the_decimals_their_size_needs_and_times_show_the_hour_when_not_midnight() {
        assert_eq!(price(1.183421), "1.18342");
        assert_eq!(price(12.34567), "12.3457");
        assert_eq!(price(1234.567), "1,234.57");
        assert_eq!(day(86_400), "1970-01-02");
        assert_eq!(day(86_400 + 3_600), "1970-01-02 01:00");
    }

    #[test]
    fn amounts_are_grouped_in_thousands() {
        assert_eq!(amount(1_234_567.891), "1,234,567.89");
        assert_eq!(amount(-950.0), "-950.00");
        assert_eq!(percent(0.1234), "12.34%");
    }
}
