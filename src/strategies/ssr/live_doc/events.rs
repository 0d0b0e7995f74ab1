//! What the live document tells every server copy: that it advanced (a pointer, with the
//! updates inlined only when they fit well inside a `NOTIFY`), and where an editor's cursor is.
//! Cursors are never stored.

use live_document::frames::{SelectionRange, ServedUpdate};
use serde::{Deserialize, Serialize};

use crate::realtime::{JsonEvent, RealtimeEvent};
use crate::strategies::StrategyId;

/// A `NOTIFY` payload may not exceed 8,000 bytes (and one over it aborts the transaction): an
/// advance carries its updates only below this.
const INLINE_LIMIT_BYTES: usize = 7_000;

/// Versions `from + 1 ..= to` of a live document are committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveDocAdvanced {
    #[serde(rename = "s")]
    pub strategy_id: StrategyId,
    pub from: u64,
    pub to: u64,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub updates: Option<Vec<ServedUpdate>>,
}

impl LiveDocAdvanced {
    pub fn fits_a_notice(&self) -> bool {
        self.to_payload().len() <= INLINE_LIMIT_BYTES
    }
}

impl JsonEvent for LiveDocAdvanced {
    const CHANNEL: &'static str = "strategy_doc";
}

/// An editor's selection at version `v`; no ranges and `gone` say it left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CursorMoved {
    #[serde(rename = "s")]
    pub strategy_id: StrategyId,
    pub client: String,
    pub label: String,
    pub hue: u16,
    pub v: u64,
    pub r: Vec<SelectionRange>,
    /// A newcomer asks the others to say where they are.
    #[serde(default)]
    pub hello: bool,
    #[serde(default)]
    pub gone: bool,
}

impl JsonEvent for CursorMoved {
    const CHANNEL: &'static str = "strategy_cursor";
}
