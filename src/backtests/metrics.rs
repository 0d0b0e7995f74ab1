//! The figures of a finished backtest, computed from its equity curve and its trades.

use serde::{Deserialize, Serialize};

use super::simulation::{EquityPoint, Trade};

const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

/// Every figure DSL.md lists, plus a few a trader reads beside them. Ratios are fractions
/// (0.05 is 5%); `None` where a figure is undefined (no trades, no losing trade, one bar).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub initial_cash: f64,
    pub final_equity: f64,
    pub total_return: f64,
    pub cagr: Option<f64>,
    pub sharpe: Option<f64>,
    pub sortino: Option<f64>,
    pub max_drawdown: f64,
    pub win_rate: Option<f64>,
    pub profit_factor: Option<f64>,
    pub trades: usize,
    pub exposure: f64,
    pub buy_and_hold_return: f64,
    pub average_trade_return: Option<f64>,
    pub best_trade_return: Option<f64>,
    pub worst_trade_return: Option<f64>,
    pub commissions: f64,
    pub bars: usize,
    pub bars_per_year: Option<f64>,
}

/// Inputs of `compute_metrics`, named so the call reads.
pub struct MetricInputs<'a> {
    pub initial_cash: f64,
    /// The equity at each bar's close, with the bar's time.
    pub equity: &'a [EquityPoint],
    pub trades: &'a [Trade],
    pub bars_in_market: usize,
    pub first_close: f64,
    pub last_close: f64,
}

pub fn compute_metrics(inputs: MetricInputs<'_>) -> Metrics {
    let MetricInputs {
        initial_cash,
        equity,
        trades,
        bars_in_market,
        first_close,
        last_close,
    } = inputs;
    let final_equity = equity.last().map_or(initial_cash, |point| point.equity);
    let total_return = final_equity / initial_cash - 1.0;
    let span_years = match (equity.first(), equity.last()) {
        (Some(first), Some(last)) if last.time > first.time => {
            Some((last.time - first.time) as f64 / SECONDS_PER_YEAR)
        }
        _ => None,
    };
    // Annualising by the bars the data actually has per year treats a stock's 252 trading
    // days and a coin's 365 alike.
    let bars_per_year = span_years.map(|years| (equity.len() - 1) as f64 / years);
    let cagr =
        span_years.map(|years| (final_equity / initial_cash).max(0.0).powf(1.0 / years) - 1.0);
    // The bar returns are recomputed per pass rather than stored: a division is cheaper than
    // writing and reading back a column as long as the equity curve.
    let returns = || {
        equity
            .windows(2)
            .map(|pair| pair[1].equity / pair[0].equity - 1.0)
    };
    let (sharpe, sortino) = match (bars_per_year, equity.len().saturating_sub(1)) {
        (Some(per_year), count) if count >= 2 => {
            let mean = returns().sum::<f64>() / count as f64;
            // One pass for both sums, each added in bar order as before.
            let (squares, downside_squares) = returns().fold((0.0, 0.0), |(all, down), r| {
                (all + (r - mean).powi(2), down + r.min(0.0).powi(2))
            });
            let variance = squares / (count - 1) as f64;
            let downside = (downside_squares / count as f64).sqrt();
            let scale = per_year.sqrt();
            (
                (variance > 0.0).then(|| mean / variance.sqrt() * scale),
                (downside > 0.0).then(|| mean / downside * scale),
            )
        }
        _ => (None, None),
    };
    let mut peak = f64::MIN;
    let mut max_drawdown: f64 = 0.0;
    for value in equity.iter().map(|point| point.equity) {
        peak = peak.max(value);
        if peak > 0.0 {
            max_drawdown = max_drawdown.max(1.0 - value / peak);
        }
    }
    let wins = trades.iter().filter(|trade| trade.pnl > 0.0).count();
    let gross_profit: f64 = trades.iter().map(|trade| trade.pnl.max(0.0)).sum();
    let gross_loss: f64 = trades.iter().map(|trade| (-trade.pnl).max(0.0)).sum();
    let trade_returns = trades.iter().map(|trade| trade.return_pct);
    let count = trades.len();
    Metrics {
        initial_cash,
        final_equity,
        total_return,
        cagr,
        sharpe,
        sortino,
        max_drawdown,
        win_rate: (count > 0).then(|| wins as f64 / count as f64),
        profit_factor: (gross_loss > 0.0).then(|| gross_profit / gross_loss),
        trades: count,
        exposure: if equity.is_empty() {
            0.0
        } else {
            bars_in_market as f64 / equity.len() as f64
        },
        buy_and_hold_return: last_close / first_close - 1.0,
        average_trade_return: (count > 0)
            .then(|| trade_returns.clone().sum::<f64>() / count as f64),
        best_trade_return: trade_returns.clone().reduce(f64::max),
        worst_trade_return: trade_returns.reduce(f64::min),
        commissions: trades.iter().map(|trade| trade.commission).sum(),
        bars: equity.len(),
        bars_per_year,
    }
}
