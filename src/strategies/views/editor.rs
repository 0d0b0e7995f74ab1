//! `/strategies/new` and `/strategies/:id/edit`: the editor. The server renders a working
//! form (the document in a `<textarea name="strategy[content]">`, its format, Save, Save as
//! draft and Test syntax), with the document's problems listed by line, so the page works
//! without JavaScript. Hydration upgrades the textarea to CodeMirror: every keystroke is
//! checked by the server (replies are numbered, a late reply for older text is dropped),
//! diagnostics are underlined at their spans, the problems list moves the cursor, sections
//! show a check when valid, and saving happens in place.

use leptos::prelude::*;
use leptos_meta::{Link, Title};

use crate::web::islands::{enter_island, page_title};
use leptos_router::hooks::use_query_map;

use super::{
    details::condition_label,
    live::listen_with_presence,
    merge_view::{MergeOffer, MergeView},
    set_error_status, strategy_id_param, strategy_resource, ErrorMessage,
};
use crate::{
    language::{syntax_test::SyntaxReport, validate, Diagnostic, Format, Severity},
    strategies::{
        open_editor,
        templates::{Template, TEMPLATES},
        ChangeKind, EditorStart, ReturnedDraft, StrategyChange, StrategyStatus,
    },
};

#[component]
pub fn NewStrategyPage() -> impl IntoView {
    let query = use_query_map();
    let start = Resource::new(|| (), |_| open_editor(None));
    view! {
        <Title text=page_title("New strategy") />
        <FetchCodeMirrorEarly />
        <Suspense fallback=|| view! { <p class="loading">"Opening the editor…"</p> }>
            {move || Suspend::new(async move {
                let (template, format) = {
                    let query = query.read_untracked();
                    let template = query.get("template").and_then(|key| Template::find(&key)).unwrap_or(&TEMPLATES[0]);
                    let format = match query.get("format").as_deref() {
                        Some("toml") => Format::Toml,
                        _ => Format::Yaml,
                    };
                    (template, format)
                };
                match start.await {
                    Ok(start) => view! {
                        <TemplatePicker current=template.key format />
                        <Editor start template_text=template.text(format).to_string() format />
                    }.into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn EditStrategyPage() -> impl IntoView {
    let start = strategy_resource(strategy_id_param(), |id| open_editor(Some(id)));
    view! {
        <FetchCodeMirrorEarly />
        <Suspense fallback=|| view! { <p class="loading">"Opening the editor…"</p> }>
            {move || Suspend::new(async move {
                match start.await {
                    Ok(start) => {
                        let format = start.document.as_ref().map_or(Format::Yaml, |d| d.format);
                        view! { <Editor start template_text=String::new() format /> }.into_any()
                    }
                    Err(error) => {
                        set_error_status(&error);
                        view! { <ErrorMessage error /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Asks the browser for CodeMirror as the page's head arrives, instead of once the app's
/// JavaScript has run (`/editor/loader.js` would fetch it then): the editor's first load waits
/// for the WASM and CodeMirror side by side.
#[component]
fn FetchCodeMirrorEarly() -> impl IntoView {
    view! { <Link rel="modulepreload" href="/editor/codemirror.js" /> }
}

/// The templates a new strategy can start from, as links (they work without JavaScript).
#[component]
fn TemplatePicker(current: &'static str, format: Format) -> impl IntoView {
    view! {
        <nav class="template-picker" aria-label="Start from a template">
            <span>"Start from:"</span>
            {TEMPLATES.iter().map(|template| view! {
                <a
                    href=format!("/strategies/new?template={}&format={}", template.key, format.name())
                    aria-current=(template.key == current).then_some("page")
                    title=template.summary
                    rel="external"
                >{template.title}</a>
            }).collect_view()}
            <span class="separator" aria-hidden="true">"·"</span>
            <span>"Notation:"</span>
            {[Format::Yaml, Format::Toml].into_iter().map(|notation| view! {
                <a
                    href=format!("/strategies/new?template={current}&format={}", notation.name())
                    aria-current=(notation == format).then_some("page")
                    rel="external"
                >{notation.name().to_uppercase()}</a>
            }).collect_view()}
        </nav>
    }
}

/// What the side panel shows: the checks (sections, problems, syntax test) or the builder.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SideTab {
    Checks,
    Builder,
}

/// The sections of a document that show a check when valid: (label, hint, the top-level
/// fields they cover). Basics covers every other field, and problems about the document as a
/// whole (a syntax error, an unknown field).
const SECTIONS: [(&str, &str, &[&str]); 7] = [
    ("Basics", "name, pair, timeframe", &[]),
    (
        "Indicators",
        "what is computed from prices",
        &["indicators"],
    ),
    ("Entry", "when to buy", &["entry_conditions"]),
    ("Exit", "when to sell", &["exit_conditions"]),
    ("Stops", "when to get out early", &["stop_conditions"]),
    ("Sizing", "how much to buy", &["position_sizing"]),
    ("Risk", "limits on losses", &["risk_parameters"]),
];

/// The label of the section a diagnostic path belongs to.
fn section_of(path: &str) -> &'static str {
    let root = path.split(['.', '[']).next().unwrap_or("");
    SECTIONS
        .iter()
        .find(|(_, _, fields)| fields.contains(&root))
        .map_or(SECTIONS[0].0, |(label, _, _)| label)
}

/// The problems (not notes) in the section labelled `section`.
fn problems_in(diagnostics: &[Diagnostic], section: &str) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info && section_of(&d.path) == section)
        .count()
}

/// Where the `name` field is written, for a name clash found by the server.
fn name_line(text: &str) -> u32 {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.starts_with("name:") || line.starts_with("name =") || line.starts_with("name=")
        })
        .map_or(1, |index| index as u32 + 1)
}

/// The editor, hydrated as one island: everything on the page that acts in the browser. The
/// one island that is not lazy: its code is the main WASM module, one file compressed as a
/// whole and cached across pages, where as split pieces it was 162 KB more on the wire and
/// half a second slower to use (BENCHMARKS.md, "Islands, shipped").
#[island]
fn Editor(start: EditorStart, template_text: String, format: Format) -> impl IntoView {
    enter_island();
    let EditorStart {
        document,
        returned,
        working_copy,
        autosave_interval_ms,
        syntax_report,
    } = start;
    // Text an earlier autosave kept and nobody saved: offered to restore or discard.
    let offered = RwSignal::new(working_copy);
    let returned_format = returned.as_ref().map(ReturnedDraft::notation);
    let initial_format = returned_format.unwrap_or(format);
    let saved_text = document
        .as_ref()
        .map(|d| d.content.clone())
        .unwrap_or(template_text);
    let initial_text = returned
        .as_ref()
        .map(|r| r.content.clone())
        .unwrap_or_else(|| saved_text.clone());
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
    let diagnostics = move || {
        let mut list = validation.with(|v| v.diagnostics.clone());
        if name_taken.get() {
            let line = checked_text.with(|t| name_line(t));
            list.insert(
                0,
                Diagnostic {
                    code: "E050".into(),
                    severity: Severity::Error,
                    message: "You already have a strategy with this name; choose another.".into(),
                    path: "name".into(),
                    span: crate::language::Span {
                        line,
                        column: 1,
                        end_line: line,
                        end_column: 1,
                        ..Default::default()
                    },
                    fixes: Vec::new(),
                },
            );
        }
        list
    };

    // A plain form post that lost the race: once the editor is up, the choice is the live
    // notice's (with Merge); without JavaScript the page's own form offers it.
    let form_conflict = returned.as_ref().and_then(|r| r.conflict.clone());
    #[cfg(feature = "hydrate")]
    {
        let change = form_conflict.as_ref().map(|c| c.change.clone());
        Effect::new(move |_| {
            if let (true, Some(change)) = (enhanced.get(), change.clone()) {
                notice.set(Some(change));
            }
        });
    }

    #[cfg(not(feature = "hydrate"))]
    let _ = (
        version,
        text,
        saved,
        busy,
        pending_notice,
        autosave_interval_ms,
    );
    // The form's own text area, which CodeMirror replaces once it has arrived.
    let plain_text_area = NodeRef::<leptos::html::Textarea>::new();
    #[cfg(feature = "hydrate")]
    let editor_host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    let code_editor = hydrate_only::mount(
        editor_host,
        plain_text_area,
        hydrate_only::EditorSignals {
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
    );

    let apply = Callback::new(move |edit: crate::language::Edit| {
        #[cfg(feature = "hydrate")]
        code_editor.apply(edit);
        #[cfg(not(feature = "hydrate"))]
        let _ = edit;
    });

    // Their version into the editor; this window's text is kept as a working copy.
    let take_theirs = Callback::new(move |change: StrategyChange| {
        #[cfg(feature = "hydrate")]
        code_editor.take_theirs(change);
        #[cfg(not(feature = "hydrate"))]
        let _ = change;
    });

    let apply_fix = move |fix: crate::language::span::Fix| {
        #[cfg(feature = "hydrate")]
        code_editor.apply_fix(fix);
        #[cfg(not(feature = "hydrate"))]
        let _ = fix;
    };

    let jump = move |offset: usize| {
        #[cfg(feature = "hydrate")]
        code_editor.go_to(offset);
        #[cfg(not(feature = "hydrate"))]
        let _ = offset;
    };

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
                            let wanted = if event_target_value(&event) == "toml" { Format::Toml } else { Format::Yaml };
                            #[cfg(feature = "hydrate")]
                            code_editor.switch_format(wanted);
                            #[cfg(not(feature = "hydrate"))]
                            let _ = wanted;
                        }>
                            <option value="yaml" selected=move || format.get() == Format::Yaml>"YAML"</option>
                            <option value="toml" selected=move || format.get() == Format::Toml>"TOML"</option>
                        </select>
                    </label>
                    <button type="submit" name="strategy[action]" value="save" class="primary" disabled=move || busy.get() || read_only.is_some()
                        on:click=move |event| {
                            #[cfg(feature = "hydrate")]
                            if enhanced.get_untracked() {
                                event.prevent_default();
                                code_editor.save(false);
                            }
                            #[cfg(not(feature = "hydrate"))]
                            let _ = event;
                        }>"Save"</button>
                    <button type="submit" name="strategy[action]" value="draft" disabled=move || busy.get() || read_only.is_some()
                        on:click=move |event| {
                            #[cfg(feature = "hydrate")]
                            if enhanced.get_untracked() {
                                event.prevent_default();
                                code_editor.save(true);
                            }
                            #[cfg(not(feature = "hydrate"))]
                            let _ = event;
                        }>"Save as draft"</button>
                    <button type="submit" name="strategy[action]" value="test"
                        on:click=move |event| {
                            #[cfg(feature = "hydrate")]
                            if enhanced.get_untracked() {
                                event.prevent_default();
                                code_editor.test_syntax();
                            }
                            #[cfg(not(feature = "hydrate"))]
                            let _ = event;
                        }>"Test syntax"</button>
                    <button type="reset" disabled=move || read_only.is_some()
                        on:click=move |event| {
                            #[cfg(feature = "hydrate")]
                            if enhanced.get_untracked() {
                                event.prevent_default();
                                code_editor.discard();
                            }
                            #[cfg(not(feature = "hydrate"))]
                            let _ = event;
                        }>"Discard changes"</button>
                    <label class="button file-button" hidden=move || !enhanced.get() || read_only.is_some()>
                        "Open a file…"
                        <input type="file" class="visually-hidden" accept=".yaml,.yml,.toml"
                            on:change=move |event| {
                                #[cfg(feature = "hydrate")]
                                {
                                    use leptos::wasm_bindgen::JsCast;
                                    let input = event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
                                    if let Some(file) = input.as_ref().and_then(|i| i.files()).and_then(|files| files.get(0)) {
                                        code_editor.open_file(file);
                                    }
                                    if let Some(input) = input {
                                        input.set_value("");
                                    }
                                }
                                #[cfg(not(feature = "hydrate"))]
                                let _ = event;
                            } />
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
                            #[cfg(feature = "hydrate")]
                            code_editor.merge_with(change);
                            #[cfg(not(feature = "hydrate"))]
                            let _ = change;
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
                            #[cfg(feature = "hydrate")]
                            if let Some(offer) = merging.get_untracked() {
                                code_editor.adopt_merge(merged, offer.change, offer.theirs);
                            }
                            #[cfg(not(feature = "hydrate"))]
                            let _ = merged;
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
                                #[cfg(feature = "hydrate")]
                                code_editor.restore(restore_copy.clone());
                                #[cfg(not(feature = "hydrate"))]
                                let _ = &restore_copy;
                            })
                            on_discard=Callback::new(move |_: ()| {
                                offered.set(None);
                                if in_this_browser {
                                    #[cfg(feature = "hydrate")]
                                    code_editor.forget_browser_copy();
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
                        {
                            #[cfg(feature = "hydrate")]
                            { view! { <div class="code-editor" node_ref=editor_host hidden=move || !enhanced.get()></div> } }
                            #[cfg(not(feature = "hydrate"))]
                            { view! { <div class="code-editor" hidden=true></div> } }
                        }
                        <super::signal_preview::SignalPreview validation text format />
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
                                    {Suspend::new(async move { super::builder::builder_panel(strategy, apply, read_only).await })}
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

/// "Unsaved changes from 12:03 were kept": an autosaved working copy nobody saved, with its
/// changes, to restore or to discard.
#[component]
fn RestoreOffer(
    copy: crate::strategies::WorkingCopy,
    enhanced: RwSignal<bool>,
    on_restore: Callback<()>,
    on_discard: Callback<()>,
) -> impl IntoView {
    use crate::strategies::LineChange;
    let added = copy
        .changes
        .iter()
        .filter(|r| r.change == LineChange::Added)
        .count();
    let removed = copy
        .changes
        .iter()
        .filter(|r| r.change == LineChange::Removed)
        .count();
    let lines = changed_lines(&copy.changes);
    view! {
        <div class="restore-offer" role="region" aria-label="Unsaved changes">
            <p>{format!(
                "Unsaved changes from {} were kept{} ({added} line{} added, {removed} removed). Restore them, or discard them to keep the saved text.",
                local_time(copy.saved_at),
                if copy.in_this_browser { " in this browser: the server never got them" } else { "" },
                if added == 1 { "" } else { "s" },
            )}</p>
            <details>
                <summary>"Show the changes"</summary>
                <pre class="document"><code>{lines}</code></pre>
            </details>
            // Without JavaScript both buttons post the form (the server restores or discards).
            <input type="hidden" name="strategy[working_copy_tab]" value=copy.tab_id.to_string() />
            <div class="change-notice-actions">
                <button type="submit" name="strategy[action]" value="restore_working_copy" class="primary"
                    on:click=move |event| {
                        if enhanced.get_untracked() {
                            event.prevent_default();
                            on_restore.run(());
                        }
                    }>"Restore them"</button>
                <button type="submit" name="strategy[action]" value="discard_working_copy"
                    on:click=move |event| {
                        if enhanced.get_untracked() {
                            event.prevent_default();
                            on_discard.run(());
                        }
                    }>"Discard them"</button>
            </div>
        </div>
    }
}

/// The lines one text changed against another, `+ added` and `- removed`.
fn changed_lines(rows: &[crate::strategies::DiffRow]) -> String {
    use crate::strategies::LineChange;
    rows.iter()
        .filter(|r| r.change != LineChange::Same)
        .map(|r| {
            let mark = if r.change == LineChange::Added {
                '+'
            } else {
                '-'
            };
            format!("{mark} {}\n", r.text)
        })
        .collect()
}

/// A plain form post lost the race to another window: the text is back in the form, and both
/// choices submit it (works without JavaScript). Keep mine saves it on top of their version;
/// Take theirs keeps it as a working copy and opens theirs.
#[component]
fn ConflictChoice(
    conflict: crate::strategies::FormConflict,
    enhanced: RwSignal<bool>,
) -> impl IntoView {
    let version = conflict.change.version;
    view! {
        <div class="change-notice" role="region" aria-label="Changed in another window" hidden=move || enhanced.get()>
            <p>{format!(
                "Version {version} was saved in another window meanwhile. Your text is below, not saved: keep yours (it replaces version {version}), or take theirs (yours is kept as a working copy)."
            )}</p>
            <details open>
                <summary>{format!("Your text against version {version}")}</summary>
                <pre class="document"><code>{changed_lines(&conflict.changes)}</code></pre>
            </details>
            <input type="hidden" name="strategy[theirs_lock_version]" value=conflict.change.lock_version.to_string() />
            <input type="hidden" name="strategy[keep_as_draft]" value=conflict.draft.to_string() />
            <div class="change-notice-actions">
                <button type="submit" name="strategy[action]" value="keep_mine" class="primary">"Keep mine"</button>
                <button type="submit" name="strategy[action]" value="take_theirs">"Take theirs"</button>
            </div>
        </div>
    }
}

/// "Changed in another window at 12:04 (version 7)", with what the trader can do about it.
#[component]
fn ChangeNotice(
    change: StrategyChange,
    mine: Option<i32>,
    merge: Callback<StrategyChange>,
    take_theirs: Callback<StrategyChange>,
    keep_mine: Callback<StrategyChange>,
) -> impl IntoView {
    let kept = change.clone();
    let merged = change.clone();
    let taken = change.clone();
    let at = local_time(change.at);
    let message = match change.kind {
        ChangeKind::Deleted => format!("This strategy was deleted in another window at {at}."),
        ChangeKind::StatusChanged => format!(
            "Changed in another window at {at}: the strategy is now {}.",
            change.status.label().to_lowercase()
        ),
        ChangeKind::Saved => format!(
            "Changed in another window at {at} (version {}).",
            change.version
        ),
    };
    let compare = format!(
        "/strategies/{}/versions?from={}&to={}",
        change.strategy_id,
        mine.unwrap_or(change.version),
        change.version
    );
    view! {
        <div class="change-notice" role="alert">
            <p>{message}</p>
            <div class="change-notice-actions">
                {(change.kind == ChangeKind::Saved).then(|| view! {
                    <a class="button" href=compare target="_blank" rel="external">"View changes"</a>
                    <button type="button" class="primary" title="Combine their changes with yours where they do not overlap"
                        on:click=move |_| merge.run(merged.clone())>"Merge"</button>
                    <button type="button" title="Load their version; your text is kept as a working copy to restore"
                        on:click=move |_| take_theirs.run(taken.clone())>"Take theirs"</button>
                })}
                <button type="button" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    let _ = window().location().reload();
                }>"Reload"</button>
                <button type="button" on:click=move |_| keep_mine.run(kept.clone())>"Keep mine"</button>
            </div>
        </div>
    }
}

/// A moment in the browser's own time zone, `12:04`.
fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&leptos::wasm_bindgen::JsValue::from_f64(
            at.timestamp_millis() as f64,
        ));
        format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
    }
    #[cfg(not(feature = "hydrate"))]
    at.format("%H:%M UTC").to_string()
}

#[component]
fn SyntaxPanel(report: SyntaxReport) -> impl IntoView {
    let warnings: Vec<Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .cloned()
        .collect();
    view! {
        <section class="syntax-report" aria-labelledby="syntax-heading">
            <h2 id="syntax-heading">"Syntax test"</h2>
            {match report.summary {
                Some(summary) => view! {
                    <p>{format!("{} on {} {}; {} bars of warm-up.", summary.name, summary.trading_pair, summary.timeframe.unwrap_or_default(), summary.warm_up_bars)}</p>
                    <ul>
                        {summary.indicators.into_iter().map(|i| view! { <li><code>{i.name}</code>{format!(" {} ({})", i.title, i.parameters.join(", "))}</li> }).collect_view()}
                    </ul>
                    <dl>
                        {summary.conditions.into_iter().map(|c| view! { <dt>{condition_label(&c.field)}</dt><dd><code>{c.canonical}</code></dd> }).collect_view()}
                    </dl>
                }.into_any(),
                None => view! { <p>"The document cannot be read as a strategy yet."</p> }.into_any(),
            }}
            {if warnings.is_empty() {
                view! { <p class="all-clear">"No logic problems found."</p> }.into_any()
            } else {
                view! {
                    <ul class="logic-warnings">
                        {warnings.into_iter().map(|d| view! { <li>{format!("{}:{} {}", d.span.line, d.span.column, d.message)}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// What only the browser does: the code editor, checks on every keystroke, saving in place.
#[cfg(feature = "hydrate")]
mod hydrate_only {
    use leptos::{prelude::*, task::spawn_local};
    use uuid::Uuid;

    use super::super::code_editor::{Callbacks, CodeEditor};
    use crate::web::islands::hydrated_later;
    use crate::{
        error::AppError,
        language::{
            apply_edit,
            syntax_test::{syntax_test, SyntaxReport},
            validate, write_document, Edit, EditError, Format, Validation,
        },
        strategies::{
            autosave_strategy, check_strategy, discard_working_copy,
            merge::{assemble, diff_rows, merge_chunks, overlaps, MergeChunk},
            save_strategy, strategy_version, DiffRow, StrategyChange, WorkingCopy,
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
    fn apply_edit_on_demand(
        content: String,
        format: Format,
        edit: Edit,
    ) -> Result<String, EditError> {
        apply_edit(&content, format, &edit)
    }

    #[lazy]
    fn syntax_test_on_demand(text: String, format: Format) -> SyntaxReport {
        syntax_test(&text, format)
    }

    /// The editor page's state that the browser side reads and writes.
    #[derive(Clone, Copy)]
    pub struct EditorSignals {
        pub id: RwSignal<Option<Uuid>>,
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
        pub merging: RwSignal<Option<super::MergeOffer>>,
    }

    /// The code editor (once created after hydration) and the page's state.
    #[derive(Clone, Copy)]
    pub struct Workbench {
        editor: StoredValue<Option<CodeEditor>, LocalStorage>,
        signals: EditorSignals,
        /// The number of the newest check sent: a reply to an older one is dropped.
        latest_check: StoredValue<u64>,
        /// The document name the server last answered "taken or not" for.
        server_checked_name: StoredValue<Option<String>>,
        autosave: StoredValue<Autosave, LocalStorage>,
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

    pub fn mount(
        host: NodeRef<leptos::html::Div>,
        plain_text_area: NodeRef<leptos::html::Textarea>,
        signals: EditorSignals,
        enhanced: RwSignal<bool>,
        read_only: bool,
        autosave_interval_ms: u64,
    ) -> Workbench {
        let workbench = Workbench {
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
        };
        // The page is ready for the trader once the code editor is (CodeMirror arrives beside
        // the WASM, from `/editor/loader.js`); until then the text area works as it is.
        let mut ready = Some(hydrated_later());
        Effect::new(move |_| {
            let Some(element) = host.get() else { return };
            let Some(ready) = ready.take() else { return };
            let nonce = use_context::<leptos::nonce::Nonce>().map(|n| n.to_string());
            let arriving = CodeEditor::new(
                &element,
                &signals.text.get_untracked(),
                signals.format.get_untracked(),
                nonce,
                read_only,
                Callbacks {
                    on_change: Box::new(move |content: String| workbench.changed(content)),
                    on_save: Box::new(move || workbench.save(false)),
                    on_test: Box::new(move || workbench.test_syntax()),
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
                workbench.editor.set_value(Some(editor));
                enhanced.set(true);
                if let Some(typed) = typed {
                    workbench.changed(typed);
                }
                workbench.warn_before_leaving();
                workbench.resume_when_back_online();
                workbench.offer_browser_copy();
            });
        });
        // Every new validation is drawn in the editor, against the text it was made for.
        Effect::new(move |_| {
            let diagnostics = signals.validation.with(|v| v.diagnostics.clone());
            let checked = signals.checked_text.get();
            if enhanced.get() {
                workbench.editor.with_value(|editor| {
                    if let Some(editor) = editor {
                        editor.show_diagnostics(&checked, &diagnostics);
                    }
                });
            }
        });
        workbench
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
    /// How soon an autosave that could not reach the server is tried again.
    const RETRY: std::time::Duration = std::time::Duration::from_secs(5);

    fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    fn local_key(id: Option<Uuid>) -> String {
        format!(
            "trading-strategy:working-copy:{}",
            id.map_or_else(|| "new".to_string(), |id| id.to_string())
        )
    }

    impl Workbench {
        fn changed(self, content: String) {
            let signals = self.signals;
            signals.text.set(content.clone());
            let dirty = signals.saved.with_untracked(|saved| *saved != content);
            signals.status_line.set(if dirty {
                "Unsaved changes.".into()
            } else {
                saved_line(signals.version.get_untracked())
            });
            self.check(content);
            self.schedule_autosave(PAUSE);
        }

        /// Stores the working copy after a pause, or at once when edits have waited longer
        /// than the autosave interval.
        fn schedule_autosave(self, pause: std::time::Duration) {
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

        fn autosave_now(self) {
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
        fn offer_browser_copy(self) {
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
            self.editor.with_value(|editor| {
                if let Some(editor) = editor {
                    editor.set_format(copy.format);
                    editor.replace_text(&copy.content);
                }
            });
            signals.validation.set(validate(&copy.content, copy.format));
            signals.checked_text.set(copy.content.clone());
            self.changed(copy.content);
            // A copy only this browser kept reaches the server with this tab's next autosave.
            if !copy.in_this_browser {
                let tab = copy.tab_id;
                spawn_local(async move {
                    let _ = discard_working_copy(tab).await;
                });
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

        /// Asks the browser to confirm leaving while the text differs from the saved version.
        fn warn_before_leaving(self) {
            let handle = window_event_listener(leptos::ev::beforeunload, move |event| {
                if self.signals.text.with_untracked(|text| self.unstored(text)) {
                    event.prevent_default();
                    event.set_return_value("You have unsaved changes.");
                }
            });
            on_cleanup(move || handle.remove());
        }

        /// Whether `text` is not on the server at all: neither committed nor autosaved.
        fn unstored(self, text: &str) -> bool {
            self.signals
                .saved
                .with_untracked(|saved| saved.as_str() != text)
                && self.autosave.with_value(|autosave| autosave.stored != text)
        }

        /// When the browser says the connection is back, checks the text the server has not
        /// checked and stores what it has not stored, at once rather than at the next retry.
        fn resume_when_back_online(self) {
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
            spawn_local(async move {
                let tab_id = self.autosave.with_value(|autosave| autosave.tab_id);
                let outcome = save_strategy(
                    signals.id.get_untracked(),
                    content.clone(),
                    signals.format.get_untracked(),
                    signals.lock_version.get_untracked(),
                    draft,
                    Some(tab_id),
                )
                .await;
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
                        "The text changed while the builder was making its change: try again."
                            .into(),
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
                let chunks =
                    merge_chunks_on_demand(base.content, mine, theirs.content.clone()).await;
                if overlaps(&chunks) == 0 {
                    let merged = assemble(&chunks, |_, _| String::new());
                    self.adopt_merge(merged, change, theirs.content);
                    return;
                }
                signals.alert.set(None);
                signals.merging.set(Some(super::MergeOffer {
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
                            changes: diff_rows_on_demand(theirs.content.clone(), mine.clone())
                                .await,
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
                    "The document changed since it was checked; wait a moment and try the fix again.".into(),
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

        /// A document from a file on the user's machine, checked like typed text (its notation
        /// from its name); one undoable step, saved only when the user saves.
        pub fn open_file(self, file: web_sys::File) {
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
                        editor.set_format(format);
                        editor.replace_text(&text);
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
            self.editor.with_value(|editor| {
                if let Some(editor) = editor {
                    editor.set_format(wanted);
                    editor.replace_text(&converted);
                }
            });
            signals.alert.set(None);
            self.changed(converted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basics(text: &str) -> usize {
        problems_in(&validate(text, Format::Yaml).diagnostics, "Basics")
    }

    #[test]
    fn a_problem_outside_every_section_counts_under_basics() {
        let template = TEMPLATES[0].text(Format::Yaml);
        assert_eq!(basics(template), 0);
        let misspelt = format!("{template}entry_condition: \"close > 1\"\n");
        assert_eq!(basics(&misspelt), 1);
        let indicators = problems_in(&validate(&misspelt, Format::Yaml).diagnostics, "Indicators");
        assert_eq!(indicators, 0);
    }

    #[test]
    fn a_name_clash_points_at_the_name_line() {
        assert_eq!(name_line("# comment\nname: \"X\"\n"), 2);
        assert_eq!(name_line("description = \"d\"\nname = \"X\"\n"), 2);
    }
}
