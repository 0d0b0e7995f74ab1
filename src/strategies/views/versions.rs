//! `/strategies/:id/versions`: every version with its author and time; any two compared side
//! by side and as a list of changes in trading terms; any old version restored as the newest.
//! `/strategies/:id/versions/:n`: one version's text.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{format_time, set_error_status, strategy_id_param, strategy_resource, ErrorMessage};
use crate::{
    error::AppError,
    strategies::{
        compare_versions, load_overview, strategy_version, LineChange, RestoreVersion,
        StrategyOverview, VersionComparison,
    },
    web::{
        forms::{form_action, FormAlert},
        islands::{page_title, route_param},
    },
};

/// The versions with the comparison of two and the restore forms. Rendered by the server only:
/// the comparison is a plain GET form and Restore a plain post, so the page needs no WASM.
#[component]
pub fn VersionsPage() -> impl IntoView {
    let overview = strategy_resource(strategy_id_param(), load_overview);
    let picked = use_query_map().with_untracked(|query| {
        let number = |name: &str| query.get(name).and_then(|v| v.parse::<i32>().ok());
        (number("from"), number("to"))
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the versions…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Versions overview picked /> }.into_any(),
                    Err(error) => {
                        set_error_status(&error);
                        view! { <ErrorMessage error /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Versions(overview: StrategyOverview, picked: (Option<i32>, Option<i32>)) -> impl IntoView {
    let document = overview.document.clone();
    let id = document.id;
    let newest = document.version;
    let (picked_from, picked_to) = picked;
    let to = picked_to.unwrap_or(newest);
    let from = picked_from.unwrap_or((to - 1).max(1));
    let comparison = Resource::new(
        move || (from, to),
        move |(from, to)| compare_versions(id, from, to),
    );
    let (restore, restore_error) = form_action!(RestoreVersion);
    let editable = document.status.edit_refusal().is_none();
    let numbers: Vec<i32> = overview.versions.iter().map(|v| v.number).collect();
    let options = move |selected: i32| {
        numbers
            .iter()
            .copied()
            .map(|number| view! { <option value=number selected=number == selected>{format!("Version {number}")}</option> })
            .collect_view()
    };
    view! {
        <Title text=page_title(&format!("Versions of {}", document.name)) />
        <section class="versions">
            <header class="page-header">
                <h1>{format!("Versions of {}", document.name)}</h1>
                <a class="button" href=format!("/strategies/{id}")>"Back to the strategy"</a>
            </header>
            <FormAlert error=restore_error />
            <table class="version-table">
                <thead><tr><th scope="col">"Version"</th><th scope="col">"Saved"</th><th scope="col">"By"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    {overview.versions.iter().map(|version| {
                        let number = version.number;
                        view! {
                            <tr>
                                <th scope="row"><a href=format!("/strategies/{id}/versions/{number}")>{format!("Version {number}")}</a>
                                    {(number == newest).then_some(" (current)")}</th>
                                <td>{format_time(version.saved_at)}</td>
                                <td>{version.author.clone().unwrap_or_else(|| "a deleted account".into())}</td>
                                <td>
                                    {(editable && number != newest).then(|| view! {
                                        <ActionForm action=restore attr:class="inline-form">
                                            <input type="hidden" name="id" value=id.to_string() />
                                            <input type="hidden" name="number" value=number />
                                            <input type="hidden" name="lock_version" value=document.lock_version />
                                            <button type="submit" class="link-button" aria-label=format!("Restore version {number}")>"Restore"</button>
                                        </ActionForm>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>

            <form class="compare-form" method="get" aria-label="Compare versions">
                <div class="field">
                    <label for="compare-from">"Compare"</label>
                    <select id="compare-from" name="from">{options(from)}</select>
                </div>
                <div class="field">
                    <label for="compare-to">"with"</label>
                    <select id="compare-to" name="to">{options(to)}</select>
                </div>
                <button type="submit">"Compare"</button>
            </form>

            <Suspense fallback=|| view! { <p class="loading">"Comparing…"</p> }>
                {move || Suspend::new(async move {
                    match comparison.await {
                        Ok(comparison) => view! { <Comparison comparison /> }.into_any(),
                        Err(error) => view! { <p class="form-alert" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Comparison(comparison: VersionComparison) -> impl IntoView {
    let (from, to) = (comparison.from.number, comparison.to.number);
    view! {
        <section class="comparison" aria-labelledby="changes-heading">
            <h2 id="changes-heading">{format!("Changes from version {from} to version {to}")}</h2>
            {match comparison.changes {
                Some(changes) if changes.is_empty() => view! { <p>"The two versions describe the same strategy."</p> }.into_any(),
                Some(changes) => view! {
                    <ul class="change-list" aria-label="Changes">
                        {changes.into_iter().map(|change| view! { <li><code>{change.to_string()}</code></li> }).collect_view()}
                    </ul>
                }.into_any(),
                None => view! { <p class="hint">"One of the versions has errors, so only the text is compared."</p> }.into_any(),
            }}
            {comparison.too_different.then(|| view! {
                <p class="hint" role="status">
                    {format!("Versions {from} and {to} are too different to compare line by line; open each to read it whole.")}
                </p>
            })}
            <table class="diff" aria-label=format!("Text of version {from} beside version {to}")>
                <colgroup>
                    <col class="line-number-column" />
                    <col />
                    <col class="line-number-column" />
                    <col />
                </colgroup>
                <thead><tr>
                    <th scope="col" colspan="2">{format!("Version {from}")}</th>
                    <th scope="col" colspan="2">{format!("Version {to}")}</th>
                </tr></thead>
                <tbody>
                    {side_by_side(comparison.rows).into_iter().map(|row| {
                        let class = match (&row.left, &row.right) {
                            (Some((_, _, true)), Some((_, _, true))) => "changed",
                            (Some((_, _, true)), _) => "removed",
                            (_, Some((_, _, true))) => "added",
                            _ => "same",
                        };
                        let cell = |side: Option<(u32, String, bool)>, mark: &'static str| match side {
                            Some((number, text, changed)) => (
                                Some(number),
                                format!("{} {text}", if changed { mark } else { " " }),
                            ),
                            None => (None, String::new()),
                        };
                        let (old_number, old_text) = cell(row.left, "-");
                        let (new_number, new_text) = cell(row.right, "+");
                        view! {
                            <tr class=class>
                                <td class="line-number">{old_number}</td>
                                <td class="old"><code>{old_text}</code></td>
                                <td class="line-number">{new_number}</td>
                                <td class="new"><code>{new_text}</code></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// One row of the side-by-side view: each side's line number, text and whether it changed.
struct SideBySideRow {
    left: Option<(u32, String, bool)>,
    right: Option<(u32, String, bool)>,
}

/// Pairs each run of removed lines with the run of added lines after it, so that a changed
/// line sits beside what replaced it.
fn side_by_side(rows: Vec<crate::strategies::DiffRow>) -> Vec<SideBySideRow> {
    let mut out = Vec::new();
    let mut removed: Vec<(u32, String)> = Vec::new();
    let mut added: Vec<(u32, String)> = Vec::new();
    let flush = |removed: &mut Vec<(u32, String)>,
                 added: &mut Vec<(u32, String)>,
                 out: &mut Vec<SideBySideRow>| {
        let length = removed.len().max(added.len());
        let mut left = removed.drain(..);
        let mut right = added.drain(..);
        for _ in 0..length {
            out.push(SideBySideRow {
                left: left.next().map(|(n, t)| (n, t, true)),
                right: right.next().map(|(n, t)| (n, t, true)),
            });
        }
    };
    for row in rows {
        match row.change {
            LineChange::Removed => {
                if !added.is_empty() {
                    flush(&mut removed, &mut added, &mut out);
                }
                removed.push((row.old_number.unwrap_or_default(), row.text));
            }
            LineChange::Added => added.push((row.new_number.unwrap_or_default(), row.text)),
            LineChange::Same => {
                flush(&mut removed, &mut added, &mut out);
                out.push(SideBySideRow {
                    left: row.old_number.map(|n| (n, row.text.clone(), false)),
                    right: row.new_number.map(|n| (n, row.text, false)),
                });
            }
        }
    }
    flush(&mut removed, &mut added, &mut out);
    out
}

#[component]
pub fn VersionPage() -> impl IntoView {
    let id = strategy_id_param();
    let number = route_param::<i32>("number");
    let version = Resource::new(
        move || (id, number),
        |(id, number)| async move {
            match (id, number) {
                (Some(id), Some(number)) => strategy_version(id, number).await,
                _ => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the version…"</p> }>
            {move || Suspend::new(async move {
                match version.await {
                    Ok(version) => {
                        let id = id.map(|id| id.to_string()).unwrap_or_default();
                        view! {
                            <Title text=page_title(&format!("Version {}", version.info.number)) />
                            <section class="version-text">
                                <header class="page-header">
                                    <h1>{format!("Version {}", version.info.number)}</h1>
                                    <a class="button" href=format!("/strategies/{id}/versions")>"All versions"</a>
                                </header>
                                <p class="meta">{format!("Saved {} by {}", format_time(version.info.saved_at), version.info.author.unwrap_or_else(|| "a deleted account".into()))}</p>
                                <pre class="document" aria-label="Strategy document"><code>{version.content}</code></pre>
                            </section>
                        }.into_any()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::DiffRow;

    fn row(change: LineChange, old: Option<u32>, new: Option<u32>, text: &str) -> DiffRow {
        DiffRow {
            change,
            old_number: old,
            new_number: new,
            text: text.into(),
        }
    }

    #[test]
    fn a_changed_line_sits_beside_what_replaced_it() {
        let rows = side_by_side(vec![
            row(LineChange::Same, Some(1), Some(1), "a"),
            row(LineChange::Removed, Some(2), None, "b"),
            row(LineChange::Added, None, Some(2), "B"),
            row(LineChange::Added, None, Some(3), "C"),
            row(LineChange::Same, Some(3), Some(4), "d"),
        ]);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1].left, Some((2, "b".into(), true)));
        assert_eq!(rows[1].right, Some((2, "B".into(), true)));
        assert_eq!(rows[2].left, None);
        assert_eq!(rows[2].right, Some((3, "C".into(), true)));
        assert_eq!(rows[3].left, Some((3, "d".into(), false)));
    }
}
