//! The figures of a finished backtest, computed from its equity curve and its trades.

use serde::{Deserialize, Serialize};

use super::trades::{EquityPoint, Trade};

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

/// The equity curve as the simulation writes it, with what the figures need from every bar
/// gathered on the way: reading a curve of a million points back costs more (in memory
/// traffic) than the arithmetic done on it.
#[derive(Clone, Debug, Default)]
pub struct EquityCurve {
    points: Vec<EquityPoint>,
    /// The sum of the bar returns so far, added in bar order.
    return_sum: f64,
    /// The bar returns other than the exact zero of a bar whose equity did not change (every
    /// flat bar), each with the index of its bar less one.
    moves: Vec<(usize, f64)>,
    drawdown: Drawdown,
}

impl EquityCurve {
    pub fn with_capacity(bars: usize) -> Self {
        EquityCurve {
            points: Vec::with_capacity(bars),
            ..EquityCurve::default()
        }
    }

    /// Records the equity at a bar's close.
    #[inline]
    pub fn push(&mut self, time: i64, equity: f64) {
        if let Some(before) = self.points.last().map(|point| point.equity) {
            // A bar whose equity did not change returns exactly 0, as the division would; it
            // leaves the sum as it is (the sum is never -0), so it is neither divided nor added.
            if !(equity == before && before != 0.0 && before.is_finite()) {
                let bar_return = equity / before - 1.0;
                self.return_sum += bar_return;
                self.moves.push((self.points.len() - 1, bar_return));
            }
        }
        self.drawdown.add(equity);
        self.points.push(EquityPoint { time, equity });
    }

    /// Records the same equity at the close of each of `times` (a stretch without a position),
    /// as a `push` for each would: after the first, an unchanged equity only adds its points.
    pub fn push_constant(&mut self, times: &[i64], equity: f64) {
        let Some((&first, rest)) = times.split_first() else {
            return;
        };
        self.push(first, equity);
        if equity != 0.0 && equity.is_finite() {
            self.points
                .extend(rest.iter().map(|&time| EquityPoint { time, equity }));
        } else {
            for &time in rest {
                self.push(time, equity);
            }
        }
    }

    pub fn points(&self) -> &[EquityPoint] {
        &self.points
    }

    pub fn into_points(self) -> Vec<EquityPoint> {
        self.points
    }

    /// Over the `count` bar returns in bar order (zero but at the recorded moves): the sum of
    /// their squared distances from `mean`, and the sum of the squares of the negative ones.
    fn squares_around(&self, mean: f64, count: usize) -> (f64, f64) {
        // A zero return adds (0 - mean)² to the squares and nothing to the downside squares.
        let zero_square = (0.0 - mean).powi(2);
        let (mut all, mut down) = (0.0, 0.0);
        let mut next = 0;
        for &(index, bar_return) in &self.moves {
            for _ in next..index {
                all += zero_square;
            }
            all += (bar_return - mean).powi(2);
            down += bar_return.min(0.0).powi(2);
            next = index + 1;
        }
        for _ in next..count {
            all += zero_square;
        }
        (all, down)
    }
}

/// Inputs of `compute_metrics`, named so the call reads.
pub struct MetricInputs<'a> {
    pub initial_cash: f64,
    /// The equity at each bar's close, with the bar's time.
    pub equity: &'a EquityCurve,
    pub trades: &'a [Trade],
    pub bars_in_market: usize,
    pub first_close: f64,
    pub last_close: f64,
}

pub fn compute_metrics(inputs: MetricInputs<'_>) -> Metrics {
    let MetricInputs {
        initial_cash,
        equity: curve,
        trades,
        bars_in_market,
        first_close,
        last_close,
    } = inputs;
    let equity = curve.points();
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
    let (sharpe, sortino) = match (bars_per_year, equity.len().saturating_sub(1)) {
        (Some(per_year), count) if count >= 2 => {
            let mean = curve.return_sum / count as f64;
            // Both sums added in bar order, as one pass over the returns would.
            let (squares, downside_squares) = curve.squares_around(mean, count);
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
    let max_drawdown = curve.drawdown.largest();
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

/// The largest fall from a running peak, as a fraction of the peak (peaks above 0 only).
///
/// For one finite peak, `1 - value / peak` is largest at the lowest value (a correctly rounded
/// division by a positive number and a subtraction from 1 are both monotonic), so it is computed
/// once per peak, from the lowest equity before the next higher peak, rather than once per bar:
/// the same figure, bit for bit, without a division per bar. NaN equities are skipped, as
/// `f64::max` and `f64::min` skip them.
#[derive(Clone, Debug)]
struct Drawdown {
    largest: f64,
    peak: f64,
    lowest: f64,
}

impl Default for Drawdown {
    fn default() -> Self {
        Drawdown {
            largest: 0.0,
            peak: f64::MIN,
            lowest: f64::NAN,
        }
    }
}

impl Drawdown {
    #[inline]
    fn add(&mut self, equity: f64) {
        if equity > self.peak {
            self.close_peak();
            self.peak = equity;
            self.lowest = equity;
        } else if self.peak == f64::INFINITY {
            // An infinite peak is not monotonic to divide by (`-inf / inf` is NaN), so below
            // it each bar counts by itself.
            self.largest = self.largest.max(1.0 - equity / self.peak);
        } else {
            self.lowest = self.lowest.min(equity);
        }
    }

    fn close_peak(&mut self) {
        if self.peak > 0.0 && self.peak.is_finite() {
            self.largest = self.largest.max(1.0 - self.lowest / self.peak);
        }
    }

    fn largest(&self) -> f64 {
        let mut closed = self.clone();
        closed.close_peak();
        closed.largest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seeded equities: a random walk that stays flat for stretches, as a strategy's equity does
    /// between trades.
    fn walk(points: usize) -> Vec<f64> {
        let mut next = crate::seeded::uniforms(0x9E37_79B9_7F4A_7C15);
        let mut equity = 10_000.0;
        (0..points)
            .map(|_| {
                if next() < 0.3 {
                    equity *= 1.0 + (next() - 0.5) * 0.04;
                }
                equity
            })
            .collect()
    }

    /// The drawdown as a pass over every bar computes it.
    fn drawdown_of_every_bar(equity: &[f64]) -> f64 {
        let mut peak = f64::MIN;
        let mut largest: f64 = 0.0;
        for &value in equity {
            peak = peak.max(value);
            if peak > 0.0 {
                largest = largest.max(1.0 - value / peak);
            }
        }
        largest
    }

    #[test]
    fn the_drawdown_taken_once_per_peak_is_the_largest_of_every_bar_bit_for_bit() {
        let mut cases = vec![
            walk(5_000),
            vec![],
            vec![5.0],
            vec![-3.0, -1.0, -2.0, 4.0, 1.0, 4.0, 0.5],
            vec![0.0, -1.0, 2.0, 2.0, f64::NAN, 1.0, 3.0, 0.0, 2.5],
            vec![1.0, f64::INFINITY, 3.0, f64::NAN, f64::NEG_INFINITY, 2.0],
            vec![f64::NAN, f64::NAN, 7.0, 6.0, 8.0, 6.5, 6.0, 6.25],
        ];
        cases.push(
            walk(300)
                .into_iter()
                .map(|value| 20_000.0 - value)
                .collect(),
        );
        for equity in cases {
            let mut drawdown = Drawdown::default();
            equity.iter().for_each(|&value| drawdown.add(value));
            assert_eq!(
                drawdown.largest().to_bits(),
                drawdown_of_every_bar(&equity).to_bits(),
                "{equity:?}"
            );
        }
    }

    #[test]
    fn figures_gathered_while_the_curve_is_written_match_a_pass_over_the_finished_curve() {
        let values = walk(20_000);
        let mut curve = EquityCurve::with_capacity(values.len());
        // Flat stretches written at once, as the simulation writes them.
        let mut bar = 0;
        while bar < values.len() {
            let same = values[bar..]
                .iter()
                .take_while(|&&value| value == values[bar])
                .count();
            let times: Vec<i64> = (bar..bar + same).map(|bar| bar as i64 * 3_600).collect();
            if same > 1 && bar % 2 == 0 {
                curve.push_constant(&times, values[bar]);
            } else {
                times.iter().for_each(|&time| curve.push(time, values[bar]));
            }
            bar += same;
        }
        let metrics = compute_metrics(MetricInputs {
            initial_cash: 10_000.0,
            equity: &curve,
            trades: &[],
            bars_in_market: 0,
            first_close: 1.0,
            last_close: 1.0,
        });
        // The same figures from every bar's return, divided and added in bar order.
        let points = curve.points();
        assert_eq!(
            points.iter().map(|point| point.equity).collect::<Vec<_>>(),
            values
        );
        let returns: Vec<f64> = values
            .windows(2)
            .map(|pair| pair[1] / pair[0] - 1.0)
            .collect();
        let count = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / count;
        let (squares, downside) = returns.iter().fold((0.0, 0.0), |(all, down), r| {
            (all + (r - mean).powi(2), down + r.min(0.0).powi(2))
        });
        let scale = metrics.bars_per_year.unwrap().sqrt();
        let sharpe = mean / (squares / (count - 1.0)).sqrt() * scale;
        let sortino = mean / (downside / count).sqrt() * scale;
        assert_eq!(metrics.sharpe.map(f64::to_bits), Some(sharpe.to_bits()));
        assert_eq!(metrics.sortino.map(f64::to_bits), Some(sortino.to_bits()));
        assert_eq!(
            metrics.max_drawdown.to_bits(),
            drawdown_of_every_bar(&values).to_bits()
        );
        assert!(curve.moves.len() < values.len() / 2);
    }
}
