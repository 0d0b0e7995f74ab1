//! What a run records: each round trip (`Trade`, with why it ended) and the equity after each
//! bar. The simulation writes them and the metrics read them.

use serde::{Deserialize, Serialize};

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
