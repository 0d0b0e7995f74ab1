//! Saving in place, and the document actions: test syntax, discard, switch notation, open a
//! file.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    error::AppError,
    language::{validate, write_document, Format},
    strategies::{save_live, save_strategy, StrategyChange},
};

use super::{clock, saved_line, syntax_test_on_demand, BrowserEditor};

impl BrowserEditor {
    pub fn save(self, draft: bool) {
        let signals = self.signals;
        if signals.busy.get_untracked() {
            return;
        }
        let content = self.current_text();
        // A save supersedes the autosave waiting for a pause.
        self.autosave
            .update_value(|autosave| autosave.generation += 1);
        signals.busy.set(true);
        signals.alert.set(None);
        signals.status_line.set("Saving…".into());
        let live = self.live.get_value();
        let flushed = self
            .editor
            .with_value(|editor| editor.as_ref().map(|editor| editor.flush_live(2_000)));
        spawn_local(async move {
            let outcome = match (live, signals.id.get_untracked(), flushed) {
                // The shared text at the exact version this editor has everything of.
                (true, Some(id), Some(flushed)) => match flushed.await {
                    Some(at) => save_live(id, at, draft).await,
                    None => Err(AppError::Transport {
                        message: "your last changes have not reached the server yet".into(),
                    }),
                },
                _ => {
                    let tab_id = self.autosave.with_value(|autosave| autosave.tab_id);
                    save_strategy(
                        signals.id.get_untracked(),
                        content.clone(),
                        signals.format.get_untracked(),
                        signals.lock_version.get_untracked(),
                        draft,
                        Some(tab_id),
                    )
                    .await
                }
            };
            signals.busy.set(false);
            match outcome {
                Ok(saved) => {
                    let created = signals.id.get_untracked().is_none();
                    signals.id.set(Some(saved.id));
                    signals.version.set(Some(saved.version));
                    signals.lock_version.set(Some(saved.lock_version));
                    // A change told while saving is news only if it came after this save.
                    if let Some(change) = signals.pending_notice.get_untracked() {
                        if change.lock_version > saved.lock_version {
                            signals.notice.set(Some(change));
                        }
                        signals.pending_notice.set(None);
                    }
                    signals.saved.set(content);
                    signals.status_line.set(format!(
                        "Saved {} (version {}).",
                        clock(),
                        saved.version
                    ));
                    if created {
                        // The page is now this strategy's editor; a reload opens the same.
                        if let Ok(history) = window().history() {
                            let _ = history.replace_state_with_url(
                                &leptos::wasm_bindgen::JsValue::NULL,
                                "",
                                Some(&format!("/strategies/{}/edit", saved.id)),
                            );
                        }
                    }
                }
                Err(error) => {
                    signals.status_line.set("Not saved.".into());
                    if let (AppError::Conflict { .. }, Some(strategy)) =
                        (&error, signals.id.get_untracked())
                    {
                        // Offer the same choices as a live notice, from the current row.
                        if let Ok(crate::strategies::EditorStart {
                            document: Some(current),
                            ..
                        }) = crate::strategies::open_editor(Some(strategy)).await
                        {
                            signals.notice.set(Some(StrategyChange {
                                strategy_id: strategy,
                                kind: crate::strategies::ChangeKind::Saved,
                                version: current.version,
                                lock_version: current.lock_version,
                                status: current.status,
                                name: current.name,
                                at: chrono::Utc::now(),
                            }));
                        }
                    }
                    let message = match &error {
                        AppError::Conflict { current_version, .. } => format!(
                            "Not saved: this strategy was changed in another window (it is now at version {}). Your text is still here: view the changes, then keep yours or reload theirs.",
                            current_version.unwrap_or_default()
                        ),
                        AppError::Transport { .. } => "Not saved: the server could not be reached. Your text is still here; try again.".into(),
                        other => format!("Not saved: {other}"),
                    };
                    signals.alert.set(Some(message));
                }
            }
        });
    }

    /// A document from a file on the user's machine, checked like typed text (its notation
    /// from its name); one undoable step, saved only when the user saves.
    /// Opens the file chosen in the file input that `event` came from, and empties the input
    /// so that choosing the same file again opens it again.
    pub fn open_chosen_file(self, event: leptos::ev::Event) {
        use leptos::wasm_bindgen::JsCast;
        let input = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(file) = input
            .as_ref()
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        {
            self.open_file(file);
        }
        if let Some(input) = input {
            input.set_value("");
        }
    }

    fn open_file(self, file: web_sys::File) {
        let signals = self.signals;
        let name = file.name();
        let Some(format) = Format::from_file_name(&name) else {
            signals.alert.set(Some(format!(
                "\u{201c}{name}\u{201d} is not a strategy document: open a .yaml, .yml or .toml file."
            )));
            return;
        };
        if file.size() > 256.0 * 1024.0 {
            signals.alert.set(Some(format!(
                "\u{201c}{name}\u{201d} is larger than 256 KiB, the most a strategy document may be."
            )));
            return;
        }
        spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|value| value.as_string());
            let Some(text) = text else {
                signals.alert.set(Some(format!(
                    "\u{201c}{name}\u{201d} could not be read as text."
                )));
                return;
            };
            signals.format.set(format);
            self.editor.with_value(|editor| {
                if let Some(editor) = editor {
                    editor.switch_format(format, &text);
                }
            });
            signals.alert.set(None);
            signals.validation.set(validate(&text, format));
            signals.checked_text.set(text.clone());
            self.changed(text);
        });
    }

    pub fn test_syntax(self) {
        let signals = self.signals;
        let content = self.current_text();
        let format = signals.format.get_untracked();
        spawn_local(async move {
            let report = syntax_test_on_demand(content, format).await;
            signals.report.set(Some(report));
        });
    }

    pub fn discard(self) {
        let signals = self.signals;
        let saved = signals.saved.get_untracked();
        self.editor.with_value(|editor| {
            if let Some(editor) = editor {
                editor.replace_text(&saved);
            }
        });
        signals.text.set(saved.clone());
        signals.alert.set(None);
        signals
            .status_line
            .set(saved_line(signals.version.get_untracked()));
        self.check(saved);
    }

    /// Converts the document to the other notation (a valid document only: the writer
    /// needs the whole model). Comments do not survive a conversion.
    pub fn switch_format(self, wanted: Format) {
        let signals = self.signals;
        let current = signals.format.get_untracked();
        if wanted == current {
            return;
        }
        let content = self.current_text();
        let converted = match validate(&content, current).into_valid() {
            Ok(strategy) => write_document(&strategy, wanted),
            Err(_) => {
                signals.alert.set(Some(
                    "Fix the errors before switching notation: only a valid document can be converted.".into(),
                ));
                // Puts the select back on the current notation.
                signals.format.set(wanted);
                signals.format.set(current);
                return;
            }
        };
        signals.format.set(wanted);
        // One undoable step that carries the notation, so every live editor switches too.
        self.editor.with_value(|editor| {
            if let Some(editor) = editor {
                editor.switch_format(wanted, &converted);
            }
        });
        signals.alert.set(None);
        self.changed(converted);
    }
}
