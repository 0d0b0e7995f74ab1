//! The editor's browser side behind one handle that exists in both builds, `BrowserEditor`: in
//! the browser it holds the code editor and drives the checks, autosave, saving and merges
//! (`in_browser/`); on the server, which renders the editor as a plain form that works without
//! JavaScript, its methods do nothing (`on_server.rs`). The page's view calls it the same way in
//! both.

#[cfg(feature = "hydrate")]
mod in_browser;
#[cfg(not(feature = "hydrate"))]
mod on_server;

#[cfg(feature = "hydrate")]
pub use in_browser::BrowserEditor;
#[cfg(not(feature = "hydrate"))]
pub use on_server::BrowserEditor;

use crate::strategies::StrategyId;
use leptos::prelude::*;

use crate::{
    language::{syntax_test::SyntaxReport, Format, Validation},
    strategies::{views::merge_view::MergeOffer, StrategyChange, WorkingCopy},
};

/// The editor page's state that the browser side reads and writes. (The server's editor reads
/// none of it: it renders the form once.)
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy)]
pub struct EditorSignals {
    pub id: RwSignal<Option<StrategyId>>,
    pub version: RwSignal<Option<i32>>,
    pub lock_version: RwSignal<Option<i32>>,
    pub text: RwSignal<String>,
    /// The text of the newest committed version (what Discard goes back to).
    pub saved: RwSignal<String>,
    pub format: RwSignal<Format>,
    pub validation: RwSignal<Validation>,
    /// The text `validation` was made for (its spans point into it).
    pub checked_text: RwSignal<String>,
    pub name_taken: RwSignal<bool>,
    pub alert: RwSignal<Option<String>>,
    pub report: RwSignal<Option<SyntaxReport>>,
    pub status_line: RwSignal<String>,
    pub busy: RwSignal<bool>,
    pub notice: RwSignal<Option<StrategyChange>>,
    pub pending_notice: RwSignal<Option<StrategyChange>>,
    pub offered: RwSignal<Option<WorkingCopy>>,
    pub merging: RwSignal<Option<MergeOffer>>,
}
