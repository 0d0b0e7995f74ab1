//! Never losing a draft: the working copy stored on the server after a pause (or at once when
//! edits have waited too long), kept in the browser while offline, offered back on return.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    error::AppError,
    language::validate,
    strategies::{autosave_strategy, discard_working_copy, WorkingCopy},
};

use super::{clock, diff_rows_on_demand, local_key, now_ms, BrowserEditor, RETRY};

impl BrowserEditor {
    /// Stores the working copy after a pause, or at once when edits have waited longer
    /// than the autosave interval.
    pub(super) fn schedule_autosave(self, pause: std::time::Duration) {
        let (generation, overdue) = self
            .autosave
            .try_update_value(|autosave| {
                autosave.generation += 1;
                let since = *autosave.dirty_since.get_or_insert_with(now_ms);
                (
                    autosave.generation,
                    now_ms() - since >= autosave.interval_ms as f64,
                )
            })
            .unwrap_or_default();
        if overdue {
            self.autosave_now();
            return;
        }
        set_timeout(
            move || {
                if self.autosave.with_value(|a| a.generation) == generation {
                    self.autosave_now();
                }
            },
            pause,
        );
    }

    pub(super) fn autosave_now(self) {
        let signals = self.signals;
        let content = self.current_text();
        let (tab_id, sequence, unchanged) = self
            .autosave
            .try_update_value(|autosave| {
                autosave.sequence += 1;
                (
                    autosave.tab_id,
                    autosave.sequence,
                    autosave.stored == content,
                )
            })
            .unwrap_or_default();
        if unchanged {
            self.autosave.update_value(|a| a.dirty_since = None);
            return;
        }
        if !signals.busy.get_untracked() {
            signals.status_line.set("Saving…".into());
        }
        let format = signals.format.get_untracked();
        let id = signals.id.get_untracked();
        spawn_local(async move {
            let outcome = autosave_strategy(
                tab_id,
                sequence,
                id,
                content.clone(),
                format,
                signals.lock_version.get_untracked(),
            )
            .await;
            let storage = window().local_storage().ok().flatten();
            match outcome {
                Ok(_) => {
                    self.autosave.update_value(|autosave| {
                        autosave.stored = content.clone();
                        autosave.dirty_since = None;
                    });
                    if let Some(storage) = storage {
                        let _ = storage.remove_item(&local_key(id));
                    }
                    if !signals.busy.get_untracked() && self.current_text() == content {
                        signals.status_line.set(format!("Saved {}.", clock()));
                    }
                }
                Err(error) => {
                    // Kept in the browser's storage (offered again should the tab close
                    // before the server takes it): the server was not reached, or refused
                    // the text (too large, the account's quota), and either way nothing
                    // typed may be lost.
                    let kept = WorkingCopy {
                        tab_id,
                        format,
                        content: content.clone(),
                        base_lock_version: signals.lock_version.get_untracked(),
                        saved_at: chrono::Utc::now(),
                        changes: Vec::new(),
                        in_this_browser: true,
                    };
                    if let (Some(storage), Ok(kept)) = (storage, serde_json::to_string(&kept)) {
                        let _ = storage.set_item(&local_key(id), &kept);
                    }
                    if let AppError::Transport { .. } = error {
                        signals
                            .status_line
                            .set("Offline: changes kept in this tab.".into());
                        // Sent again when the server answers.
                        self.schedule_autosave(RETRY);
                    } else {
                        signals
                            .status_line
                            .set(format!("Not saved: {error} Your text is kept in this tab."));
                    }
                }
            }
        });
    }

    /// Offers the text a tab kept in the browser's storage when the server could not be
    /// reached, unless the server has it by now (committed, or as a working copy).
    pub(super) fn offer_browser_copy(self) {
        let signals = self.signals;
        let Some(storage) = window().local_storage().ok().flatten() else {
            return;
        };
        let key = local_key(signals.id.get_untracked());
        let Some(kept) = storage
            .get_item(&key)
            .ok()
            .flatten()
            .and_then(|kept| serde_json::from_str::<WorkingCopy>(&kept).ok())
        else {
            let _ = storage.remove_item(&key);
            return;
        };
        let committed = signals.saved.get_untracked();
        let on_server = signals.offered.with_untracked(|offered| {
            offered
                .as_ref()
                .is_some_and(|offered| offered.content == kept.content)
        });
        if on_server || kept.content == committed {
            let _ = storage.remove_item(&key);
            return;
        }
        spawn_local(async move {
            let changes = diff_rows_on_demand(committed, kept.content.clone()).await;
            signals.offered.set(Some(WorkingCopy {
                changes,
                in_this_browser: true,
                ..kept
            }));
        });
    }

    /// Forgets the text kept in the browser's storage (the trader discarded it).
    pub fn forget_browser_copy(self) {
        if let Some(storage) = window().local_storage().ok().flatten() {
            let _ = storage.remove_item(&local_key(self.signals.id.get_untracked()));
        }
    }

    /// Brings back a working copy an earlier autosave kept (one undoable step); the old
    /// tab's copy is forgotten, this tab keeps the text from now on.
    pub fn restore(self, copy: WorkingCopy) {
        let signals = self.signals;
        signals.offered.set(None);
        signals.format.set(copy.format);
        // One undoable step with its notation, shared with every live editor.
        self.editor.with_value(|editor| {
            if let Some(editor) = editor {
                editor.switch_format(copy.format, &copy.content);
            }
        });
        signals.validation.set(validate(&copy.content, copy.format));
        signals.checked_text.set(copy.content.clone());
        self.changed(copy.content);
        // A live document stores it as soon as the server has it: then the browser forgets.
        if self.live.get_value() && copy.in_this_browser {
            let flushed = self
                .editor
                .with_value(|editor| editor.as_ref().map(|editor| editor.flush_live(10_000)));
            if let Some(flushed) = flushed {
                spawn_local(async move {
                    if flushed.await.is_some() {
                        self.forget_browser_copy();
                    }
                });
            }
        }
        // A copy only this browser kept reaches the server with this tab's next autosave.
        if !copy.in_this_browser {
            let tab = copy.tab_id;
            spawn_local(async move {
                let _ = discard_working_copy(tab).await;
            });
        }
    }

    /// Asks the browser to confirm leaving while the text differs from the saved version.
    pub(super) fn warn_before_leaving(self) {
        let handle = window_event_listener(leptos::ev::beforeunload, move |event| {
            if self.signals.text.with_untracked(|text| self.unstored(text)) {
                event.prevent_default();
                event.set_return_value("You have unsaved changes.");
            }
        });
        on_cleanup(move || handle.remove());
    }

    /// Whether `text` is not on the server at all: neither committed nor autosaved.
    pub(super) fn unstored(self, text: &str) -> bool {
        self.signals
            .saved
            .with_untracked(|saved| saved.as_str() != text)
            && self.autosave.with_value(|autosave| autosave.stored != text)
    }

    /// When the browser says the connection is back, checks the text the server has not
    /// checked and stores what it has not stored, at once rather than at the next retry.
    pub(super) fn resume_when_back_online(self) {
        let handle = window_event_listener(leptos::ev::online, move |_| {
            let content = self.current_text();
            if self
                .signals
                .checked_text
                .with_untracked(|checked| *checked != content)
            {
                self.check(content.clone());
            }
            if self.unstored(&content) && !self.signals.busy.get_untracked() {
                self.autosave_now();
            }
        });
        on_cleanup(move || handle.remove());
    }
}
