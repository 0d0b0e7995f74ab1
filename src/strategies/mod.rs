//! Strategies: the trader's workbench. Shared types (what crosses server functions), the
//! lifecycle rules, and the list's query in the URL here; server functions in `api`, pages in
//! `views`, templates of new strategies in `templates`; the server-only flows, repository and
//! plain form posts in `ssr`. The strategy language (`crate::language`) is the one parser and
//! validator every part of it uses.

mod api;
pub mod backtests;
pub mod merge;
pub mod templates;
pub mod usage;
pub mod views;

pub use api::*;

#[cfg(feature = "ssr")]
pub mod ssr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::language::{syntax_test::SyntaxReport, Change, Diagnostic, Format};

crate::ids::uuid_id!(
    /// A strategy's id. It comes from a route or a form as text, so a client may name any id:
    /// every query that takes one is also scoped by the signed-in account's access to it.
    StrategyId
);

/// Strategies a list page shows at most.
pub const PAGE_SIZE: u32 = 50;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum StrategyStatus {
    Draft,
    Active,
    Inactive,
    Archived,
}

impl StrategyStatus {
    pub const ALL: [StrategyStatus; 4] = [
        StrategyStatus::Draft,
        StrategyStatus::Active,
        StrategyStatus::Inactive,
        StrategyStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StrategyStatus::Draft => "draft",
            StrategyStatus::Active => "active",
            StrategyStatus::Inactive => "inactive",
            StrategyStatus::Archived => "archived",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StrategyStatus::Draft => "Draft",
            StrategyStatus::Active => "Active",
            StrategyStatus::Inactive => "Inactive",
            StrategyStatus::Archived => "Archived",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Why the document cannot be changed in this status, if it cannot.
    pub fn edit_refusal(self) -> Option<&'static str> {
        match self {
            StrategyStatus::Active => Some("This strategy is active; deactivate it to edit."),
            StrategyStatus::Archived => {
                Some("This strategy is archived and read-only; restore it to draft to edit.")
            }
            StrategyStatus::Draft | StrategyStatus::Inactive => None,
        }
    }

    /// Only drafts and archived strategies can be deleted.
    pub fn delete_refusal(self) -> Option<&'static str> {
        match self {
            StrategyStatus::Active => {
                Some("This strategy is active; deactivate and archive it before deleting.")
            }
            StrategyStatus::Inactive => Some("Archive this strategy before deleting it."),
            StrategyStatus::Draft | StrategyStatus::Archived => None,
        }
    }
}

/// A change of status a trader can ask for (the buttons on the strategy page).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Activate,
    Deactivate,
    Archive,
    RestoreToDraft,
}

impl Transition {
    pub const ALL: [Transition; 4] = [
        Transition::Activate,
        Transition::Deactivate,
        Transition::Archive,
        Transition::RestoreToDraft,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Transition::Activate => "Activate",
            Transition::Deactivate => "Deactivate",
            Transition::Archive => "Archive",
            Transition::RestoreToDraft => "Restore to draft",
        }
    }

    pub fn target(self) -> StrategyStatus {
        match self {
            Transition::Activate => StrategyStatus::Active,
            Transition::Deactivate => StrategyStatus::Inactive,
            Transition::Archive => StrategyStatus::Archived,
            Transition::RestoreToDraft => StrategyStatus::Draft,
        }
    }

    /// Whether the lifecycle allows this transition from `from` (activation has further
    /// conditions, checked by the server: a valid document and a finished backtest).
    pub fn refusal_from(self, from: StrategyStatus) -> Option<&'static str> {
        use StrategyStatus::*;
        match (self, from) {
            (Transition::Activate, Draft | Inactive) => None,
            (Transition::Activate, Active) => Some("This strategy is already active."),
            (Transition::Activate, Archived) => {
                Some("This strategy is archived; restore it to draft first.")
            }
            (Transition::Deactivate, Active) => None,
            (Transition::Deactivate, _) => Some("Only an active strategy can be deactivated."),
            (Transition::Archive, Draft | Inactive) => None,
            (Transition::Archive, Active) => Some("This strategy is active; deactivate it first."),
            (Transition::Archive, Archived) => Some("This strategy is already archived."),
            (Transition::RestoreToDraft, Archived) => None,
            (Transition::RestoreToDraft, _) => {
                Some("Only an archived strategy can be restored to draft.")
            }
        }
    }

    /// The transitions the lifecycle offers from `status`.
    pub fn offered_from(status: StrategyStatus) -> Vec<Transition> {
        Self::ALL
            .into_iter()
            .filter(|transition| transition.refusal_from(status).is_none())
            .collect()
    }
}

/// The order of the list.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortOrder {
    NameAsc,
    NameDesc,
    CreatedAsc,
    CreatedDesc,
    UpdatedAsc,
    #[default]
    UpdatedDesc,
}

impl SortOrder {
    pub const ALL: [SortOrder; 6] = [
        SortOrder::UpdatedDesc,
        SortOrder::UpdatedAsc,
        SortOrder::CreatedDesc,
        SortOrder::CreatedAsc,
        SortOrder::NameAsc,
        SortOrder::NameDesc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::NameAsc => "name_asc",
            SortOrder::NameDesc => "name_desc",
            SortOrder::CreatedAsc => "created_asc",
            SortOrder::CreatedDesc => "created_desc",
            SortOrder::UpdatedAsc => "updated_asc",
            SortOrder::UpdatedDesc => "updated_desc",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortOrder::NameAsc => "Name, A to Z",
            SortOrder::NameDesc => "Name, Z to A",
            SortOrder::CreatedAsc => "Oldest first",
            SortOrder::CreatedDesc => "Newest first",
            SortOrder::UpdatedAsc => "Least recently changed",
            SortOrder::UpdatedDesc => "Recently changed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|order| order.as_str() == text)
    }
}

/// What the list shows, as the URL holds it: `?status=draft&sort=updated_desc&q=rsi&page=2`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ListQuery {
    pub status: Option<StrategyStatus>,
    pub sort: SortOrder,
    /// Part of a name, matched case-insensitively.
    pub search: String,
    /// 1-based.
    pub page: u32,
}

impl ListQuery {
    /// Reads the query from URL parameters; anything unreadable falls back to the default.
    pub fn from_params(param: impl Fn(&str) -> Option<String>) -> Self {
        ListQuery {
            status: param("status").and_then(|s| StrategyStatus::parse(&s)),
            sort: param("sort")
                .and_then(|s| SortOrder::parse(&s))
                .unwrap_or_default(),
            search: param("q").map(|q| q.trim().to_string()).unwrap_or_default(),
            page: param("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
        }
    }

    /// The list's URL for this query (only what differs from the defaults).
    pub fn href(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = self.status {
            parts.push(format!("status={}", status.as_str()));
        }
        if self.sort != SortOrder::default() {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if !self.search.is_empty() {
            let encoded: String = self
                .search
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            parts.push(format!("q={encoded}"));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        if parts.is_empty() {
            "/strategies".to_string()
        } else {
            format!("/strategies?{}", parts.join("&"))
        }
    }

    pub fn with_page(&self, page: u32) -> Self {
        ListQuery {
            page,
            ..self.clone()
        }
    }
}

/// One row of the list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StrategyListItem {
    pub id: StrategyId,
    pub name: String,
    pub status: StrategyStatus,
    pub version: i32,
    pub trading_pair: String,
    pub timeframe: String,
    #[serde(with = "crate::wire_time")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StrategyList {
    pub items: Vec<StrategyListItem>,
    /// How many strategies match the query in all (not only on this page).
    pub total: i64,
    /// Whether the user has any strategy at all (an empty result may just be a filter).
    pub has_any: bool,
}

impl StrategyList {
    pub fn pages(&self) -> u32 {
        (self.total.max(0) as u32).div_ceil(PAGE_SIZE).max(1)
    }
}

/// A strategy's document as the editor opens it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StrategyDocument {
    pub id: StrategyId,
    pub name: String,
    pub status: StrategyStatus,
    pub format: Format,
    pub content: String,
    pub version: i32,
    /// What a save must name to replace this version (optimistic locking).
    pub lock_version: i32,
}

/// The diagnostic the server's check adds when another strategy of the trader has the
/// document's name: the account's problem, not the document's (the preview still runs).
pub const NAME_CLASH: &str = "E050";

/// The answer to a keystroke: the diagnostics of exactly the text sent, numbered so that the
/// editor can drop a late answer to an older text. The parsed strategy is not sent back: the
/// browser reads the same text with the same parser, and decoding a whole `Strategy` was the
/// largest single piece of the editor's WASM.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CheckReply {
    pub sequence: u64,
    pub diagnostics: Vec<Diagnostic>,
    /// The document's name is already used by another strategy of this user.
    pub name_taken: bool,
}

/// What the editor's signal preview draws: the shown bars of the document's pair and timeframe
/// (the bars before them, which warm indicators up, stay on the server) and on which of them
/// each condition holds, or why the engine cannot run the document.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PreviewedSignals {
    pub candles: crate::market_data::PreviewCandles,
    pub signals: Result<crate::backtests::signals::SignalBars, String>,
}

/// What a committed save gives back.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Saved {
    pub id: StrategyId,
    pub version: i32,
    pub lock_version: i32,
    #[serde(with = "crate::wire_time")]
    pub saved_at: DateTime<Utc>,
}

/// Where an editor of a saved strategy joins its live document: the shared text at `version`
/// (the page renders it; the editor's socket continues from there).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LiveStart {
    pub version: u64,
    pub text: String,
    pub format: Format,
    /// The shared text differs from what was last saved as `saved_version`.
    pub unsaved: bool,
    pub saved_version: i32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct VersionInfo {
    pub number: i32,
    pub format: Format,
    /// The author's email (masked for nobody: it is the user's own account).
    pub author: Option<String>,
    #[serde(with = "crate::wire_time")]
    pub saved_at: DateTime<Utc>,
}

/// The strategy page: the document as parsed, its status and what can be done with it, its
/// versions.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StrategyOverview {
    pub document: StrategyDocument,
    pub description: Option<String>,
    pub report: SyntaxReport,
    pub transitions: Vec<Transition>,
    pub versions: Vec<VersionInfo>,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::wire_time")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LineChange {
    Same,
    Removed,
    Added,
}

/// One row of a side-by-side diff: the old line on the left, the new on the right.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DiffRow {
    pub change: LineChange,
    pub old_number: Option<u32>,
    pub new_number: Option<u32>,
    pub text: String,
}

/// Two versions compared: the text, line by line, and the changes in trading terms
/// ("rsi_14.period 14 -> 21").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct VersionComparison {
    pub from: VersionInfo,
    pub to: VersionInfo,
    pub rows: Vec<DiffRow>,
    /// The texts were too different to compare line by line in the time a comparison may
    /// take (`rows` is then empty).
    #[serde(default)]
    pub too_different: bool,
    /// `None` when either version does not parse (the text diff still shows).
    pub changes: Option<Vec<Change>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct VersionText {
    pub info: VersionInfo,
    pub content: String,
}

/// What the live channel tells a user's open pages about one of their strategies: enough to
/// say "changed in another window (version 7)" and to know whether it is news.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StrategyChange {
    pub strategy_id: StrategyId,
    pub kind: ChangeKind,
    pub version: i32,
    pub lock_version: i32,
    pub status: StrategyStatus,
    pub name: String,
    #[serde(with = "crate::wire_time")]
    pub at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Saved,
    StatusChanged,
    Deleted,
}

/// A working copy kept by the autosave: what an editor tab had typed, valid or not.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WorkingCopy {
    pub tab_id: Uuid,
    pub format: Format,
    pub content: String,
    /// The lock version of the text it started from (none for a new strategy).
    pub base_lock_version: Option<i32>,
    #[serde(with = "crate::wire_time")]
    pub saved_at: DateTime<Utc>,
    /// The working copy against the committed document, line by line.
    pub changes: Vec<DiffRow>,
    /// Kept only in this browser's storage: the server never got it.
    #[serde(default)]
    pub in_this_browser: bool,
}

/// The answer to an autosave: stored once Postgres committed it (a stale write is not).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AutosaveAck {
    pub stored: bool,
    #[serde(with = "crate::wire_time")]
    pub saved_at: DateTime<Utc>,
}

/// What the live channel sends a page.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveMessage {
    /// A committed change of one of the user's strategies.
    Changed(StrategyChange),
    /// How many editors (tabs, machines) have the watched strategy open, this one included.
    Presence { strategy_id: StrategyId, open: i64 },
    /// A backtest of one of the user's strategies was queued, started or ended.
    Backtest(backtests::RunChange),
}

/// What a page tells the live channel: the strategy its editor shows, if any.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WatchRequest {
    pub watch: Option<StrategyId>,
}

/// Where the pages of a signed-in user listen for changes (a websocket).
pub const LIVE_PATH: &str = "/strategies/live";

/// The session key under which a refused plain form post leaves its text for the editor.
pub const RETURNED_DRAFT_KEY: &str = "strategy_returned_draft";

/// A document a plain form post could not save, back in the editor with the reason.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReturnedDraft {
    pub content: String,
    pub format: Format,
    pub lock_version: Option<i32>,
    pub message: String,
    /// Refused because another window saved first: the choice the page offers.
    #[serde(default)]
    pub conflict: Option<FormConflict>,
}

/// A plain form post's save that lost the race: the version saved elsewhere and how the
/// returned text differs from it, for Keep mine (overwrite) or Take theirs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FormConflict {
    pub change: StrategyChange,
    /// Their text against the returned one, line by line.
    pub changes: Vec<DiffRow>,
    /// The refused post was Save as draft (Keep mine saves the same way).
    pub draft: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_offers_exactly_the_transitions_product_md_allows() {
        use StrategyStatus::*;
        assert_eq!(
            Transition::offered_from(Draft),
            vec![Transition::Activate, Transition::Archive]
        );
        assert_eq!(
            Transition::offered_from(Active),
            vec![Transition::Deactivate]
        );
        assert_eq!(
            Transition::offered_from(Inactive),
            vec![Transition::Activate, Transition::Archive]
        );
        assert_eq!(
            Transition::offered_from(Archived),
            vec![Transition::RestoreToDraft]
        );
        assert_eq!(
            Transition::Archive.refusal_from(Active),
            Some("This strategy is active; deactivate it first.")
        );
    }

    #[test]
    fn the_list_query_survives_the_trip_through_its_url() {
        let query = ListQuery {
            status: Some(StrategyStatus::Draft),
            sort: SortOrder::NameAsc,
            search: "rsi & co".into(),
            page: 2,
        };
        let href = query.href();
        assert_eq!(
            href,
            "/strategies?status=draft&sort=name_asc&q=rsi%20%26%20co&page=2"
        );
        let params: Vec<(String, String)> = href
            .split_once('?')
            .unwrap()
            .1
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                let decoded = v.replace("%20", " ").replace("%26", "&");
                (k.to_string(), decoded)
            })
            .collect();
        let read = ListQuery::from_params(|name| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        });
        assert_eq!(read, query);
        assert_eq!(ListQuery::default().with_page(1).href(), "/strategies");
    }

    #[test]
    fn an_unreadable_query_falls_back_to_the_defaults() {
        let read = ListQuery::from_params(|name| match name {
            "status" => Some("deleted".into()),
            "sort" => Some("random".into()),
            "page" => Some("-3".into()),
            _ => None,
        });
        assert_eq!(read.status, None);
        assert_eq!(read.sort, SortOrder::UpdatedDesc);
        assert_eq!(read.page, 1);
    }
}
