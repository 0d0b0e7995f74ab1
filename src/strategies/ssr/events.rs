//! The realtime events of strategies: a committed change (a save, a status change, a delete),
//! published inside the transaction that made it, so every server hears it exactly when it
//! is true. The payload is small; pages fetch the rest.

use crate::strategies::StrategyId;
use serde::{Deserialize, Serialize};

use crate::accounts::UserId;
use crate::realtime::JsonEvent;
use crate::strategies::{backtests::RunChange, StrategyChange};

/// One committed change, as the channel carries it; `user_id` decides who may hear it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyChanged {
    pub user_id: UserId,
    #[serde(flatten)]
    pub change: StrategyChange,
}

impl JsonEvent for StrategyChanged {
    const CHANNEL: &'static str = "strategy_changed";
}

/// Someone opened or closed an editor of a strategy: its open count changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceChanged {
    pub user_id: UserId,
    pub strategy_id: StrategyId,
}

impl JsonEvent for PresenceChanged {
    const CHANNEL: &'static str = "strategy_presence";
}

/// A backtest was queued, claimed, finished, failed or cancelled. Its owner's pages refetch;
/// every server's backtest worker wakes (a queued run may be claimed, an ended one freed a
/// place under the cap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestChanged {
    pub user_id: UserId,
    #[serde(flatten)]
    pub change: RunChange,
}

impl JsonEvent for BacktestChanged {
    const CHANNEL: &'static str = "backtest_changed";
}
