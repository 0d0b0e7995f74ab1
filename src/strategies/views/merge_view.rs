//! The conflict view: a change saved elsewhere overlaps this editor's text. Changes on other
//! lines are already merged; for each overlap the trader sees the lines before, theirs and
//! mine, and picks Theirs, Mine or edits the lines by hand. The merged document is checked by
//! the one validator as the choices are made, then goes into the editor, to be saved on top
//! of their version.

use leptos::prelude::*;

use crate::{
    language::{validate, Format, Severity},
    strategies::{
        merge::{assemble, overlaps, MergeChunk, Overlap},
        StrategyChange,
    },
};

/// What the conflict view works from: the change saved elsewhere, its text, and the text cut
/// into settled chunks and overlaps.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeOffer {
    pub change: StrategyChange,
    /// The version this editor started from.
    pub base_version: i32,
    pub theirs: String,
    pub chunks: Vec<MergeChunk>,
}

/// How one overlap was resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Choice {
    Theirs,
    Mine,
    ByHand,
}

/// One overlap's resolution: the choice made (none yet) and the lines it gives.
#[derive(Clone, Copy)]
struct Resolution {
    choice: RwSignal<Option<Choice>>,
    lines: RwSignal<String>,
}

#[component]
pub fn MergeView(
    offer: MergeOffer,
    format: Format,
    /// The merged text, once every overlap is resolved.
    apply: Callback<String>,
    take_theirs: Callback<StrategyChange>,
    cancel: Callback<()>,
) -> impl IntoView {
    let total = overlaps(&offer.chunks);
    let resolutions: Vec<Resolution> = (0..total)
        .map(|_| Resolution {
            choice: RwSignal::new(None),
            lines: RwSignal::new(String::new()),
        })
        .collect();
    let resolutions = StoredValue::new(resolutions);
    let resolution = move |n: usize| resolutions.with_value(|all| all[n]);
    let decided = move || {
        resolutions.with_value(|all| all.iter().filter(|r| r.choice.get().is_some()).count())
    };
    let chunks = StoredValue::new(offer.chunks.clone());
    let merged = Memo::new(move |_| {
        chunks.with_value(|chunks| assemble(chunks, |n, _| resolution(n).lines.get()))
    });
    let check = move || {
        let validation = validate(&merged.get(), format);
        let errors: Vec<_> = validation
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        match errors.first() {
            None => "The merged document is valid.".to_string(),
            Some(first) => format!(
                "The merged document has {} error{}; the first, at line {}: {}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                first.span.line,
                first.message
            ),
        }
    };
    let theirs_version = offer.change.version;
    let overlaps: Vec<(usize, Overlap)> = offer
        .chunks
        .iter()
        .filter_map(|chunk| match chunk {
            MergeChunk::Overlap(overlap) => Some(overlap.clone()),
            MergeChunk::Settled(_) => None,
        })
        .enumerate()
        .collect();
    let change = offer.change.clone();
    view! {
        <section class="merge-view" role="region" aria-label="Merge the changes">
            <h2>{format!("Merge with version {theirs_version}")}</h2>
            <p>{format!(
                "Changes on different lines are merged by themselves. Both windows changed the same lines in {total} place{}: for each, take theirs, keep yours, or edit the lines.",
                if total == 1 { "" } else { "s" }
            )}</p>
            {overlaps.into_iter().map(|(n, overlap)| {
                let Resolution { choice, lines } = resolution(n);
                let pick = move |wanted: Choice, text: String| {
                    choice.set(Some(wanted));
                    lines.set(text);
                };
                let (theirs, mine) = (overlap.theirs.clone(), overlap.mine.clone());
                let side = |text: String| if text.is_empty() {
                    view! { <pre class="document"><em>"(lines removed)"</em></pre> }.into_any()
                } else {
                    view! { <pre class="document">{text}</pre> }.into_any()
                };
                view! {
                    <div class="merge-overlap" role="group" aria-label=format!("Change {} of {total}", n + 1)>
                        <h3>{format!("Change {} of {total}", n + 1)}</h3>
                        <div class="merge-sides">
                            <figure><figcaption>{format!("Before (version {})", offer.base_version)}</figcaption>{side(overlap.base.clone())}</figure>
                            <figure><figcaption>{format!("Theirs (version {theirs_version})")}</figcaption>{side(overlap.theirs.clone())}</figure>
                            <figure><figcaption>"Mine"</figcaption>{side(overlap.mine.clone())}</figure>
                        </div>
                        <div class="merge-choice">
                            <button type="button" aria-pressed=move || (choice.get() == Some(Choice::Theirs)).to_string()
                                on:click=move |_| pick(Choice::Theirs, theirs.clone())>"Theirs"</button>
                            <button type="button" aria-pressed=move || (choice.get() == Some(Choice::Mine)).to_string()
                                on:click=move |_| pick(Choice::Mine, mine.clone())>"Mine"</button>
                            <label>
                                "Merged lines"
                                <textarea rows="4" spellcheck="false" placeholder="Choose Theirs or Mine, or write the lines"
                                    prop:value=move || lines.get()
                                    on:input=move |event| pick(Choice::ByHand, event_target_value(&event))></textarea>
                            </label>
                        </div>
                    </div>
                }
            }).collect_view()}
            <p class="merge-check">{move || if decided() < total {
                format!("{} of {total} decided.", decided())
            } else {
                check()
            }}</p>
            <div class="change-notice-actions">
                <button type="button" class="primary" disabled=move || decided() < total
                    on:click=move |_| apply.run(merged.get_untracked())>"Use the merged text"</button>
                <button type="button" on:click=move |_| take_theirs.run(change.clone())>"Take theirs"</button>
                <button type="button" on:click=move |_| cancel.run(())>"Cancel"</button>
            </div>
        </section>
    }
}
