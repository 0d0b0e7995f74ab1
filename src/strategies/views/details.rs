//! `/strategies/:id`: the strategy as parsed (indicators with every parameter, conditions in
//! canonical form, sizing, risk, warm-up), its status with the allowed transitions as
//! buttons, its versions, and its backtests (the start form and the runs, refreshed live).

use crate::strategies::StrategyId;
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;

use crate::web::islands::{enter_island, page_title};

use super::{
    super::backtests::views::BacktestsPanel, format_time, live::listen_for_changes_and_backtests,
    set_error_status, strategy_id_param, strategy_resource, ErrorMessage, StatusBadge,
};
use crate::{
    error::AppError,
    language::{syntax_test::StrategySummary, Severity},
    strategies::{
        backtests::BacktestPanel, load_backtests, load_overview, ChangeStatus, DeleteStrategy,
        DuplicateStrategy, StartBacktest, StrategyOverview, Transition,
    },
    web::forms::{form_action, FormAction, FormAlert},
};

/// The strategy page's forms. They are made once for the page, outside the parts a live notice
/// redraws: an action made inside those would be dropped with them when a notice (often of the
/// request's own commit, such as a backtest claimed at once) redraws the page before the reply
/// arrives, and the page the reply names would never load.
#[derive(Clone, Copy)]
struct PageForms {
    status: FormAction<ChangeStatus>,
    duplicate: FormAction<DuplicateStrategy>,
    delete: FormAction<DeleteStrategy>,
    start_backtest: FormAction<StartBacktest>,
}

#[component]
pub fn StrategyPage() -> impl IntoView {
    let id = strategy_id_param();
    view! { <StrategyDetails id /> }
}

/// The page's content, redrawn live when the strategy or its backtests change.
#[island(lazy)]
fn StrategyDetails(id: Option<StrategyId>) -> impl IntoView {
    enter_island();
    let overview = strategy_resource(id, load_overview);
    let backtests = strategy_resource(id, load_backtests);
    let forms = PageForms {
        status: form_action!(ChangeStatus),
        duplicate: form_action!(DuplicateStrategy),
        delete: form_action!(DeleteStrategy),
        start_backtest: form_action!(StartBacktest),
    };
    listen_for_changes_and_backtests(
        move |change| {
            if Some(change.strategy_id) == id {
                overview.refetch();
                backtests.refetch();
            }
        },
        move |change| {
            if Some(change.strategy_id) == id {
                backtests.refetch();
            }
        },
        move || {
            overview.refetch();
            backtests.refetch();
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the strategy…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Overview overview backtests forms /> }.into_any(),
                    Err(error) => {
                        set_error_status(&error);
                        view! { <Title text=page_title("Strategy not found") /><ErrorMessage error /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(
    overview: StrategyOverview,
    backtests: Resource<Result<BacktestPanel, AppError>>,
    forms: PageForms,
) -> impl IntoView {
    let document = overview.document.clone();
    let id = document.id;
    let (status_action, status_error) = forms.status;
    let (duplicate, duplicate_error) = forms.duplicate;
    let (delete, delete_error) = forms.delete;
    let editable = document.status.edit_refusal();
    let deletable = document.status.delete_refusal().is_none();
    let download = format!("/strategies/{id}/download");
    let problems: Vec<_> = overview
        .report
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .cloned()
        .collect();
    view! {
        <Title text=page_title(&document.name) />
        <section class="strategy-overview">
            <header class="page-header">
                <div>
                    <h1>{document.name.clone()}</h1>
                    <p class="meta">
                        <StatusBadge status=document.status />
                        {format!(" Version {} · created {} · last changed {}", document.version, format_time(overview.created_at), format_time(overview.updated_at))}
                    </p>
                    {overview.description.clone().map(|text| view! { <p class="description">{text}</p> })}
                </div>
                <div class="actions">
                    {match editable {
                        None => view! { <a class="button primary" href=format!("/strategies/{id}/edit") rel="external">"Edit"</a> }.into_any(),
                        Some(reason) => view! { <p class="hint">{reason}</p> }.into_any(),
                    }}
                    <a class="button" href=format!("/strategies/{id}/versions")>"Versions"</a>
                    <a class="button" href=download.clone() download="" rel="external">"Download"</a>
                    <ActionForm action=duplicate attr:class="inline-form">
                        <input type="hidden" name="id" value=id.to_string() />
                        <button type="submit">"Duplicate"</button>
                    </ActionForm>
                </div>
            </header>
            <FormAlert error=duplicate_error />

            <section class="lifecycle" aria-labelledby="lifecycle-heading">
                <h2 id="lifecycle-heading">"Status"</h2>
                <p>"A strategy goes live only when it is active, and it can be activated only after a backtest of its current version."</p>
                <FormAlert error=status_error />
                <div class="transition-buttons">
                    {overview.transitions.clone().into_iter().map(move |transition| {
                        let transition_value = serde_json::to_value(transition).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                        view! {
                            <ActionForm action=status_action attr:class="inline-form">
                                <input type="hidden" name="id" value=id.to_string() />
                                <input type="hidden" name="transition" value=transition_value />
                                <button type="submit" class=if transition == Transition::Activate { "primary" } else { "" }>{transition.label()}</button>
                            </ActionForm>
                        }
                    }).collect_view()}
                </div>
                {deletable.then(|| view! {
                    <details class="danger-zone">
                        <summary>"Delete this strategy…"</summary>
                        <p>"Deleting removes the strategy and every version of it. This cannot be undone."</p>
                        <FormAlert error=delete_error />
                        <ActionForm action=delete attr:class="inline-form">
                            <input type="hidden" name="id" value=id.to_string() />
                            <button type="submit" class="danger">"Delete permanently"</button>
                        </ActionForm>
                    </details>
                })}
            </section>

            {(!problems.is_empty()).then(|| view! {
                <section class="problems-summary" aria-labelledby="problems-heading">
                    <h2 id="problems-heading">"Problems"</h2>
                    <ul>
                        {problems.into_iter().map(|d| view! {
                            <li class=format!("severity-{}", d.severity.label())>
                                <span class="position">{format!("{}:{}", d.span.line, d.span.column)}</span>
                                " " {d.message}
                            </li>
                        }).collect_view()}
                    </ul>
                </section>
            })}

            {overview.report.summary.clone().map(|summary| view! { <Summary summary /> })}

            <section aria-labelledby="versions-heading">
                <h2 id="versions-heading">"Versions"</h2>
                <ol class="version-list" reversed>
                    {overview.versions.iter().take(10).map(|version| view! {
                        <li>
                            <a href=format!("/strategies/{id}/versions/{}", version.number)>{format!("Version {}", version.number)}</a>
                            {format!(" · {} · {}", format_time(version.saved_at), version.author.clone().unwrap_or_else(|| "a deleted account".into()))}
                        </li>
                    }).collect_view()}
                </ol>
                <p><a href=format!("/strategies/{id}/versions")>"Compare and restore versions"</a></p>
            </section>

            <section class="backtests" id="backtests" aria-labelledby="backtests-heading">
                <h2 id="backtests-heading">"Backtests"</h2>
                <Transition fallback=|| view! { <p class="loading">"Loading the backtests…"</p> }>
                    {move || Suspend::new(async move {
                        match backtests.await {
                            Ok(panel) => view! { <BacktestsPanel panel start=forms.start_backtest refresh=Callback::new(move |_| backtests.refetch()) /> }.into_any(),
                            Err(error) => view! { <p class="form-alert" role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </section>
    }
}

#[component]
fn Summary(summary: StrategySummary) -> impl IntoView {
    view! {
        <section class="summary" aria-labelledby="summary-heading">
            <h2 id="summary-heading">"What this strategy does"</h2>
            <dl class="facts">
                <dt>"Pair"</dt><dd>{summary.trading_pair}</dd>
                <dt>"Timeframe"</dt><dd>{summary.timeframe.unwrap_or_else(|| "not set".into())}</dd>
                <dt><abbr title="Bars of history needed before the entry condition can first be true">"Warm-up"</abbr></dt>
                <dd>{format!("{} bars", summary.warm_up_bars)}</dd>
            </dl>
            <h3>"Indicators"</h3>
            <table class="indicator-table">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Indicator"</th><th scope="col">"Parameters"</th><th scope="col">"Warm-up"</th></tr></thead>
                <tbody>
                    {summary.indicators.into_iter().map(|indicator| view! {
                        <tr>
                            <th scope="row"><code>{indicator.name}</code></th>
                            <td>{indicator.title}</td>
                            <td>{indicator.parameters.join(", ")}</td>
                            <td>{format!("{} bars", indicator.warm_up_bars)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Conditions"</h3>
            <dl class="conditions">
                {summary.conditions.into_iter().map(|condition| view! {
                    <dt>{condition_label(&condition.field)}</dt>
                    <dd><code>{condition.canonical}</code></dd>
                }).collect_view()}
            </dl>
            <h3>"Position sizing"</h3>
            <p>{summary.sizing.unwrap_or_else(|| "not set".into())}</p>
            <h3>"Risk"</h3>
            <ul>{summary.risk.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
        </section>
    }
}

pub fn condition_label(field: &str) -> &'static str {
    match field {
        "entry_conditions" => "Enter when",
        "exit_conditions" => "Exit when",
        "stop_conditions" => "Stop out when",
        _ => "Condition",
    }
}
