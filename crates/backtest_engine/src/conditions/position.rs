//! The open position as the position variables see it at a bar's close.

use strategy_language::model::PositionVariable;

/// What the open position looks like at a bar's close, for the position variables.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PositionView {
    pub entry_price: f64,
    pub unrealized_pnl: f64,
    pub unrealized_pnl_pct: f64,
    pub bars_in_trade: f64,
    pub drawdown: f64,
}

/// A position held since `entry_bar` (filled at `entry_price`), at the close of `bar`.
pub struct HeldPosition {
    pub entry_bar: usize,
    pub entry_price: f64,
    pub quantity: f64,
    /// The best close since entry (the entry price at first).
    pub best_close: f64,
}

impl PositionView {
    /// The position variables of `held` at the close of `bar`, as DSL.md defines them.
    pub fn at_close(held: &HeldPosition, bar: usize, close: f64) -> Self {
        PositionView {
            entry_price: held.entry_price,
            unrealized_pnl: (close - held.entry_price) * held.quantity,
            unrealized_pnl_pct: close / held.entry_price - 1.0,
            bars_in_trade: (bar - held.entry_bar) as f64,
            drawdown: 1.0 - close / held.best_close,
        }
    }

    pub(super) fn read(&self, variable: PositionVariable) -> f64 {
        match variable {
            PositionVariable::EntryPrice => self.entry_price,
            PositionVariable::UnrealizedPnl => self.unrealized_pnl,
            PositionVariable::UnrealizedPnlPct => self.unrealized_pnl_pct,
            PositionVariable::BarsInTrade => self.bars_in_trade,
            PositionVariable::Drawdown => self.drawdown,
        }
    }
}
