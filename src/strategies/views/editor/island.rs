//! The editor island: the page's state (the document, its checks, the notices) and its view,
//! the form that works without JavaScript, upgraded in place once the browser side is up.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    language::{syntax_test::SyntaxReport, validate, Format},
    strategies::{
        open_editor,
        views::{
            live::listen_with_presence,
            merge_view::{MergeOffer, MergeView},
        },
        ChangeKind, EditorStart, StrategyChange, StrategyStatus,
    },
    web::islands::{enter_island, page_title},
};

use super::{
    browser_editor::{BrowserEditor, EditorSignals},
    notices::{ChangeNotice, ConflictChoice, RestoreOffer},
    panels::{problems_in, SideTab, SyntaxPanel, SECTIONS},
};

/// The editor, hydrated as one island: everything on the page that acts in the browser. The
/// one island that is not lazy: its code is the main WASM module, one file compressed as a
/// whole and cached across pages, where as split pieces it was 162 KB more on the wire and
/// half a second slower to use (BENCHMARKS.md, "Islands, shipped").
#[island]
pub(super) fn Editor(start: EditorStart, template_text: String, format: Format) -> impl IntoView {
    enter_island();
    let EditorStart {
        document,
        returned,
        working_copy,
        autosave_interval_ms,
        syntax_report,
        live,
    } = start;
    // A saved strategy opens on its shared live text (what every open editor of it shows);
    // a plain form post that came back opens on the text it sent, outside the live document.
    let live = live.filter(|_| returned.is_none());
    // Text an earlier autosave kept and nobody saved: offered to restore or discard.
    let offered = RwSignal::new(working_copy);
    let returned_format = returned.as_ref().map(|returned| returned.format);
    let initial_format = returned_format.unwrap_or(format);
    let saved_text = document
        .as_ref()
        .map(|d| d.content.clone())
        .unwrap_or(template_text);
    let initial_format = live.as_ref().map_or(initial_format, |live| live.format);
    let initial_text = returned
        .as_ref()
        .map(|r| r.content.clone())
        .or_else(|| live.as_ref().map(|live| live.text.clone()))
        .unwrap_or_else(|| saved_text.clone());
    let live_from = live.as_ref().map(|live| live.version);
    let status = document
        .as_ref()
        .map_or(StrategyStatus::Draft, |d| d.status);
    let read_only = status.edit_refusal();

    let id = RwSignal::new(document.as_ref().map(|d| d.id));
    let version = RwSignal::new(document.as_ref().map(|d| d.version));
    let lock_version = RwSignal::new(
        returned
            .as_ref()
            .and_then(|r| r.lock_version)
            .or(document.as_ref().map(|d| d.lock_version)),
    );
    let title = document.as_ref().map_or_else(
        || "New strategy".to_string(),
        |d| format!("Edit {}", d.name),
    );
    let text = RwSignal::new(initial_text.clone());
    let saved = RwSignal::new(saved_text);
    let format = RwSignal::new(initial_format);
    // Checked where the page is rendered (server or browser), so problems show without
    // JavaScript; keystrokes are then checked by the server.
    let validation = RwSignal::new(validate(&initial_text, initial_format));
    let checked_text = RwSignal::new(initial_text.clone());
    let name_taken = RwSignal::new(false);
    let alert = RwSignal::new(
        returned
            .as_ref()
            .map(|r| r.message.clone())
            .filter(|m| !m.is_empty()),
    );
    let report: RwSignal<Option<SyntaxReport>> = RwSignal::new(syntax_report);
    let status_line = RwSignal::new(match (&document, &returned) {
        (_, Some(_)) => "Not saved: your text is below.".to_string(),
        (Some(document), None) if live.as_ref().is_some_and(|live| live.unsaved) => {
            format!("Unsaved changes since version {}.", document.version)
        }
        (Some(document), None) => format!("Version {} is saved.", document.version),
        (None, None) => "Not saved yet.".to_string(),
    });
    let enhanced = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let side_tab = RwSignal::new(SideTab::Checks);
    // A change committed elsewhere (another tab, another machine), told by the live channel.
    let notice: RwSignal<Option<StrategyChange>> = RwSignal::new(None);
    // One that arrived while this tab was saving: judged once the save's answer is in.
    let pending_notice: RwSignal<Option<StrategyChange>> = RwSignal::new(None);
    // Overlapping changes being merged in the conflict view.
    let merging: RwSignal<Option<MergeOffer>> = RwSignal::new(None);
    // How many editors (tabs, machines) show this strategy, this one included.
    let open_here = RwSignal::new(1i64);
    listen_with_presence(
        move |change: StrategyChange| {
            if Some(change.strategy_id) != id.get_untracked() {
                return;
            }
            // A live editor already shows a save made anywhere: its text is the shared one.
            if live_from.is_some() && change.kind == ChangeKind::Saved {
                return;
            }
            if busy.get_untracked() {
                pending_notice.set(Some(change));
            } else if change.lock_version > lock_version.get_untracked().unwrap_or(0) {
                notice.set(Some(change));
            }
        },
        move || {
            // Back after a drop: ask for the current version, in case a change was missed.
            let Some(strategy) = id.get_untracked() else {
                return;
            };
            leptos::task::spawn_local(async move {
                if let Ok(EditorStart {
                    document: Some(current),
                    ..
                }) = open_editor(Some(strategy)).await
                {
                    if current.lock_version > lock_version.get_untracked().unwrap_or(0) {
                        notice.set(Some(StrategyChange {
                            strategy_id: strategy,
                            kind: ChangeKind::Saved,
                            version: current.version,
                            lock_version: current.lock_version,
                            status: current.status,
                            name: current.name,
                            at: chrono::Utc::now(),
                        }));
                    }
                }
            });
        },
        Signal::derive(move || id.get()),
        move |open| open_here.set(open),
    );
    // A memo: the builder redraws only when the strategy itself changed, not on every reply.
    let strategy = Signal::from(Memo::new(move |_| validation.with(|v| v.strategy.clone())));

    let action = move || match id.get() {
        Some(id) => format!("/strategies/{id}"),
        None => "/strategies".to_string(),
    };
    // The server's check adds E050 (a name another strategy has) to the language's own.
    let diagnostics = move || validation.with(|v| v.diagnostics.clone());

    // A plain form post that lost the race: once the editor is up, the choice is the live
    // notice's (with Merge); without JavaScript the page's own form offers it.
    let form_conflict = returned.as_ref().and_then(|r| r.conflict.clone());
    let change = form_conflict.as_ref().map(|c| c.change.clone());
    Effect::new(move |_| {
        if let (true, Some(change)) = (enhanced.get(), change.clone()) {
            notice.set(Some(change));
        }
    });

    // The form's own text area, which CodeMirror replaces once it has arrived.
    let plain_text_area = NodeRef::<leptos::html::Textarea>::new();
    let editor_host = NodeRef::<leptos::html::Div>::new();
    let browser = BrowserEditor::mount(
        editor_host,
        plain_text_area,
        EditorSignals {
            id,
            version,
            lock_version,
            text,
            saved,
            format,
            validation,
            checked_text,
            name_taken,
            alert,
            report,
            status_line,
            busy,
            notice,
            pending_notice,
            offered,
            merging,
        },
        enhanced,
        read_only.is_some(),
        autosave_interval_ms,
        live_from,
    );

    let apply = Callback::new(move |edit: crate::language::Edit| browser.apply(edit));

    // Their version into the editor; this window's text is kept as a working copy.
    let take_theirs = Callback::new(move |change: StrategyChange| browser.take_theirs(change));

    let apply_fix = move |fix: crate::language::span::Fix| browser.apply_fix(fix);

    let jump = move |offset: usize| browser.go_to(offset);

    view! {
        <Title text=page_title(&title) />
        <section class="editor-page">
            <header class="page-header">
                <h1>{title}</h1>
                {move || id.get().map(|id| view! { <a class="button" href=format!("/strategies/{id}")>"Strategy page"</a> })}
            </header>
            {read_only.map(|reason| view! { <p class="form-alert" role="alert">{reason}</p> })}
            <form class="editor-form" method="post" action=action>
                <input type="hidden" name="strategy[lock_version]" value=move || lock_version.get().map(|v| v.to_string()).unwrap_or_default() />
                <div class="editor-toolbar" role="toolbar" aria-label="Document actions">
                    <label class="format-field">
                        "Notation "
                        <select name="strategy[format]" on:change=move |event| {
                            if let Some(wanted) = Format::from_name(&event_target_value(&event)) {
                                browser.switch_format(wanted);
                            }
                        }>
                            <option value="yaml" selected=move || format.get() == Format::Yaml>"YAML"</option>
                            <option value="toml" selected=move || format.get() == Format::Toml>"TOML"</option>
                        </select>
                    </label>
                    <button type="submit" name="strategy[action]" value="save" class="primary" disabled=move || busy.get() || read_only.is_some()
                        on:click=move |event| {
                            if enhanced.get_untracked() {
                                event.prevent_default();
                                browser.save(false);
                            }
                        }>"Save"</button>
                    <button type="submit" name="strategy[action]" value="draft" disabled=move || busy.get() || read_only.is_some()
                        on:click=move |event| {
                            if enhanced.get_untracked() {
                                event.prevent_default();
                                browser.save(true);
                            }
                        }>"Save as draft"</button>
                    <button type="submit" name="strategy[action]" value="test"
                        on:click=move |event| {
                            if enhanced.get_untracked() {
                                event.prevent_default();
                                browser.test_syntax();
                            }
                        }>"Test syntax"</button>
                    <button type="reset" disabled=move || read_only.is_some()
                        on:click=move |event| {
                            if enhanced.get_untracked() {
                                event.prevent_default();
                                browser.discard();
                            }
                        }>"Discard changes"</button>
                    <label class="button file-button" hidden=move || !enhanced.get() || read_only.is_some()>
                        "Open a file…"
                        <input type="file" class="visually-hidden" accept=".yaml,.yml,.toml"
                            on:change=move |event| browser.open_chosen_file(event) />
                    </label>
                    {move || (open_here.get() > 1).then(|| {
                        let others = open_here.get() - 1;
                        view! {
                            <p class="presence">{format!(
                                "Also open in {others} other tab{}",
                                if others == 1 { "" } else { "s" }
                            )}</p>
                        }
                    })}
                    <p class="status-line" role="status">{move || status_line.get()}</p>
                </div>
                {move || notice.get().map(|change| view! {
                    <ChangeNotice
                        change
                        mine=version.get_untracked()
                        merge=Callback::new(move |change: StrategyChange| {
                            browser.merge_with(change);
                        })
                        take_theirs
                        keep_mine=Callback::new(move |change: StrategyChange| {
                            // Mine goes on top of theirs on the next save (after seeing the diff).
                            notice.set(None);
                            if change.kind == ChangeKind::Saved {
                                lock_version.set(Some(change.lock_version));
                                version.set(Some(change.version));
                                status_line.set(format!(
                                    "Your text will replace version {} when you save.",
                                    change.version
                                ));
                            }
                        })
                    />
                })}
                {move || merging.get().map(|offer| view! {
                    <MergeView
                        offer
                        format=format.get_untracked()
                        apply=Callback::new(move |merged: String| {
                            if let Some(offer) = merging.get_untracked() {
                                browser.adopt_merge(merged, offer.change, offer.theirs);
                            }
                        })
                        take_theirs
                        cancel=Callback::new(move |_: ()| merging.set(None))
                    />
                })}
                {move || offered.get().map(|copy| {
                    let restore_copy = copy.clone();
                    let (tab, in_this_browser) = (copy.tab_id, copy.in_this_browser);
                    view! {
                        <RestoreOffer
                            copy
                            enhanced
                            on_restore=Callback::new(move |_: ()| {
                                browser.restore(restore_copy.clone());
                            })
                            on_discard=Callback::new(move |_: ()| {
                                offered.set(None);
                                if in_this_browser {
                                    browser.forget_browser_copy();
                                } else {
                                    leptos::task::spawn_local(async move {
                                        let _ = crate::strategies::discard_working_copy(tab).await;
                                    });
                                }
                            })
                        />
                    }
                })}
                {move || alert.get().map(|message| view! { <p class="form-alert" role="alert">{message}</p> })}
                {form_conflict.map(|conflict| view! { <ConflictChoice conflict enhanced /> })}
                <div class="editor-layout">
                    <div class="code-pane">
                        <textarea
                            id="strategy-content"
                            node_ref=plain_text_area
                            name="strategy[content]"
                            aria-label="Strategy document"
                            spellcheck="false"
                            rows="30"
                            readonly=read_only.is_some()
                            hidden=move || enhanced.get()
                        >{initial_text.clone()}</textarea>
                        <div class="code-editor" node_ref=editor_host hidden=move || !enhanced.get()></div>
                        <crate::strategies::views::signal_preview::SignalPreview validation text format />
                    </div>
                    <aside class="editor-side" aria-label="Checks and builder">
                        <div class="side-tabs" role="group" aria-label="Side panel">
                            <button type="button" aria-pressed=move || (side_tab.get() == SideTab::Checks).to_string()
                                on:click=move |_| side_tab.set(SideTab::Checks)>"Checks"</button>
                            <button type="button" aria-pressed=move || (side_tab.get() == SideTab::Builder).to_string()
                                on:click=move |_| side_tab.set(SideTab::Builder)>"Builder"</button>
                        </div>
                        {move || (side_tab.get() == SideTab::Builder).then(|| {
                            let read_only = read_only.is_some();
                            view! {
                                <Suspense fallback=|| view! { <p class="loading">"Opening the builder…"</p> }>
                                    {Suspend::new(async move { crate::strategies::views::builder::builder_panel(strategy, apply, read_only).await })}
                                </Suspense>
                            }
                        })}
                        <div class="checks" hidden=move || side_tab.get() != SideTab::Checks>
                        <section aria-labelledby="sections-heading">
                            <h2 id="sections-heading">"Sections"</h2>
                            <ul class="section-checks">
                                {SECTIONS.iter().map(|(label, hint, _)| {
                                    let count = move || problems_in(&diagnostics(), label);
                                    // A document that was not read at all (too large, not a
                                    // table of fields) has no section to call valid.
                                    let unread = move || count() == 0 && diagnostics().iter().any(|d| matches!(d.code.as_str(), "E002" | "E005"));
                                    view! {
                                        <li class=move || if unread() { "section unread" } else if count() == 0 { "section valid" } else { "section invalid" }>
                                            <span class="section-mark" aria-hidden="true">{move || if unread() { "–" } else if count() == 0 { "✓" } else { "!" }}</span>
                                            <span class="section-name" title=*hint>{*label}</span>
                                            <span class="section-state">{move || match count() {
                                                _ if unread() => "not checked".to_string(),
                                                0 => "valid".to_string(),
                                                1 => "1 problem".to_string(),
                                                n => format!("{n} problems"),
                                            }}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                        <section aria-labelledby="problems-heading">
                            <h2 id="problems-heading">"Problems"</h2>
                            {move || {
                                let list = diagnostics();
                                if list.is_empty() {
                                    return view! { <p class="all-clear">"No problems: the document is valid."</p> }.into_any();
                                }
                                view! {
                                    <ul class="problems" aria-label="Problems">
                                        {list.into_iter().map(|d| {
                                            let offset = d.span.start;
                                            let position = format!("{}:{}", d.span.line, d.span.column);
                                            let fixes = d.fixes.clone();
                                            view! {
                                                <li class=format!("problem severity-{}", d.severity.label())>
                                                    <button type="button" class="problem-button" on:click=move |_| jump(offset)>
                                                        <span class="position">{position.clone()}</span>
                                                        " "
                                                        <span class="severity">{d.severity.label()}</span>
                                                        " "
                                                        <span class="message">{d.message}</span>
                                                        " "
                                                        <code class="diagnostic-code">{d.code}</code>
                                                    </button>
                                                    {fixes.into_iter().map(|fix| {
                                                        let label = fix.label.clone();
                                                        view! {
                                                            <button type="button" class="fix-button" aria-label=format!("{label} (at {position})")
                                                                disabled=move || !enhanced.get() || read_only.is_some()
                                                                on:click=move |_| apply_fix(fix.clone())>{fix.label.clone()}</button>
                                                        }
                                                    }).collect_view()}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                        {move || report.get().map(|report| view! { <SyntaxPanel report /> })}
                        </div>
                    </aside>
                </div>
            </form>
        </section>
    }
}
