//! What the editor tells a trader about other windows and earlier sessions: a change saved
//! elsewhere (merge, take theirs, keep mine), a plain form post that lost the race, and a
//! working copy nobody saved, to restore or discard.

use leptos::prelude::*;

use crate::strategies::{ChangeKind, StrategyChange};

/// "Unsaved changes from 12:03 were kept": an autosaved working copy nobody saved, with its
#[component]
pub(super) fn RestoreOffer(
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
pub(super) fn ConflictChoice(
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
pub(super) fn ChangeNotice(
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
            change.status.label().to_ascii_lowercase()
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
