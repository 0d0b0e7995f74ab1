//! A change saved elsewhere: merge it with this text where the two do not overlap, or take
//! theirs and keep this text as a working copy.

use leptos::{prelude::*, task::spawn_local};
use uuid::Uuid;

use crate::{
    language::validate,
    strategies::{
        autosave_strategy,
        merge::{assemble, overlaps},
        strategy_version,
        views::merge_view::MergeOffer,
        StrategyChange, WorkingCopy,
    },
};

use super::{diff_rows_on_demand, merge_chunks_on_demand, BrowserEditor};

impl BrowserEditor {
    /// Combines the newer version saved elsewhere with this editor's text: changes that do
    /// not overlap go in by themselves (one undoable step), and the next save goes on top
    /// of that version; overlapping ones open the conflict view, one choice each.
    pub fn merge_with(self, change: StrategyChange) {
        let signals = self.signals;
        let (Some(id), Some(mine_version)) =
            (signals.id.get_untracked(), signals.version.get_untracked())
        else {
            return;
        };
        spawn_local(async move {
            let base = strategy_version(id, mine_version).await;
            let theirs = strategy_version(id, change.version).await;
            let (Ok(base), Ok(theirs)) = (base, theirs) else {
                signals.alert.set(Some(
                    "The versions to merge could not be loaded; try again, or Reload.".into(),
                ));
                return;
            };
            if theirs.info.format != signals.format.get_untracked() {
                signals.alert.set(Some(
                    "The other window switched notation, so the texts cannot be merged line by line: Keep mine or Take theirs.".into(),
                ));
                return;
            }
            let mine = self.current_text();
            let chunks = merge_chunks_on_demand(base.content, mine, theirs.content.clone()).await;
            if overlaps(&chunks) == 0 {
                let merged = assemble(&chunks, |_, _| String::new());
                self.adopt_merge(merged, change, theirs.content);
                return;
            }
            signals.alert.set(None);
            signals.merging.set(Some(MergeOffer {
                change,
                base_version: mine_version,
                theirs: theirs.content,
                chunks,
            }));
        });
    }

    /// The merged text goes into the editor (one undoable step), checked at once; the next
    /// save goes on top of their version.
    pub fn adopt_merge(self, merged: String, change: StrategyChange, theirs: String) {
        let signals = self.signals;
        self.editor.with_value(|editor| {
            if let Some(editor) = editor {
                editor.replace_text(&merged);
            }
        });
        signals.merging.set(None);
        signals.notice.set(None);
        signals.alert.set(None);
        signals.lock_version.set(Some(change.lock_version));
        signals.version.set(Some(change.version));
        signals.saved.set(theirs);
        signals
            .validation
            .set(validate(&merged, signals.format.get_untracked()));
        signals.checked_text.set(merged.clone());
        self.changed(merged);
        signals.status_line.set(format!(
            "Merged with version {}: check the text, then save.",
            change.version
        ));
    }

    /// Loads the version saved elsewhere into the editor. This window's text is first
    /// stored as a working copy of its own (offered below, to restore); if it cannot be
    /// stored, nothing changes.
    pub fn take_theirs(self, change: StrategyChange) {
        let signals = self.signals;
        let Some(id) = signals.id.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let Ok(theirs) = strategy_version(id, change.version).await else {
                signals.alert.set(Some(format!(
                    "Version {} could not be loaded; nothing was changed. Try again.",
                    change.version
                )));
                return;
            };
            let mine = self.current_text();
            let mine_format = signals.format.get_untracked();
            let mine_lock_version = signals.lock_version.get_untracked();
            if mine != theirs.content {
                let kept_tab = Uuid::new_v4();
                let kept = autosave_strategy(
                    kept_tab,
                    1,
                    Some(id),
                    mine.clone(),
                    mine_format,
                    mine_lock_version,
                )
                .await;
                match kept {
                    Ok(ack) => signals.offered.set(Some(WorkingCopy {
                        tab_id: kept_tab,
                        format: mine_format,
                        changes: diff_rows_on_demand(theirs.content.clone(), mine.clone()).await,
                        content: mine,
                        base_lock_version: mine_lock_version,
                        saved_at: ack.saved_at,
                        in_this_browser: false,
                    })),
                    Err(_) => {
                        signals.alert.set(Some(
                            "Your text could not be stored, so it stays in the editor: try Take theirs again when the server answers.".into(),
                        ));
                        return;
                    }
                }
            }
            let format = theirs.info.format;
            signals.format.set(format);
            self.editor.with_value(|editor| {
                if let Some(editor) = editor {
                    editor.set_format(format);
                    editor.replace_text(&theirs.content);
                }
            });
            signals.merging.set(None);
            signals.notice.set(None);
            signals.alert.set(None);
            signals.lock_version.set(Some(change.lock_version));
            signals.version.set(Some(change.version));
            signals.saved.set(theirs.content.clone());
            signals.validation.set(validate(&theirs.content, format));
            signals.checked_text.set(theirs.content.clone());
            self.changed(theirs.content);
            signals.status_line.set(format!(
                "Took version {}: your text is kept below, to restore if you need it.",
                change.version
            ));
        });
    }
}
