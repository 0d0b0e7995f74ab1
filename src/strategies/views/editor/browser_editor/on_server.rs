//! The browser editor as the server renders the page: a plain form whose buttons post it, so there
//! is no code editor to drive and every method does nothing. The methods match the browser's
//! (`in_browser/`), so that the page's view is written once for both builds.

use leptos::prelude::*;

use super::EditorSignals;
use crate::{
    language::{span::Fix, Edit, Format},
    strategies::{StrategyChange, WorkingCopy},
};

#[derive(Clone, Copy)]
pub struct BrowserEditor;

impl BrowserEditor {
    pub fn mount(
        _host: NodeRef<leptos::html::Div>,
        _plain_text_area: NodeRef<leptos::html::Textarea>,
        _signals: EditorSignals,
        _enhanced: RwSignal<bool>,
        _read_only: bool,
        _autosave_interval_ms: u64,
        _live_from: Option<u64>,
    ) -> Self {
        BrowserEditor
    }

    pub fn go_to(self, _offset: usize) {}

    pub fn apply(self, _edit: Edit) {}

    pub fn apply_fix(self, _fix: Fix) {}

    pub fn save(self, _draft: bool) {}

    pub fn test_syntax(self) {}

    pub fn discard(self) {}

    pub fn switch_format(self, _wanted: Format) {}

    pub fn open_chosen_file(self, _event: leptos::ev::Event) {}

    pub fn restore(self, _copy: WorkingCopy) {}

    pub fn forget_browser_copy(self) {}

    pub fn merge_with(self, _change: StrategyChange) {}

    pub fn adopt_merge(self, _merged: String, _change: StrategyChange, _theirs: String) {}

    pub fn take_theirs(self, _change: StrategyChange) {}
}
