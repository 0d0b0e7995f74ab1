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

/// The start of every payload of this module's events about strategy `id`: its `s` field comes
/// first, so an editor's socket tells its own document's notices from the others' without
/// reading them.
pub fn payload_prefix(id: StrategyId) -> String {
    format!("{{\"s\":\"{id}\"")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_payload_about_a_strategy_starts_with_its_prefix() {
        let id = StrategyId(uuid::Uuid::new_v4());
        let advanced = LiveDocAdvanced {
            strategy_id: id,
            from: 1,
            to: 2,
            updates: None,
        };
        let cursor = CursorMoved {
            strategy_id: id,
            client: "a".into(),
            label: "You · Firefox".into(),
            hue: 3,
            v: 2,
            r: Vec::new(),
            hello: false,
            gone: true,
        };
        for payload in [advanced.to_payload(), cursor.to_payload()] {
            assert!(payload.starts_with(&payload_prefix(id)), "{payload}");
        }
        let other = StrategyId(uuid::Uuid::new_v4());
        assert!(!advanced.to_payload().starts_with(&payload_prefix(other)));
    }
}
