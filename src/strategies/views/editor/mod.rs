//! `/strategies/new` and `/strategies/:id/edit`: the editor. The server renders a working
//! form (the document in a `<textarea name="strategy[content]">`, its format, Save, Save as
//! draft and Test syntax), with the document's problems listed by line, so the page works
//! without JavaScript. Hydration upgrades the textarea to CodeMirror: every keystroke is
//! checked by the server (replies are numbered, a late reply for older text is dropped),
//! diagnostics are underlined at their spans, the problems list moves the cursor, sections
//! show a check when valid, and saving happens in place.
//!
//! By concern: the pages and the template picker (here), the island with its state and view
//! (`island.rs`), the side panel's checks and syntax test (`panels.rs`), the notices of a
//! change elsewhere, a form conflict and a working copy to restore (`notices.rs`), and the
//! browser side behind one handle that exists in both builds (`browser_editor/`).

mod browser_editor;
mod island;
mod notices;
mod panels;

use leptos::prelude::*;
use leptos_meta::{Link, Title};
use leptos_router::hooks::use_query_map;

use crate::{
    language::Format,
    strategies::{
        open_editor,
        templates::{Template, TEMPLATES},
        views::{set_error_status, strategy_id_param, strategy_resource, ErrorMessage},
    },
    web::islands::page_title,
};

use island::Editor;

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
                >{notation.name().to_ascii_uppercase()}</a>
            }).collect_view()}
        </nav>
    }
}
