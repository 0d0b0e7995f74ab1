//! Backtests on the pages: the strategy page's panel (the start form and the runs so far, with
//! each waiting run's place in line) and `/strategies/:id/backtests/:run`, one run's results:
//! the exact version and settings, the figures, the equity and price charts and the trades
//! (sortable after hydration, and as a CSV download).

use crate::strategies::StrategyId;
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;

use crate::web::islands::{enter_island, page_title, route_param};
use uuid::Uuid;

use super::charts::{amount, day, percent, price, EquityChart, PriceChart};
use crate::strategies::views::{
    format_time, live::listen_for_changes_and_backtests, set_error_status, strategy_id_param,
    ErrorMessage,
};
use crate::{
    backtests::{Metrics, Trade},
    error::AppError,
    strategies::{
        backtests::{
            plain_number, BacktestPanel, RunResults, RunStatus, RunSummary, TRADES_PER_PAGE,
        },
        load_backtest_results, CancelBacktest, StartBacktest,
    },
    web::forms::{form_action, FormAction, FormAlert},
};

/// "Waiting (2nd in line)", "Running", "Finished", ...
pub fn run_state(run: &RunSummary) -> String {
    match (run.status, run.place_in_line) {
        (RunStatus::Queued, Some(1)) => "Waiting (next in line)".to_string(),
        (RunStatus::Queued, Some(place)) => format!("Waiting ({place} in line)"),
        (status, _) => status.label().to_string(),
    }
}

/// While a run waits or runs, asks again every 2 seconds: the live channel may open only
/// after a quick run ended, and a place in line moves with other users' runs too.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
fn refresh_while_pending(pending: bool, refresh: Callback<()>) {
    #[cfg(feature = "hydrate")]
    if pending {
        if let Ok(handle) =
            set_interval_with_handle(move || refresh.run(()), std::time::Duration::from_secs(2))
        {
            on_cleanup(move || handle.clear());
        }
    }
}

#[component]
fn RunBadge(run: RunSummary) -> impl IntoView {
    view! {
        <span class=format!("status-badge run-{}", run.status.as_str())>{run_state(&run)}</span>
    }
}

/// One input of the start form with its label, starting value and error.
#[component]
fn RunField(
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    value: String,
    #[prop(optional)] step: Option<&'static str>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("backtest-{name}");
    let error_id = format!("{id}-error");
    let message = move || error.get().and_then(|e| e.field_message(name));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id name=name type=kind value=value step=step required=true
                aria-invalid=move || message().map(|_| "true")
                aria-describedby=error_id.clone() />
            {move || message().map(|text| view! { <p class="field-error" id=error_id.clone()>{text}</p> })}
        </div>
    }
}

/// The strategy page's "Backtests" section.
#[component]
pub fn BacktestsPanel(
    panel: BacktestPanel,
    /// Made by the page, which this panel's redraws leave in place (see `FormAction`).
    start: FormAction<StartBacktest>,
    refresh: Callback<()>,
) -> impl IntoView {
    let id = panel.strategy_id;
    refresh_while_pending(
        panel.runs.iter().any(|run| run.status.is_pending()),
        refresh,
    );
    let (start, start_error) = start;
    let form = match (panel.series.clone(), panel.stored.clone()) {
        (None, _) => view! {
            <p class="hint">"Fix the strategy's errors to backtest it: a backtest needs a valid document with a pair and a timeframe."</p>
        }
        .into_any(),
        (Some((pair, timeframe)), None) => view! {
            <p class="hint">{format!("No {pair} {timeframe} candles are stored yet; import some to backtest this strategy.")}</p>
        }
        .into_any(),
        (Some((pair, timeframe)), Some(stored)) => {
            let defaults = panel.defaults.clone();
            let about = format!(
                "Version {} on {pair} {timeframe}. Stored candles: {} to {} ({} bars); indicators warm up on the bars before the first day.",
                panel.current_version, stored.first, stored.last, stored.bars
            );
            view! {
                <ActionForm action=start attr:class="backtest-form">
                    <input type="hidden" name="id" value=id.to_string() />
                    <p class="hint">{about}</p>
                    <div class="backtest-fields">
                        <RunField name="from" label="First day" kind="date" value=defaults.from error=start_error />
                        <RunField name="to" label="Last day" kind="date" value=defaults.to error=start_error />
                        <RunField name="cash" label="Starting cash" value=defaults.cash error=start_error />
                        <RunField name="commission" label="Commission (% per side)" value=defaults.commission error=start_error />
                        <RunField name="slippage" label="Slippage (% per fill)" value=defaults.slippage error=start_error />
                        <button type="submit" class="primary">"Run backtest"</button>
                    </div>
                    <FormAlert error=start_error />
                </ActionForm>
            }
            .into_any()
        }
    };
    view! {
        {form}
        {if panel.runs.is_empty() {
            view! { <p class="hint">"No backtest has run on this strategy yet."</p> }.into_any()
        } else {
            view! { <RunList runs=panel.runs.clone() current_version=panel.current_version /> }.into_any()
        }}
    }
}

#[component]
fn RunList(runs: Vec<RunSummary>, current_version: i32) -> impl IntoView {
    view! {
        <table class="run-table">
            <thead><tr>
                <th scope="col">"Run"</th><th scope="col">"Range"</th><th scope="col">"Status"</th>
                <th scope="col" class="number">"Return"</th><th scope="col" class="number">"Trades"</th>
            </tr></thead>
            <tbody>
                {runs.into_iter().map(|run| {
                    let href = format!("/strategies/{}/backtests/{}", run.strategy_id, run.id);
                    let outdated = run.version != current_version;
                    view! {
                        <tr>
                            <th scope="row">
                                <a href=href>{format!("Version {} · {}", run.version, format_time(run.queued_at))}</a>
                                {outdated.then(|| view! { <span class="hint">" (an older version)"</span> })}
                            </th>
                            <td>{format!("{} to {}", run.settings.from, run.settings.to)}</td>
                            <td><RunBadge run=run.clone() /></td>
                            <td class="number">{run.total_return.map(percent).unwrap_or_default()}</td>
                            <td class="number">{run.trades.map(|n| n.to_string()).unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// `/strategies/:id/backtests/:run`.
#[component]
pub fn BacktestPage() -> impl IntoView {
    let id = strategy_id_param();
    let run_id = route_param::<Uuid>("run");
    let trades_page = leptos_router::hooks::use_query_map()
        .get_untracked()
        .get("trades")
        .and_then(|page| page.parse::<u32>().ok())
        .filter(|page| *page >= 1);
    view! { <BacktestFollowed id run_id trades_page /> }
}

/// The run's state and results, followed live until it finishes.
#[island(lazy)]
fn BacktestFollowed(
    id: Option<StrategyId>,
    run_id: Option<Uuid>,
    trades_page: Option<u32>,
) -> impl IntoView {
    enter_island();
    let results_resource = Resource::new(
        move || (id, run_id),
        move |(id, run)| async move {
            match (id, run) {
                (Some(id), Some(run)) => load_backtest_results(id, run, trades_page).await,
                _ => Err(AppError::NotFound),
            }
        },
    );
    let cancel = form_action!(CancelBacktest);
    listen_for_changes_and_backtests(
        move |change| {
            if Some(change.strategy_id) == id {
                results_resource.refetch();
            }
        },
        move |change| {
            if Some(change.run_id) == run_id {
                results_resource.refetch();
            }
        },
        move || results_resource.refetch(),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading the backtest…"</p> }>
            {move || Suspend::new(async move {
                match results_resource.await {
                    Ok(results) => view! { <Results results cancel refresh=Callback::new(move |_| results_resource.refetch()) /> }.into_any(),
                    Err(error) => {
                        set_error_status(&error);
                        view! { <Title text=page_title("Backtest not found") /><ErrorMessage error /> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Results(
    results: RunResults,
    /// Made by the page, which the results' redraws leave in place (see `FormAction`).
    cancel: FormAction<CancelBacktest>,
    refresh: Callback<()>,
) -> impl IntoView {
    let run = results.run.clone();
    refresh_while_pending(run.status.is_pending(), refresh);
    let settings = run.settings.clone();
    let strategy_href = format!("/strategies/{}", run.strategy_id);
    let csv = format!(
        "/strategies/{}/backtests/{}/trades.csv",
        run.strategy_id, run.id
    );
    let (cancel, cancel_error) = cancel;
    let title = format!(
        "Backtest of {}, version {}",
        results.strategy_name, run.version
    );
    let state = match run.status {
        RunStatus::Queued | RunStatus::Running => view! {
            <div class="notice run-pending" role="status">
                <p>{match run.status {
                    RunStatus::Running => "Running: the results appear here when it finishes.".to_string(),
                    _ => format!("{}: it starts as soon as a place is free.", run_state(&run)),
                }}</p>
                <ActionForm action=cancel attr:class="inline-form">
                    <input type="hidden" name="id" value=run.strategy_id.to_string() />
                    <input type="hidden" name="run" value=run.id.to_string() />
                    <button type="submit">"Cancel backtest"</button>
                </ActionForm>
                <FormAlert error=cancel_error />
            </div>
        }
        .into_any(),
        RunStatus::Failed => view! {
            <p class="notice bad" role="alert">{format!("Failed: {}", run.error.clone().unwrap_or_default())}</p>
        }
        .into_any(),
        RunStatus::Cancelled => view! {
            <p class="notice warn">"Cancelled before it finished: there are no results."</p>
        }
        .into_any(),
        RunStatus::Finished => ().into_any(),
    };
    view! {
        <Title text=page_title(&title) />
        <section class="backtest-results">
            <header class="page-header">
                <div>
                    <h1>{title}</h1>
                    <p class="meta">
                        <RunBadge run=run.clone() />
                        {format!(" {} {} · {} to {}", settings.pair, settings.timeframe, settings.from, settings.to)}
                    </p>
                </div>
                <div class="actions">
                    <a class="button" href=strategy_href>"Back to the strategy"</a>
                    {(run.status == RunStatus::Finished).then(|| view! {
                        <a class="button" href=csv download="" rel="external">"Download trades (CSV)"</a>
                    })}
                </div>
            </header>
            {results.outdated_notice().map(|text| view! { <p class="notice warn">{text}</p> })}
            {state}
            <section class="run-settings" aria-labelledby="settings-heading">
                <h2 id="settings-heading">"What was tested"</h2>
                <dl class="facts">
                    <dt>"Version"</dt>
                    <dd><a href=format!("/strategies/{}/versions/{}", run.strategy_id, run.version)>{format!("Version {}", run.version)}</a></dd>
                    <dt>"Pair and timeframe"</dt><dd>{format!("{} {}", settings.pair, settings.timeframe)}</dd>
                    <dt>"Days traded"</dt><dd>{format!("{} to {} (UTC)", settings.from, settings.to)}</dd>
                    <dt>"Starting cash"</dt><dd>{amount(settings.initial_cash)}</dd>
                    <dt>"Commission"</dt><dd>{format!("{}% per side", plain_number(settings.commission * 100.0))}</dd>
                    <dt>"Slippage"</dt><dd>{format!("{}% per fill", plain_number(settings.slippage * 100.0))}</dd>
                    <dt>"Queued"</dt><dd>{format_time(run.queued_at)}</dd>
                    {run.started_at.map(|t| view! { <dt>"Started"</dt><dd>{format_time(t)}</dd> })}
                    {run.finished_at.map(|t| view! { <dt>"Ended"</dt><dd>{format_time(t)}</dd> })}
                </dl>
            </section>
            {results.metrics.clone().map(|metrics| view! {
                <section aria-labelledby="metrics-heading">
                    <h2 id="metrics-heading">"Results"</h2>
                    <MetricsTable metrics=metrics.clone() />
                </section>
                <section aria-labelledby="equity-heading">
                    <h2 id="equity-heading">"Equity and drawdown"</h2>
                    <EquityChart equity=results.equity.clone() />
                </section>
                <section aria-labelledby="price-heading">
                    <h2 id="price-heading">"Price and trades"</h2>
                    <PriceChart prices=results.prices.clone() trades=results.trades.clone() pair=settings.pair.clone() />
                </section>
                <section aria-labelledby="trades-heading">
                    <h2 id="trades-heading">{format!("Trades ({})", metrics.trades)}</h2>
                    {trades_note(&results)}
                    <TradesTable trades=results.trades.clone() first=results.trades_first />
                    <TradePages results=results.clone() />
                </section>
            })}
        </section>
    }
}

#[component]
fn MetricsTable(metrics: Metrics) -> impl IntoView {
    let optional_percent = |value: Option<f64>| value.map(percent).unwrap_or_else(|| "–".into());
    let ratio = |value: Option<f64>| {
        value
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "–".into())
    };
    let rows: Vec<(&str, String)> = vec![
        ("Total return", percent(metrics.total_return)),
        ("Final equity", amount(metrics.final_equity)),
        ("CAGR", optional_percent(metrics.cagr)),
        ("Max drawdown", percent(metrics.max_drawdown)),
        ("Sharpe ratio", ratio(metrics.sharpe)),
        ("Sortino ratio", ratio(metrics.sortino)),
        ("Win rate", optional_percent(metrics.win_rate)),
        ("Profit factor", ratio(metrics.profit_factor)),
        ("Trades", metrics.trades.to_string()),
        ("Exposure", percent(metrics.exposure)),
        ("Buy and hold", percent(metrics.buy_and_hold_return)),
        (
            "Average trade",
            optional_percent(metrics.average_trade_return),
        ),
        ("Best trade", optional_percent(metrics.best_trade_return)),
        ("Worst trade", optional_percent(metrics.worst_trade_return)),
        ("Commissions paid", amount(metrics.commissions)),
        ("Bars", metrics.bars.to_string()),
    ];
    view! {
        <table class="metrics-table">
            <tbody>
                {rows.into_iter().map(|(name, value)| view! {
                    <tr><th scope="row">{name}</th><td class="number">{value}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The columns the trades table sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TradeColumn {
    Entry,
    Exit,
    EntryPrice,
    ExitPrice,
    Quantity,
    Pnl,
    Return,
    Reason,
}

impl TradeColumn {
    const ALL: [TradeColumn; 8] = [
        TradeColumn::Entry,
        TradeColumn::Exit,
        TradeColumn::EntryPrice,
        TradeColumn::ExitPrice,
        TradeColumn::Quantity,
        TradeColumn::Pnl,
        TradeColumn::Return,
        TradeColumn::Reason,
    ];

    fn label(self) -> &'static str {
        match self {
            TradeColumn::Entry => "Entry",
            TradeColumn::Exit => "Exit",
            TradeColumn::EntryPrice => "Entry price",
            TradeColumn::ExitPrice => "Exit price",
            TradeColumn::Quantity => "Quantity",
            TradeColumn::Pnl => "P&L",
            TradeColumn::Return => "Return",
            TradeColumn::Reason => "Exit reason",
        }
    }

    fn compare(self, a: &Trade, b: &Trade) -> std::cmp::Ordering {
        let number = |f: fn(&Trade) -> f64| f(a).total_cmp(&f(b));
        match self {
            TradeColumn::Entry => a.entry_time.cmp(&b.entry_time),
            TradeColumn::Exit => a.exit_time.cmp(&b.exit_time),
            TradeColumn::EntryPrice => number(|t| t.entry_price),
            TradeColumn::ExitPrice => number(|t| t.exit_price),
            TradeColumn::Quantity => number(|t| t.quantity),
            TradeColumn::Pnl => number(|t| t.pnl),
            TradeColumn::Return => number(|t| t.return_pct),
            TradeColumn::Reason => a.exit_reason.name().cmp(b.exit_reason.name()),
        }
    }
}

/// The trades in the order of `column` (ascending or not); ties keep entry order.
fn sorted_trades(trades: &[Trade], column: TradeColumn, ascending: bool) -> Vec<(usize, Trade)> {
    let mut rows: Vec<(usize, Trade)> = trades.iter().cloned().enumerate().collect();
    rows.sort_by(|(_, a), (_, b)| {
        let order = column.compare(a, b);
        if ascending {
            order
        } else {
            order.reverse()
        }
    });
    rows
}

/// Which trades this page shows, when the run has more than one page of them or kept fewer
/// than it made.
fn trades_note(results: &RunResults) -> Option<impl IntoView> {
    let made = results
        .metrics
        .as_ref()
        .map_or(0, |metrics| metrics.trades as i64);
    let shown = results.trades.len() as i64;
    if shown == 0 || (shown == made && results.trades_first == 0) {
        return None;
    }
    let first = results.trades_first + 1;
    let last = results.trades_first + shown;
    let kept = if results.trades_kept < made {
        format!(
            " The run kept its first {} of {made} trades; the figures count them all.",
            results.trades_kept
        )
    } else {
        String::new()
    };
    Some(view! {
        <p class="hint">{format!("Trades {first} to {last} of {}; the chart marks these.{kept}", results.trades_kept)}</p>
    })
}

/// Links to the other pages of a run's trades (plain links: they work without JavaScript).
#[component]
fn TradePages(results: RunResults) -> impl IntoView {
    let pages = (results.trades_kept.max(1) - 1) / TRADES_PER_PAGE + 1;
    let current = results.trades_first / TRADES_PER_PAGE + 1;
    (pages > 1).then(|| {
        let link = move |page: i64| format!("?trades={page}");
        view! {
            <nav class="pager" aria-label="Pages of trades">
                {(current > 1).then(|| view! { <a href=link(current - 1) rel="prev">"Previous trades"</a> })}
                <span>{format!("Page {current} of {pages}")}</span>
                {(current < pages).then(|| view! { <a href=link(current + 1) rel="next">"Next trades"</a> })}
            </nav>
        }
    })
}

#[component]
fn TradesTable(trades: Vec<Trade>, first: i64) -> impl IntoView {
    if trades.is_empty() {
        return view! { <p class="hint">"The strategy made no trade in this range."</p> }
            .into_any();
    }
    let (order, set_order) = signal((TradeColumn::Entry, true));
    let rows = move || {
        let (column, ascending) = order.get();
        sorted_trades(&trades, column, ascending)
            .into_iter()
            .map(|(number, trade)| {
                view! {
                    <tr>
                        <td class="number">{first + number as i64 + 1}</td>
                        <td>{day(trade.entry_time)}</td>
                        <td>{day(trade.exit_time)}</td>
                        <td class="number">{price(trade.entry_price)}</td>
                        <td class="number">{price(trade.exit_price)}</td>
                        <td class="number">{format!("{:.4}", trade.quantity)}</td>
                        <td class={if trade.pnl >= 0.0 { "number gain" } else { "number loss" }}>{amount(trade.pnl)}</td>
                        <td class="number">{percent(trade.return_pct)}</td>
                        <td>{trade.exit_reason.name().replace('_', " ")}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="table-scroll">
            <table class="trades-table">
                <thead><tr>
                    <th scope="col" class="number">"#"</th>
                    {TradeColumn::ALL.into_iter().map(|column| {
                        let sorted = move || match order.get() {
                            (current, true) if current == column => "ascending",
                            (current, false) if current == column => "descending",
                            _ => "none",
                        };
                        view! {
                            <th scope="col" aria-sort=sorted>
                                <button type="button" class="sort-button" title=format!("Sort by {}", column.label().to_ascii_lowercase())
                                    on:click=move |_| set_order.update(|(current, ascending)| {
                                        if *current == column {
                                            *ascending = !*ascending;
                                        } else {
                                            *current = column;
                                            *ascending = true;
                                        }
                                    })>{column.label()}</button>
                            </th>
                        }
                    }).collect_view()}
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtests::ExitReason;

    fn trade(entry_time: i64, pnl: f64) -> Trade {
        Trade {
            entry_bar: 0,
            exit_bar: 1,
            entry_time,
            exit_time: entry_time + 1,
            entry_price: 1.0,
            exit_price: 1.0,
            quantity: 1.0,
            pnl,
            return_pct: pnl / 100.0,
            commission: 0.0,
            exit_reason: ExitReason::ExitCondition,
        }
    }

    #[test]
    fn trades_sort_by_a_column_both_ways_and_keep_their_numbers() {
        let trades = vec![trade(1, 5.0), trade(2, -3.0), trade(3, 9.0)];
        let by_pnl: Vec<usize> = sorted_trades(&trades, TradeColumn::Pnl, true)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(by_pnl, vec![1, 0, 2]);
        let by_pnl_down: Vec<usize> = sorted_trades(&trades, TradeColumn::Pnl, false)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(by_pnl_down, vec![2, 0, 1]);
    }
}
