//! The realtime events of strategies: a committed change (a save, a status change, a delete),
//! published inside the transaction that made it, so every server hears it exactly when it
//! is true. The payload is small; pages fetch the rest.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::realtime::RealtimeEvent;
use crate::strategies::{backtests::RunChange, StrategyChange};

/// One committed change, as the channel carries it; `user_id` decides who may hear it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyChanged {
    pub user_id: Uuid,
    #[serde(flatten)]
    pub change: StrategyChange,
}

impl RealtimeEvent for StrategyChanged {
    const CHANNEL: &'static str = "strategy_changed";

    fn to_payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn from_payload(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }
}

/// Someone opened or closed an editor of a strategy: its open count changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceChanged {
    pub user_id: Uuid,
    pub strategy_id: Uuid,
}

impl RealtimeEvent for PresenceChanged {
    const CHANNEL: &'static str = "strategy_presence";

    fn to_payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn from_payload(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }
}

/// A backtest was queued, claimed, finished, failed or cancelled. Its owner's pages refetch;
/// every server's backtest worker wakes (a queued run may be claimed, an ended one freed a
/// place under the cap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestChanged {
    pub user_id: Uuid,
    #[serde(flatten)]
    pub change: RunChange,
}

impl RealtimeEvent for BacktestChanged {
    const CHANNEL: &'static str = "backtest_changed";

    fn to_payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn from_payload(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }
}
