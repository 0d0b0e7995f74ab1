//! The editor's signal preview: a price chart of the last `SHOWN_BARS` candles of the
//! document's pair and timeframe, marking the bars where the entry, exit and stop conditions
//! hold, with a count for each and a plain warning when one never fires or fires on every bar.
//! The server runs the engine (`backtests::signals`) on its candles and sends the shown bars
//! with the marks, a moment after the document last became valid; while it is not, the last
//! chart stays, dimmed.

use leptos::prelude::*;

use crate::{
    backtests::{
        signals::{ConditionBars, Firing, SignalBars},
        Candles,
    },
    language::{Format, Validation},
    market_data::PreviewCandles,
};

/// The pause after the last change before the preview redraws.
#[cfg(feature = "hydrate")]
const PAUSE: std::time::Duration = std::time::Duration::from_millis(300);

/// The chart's drawing area, in SVG units (it scales to the pane's width).
const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 260.0;
const MARGIN: f64 = 30.0;

/// The preview of the document `text` (in `format`), whose validation is `validation`.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
#[component]
pub fn SignalPreview(
    validation: RwSignal<Validation>,
    text: RwSignal<String>,
    format: RwSignal<Format>,
) -> impl IntoView {
    // A name clash (the server's E050) is no reason to stop previewing the document.
    let document_valid = Memo::new(move |_| {
        validation.with(|v| {
            v.errors()
                .all(|error| error.code == crate::strategies::NAME_CLASH)
                && v.strategy.as_ref().is_some_and(|s| s.timeframe.is_some())
        })
    });
    // The last answer: the chart, or why there is none. Asked for in the browser only, a pause
    // after the document last became valid; only the answer to the newest request is kept.
    let preview: RwSignal<Option<Result<(PreviewCandles, SignalBars), String>>> =
        RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    {
        let generation = StoredValue::new(0u64);
        Effect::new(move |_| {
            // Any change, to a valid document or not, makes a waiting request stale.
            generation.update_value(|g| *g += 1);
            if !document_valid.get() {
                return;
            }
            let (content, format) = (text.get(), format.get());
            let mine = generation.get_value();
            set_timeout(
                move || {
                    if generation.get_value() != mine {
                        return;
                    }
                    leptos::task::spawn_local(async move {
                        let answer = crate::strategies::preview_signals(content, format).await;
                        if generation.get_value() != mine {
                            return;
                        }
                        // `None`: the text was ahead of its check; the next change asks again.
                        if let Some(shown) = preview_of(answer) {
                            preview.set(Some(shown));
                        }
                    });
                },
                PAUSE,
            );
        });
    }
    view! {
        <section class="signal-preview" aria-label="Signal preview">
            // The waiting notice sits beside the heading, so that it comes and goes without
            // moving anything on the page.
            <header class="preview-header">
                <h2>"Signal preview"</h2>
                <p class="preview-waiting" role="status">
                    {move || (!document_valid.get()).then_some("Waiting for a valid document: the preview redraws when the errors are fixed.")}
                </p>
            </header>
            {move || match preview.get() {
                None => view! { <p class="loading">"Loading the last candles of the strategy's pair…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="notice bad">{message}</p> }.into_any(),
                Some(Ok((fetched, bars))) => view! {
                    <PreviewChart fetched bars stale=Signal::derive(move || !document_valid.get()) />
                }.into_any(),
            }}
        </section>
    }
}

/// The server's answer as the chart or a sentence; `None` when it had nothing to preview.
#[cfg(feature = "hydrate")]
fn preview_of(
    answer: Result<Option<crate::strategies::PreviewedSignals>, crate::error::AppError>,
) -> Option<Result<(PreviewCandles, SignalBars), String>> {
    Some(match answer {
        Ok(None) => return None,
        Ok(Some(answer)) if answer.candles.candles.is_empty() => Err(format!(
            "No candles are stored for {} {}: import some on the Market data page.",
            answer.candles.pair, answer.candles.timeframe
        )),
        Ok(Some(answer)) => answer
            .signals
            .map(|bars| (answer.candles, bars))
            .map_err(|error| format!("The preview cannot run this strategy: {error}.")),
        Err(error) => Err(format!("The candles could not be loaded: {error}")),
    })
}

#[component]
fn PreviewChart(fetched: PreviewCandles, bars: SignalBars, stale: Signal<bool>) -> impl IntoView {
    let shown = fetched.candles.len() - bars.first_bar;
    let whose = if fetched.own {
        "your upload"
    } else {
        "shared data"
    };
    let mut lines = vec![condition_line("Entry", "entry", &bars.entry, shown)];
    lines.push(condition_line("Exit", "exit", &bars.exit, shown));
    if let Some(stop) = &bars.stop {
        lines.push(condition_line("Stop", "stop", stop, shown));
    }
    view! {
        <div class="preview-body" class:stale=move || stale.get()>
            <p class="meta">{format!("{} {} · last {shown} bars · {whose}", fetched.pair, fetched.timeframe)}</p>
            {chart(&fetched.candles, &bars)}
            <ul class="signal-counts">
                {lines.into_iter().map(|(kind, count, warning)| view! {
                    <li class=format!("signal-{kind}")>
                        <span class="signal-key" aria-hidden="true"></span>
                        {count}
                        {warning.map(|warning| view! { <span class="signal-warning" role="note">{warning}</span> })}
                    </li>
                }).collect_view()}
            </ul>
        </div>
    }
}

/// "Entry true on 12 of 300 bars", and a warning when it never or always fires.
fn condition_line(
    label: &str,
    kind: &'static str,
    condition: &ConditionBars,
    shown: usize,
) -> (&'static str, String, Option<String>) {
    let checked = condition.checked_bars();
    let count = if condition.reads_position {
        format!(
            "{label} true on {} of {checked} bars with an open trade",
            condition.fired()
        )
    } else {
        format!("{label} true on {} of {shown} bars", condition.fired())
    };
    let warning = match condition.firing() {
        Firing::Never => Some(format!(
            "{label} never fires on these bars{}.",
            if kind == "entry" {
                ": no trade would open"
            } else {
                ""
            }
        )),
        Firing::Always => Some(format!("{label} fires on every bar.")),
        Firing::Unchecked => Some(format!(
            "{label} reads the open position, and no trade is open on these bars."
        )),
        Firing::Sometimes => None,
    };
    (kind, count, warning)
}

/// The candles and the signal marks as one SVG, a few paths in all (each mark kind is one
/// path), so a redraw is cheap.
fn chart(candles: &Candles, bars: &SignalBars) -> impl IntoView {
    let range = bars.first_bar..candles.len();
    let count = range.len().max(1) as f64;
    let low = candles.low[range.clone()]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let high = candles.high[range.clone()]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let span = if high > low { high - low } else { 1.0 };
    let y = |price: f64| MARGIN + (high - price) / span * (HEIGHT - 2.0 * MARGIN);
    let step = WIDTH / count;
    let half = (step * 0.35).max(0.4);
    let (mut rising, mut falling) = (String::new(), String::new());
    let (mut entries, mut exits, mut stops) = (String::new(), String::new(), String::new());
    // A faint band across the chart on each bar where entry or exit holds, so that a mark is
    // found at a glance.
    let (mut entry_bands, mut exit_bands) = (String::new(), String::new());
    let mark = 6.0;
    for (index, bar) in range.enumerate() {
        let x = step * (index as f64 + 0.5);
        let (open, close) = (candles.open[bar], candles.close[bar]);
        let path = if close >= open {
            &mut rising
        } else {
            &mut falling
        };
        let (top, bottom) = (y(open.max(close)), y(open.min(close)));
        path.push_str(&format!(
            "M{x:.1} {:.1}V{:.1}M{:.1} {top:.1}H{:.1}V{:.1}H{:.1}Z",
            y(candles.high[bar]),
            y(candles.low[bar]),
            x - half,
            x + half,
            bottom.max(top + 0.6),
            x - half,
        ));
        let under = y(candles.low[bar]) + 3.0;
        let over = y(candles.high[bar]) - 3.0;
        let band = format!("M{x:.1} 0V{HEIGHT}");
        if bars.entry.fires[index] {
            entry_bands.push_str(&band);
            entries.push_str(&format!(
                "M{x:.1} {under:.1}l{mark:.1} {:.1}h{:.1}Z",
                mark * 1.6,
                -2.0 * mark
            ));
        }
        if bars.exit.fires[index] {
            exit_bands.push_str(&band);
            exits.push_str(&format!(
                "M{x:.1} {over:.1}l{mark:.1} {:.1}h{:.1}Z",
                -mark * 1.6,
                -2.0 * mark
            ));
        }
        if bars.stop.as_ref().is_some_and(|stop| stop.fires[index]) {
            let top = over - mark * 2.0;
            stops.push_str(&format!(
                "M{:.1} {:.1}l{:.1} {:.1}m0 {:.1}l{:.1} {:.1}",
                x - mark,
                top - mark,
                2.0 * mark,
                2.0 * mark,
                -2.0 * mark,
                -2.0 * mark,
                2.0 * mark
            ));
        }
    }
    let label = format!(
        "Price chart of the last {} bars, from {:.2} to {:.2}, with the bars where conditions hold marked",
        count, low, high
    );
    view! {
        <svg class="signal-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label>
            <path class="band-entry" d=entry_bands stroke-width=step.max(1.0) />
            <path class="band-exit" d=exit_bands stroke-width=step.max(1.0) />
            <path class="candle-rising" d=rising />
            <path class="candle-falling" d=falling />
            <path class="mark-entry" d=entries />
            <path class="mark-exit" d=exits />
            <path class="mark-stop" d=stops />
        </svg>
    }
}
