//! The trading simulation of DSL.md's "Backtest semantics": long-only; signals at a bar's
//! close; market orders at the next bar's open; stop-loss, take-profit and trailing stop
//! against later bars' high and low (at their level, or at the open on a gap); commission and
//! slippage per side; the four sizing rules; several positions when
//! `max_concurrent_positions` allows; every trade recorded.

use serde::Serialize;

use strategy_language::model::{PositionSizing, RiskParameters, SizingType, Strategy};

use super::candles::Candles;
use super::conditions::{
    compile_condition, ColumnStore, CompiledCondition, HeldPosition, PositionView,
};
use super::indicators::{stream_read_indicators, ReadOutputs};
use super::metrics::{compute_metrics, EquityCurve, MetricInputs, Metrics};
use super::trades::{EquityPoint, ExitReason, Trade};
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
mod tests;
