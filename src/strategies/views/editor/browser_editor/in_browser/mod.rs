//! The editor in the browser: the code editor, a check of every keystroke by the server (only
//! the newest reply is shown), and `BrowserEditor`'s autosave (`autosave.rs`), saving and the
//! document actions (`saving.rs`) and the merges of a change saved elsewhere (`merging.rs`).

mod autosave;
mod merging;
mod saving;

use crate::strategies::StrategyId;
use leptos::{prelude::*, task::spawn_local};
use uuid::Uuid;

use super::EditorSignals;
use crate::strategies::views::code_editor::{Callbacks, CodeEditor, LiveEvent, LiveOptions};
use crate::web::islands::hydrated_later;
use crate::{
    error::AppError,
    language::{
        apply_edit,
        syntax_test::{syntax_test, SyntaxReport},
        validate, Edit, EditError, Format, Validation,
    },
    strategies::{
        check_strategy,
        merge::{diff_rows, merge_chunks, MergeChunk},
        DiffRow,
    },
};

// What the editor needs only on a trader's request, each fetched the first time it is
// needed, so that the editor's first load does not carry it (BENCHMARKS.md, "Islands,
// shipped"): the line diff and three-way merge (the `similar` crate), on a change saved
// elsewhere or a restore offer; the edit API, on the builder's first change; and the
// syntax test, on its button.

#[lazy]
fn merge_chunks_on_demand(base: String, mine: String, theirs: String) -> Vec<MergeChunk> {
    merge_chunks(&base, &mine, &theirs)
}

#[lazy]
fn diff_rows_on_demand(before: String, after: String) -> Vec<DiffRow> {
    diff_rows(&before, &after)
}

#[lazy]
fn apply_edit_on_demand(content: String, format: Format, edit: Edit) -> Result<String, EditError> {
    apply_edit(&content, format, &edit)
}

#[lazy]
fn syntax_test_on_demand(text: String, format: Format) -> SyntaxReport {
    syntax_test(&text, format)
}

/// The code editor (once created after hydration) and the page's state.
#[derive(Clone, Copy)]
pub struct BrowserEditor {
    editor: StoredValue<Option<CodeEditor>, LocalStorage>,
    signals: EditorSignals,
    /// The number of the newest check sent: a reply to an older one is dropped.
    latest_check: StoredValue<u64>,
    /// The document name the server last answered "taken or not" for.
    server_checked_name: StoredValue<Option<String>>,
    autosave: StoredValue<Autosave, LocalStorage>,
    /// The editor types into its strategy's live document (a saved strategy): every accepted
    /// change is stored by the server, so there is no per-tab autosave.
    live: StoredValue<bool>,
    /// Bumped by every remote change; the server's check runs only after a pause in them.
    remote_generation: StoredValue<u64>,
}

/// The autosave's state: this tab's id, its numbering, and what the server holds.
pub struct Autosave {
    tab_id: Uuid,
    sequence: u64,
    /// Bumped by every change; a pause timer fires only if nothing changed since.
    generation: u64,
    /// The text the server holds for this tab (a working copy or the committed version).
    stored: String,
    /// When the text last became unsaved (browser clock, ms), for the longest wait.
    dirty_since: Option<f64>,
    interval_ms: u64,
}

impl BrowserEditor {
    /// Creates the code editor on `host` once CodeMirror has arrived (the plain text area
    /// works until then) and wires the page's state to it.
    pub fn mount(
        host: NodeRef<leptos::html::Div>,
        plain_text_area: NodeRef<leptos::html::Textarea>,
        signals: EditorSignals,
        enhanced: RwSignal<bool>,
        read_only: bool,
        autosave_interval_ms: u64,
        live_from: Option<u64>,
    ) -> BrowserEditor {
        let browser = BrowserEditor {
            editor: StoredValue::new_local(None),
            signals,
            latest_check: StoredValue::new(0),
            server_checked_name: StoredValue::new(None),
            autosave: StoredValue::new_local(Autosave {
                tab_id: Uuid::new_v4(),
                sequence: 0,
                generation: 0,
                stored: signals.saved.get_untracked(),
                dirty_since: None,
                interval_ms: autosave_interval_ms,
            }),
            live: StoredValue::new(live_from.is_some()),
            remote_generation: StoredValue::new(0),
        };
        // The page is ready for the trader once the code editor is (CodeMirror arrives beside
        // the WASM, from `/editor/loader.js`); until then the text area works as it is.
        let mut ready = Some(hydrated_later());
        Effect::new(move |_| {
            let Some(element) = host.get() else { return };
            let Some(ready) = ready.take() else { return };
            let nonce = use_context::<leptos::nonce::Nonce>().map(|n| n.to_string());
            let live = live_from
                .zip(signals.id.get_untracked())
                .map(|(version, id)| LiveOptions {
                    url: format!("/strategies/live/{id}"),
                    version,
                });
            let arriving = CodeEditor::new(
                &element,
                &signals.text.get_untracked(),
                signals.format.get_untracked(),
                nonce,
                read_only,
                live,
                Callbacks {
                    on_live: Box::new(move |event| browser.heard_live(event)),
                    on_change: Box::new(move |content: String| browser.changed(content)),
                    on_save: Box::new(move || browser.save(false)),
                    on_test: Box::new(move || browser.test_syntax()),
                    strategy: Box::new(move || {
                        signals.validation.with_untracked(|v| v.strategy.clone())
                    }),
                },
            );
            spawn_local(async move {
                let editor = arriving.await;
                ready();
                let Some(editor) = editor else {
                    signals.alert.set(Some(
                        "The code editor could not be loaded, so this text has no live checks: \
                         you can still edit and save it here, or reload the page to try again."
                            .into(),
                    ));
                    return;
                };
                // What the trader typed in the text area while CodeMirror was on its way
                // moves into it, as one undoable step.
                let typed = plain_text_area
                    .get_untracked()
                    .map(|area| area.value())
                    .filter(|typed| *typed != signals.text.get_untracked());
                if let Some(typed) = &typed {
                    editor.replace_text(typed);
                }
                browser.editor.set_value(Some(editor));
                enhanced.set(true);
                if let Some(typed) = typed {
                    browser.changed(typed);
                }
                // A live editor's changes are stored by the server as they are typed, and its
                // socket reconnects by itself; text an earlier tab kept is offered either way.
                if !browser.live.get_value() {
                    browser.warn_before_leaving();
                    browser.resume_when_back_online();
                }
                browser.offer_browser_copy();
            });
        });
        // Every new validation is drawn in the editor, against the text it was made for.
        Effect::new(move |_| {
            let diagnostics = signals.validation.with(|v| v.diagnostics.clone());
            let checked = signals.checked_text.get();
            if enhanced.get() {
                browser.editor.with_value(|editor| {
                    if let Some(editor) = editor {
                        editor.show_diagnostics(&checked, &diagnostics);
                    }
                });
            }
        });
        browser
    }
}

fn saved_line(version: Option<i32>) -> String {
    match version {
        Some(version) => format!("Version {version} is saved."),
        None => "Not saved yet.".into(),
    }
}

fn clock() -> String {
    let now = js_sys::Date::new_0();
    format!(
        "{:02}:{:02}:{:02}",
        now.get_hours(),
        now.get_minutes(),
        now.get_seconds()
    )
}

/// How long a pause in typing is before the working copy is stored.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(1000);
/// How long other editors' typing pauses before this editor asks the server to check.
const REMOTE_CHECK_PAUSE: std::time::Duration = std::time::Duration::from_millis(300);
/// How soon an autosave that could not reach the server is tried again.
const RETRY: std::time::Duration = std::time::Duration::from_secs(5);

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn local_key(id: Option<StrategyId>) -> String {
    format!(
        "trading-strategy:working-copy:{}",
        id.map_or_else(|| "new".to_string(), |id| id.to_string())
    )
}

impl BrowserEditor {
    fn changed(self, content: String) {
        let signals = self.signals;
        signals.text.set(content.clone());
        self.show_unsaved(&content);
        self.check(content);
        if !self.live.get_value() {
            self.schedule_autosave(PAUSE);
        }
    }

    fn show_unsaved(self, content: &str) {
        let signals = self.signals;
        let dirty = signals.saved.with_untracked(|saved| saved != content);
        let version = signals.version.get_untracked();
        signals
            .status_line
            .set(match (dirty, self.live.get_value(), version) {
                // The shared text is stored already; it is only not a version yet.
                (true, true, Some(version)) => format!(
                    "Unsaved changes since version {version} (last edit {}).",
                    clock()
                ),
                (true, _, _) => "Unsaved changes.".into(),
                (false, _, _) => saved_line(version),
            });
    }

    /// What the live document told this editor.
    fn heard_live(self, event: LiveEvent) {
        let signals = self.signals;
        match event {
            LiveEvent::Status(status) => {
                let line = match status.as_str() {
                    "reconnecting" | "connecting" => Some("Reconnecting… your changes are kept in this tab."),
                    "offline" => Some("Offline: your changes are kept in this tab and sent when the connection is back."),
                    _ => None,
                };
                match line {
                    Some(line) => signals.status_line.set(line.into()),
                    None => self.show_unsaved(&self.current_text()),
                }
            }
            LiveEvent::Remote => {
                let content = self.current_text();
                signals.text.set(content.clone());
                self.show_unsaved(&content);
                // Several editors typing would each ask the server for every keystroke of
                // the others: the check of remote changes waits for a pause in them.
                let generation = self.remote_generation.get_value() + 1;
                self.remote_generation.set_value(generation);
                set_timeout(
                    move || {
                        if self.remote_generation.get_value() == generation {
                            self.check(self.current_text());
                        }
                    },
                    REMOTE_CHECK_PAUSE,
                );
            }
            LiveEvent::Format(format) => signals.format.set(format),
            LiveEvent::Saved { version } => {
                signals.version.set(Some(version));
                let content = self.current_text();
                signals.saved.set(content);
                signals
                    .status_line
                    .set(format!("Saved as version {version} ({}).", clock()));
                // The lock version moved on; the next plain save must name it.
                if let Some(id) = signals.id.get_untracked() {
                    spawn_local(async move {
                        if let Ok(crate::strategies::EditorStart {
                            document: Some(current),
                            ..
                        }) = crate::strategies::open_editor(Some(id)).await
                        {
                            signals.lock_version.set(Some(current.lock_version));
                        }
                    });
                }
            }
            LiveEvent::Mode { read_only } => signals.alert.set(read_only),
            LiveEvent::Refused { message } => signals
                .alert
                .set(Some(format!("Your last change was not kept: {message}"))),
            LiveEvent::Closed { message } => signals.alert.set(Some(format!(
                "{message} This editor is read-only now; reload the page to continue."
            ))),
            LiveEvent::Diverged { mine } => {
                // The offline text is offered back (Restore brings it in as one shared change).
                let shared = self.current_text();
                let tab_id = self.autosave.with_value(|autosave| autosave.tab_id);
                spawn_local(async move {
                    let changes = diff_rows_on_demand(shared, mine.clone()).await;
                    signals.offered.set(Some(crate::strategies::WorkingCopy {
                        tab_id,
                        format: signals.format.get_untracked(),
                        content: mine,
                        base_lock_version: signals.lock_version.get_untracked(),
                        saved_at: chrono::Utc::now(),
                        changes,
                        in_this_browser: true,
                    }));
                });
                signals.alert.set(Some(
                    "While this tab was offline the shared text changed too much to add your \
                     changes by themselves: it shows the shared text now, and your text is kept \
                     below to restore or compare."
                        .into(),
                ));
            }
        }
    }

    /// Sends the text to the server's validator; only the newest reply is shown.
    fn check(self, content: String) {
        let sequence = self.latest_check.get_value() + 1;
        self.latest_check.set_value(sequence);
        let signals = self.signals;
        // Only a name the server has answered for (none before the first reply).
        let checked_name = self.server_checked_name.get_value();
        let checked_name_taken = signals.name_taken.get_untracked();
        let format = signals.format.get_untracked();
        spawn_local(async move {
            let reply = check_strategy(
                sequence,
                signals.id.get_untracked(),
                content.clone(),
                format,
                checked_name,
                checked_name_taken,
            )
            .await;
            if self.latest_check.get_value() != sequence {
                return;
            }
            match reply {
                Ok(reply) => {
                    // The server's diagnostics, over the strategy as this same text reads
                    // here (the reply does not carry it back).
                    let validation = Validation {
                        diagnostics: reply.diagnostics,
                        ..validate(&content, format)
                    };
                    signals.checked_text.set(content);
                    self.server_checked_name.set_value(
                        validation
                            .strategy
                            .as_ref()
                            .map(|s| s.name.trim().to_string()),
                    );
                    signals.name_taken.set(reply.name_taken);
                    signals.validation.set(validation);
                }
                Err(AppError::Unauthenticated) => signals.alert.set(Some(
                    "Your session has ended: log in again in another tab, then save.".into(),
                )),
                // Offline or a server hiccup: the next keystroke checks again.
                Err(_) => {}
            }
        });
    }

    fn current_text(self) -> String {
        self.editor
            .with_value(|editor| editor.as_ref().map(CodeEditor::text))
            .unwrap_or_else(|| self.signals.text.get_untracked())
    }

    pub fn go_to(self, offset: usize) {
        let checked = self.signals.checked_text.get_untracked();
        self.editor.with_value(|editor| {
            if let Some(editor) = editor {
                editor.go_to(&checked, offset);
            }
        });
    }

    /// A builder change: the edit API rewrites the smallest stretch of the text, which
    /// reaches the code editor as one undoable step.
    pub fn apply(self, edit: Edit) {
        let signals = self.signals;
        let content = self.current_text();
        let format = signals.format.get_untracked();
        spawn_local(async move {
            let edited = apply_edit_on_demand(content.clone(), format, edit).await;
            // Only the first edit waits for its code to arrive; one typed meanwhile wins.
            if self.current_text() != content || signals.format.get_untracked() != format {
                signals.alert.set(Some(
                    "The text changed while the builder was making its change: try again.".into(),
                ));
                return;
            }
            match edited {
                Ok(edited) => {
                    self.editor.with_value(|editor| {
                        if let Some(editor) = editor {
                            editor.replace_text(&edited);
                        }
                    });
                    signals.alert.set(None);
                    // The builder shows the change at once; the server's check follows.
                    signals.validation.set(validate(&edited, format));
                    signals.checked_text.set(edited.clone());
                    self.changed(edited);
                }
                Err(error) => signals.alert.set(Some(format!(
                    "The builder could not make that change: {error}."
                ))),
            }
        });
    }

    /// A quick fix from the problems list: a splice of the text the diagnostic was found
    /// in, applied only while the editor still shows that text.
    pub fn apply_fix(self, fix: crate::language::span::Fix) {
        let signals = self.signals;
        let content = self.current_text();
        if signals
            .checked_text
            .with_untracked(|checked| *checked != content)
        {
            signals.alert.set(Some(
                "The document changed since it was checked; wait a moment and try the fix again."
                    .into(),
            ));
            return;
        }
        let fixed = fix.apply(&content);
        self.editor.with_value(|editor| {
            if let Some(editor) = editor {
                editor.replace_text(&fixed);
            }
        });
        signals.alert.set(None);
        signals
            .validation
            .set(validate(&fixed, signals.format.get_untracked()));
        signals.checked_text.set(fixed.clone());
        self.changed(fixed);
    }
}
