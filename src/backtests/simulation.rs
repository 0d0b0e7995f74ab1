//! The trading simulation of DSL.md's "Backtest semantics": long-only; signals at a bar's
//! close; market orders at the next bar's open; stop-loss, take-profit and trailing stop
//! against later bars' high and low (at their level, or at the open on a gap); commission and
//! slippage per side; the four sizing rules; several positions when
//! `max_concurrent_positions` allows; every trade recorded.

use serde::{Deserialize, Serialize};

use crate::language::model::{PositionSizing, RiskParameters, SizingType, Strategy};

use super::candles::Candles;
use super::conditions::{
    compile_condition, ColumnStore, CompiledCondition, HeldPosition, PositionView,
};
use super::indicators::{stream_read_indicators, ReadOutputs};
use super::metrics::{compute_metrics, EquityCurve, MetricInputs, Metrics};
use super::BacktestError;

/// What the user chooses per run (DSL.md: costs are settings, 0 by default).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BacktestSettings {
    pub initial_cash: f64,
    /// Fraction of the traded value paid per side.
    pub commission: f64,
    /// Fraction by which every fill is worse than its price (buys higher, sells lower).
    pub slippage: f64,
    /// Trade only bars in `from..=to` (Unix seconds); indicators still warm up on earlier bars.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl Default for BacktestSettings {
    fn default() -> Self {
        BacktestSettings {
            initial_cash: 10_000.0,
            commission: 0.0,
            slippage: 0.0,
            from: None,
            to: None,
        }
    }
}

impl BacktestSettings {
    fn check(&self) -> Result<(), BacktestError> {
        let bad = |name, rule, value| Err(BacktestError::BadSetting { name, rule, value });
        if !(self.initial_cash.is_finite() && self.initial_cash > 0.0) {
            return bad("cash", "a positive amount", self.initial_cash);
        }
        if !(0.0..0.1).contains(&self.commission) {
            return bad(
                "commission",
                "a fraction from 0 to below 0.1 (0.001 is 0.1%)",
                self.commission,
            );
        }
        if !(0.0..0.1).contains(&self.slippage) {
            return bad(
                "slippage",
                "a fraction from 0 to below 0.1 (0.001 is 0.1%)",
                self.slippage,
            );
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    ExitCondition,
    StopCondition,
    StopLoss,
    TakeProfit,
    TrailingStop,
    MaxDrawdown,
    MaxDailyLoss,
    EndOfData,
}

impl ExitReason {
    pub fn name(self) -> &'static str {
        match self {
            ExitReason::ExitCondition => "exit_condition",
            ExitReason::StopCondition => "stop_condition",
            ExitReason::StopLoss => "stop_loss",
            ExitReason::TakeProfit => "take_profit",
            ExitReason::TrailingStop => "trailing_stop",
            ExitReason::MaxDrawdown => "max_drawdown",
            ExitReason::MaxDailyLoss => "max_daily_loss",
            ExitReason::EndOfData => "end_of_data",
        }
    }
}

/// One round trip. Bars are indexes into the candle series; prices are fills (slippage
/// included); `pnl` is net of both commissions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub entry_bar: usize,
    pub exit_bar: usize,
    pub entry_time: i64,
    pub exit_time: i64,
    pub entry_price: f64,
    pub exit_price: f64,
    pub quantity: f64,
    pub pnl: f64,
    pub return_pct: f64,
    pub commission: f64,
    pub exit_reason: ExitReason,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    pub time: i64,
    pub equity: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BacktestReport {
    pub settings: BacktestSettings,
    pub metrics: Metrics,
    pub trades: Vec<Trade>,
    pub equity_curve: Vec<EquityPoint>,
}

struct OpenPosition {
    entry_bar: usize,
    entry_price: f64,
    quantity: f64,
    entry_commission: f64,
    best_close: f64,
    /// Highest high since entry, up to the bar before the one being checked (no look-ahead
    /// inside a bar: a bar's own high cannot raise the trailing stop that bar must respect).
    highest_high: f64,
    pending_exit: Option<ExitReason>,
}

/// The rules of the strategy the simulation needs, read once.
struct Rules {
    sizing: PositionSizing,
    risk: RiskParameters,
    max_positions: usize,
}

/// The strategy's conditions, owned by the simulation because each keeps the block of bars it
/// evaluated last.
struct Conditions {
    entry: CompiledCondition,
    exit: CompiledCondition,
    stop: Option<CompiledCondition>,
}

/// Backtests a validated strategy over the candles.
pub fn run_backtest(
    strategy: &Strategy,
    candles: &Candles,
    settings: &BacktestSettings,
) -> Result<BacktestReport, BacktestError> {
    run_backtest_until(strategy, candles, settings, &|| false)
}

/// How many bars the simulation runs between two questions whether to stop.
pub const BARS_BETWEEN_STOP_CHECKS: usize = 4096;

/// [`run_backtest`], asking `stop` before the indicators, after them and every
/// [`BARS_BETWEEN_STOP_CHECKS`] bars whether to give up (a cancelled run, a time limit):
/// then it ends with [`BacktestError::Stopped`] within moments.
pub fn run_backtest_until(
    strategy: &Strategy,
    candles: &Candles,
    settings: &BacktestSettings,
    stop: &dyn Fn() -> bool,
) -> Result<BacktestReport, BacktestError> {
    settings.check()?;
    if stop() {
        return Err(BacktestError::Stopped);
    }
    let range = candles.bar_range(settings.from, settings.to);
    if range.is_empty() {
        return Err(BacktestError::NoCandles);
    }
    let indicators =
        stream_read_indicators(strategy, candles, &ReadOutputs::of_conditions(strategy))?;
    if stop() {
        return Err(BacktestError::Stopped);
    }
    let mut store = ColumnStore::streaming(candles, indicators);
    let missing = |field: &str| BacktestError::Unsupported(format!("a strategy without {field}"));
    let conditions = Conditions {
        entry: compile_condition(
            &strategy
                .entry_conditions
                .as_ref()
                .ok_or_else(|| missing("entry_conditions"))?
                .expression,
            candles,
            &mut store,
        )?,
        exit: compile_condition(
            &strategy
                .exit_conditions
                .as_ref()
                .ok_or_else(|| missing("exit_conditions"))?
                .expression,
            candles,
            &mut store,
        )?,
        stop: strategy
            .stop_conditions
            .as_ref()
            .map(|stop| compile_condition(&stop.expression, candles, &mut store))
            .transpose()?,
    };
    let rules = Rules {
        sizing: strategy
            .position_sizing
            .clone()
            .ok_or_else(|| missing("position_sizing"))?,
        risk: strategy.risk_parameters.clone().unwrap_or_default(),
        max_positions: strategy
            .risk_parameters
            .as_ref()
            .and_then(|risk| risk.max_concurrent_positions)
            .unwrap_or(1)
            .max(1) as usize,
    };
    Simulation::new(candles, store, &rules, conditions, settings).run(range, stop)
}

struct Simulation<'a> {
    candles: &'a Candles,
    /// Owned, because streamed indicator outputs are computed as the conditions ask.
    store: ColumnStore<'a>,
    rules: &'a Rules,
    conditions: Conditions,
    settings: &'a BacktestSettings,
    cash: f64,
    positions: Vec<OpenPosition>,
    trades: Vec<Trade>,
    entry_pending: bool,
    halted: bool,
    peak_equity: f64,
    /// The UTC day of the bar last checked, as a span of times (no division per bar).
    day: std::ops::Range<i64>,
    day_start_equity: f64,
    entries_blocked_today: bool,
}

const SECONDS_PER_DAY: i64 = 86_400;

impl<'a> Simulation<'a> {
    fn new(
        candles: &'a Candles,
        store: ColumnStore<'a>,
        rules: &'a Rules,
        conditions: Conditions,
        settings: &'a BacktestSettings,
    ) -> Self {
        Simulation {
            candles,
            store,
            rules,
            conditions,
            settings,
            cash: settings.initial_cash,
            positions: Vec::new(),
            trades: Vec::new(),
            entry_pending: false,
            halted: false,
            peak_equity: settings.initial_cash,
            day: 0..0,
            day_start_equity: settings.initial_cash,
            entries_blocked_today: false,
        }
    }

    fn run(
        mut self,
        range: std::ops::Range<usize>,
        stop: &dyn Fn() -> bool,
    ) -> Result<BacktestReport, BacktestError> {
        let candles = self.candles;
        let mut equity = EquityCurve::with_capacity(range.len());
        let mut bars_in_market = 0;
        let last = range.end - 1;
        let mut bar = range.start;
        let mut next_stop_check = bar + BARS_BETWEEN_STOP_CHECKS;
        while bar < range.end {
            if bar >= next_stop_check {
                if stop() {
                    return Err(BacktestError::Stopped);
                }
                next_stop_check = bar + BARS_BETWEEN_STOP_CHECKS;
            }
            if bar < last && !self.entry_pending && self.positions.is_empty() {
                bar = self.run_flat(bar, last, &mut equity, stop)?;
                continue;
            }
            self.fill_orders_at_open(bar);
            self.check_price_exits(bar);
            // Deciding only marks orders for the next open, so the equity it starts from is
            // the equity at this close.
            let equity_at_close = if bar == last {
                self.close_everything_at_end(bar);
                self.equity_at(candles.close[bar])
            } else {
                self.decide_at_close(bar)
            };
            if !self.positions.is_empty() {
                bars_in_market += 1;
            }
            equity.push(candles.time[bar], equity_at_close);
            bar += 1;
        }
        let metrics = compute_metrics(MetricInputs {
            initial_cash: self.settings.initial_cash,
            equity: &equity,
            trades: &self.trades,
            bars_in_market,
            first_close: candles.close[range.start],
            last_close: candles.close[last],
        });
        Ok(BacktestReport {
            settings: self.settings.clone(),
            metrics,
            trades: self.trades,
            equity_curve: equity.into_points(),
        })
    }

    /// The bars from `bar` on (up to `last`, which closes everything) while no position is open
    /// and no order waits: nothing fills, the equity stays the cash, and within one UTC day the
    /// risk limits decide alike at every close (they are checked once a day, with the entry
    /// allowed or not for the whole day), so the only event is the entry firing. Returns the
    /// first bar it did not process: the one after the entry fired, or `last`.
    fn run_flat(
        &mut self,
        mut bar: usize,
        last: usize,
        curve: &mut EquityCurve,
        stop: &dyn Fn() -> bool,
    ) -> Result<usize, BacktestError> {
        let candles = self.candles;
        let equity = self.equity_at(candles.close[bar]);
        while bar < last {
            // A day at a time: asked once a day whether to stop.
            if stop() {
                return Err(BacktestError::Stopped);
            }
            self.apply_risk_limits(bar, equity);
            let day = &self.day;
            let day_end = candles.time[bar + 1..last]
                .iter()
                .position(|time| !day.contains(time))
                .map_or(last, |offset| bar + 1 + offset);
            // No position is open, and every strategy may hold one.
            let fired = if !self.halted && !self.entries_blocked_today {
                self.conditions
                    .entry
                    .first_firing(&mut self.store, bar..day_end)
            } else {
                None
            };
            if let Some(fired) = fired {
                curve.push_constant(&candles.time[bar..=fired], equity);
                self.entry_pending = true;
                return Ok(fired + 1);
            }
            curve.push_constant(&candles.time[bar..day_end], equity);
            bar = day_end;
        }
        Ok(last)
    }

    fn equity_at(&self, price: f64) -> f64 {
        self.cash
            + self
                .positions
                .iter()
                .map(|position| position.quantity * price)
                .sum::<f64>()
    }

    fn fill_orders_at_open(&mut self, bar: usize) {
        let open = self.candles.open[bar];
        let mut index = 0;
        while index < self.positions.len() {
            if let Some(reason) = self.positions[index].pending_exit {
                self.close_position(index, bar, open, reason);
            } else {
                index += 1;
            }
        }
        if std::mem::take(&mut self.entry_pending)
            && self.positions.len() < self.rules.max_positions
        {
            self.open_position(bar, open);
        }
    }

    fn open_position(&mut self, bar: usize, open: f64) {
        let price = open * (1.0 + self.settings.slippage);
        let equity = self.equity_at(open);
        let sizing = &self.rules.sizing;
        let mut budget = match sizing.sizing_type {
            Some(SizingType::FixedAmount) => sizing.fixed_amount.unwrap_or(0.0),
            Some(SizingType::RiskBased) => match self.rules.risk.stop_loss_percentage {
                Some(stop) if stop > 0.0 => sizing.risk_per_trade.unwrap_or(0.0) * equity / stop,
                _ => 0.0,
            },
            Some(SizingType::Percentage) | None => {
                sizing.percentage_of_capital.unwrap_or(1.0) * equity
            }
        };
        for cap in [sizing.max_position_size, self.rules.risk.max_position_size]
            .into_iter()
            .flatten()
        {
            budget = budget.min(cap * equity);
        }
        budget = budget.min(self.cash);
        // The commission comes out of the budget, so a 100% position never overdraws cash.
        let quantity = budget / (price * (1.0 + self.settings.commission));
        if !(quantity > 0.0 && quantity.is_finite()) {
            return;
        }
        let commission = quantity * price * self.settings.commission;
        self.cash -= quantity * price + commission;
        self.positions.push(OpenPosition {
            entry_bar: bar,
            entry_price: price,
            quantity,
            entry_commission: commission,
            best_close: price,
            highest_high: price,
            pending_exit: None,
        });
    }

    fn close_position(&mut self, index: usize, bar: usize, price: f64, reason: ExitReason) {
        let position = self.positions.remove(index);
        let exit_price = price * (1.0 - self.settings.slippage);
        let proceeds = position.quantity * exit_price;
        let exit_commission = proceeds * self.settings.commission;
        self.cash += proceeds - exit_commission;
        let commission = position.entry_commission + exit_commission;
        let cost = position.quantity * position.entry_price;
        let pnl = proceeds - cost - commission;
        self.trades.push(Trade {
            entry_bar: position.entry_bar,
            exit_bar: bar,
            entry_time: self.candles.time[position.entry_bar],
            exit_time: self.candles.time[bar],
            entry_price: position.entry_price,
            exit_price,
            quantity: position.quantity,
            pnl,
            return_pct: pnl / cost,
            commission,
            exit_reason: reason,
        });
    }

    /// Stop-loss, trailing stop and take-profit against this bar's range. The stop is assumed
    /// to be hit before the take-profit when the bar reaches both (the cautious reading).
    fn check_price_exits(&mut self, bar: usize) {
        let risk = &self.rules.risk;
        if self.positions.is_empty()
            || risk.stop_loss_percentage.is_none()
                && risk.take_profit_percentage.is_none()
                && risk.trailing_stop_percentage.is_none()
        {
            return;
        }
        let (open, high, low) = (
            self.candles.open[bar],
            self.candles.high[bar],
            self.candles.low[bar],
        );
        let mut index = 0;
        while index < self.positions.len() {
            let position = &self.positions[index];
            let stop_loss = risk
                .stop_loss_percentage
                .map(|stop| position.entry_price * (1.0 - stop));
            let trailing = risk
                .trailing_stop_percentage
                .map(|trail| position.highest_high * (1.0 - trail));
            let (stop, stop_reason) = match (stop_loss, trailing) {
                (Some(fixed), Some(trailing)) if trailing > fixed => {
                    (Some(trailing), ExitReason::TrailingStop)
                }
                (Some(fixed), _) => (Some(fixed), ExitReason::StopLoss),
                (None, Some(trailing)) => (Some(trailing), ExitReason::TrailingStop),
                (None, None) => (None, ExitReason::StopLoss),
            };
            let target = risk
                .take_profit_percentage
                .map(|take| position.entry_price * (1.0 + take));
            let exit = match (stop, target) {
                (Some(stop), _) if open <= stop => Some((open, stop_reason)),
                (_, Some(target)) if open >= target => Some((open, ExitReason::TakeProfit)),
                (Some(stop), _) if low <= stop => Some((stop, stop_reason)),
                (_, Some(target)) if high >= target => Some((target, ExitReason::TakeProfit)),
                _ => None,
            };
            match exit {
                Some((price, reason)) => self.close_position(index, bar, price, reason),
                None => {
                    let position = &mut self.positions[index];
                    position.highest_high = position.highest_high.max(high);
                    index += 1;
                }
            }
        }
    }

    /// Marks the exits and the entry to fill at the next open; returns the equity at this close.
    fn decide_at_close(&mut self, bar: usize) -> f64 {
        let close = self.candles.close[bar];
        let equity = self.equity_at(close);
        self.apply_risk_limits(bar, equity);
        for position in &mut self.positions {
            position.best_close = position.best_close.max(close);
            if position.pending_exit.is_some() {
                continue;
            }
            let held = HeldPosition {
                entry_bar: position.entry_bar,
                entry_price: position.entry_price,
                quantity: position.quantity,
                best_close: position.best_close,
            };
            let view = PositionView::at_close(&held, bar, close);
            if self.conditions.exit.fires(&mut self.store, bar, &view) {
                position.pending_exit = Some(ExitReason::ExitCondition);
            } else if self
                .conditions
                .stop
                .as_mut()
                .is_some_and(|stop| stop.fires(&mut self.store, bar, &view))
            {
                position.pending_exit = Some(ExitReason::StopCondition);
            }
        }
        let staying = self
            .positions
            .iter()
            .filter(|position| position.pending_exit.is_none())
            .count();
        self.entry_pending = !self.halted
            && !self.entries_blocked_today
            && staying < self.rules.max_positions
            && self
                .conditions
                .entry
                .fires(&mut self.store, bar, &PositionView::default());
        equity
    }

    /// `max_drawdown` (from the equity peak) stops trading for the rest of the run;
    /// `max_daily_loss` (from equity at the start of the UTC day) for the rest of that day. Both
    /// are checked at each close and exit at the next open, like a signal.
    fn apply_risk_limits(&mut self, bar: usize, equity: f64) {
        let time = self.candles.time[bar];
        if !self.day.contains(&time) {
            let day_start = time.div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY;
            self.day = day_start..day_start.saturating_add(SECONDS_PER_DAY);
            self.day_start_equity = bar.checked_sub(1).map_or(self.settings.initial_cash, |_| {
                self.equity_at(self.candles.open[bar])
            });
            self.entries_blocked_today = false;
        }
        self.peak_equity = self.peak_equity.max(equity);
        let mut exit_all = None;
        if let Some(limit) = self.rules.risk.max_drawdown {
            if equity <= self.peak_equity * (1.0 - limit) {
                self.halted = true;
                exit_all = Some(ExitReason::MaxDrawdown);
            }
        }
        if let Some(limit) = self.rules.risk.max_daily_loss {
            if exit_all.is_none() && equity <= self.day_start_equity * (1.0 - limit) {
                self.entries_blocked_today = true;
                exit_all = Some(ExitReason::MaxDailyLoss);
            }
        }
        if let Some(reason) = exit_all {
            for position in &mut self.positions {
                position.pending_exit.get_or_insert(reason);
            }
        }
    }

    /// Positions still open after the last bar are sold at its close, with costs, so that every
    /// trade is in the report and the final equity is cash a trader could have.
    fn close_everything_at_end(&mut self, bar: usize) {
        while !self.positions.is_empty() {
            self.close_position(0, bar, self.candles.close[bar], ExitReason::EndOfData);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtests::backtest_document;
    use crate::backtests::candles::Candle;
    use crate::language::model::Format;

    /// Bars as (open, high, low, close), one day apart.
    fn candles(bars: &[(f64, f64, f64, f64)]) -> Candles {
        let mut candles = Candles::default();
        for (day, (open, high, low, close)) in bars.iter().enumerate() {
            candles.push(Candle {
                time: day as i64 * 86_400,
                open: *open,
                high: *high,
                low: *low,
                close: *close,
                volume: 1.0,
            });
        }
        candles
    }

    fn document(entry: &str, exit: &str, sizing: &str, risk: &str) -> String {
        format!(
            "name: Simulation rules\ntrading_pair: BTC/USD\ntimeframe: 1d\nindicators:\n  - {{ type: sma, name: sma_2, parameters: {{ period: 2 }} }}\n\
             entry_conditions: {entry}\nexit_conditions: {exit}\nposition_sizing:\n{sizing}\nrisk_parameters:\n  max_daily_loss: 1\n  max_drawdown: 1\n{risk}"
        )
    }

    fn run(
        text: &str,
        bars: &[(f64, f64, f64, f64)],
        settings: BacktestSettings,
    ) -> BacktestReport {
        backtest_document(text, Format::Yaml, &candles(bars), &settings).unwrap()
    }

    const ALL_IN: &str = "  type: percentage\n  percentage_of_capital: 1";
    const FLAT: (f64, f64, f64, f64) = (100.0, 100.0, 100.0, 100.0);

    #[test]
    fn a_run_asked_to_stop_ends_at_the_next_block_of_bars() {
        // In the market on every bar, so the bars are stepped one by one.
        let text = document("close > 0", "close < 0", ALL_IN, "");
        let bars = vec![FLAT; 3 * BARS_BETWEEN_STOP_CHECKS];
        let asked = std::cell::Cell::new(0);
        let stopped = crate::backtests::backtest_document_until(
            &text,
            Format::Yaml,
            &candles(&bars),
            &BacktestSettings::default(),
            &|| {
                asked.set(asked.get() + 1);
                asked.get() >= 3
            },
        );
        assert_eq!(stopped.unwrap_err(), BacktestError::Stopped);
        // Before the indicators, after them, and at the first block of bars.
        assert_eq!(asked.get(), 3);
        let never = crate::backtests::backtest_document_until(
            &text,
            Format::Yaml,
            &candles(&bars),
            &BacktestSettings::default(),
            &|| false,
        );
        assert_eq!(never.unwrap().equity_curve.len(), bars.len());
    }

    #[test]
    fn a_signal_at_a_close_fills_at_the_next_open_and_an_open_trade_is_sold_at_the_last_close() {
        let text = document("close > 0", "close < 0", ALL_IN, "");
        let report = run(
            &text,
            &[
                FLAT,
                (110.0, 120.0, 105.0, 115.0),
                (116.0, 130.0, 115.0, 125.0),
            ],
            BacktestSettings::default(),
        );
        let trade = &report.trades[0];
        assert_eq!((trade.entry_bar, trade.entry_price), (1, 110.0));
        assert_eq!(
            (trade.exit_bar, trade.exit_price, trade.exit_reason),
            (2, 125.0, ExitReason::EndOfData)
        );
        assert!((report.metrics.final_equity - 10_000.0 * 125.0 / 110.0).abs() < 1e-9);
    }

    #[test]
    fn a_stop_loss_fills_at_its_level_or_at_the_open_when_the_bar_gaps_through_it() {
        let text = document(
            "close > 0",
            "close < 0",
            ALL_IN,
            "  stop_loss_percentage: 0.1\n",
        );
        let touched = run(
            &text,
            &[FLAT, FLAT, (95.0, 96.0, 89.0, 90.0), FLAT],
            BacktestSettings::default(),
        );
        assert_eq!(
            (touched.trades[0].exit_bar, touched.trades[0].exit_price),
            (2, 90.0)
        );
        assert_eq!(touched.trades[0].exit_reason, ExitReason::StopLoss);
        let gapped = run(
            &text,
            &[FLAT, FLAT, (85.0, 96.0, 80.0, 90.0), FLAT],
            BacktestSettings::default(),
        );
        assert_eq!(
            (gapped.trades[0].exit_bar, gapped.trades[0].exit_price),
            (2, 85.0)
        );
    }

    #[test]
    fn a_take_profit_fills_at_its_level_and_a_bar_reaching_both_levels_counts_as_stopped() {
        let text = document(
            "close > 0",
            "close < 0",
            ALL_IN,
            "  stop_loss_percentage: 0.1\n  take_profit_percentage: 0.2\n",
        );
        let target = run(
            &text,
            &[FLAT, FLAT, (101.0, 125.0, 99.0, 110.0), FLAT],
            BacktestSettings::default(),
        );
        assert_eq!(
            (target.trades[0].exit_price, target.trades[0].exit_reason),
            (120.0, ExitReason::TakeProfit)
        );
        let both = run(
            &text,
            &[FLAT, FLAT, (101.0, 125.0, 85.0, 110.0), FLAT],
            BacktestSettings::default(),
        );
        assert_eq!(
            (both.trades[0].exit_price, both.trades[0].exit_reason),
            (90.0, ExitReason::StopLoss)
        );
    }

    #[test]
    fn a_trailing_stop_follows_the_highest_high_of_earlier_bars() {
        let text = document(
            "close > 0",
            "close < 0",
            ALL_IN,
            "  trailing_stop_percentage: 0.1\n",
        );
        let report = run(
            &text,
            &[
                FLAT,
                FLAT,
                (110.0, 150.0, 105.0, 140.0),
                (140.0, 141.0, 130.0, 131.0),
                FLAT,
            ],
            BacktestSettings::default(),
        );
        assert_eq!(
            (report.trades[0].exit_bar, report.trades[0].exit_price),
            (3, 135.0)
        );
        assert_eq!(report.trades[0].exit_reason, ExitReason::TrailingStop);
    }

    #[test]
    fn commission_and_slippage_are_paid_on_each_side() {
        let text = document("close > 0", "close > 0", ALL_IN, "");
        let settings = BacktestSettings {
            commission: 0.01,
            slippage: 0.02,
            ..BacktestSettings::default()
        };
        let report = run(&text, &[FLAT, FLAT, FLAT, FLAT], settings);
        let trade = &report.trades[0];
        assert_eq!((trade.entry_price, trade.exit_price), (102.0, 98.0));
        let quantity = 10_000.0 / (102.0 * 1.01);
        assert!((trade.quantity - quantity).abs() < 1e-9);
        let expected_pnl = quantity * 98.0 * 0.99 - 10_000.0;
        assert!(
            (trade.pnl - expected_pnl).abs() < 1e-9,
            "{} vs {expected_pnl}",
            trade.pnl
        );
    }

    #[test]
    fn fixed_amount_risk_based_and_capped_sizes_buy_what_they_say() {
        let bars = [FLAT, FLAT, FLAT];
        let fixed = run(
            &document(
                "close > 0",
                "close < 0",
                "  type: fixed_amount\n  fixed_amount: 2500",
                "",
            ),
            &bars,
            BacktestSettings::default(),
        );
        assert!((fixed.trades[0].quantity - 25.0).abs() < 1e-9);
        let risk = run(
            &document(
                "close > 0",
                "close < 0",
                "  type: risk_based\n  risk_per_trade: 0.01",
                "  stop_loss_percentage: 0.05\n",
            ),
            &bars,
            BacktestSettings::default(),
        );
        // Risking 1% of 10,000 with a 5% stop buys 2,000 worth.
        assert!((risk.trades[0].quantity - 20.0).abs() < 1e-9);
        let capped = run(
            &document(
                "close > 0",
                "close < 0",
                "  type: percentage\n  percentage_of_capital: 1\n  max_position_size: 0.3",
                "",
            ),
            &bars,
            BacktestSettings::default(),
        );
        assert!((capped.trades[0].quantity - 30.0).abs() < 1e-9);
    }

    #[test]
    fn max_concurrent_positions_lets_entries_stack_up_to_the_limit() {
        let text = document(
            "close > 0",
            "close < 0",
            "  type: fixed_amount\n  fixed_amount: 1000",
            "  max_concurrent_positions: 3\n",
        );
        let report = run(&text, &[FLAT; 8], BacktestSettings::default());
        assert_eq!(report.trades.len(), 3);
        assert!(report
            .trades
            .iter()
            .all(|trade| trade.exit_reason == ExitReason::EndOfData));
        assert_eq!(
            report
                .trades
                .iter()
                .map(|trade| trade.entry_bar)
                .collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn metrics_report_return_drawdown_win_rate_and_exposure() {
        let text = document("close > 0", "bars_in_trade >= 1", ALL_IN, "");
        let bars = [
            FLAT,
            FLAT,
            (100.0, 100.0, 50.0, 50.0),
            (50.0, 50.0, 50.0, 50.0),
            FLAT,
        ];
        let report = run(&text, &bars, BacktestSettings::default());
        let metrics = &report.metrics;
        assert_eq!(metrics.trades, report.trades.len());
        assert!((metrics.max_drawdown - 0.5).abs() < 1e-12);
        // Sold at 50 on bar 3's open and bought again there; sold at 100 on bar 4's open.
        assert_eq!(metrics.trades, 2);
        assert!(metrics.total_return.abs() < 1e-12, "{metrics:?}");
        assert_eq!(metrics.profit_factor, Some(1.0));
        assert_eq!(metrics.win_rate, Some(0.5));
        assert_eq!(report.equity_curve.len(), 5);
        assert!(metrics.exposure > 0.0 && metrics.exposure <= 1.0);
    }

    /// Three days of hourly bars from midnight UTC at 100, falling to 90 at bar 3's close.
    fn three_days_falling_at_bar_3() -> Candles {
        (0..72)
            .map(|bar| {
                let (open, close) = match bar {
                    0..3 => (100.0, 100.0),
                    3 => (100.0, 90.0),
                    _ => (90.0, 90.0),
                };
                Candle {
                    time: bar * 3_600,
                    open,
                    high: open,
                    low: close,
                    close,
                    volume: 1.0,
                }
            })
            .collect()
    }

    fn always_in(max_daily_loss: f64, max_drawdown: f64) -> String {
        format!(
            "name: Limits\ntrading_pair: BTC/USD\ntimeframe: 1h\nindicators:\n  - {{ type: sma, name: sma_2, parameters: {{ period: 2 }} }}\n\
             entry_conditions: close > 0\nexit_conditions: close < 0\nposition_sizing:\n{ALL_IN}\n\
             risk_parameters:\n  max_daily_loss: {max_daily_loss}\n  max_drawdown: {max_drawdown}\n"
        )
    }

    fn entries_and_exits(report: &BacktestReport) -> Vec<(usize, usize, ExitReason)> {
        report
            .trades
            .iter()
            .map(|trade| (trade.entry_bar, trade.exit_bar, trade.exit_reason))
            .collect()
    }

    #[test]
    fn after_the_daily_loss_limit_no_entry_fills_until_the_next_utc_day() {
        let report = backtest_document(
            &always_in(0.05, 0.9),
            Format::Yaml,
            &three_days_falling_at_bar_3(),
            &BacktestSettings::default(),
        )
        .unwrap();
        // The entry holds at every close, but after the loss it is next taken at the close of
        // the day's first bar (24) and filled at the open of bar 25.
        assert_eq!(
            entries_and_exits(&report),
            vec![
                (1, 4, ExitReason::MaxDailyLoss),
                (25, 71, ExitReason::EndOfData)
            ]
        );
        assert_eq!(report.equity_curve.len(), 72);
        assert!(report.equity_curve[4..25]
            .iter()
            .all(|point| point.equity == report.equity_curve[4].equity));
    }

    #[test]
    fn after_the_drawdown_limit_no_entry_fills_again() {
        let report = backtest_document(
            &always_in(1.0, 0.05),
            Format::Yaml,
            &three_days_falling_at_bar_3(),
            &BacktestSettings::default(),
        )
        .unwrap();
        assert_eq!(
            entries_and_exits(&report),
            vec![(1, 4, ExitReason::MaxDrawdown)]
        );
        assert_eq!(report.metrics.exposure, 3.0 / 72.0);
    }
}
