//! `/strategies`: the user's strategies, 50 a page, filtered, sorted and searched through the
//! URL (so back, reload and a shared link show the same list), with each row's actions.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;

use crate::web::islands::{enter_island, page_title};
use leptos_router::hooks::use_query_map;

use super::{format_time, live::listen_for_changes, ErrorMessage, StatusBadge};
use crate::{
    strategies::{
        list_strategies, ChangeStatus, DuplicateStrategy, ListQuery, SortOrder, StrategyList,
        StrategyListItem, StrategyStatus, Transition,
    },
    web::forms::{form_action, FormAction, FormAlert},
};

/// The rows' forms, made once for the page and shared by every row: a row made them, a live
/// notice that redraws the list (often of the request's own commit) would drop them before the
/// reply arrives (see `FormAction`).
#[derive(Clone, Copy)]
struct RowForms {
    duplicate: FormAction<DuplicateStrategy>,
    archive: FormAction<ChangeStatus>,
}

#[component]
pub fn StrategiesPage() -> impl IntoView {
    let query =
        use_query_map().with_untracked(|params| ListQuery::from_params(|name| params.get(name)));
    view! {
        <Title text=page_title("Your strategies") />
        <StrategiesList query />
    }
}

/// The list with its filters and rows' forms, redrawn live.
#[island(lazy)]
fn StrategiesList(query: ListQuery) -> impl IntoView {
    enter_island();
    let query = Memo::new(move |_| query.clone());
    let list = Resource::new(move || query.get(), list_strategies);
    let forms = RowForms {
        duplicate: form_action!(DuplicateStrategy),
        archive: form_action!(ChangeStatus),
    };
    // A change made in another tab or on another machine shows here at once.
    listen_for_changes(move |_| list.refetch(), move || list.refetch());
    view! {
        <section class="strategies">
            <header class="page-header">
                <h1>"Your strategies"</h1>
                <a class="button primary" href="/strategies/new" rel="external">"New strategy"</a>
            </header>
            <ListFilters query />
            // A row's Duplicate or Archive that was refused says why here, above the list.
            <FormAlert error=forms.duplicate.1 />
            <FormAlert error=forms.archive.1 />
            <Suspense fallback=|| view! { <p class="loading">"Loading your strategies…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => view! { <StrategyTable list query=query.get_untracked() forms /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The filter bar: a plain GET form, so it works without JavaScript and fills the URL.
#[component]
fn ListFilters(query: Memo<ListQuery>) -> impl IntoView {
    let current = query.get_untracked();
    view! {
        <form class="list-filters" method="get" action="/strategies" role="search" aria-label="Filter strategies">
            <div class="field">
                <label for="strategy-search">"Search by name"</label>
                <input id="strategy-search" type="search" name="q" value=current.search.clone() placeholder="e.g. rsi" />
            </div>
            <div class="field">
                <label for="strategy-status">"Status"</label>
                <select id="strategy-status" name="status">
                    <option value="" selected=current.status.is_none()>"Any status"</option>
                    {StrategyStatus::ALL
                        .into_iter()
                        .map(|status| view! {
                            <option value=status.as_str() selected=current.status == Some(status)>{status.label()}</option>
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="strategy-sort">"Sort"</label>
                <select id="strategy-sort" name="sort">
                    {SortOrder::ALL
                        .into_iter()
                        .map(|order| view! {
                            <option value=order.as_str() selected=current.sort == order>{order.label()}</option>
                        })
                        .collect_view()}
                </select>
            </div>
            <button type="submit">"Apply"</button>
        </form>
    }
}

#[component]
fn StrategyTable(list: StrategyList, query: ListQuery, forms: RowForms) -> impl IntoView {
    if !list.has_any {
        return view! {
            <div class="empty-state">
                <h2>"No strategies yet"</h2>
                <p>"Start from a moving-average cross, an RSI reversion or a blank page; every keystroke is checked as you type."</p>
                <a class="button primary" href="/strategies/new" rel="external">"Create your first strategy"</a>
            </div>
        }
        .into_any();
    }
    if list.items.is_empty() {
        return view! {
            <div class="empty-state">
                <h2>"No strategy matches"</h2>
                <p>"Try another search or status."</p>
                <a href="/strategies">"Show all strategies"</a>
            </div>
        }
        .into_any();
    }
    let pages = list.pages();
    let page = query.page.min(pages);
    let total = list.total;
    view! {
        <table class="strategy-table">
            <caption class="visually-hidden">"Your strategies"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Pair"</th>
                    <th scope="col">"Timeframe"</th>
                    <th scope="col">"Last changed"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list.items.into_iter().map(|item| view! { <StrategyRow item forms /> }).collect_view()}
            </tbody>
        </table>
        <nav class="pagination" aria-label="Pages">
            <span>{format!("Page {page} of {pages} · {total} strateg{}", if total == 1 { "y" } else { "ies" })}</span>
            {(page > 1).then(|| view! { <a href=query.with_page(page - 1).href() rel="prev">"Previous page"</a> })}
            {(page < pages).then(|| view! { <a href=query.with_page(page + 1).href() rel="next">"Next page"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn StrategyRow(item: StrategyListItem, forms: RowForms) -> impl IntoView {
    let (duplicate, _) = forms.duplicate;
    let (archive, _) = forms.archive;
    let id = item.id;
    let can_archive = Transition::Archive.refusal_from(item.status).is_none();
    let editable = item.status.edit_refusal().is_none();
    let name = item.name.clone();
    let (edit_label, duplicate_label, archive_label) = (
        format!(" {name}"),
        format!("Duplicate {name}"),
        format!("Archive {name}"),
    );
    view! {
        <tr data-strategy-id=id.to_string()>
            <th scope="row"><a href=format!("/strategies/{id}")>{item.name}</a></th>
            <td><StatusBadge status=item.status /></td>
            <td>{item.version}</td>
            <td>{item.trading_pair}</td>
            <td>{item.timeframe}</td>
            <td><time datetime=item.updated_at.to_rfc3339()>{format_time(item.updated_at)}</time></td>
            <td><div class="row-actions">
                <a href=format!("/strategies/{id}")>"Open"<span class="visually-hidden">{format!(" {name}")}</span></a>
                {editable.then(|| view! {
                    <a href=format!("/strategies/{id}/edit") rel="external">"Edit"<span class="visually-hidden">{edit_label}</span></a>
                })}
                <ActionForm action=duplicate attr:class="inline-form">
                    <input type="hidden" name="id" value=id.to_string() />
                    <button type="submit" class="link-button" aria-label=duplicate_label>"Duplicate"</button>
                </ActionForm>
                {can_archive.then(|| view! {
                    <ActionForm action=archive attr:class="inline-form">
                        <input type="hidden" name="id" value=id.to_string() />
                        <input type="hidden" name="transition" value="archive" />
                        <button type="submit" class="link-button" aria-label=archive_label>"Archive"</button>
                    </ActionForm>
                })}
            </div></td>
        </tr>
    }
}
