//! `/market-data`: the series a trader can backtest on (the shared sample data and the trader's
//! own uploads), the report of the last upload (`?import=<id>`), and the upload form. The form
//! is a plain multipart post, so it works without JavaScript; after hydration it previews the
//! first rows of the chosen file in the browser (the import's own reader, compiled to WASM),
//! refuses a file over the limit before sending it and says while the import runs.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use super::{
    market_data, too_large_sentence, ImportReport, MarketDataOverview, StoredSeries, IMPORT_PATH,
    MAX_UPLOAD_BYTES, SHOWN_REJECTIONS,
};
use crate::{
    backtests::{candles::format_time, CandleImport},
    error::AppError,
    language::model::Timeframe,
};

#[component]
pub fn MarketDataPage() -> impl IntoView {
    let query = use_query_map();
    let import = Memo::new(move |_| {
        query
            .read()
            .get("import")
            .and_then(|id| Uuid::parse_str(&id).ok())
    });
    let overview = Resource::new(move || import.get(), market_data);
    view! {
        <Title text="Market data" />
        <section class="market-data">
            <header class="page-header">
                <div>
                    <h1>"Market data"</h1>
                    <p class="meta">"The candles your backtests and the editor's signal preview read. Your uploads are yours alone: for a pair and timeframe you uploaded, your bars are used instead of the shared sample data."</p>
                </div>
            </header>
            <Suspense fallback=|| view! { <p class="loading">"Loading the stored series…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(MarketDataOverview { series, report }) => view! {
                            {report.map(|report| view! { <ImportReportPanel report /> })}
                            <SeriesTable series />
                        }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })}
            </Suspense>
            <UploadForm />
        </section>
    }
}

#[component]
fn LoadError(error: AppError) -> impl IntoView {
    view! { <p class="notice bad" role="alert">{format!("The market data could not be loaded: {error}")}</p> }
}

/// What the last upload did: counts, the first rejected rows with line and reason, or why the
/// whole file was refused.
#[component]
fn ImportReportPanel(report: ImportReport) -> impl IntoView {
    let title = format!(
        "{} into {} {}",
        report.file_name, report.pair, report.timeframe
    );
    if let Some(refusal) = report.refusal {
        return view! {
            <section class="import-report notice bad" role="alert" aria-label="Import report">
                <h2>"Nothing imported from " {title}</h2>
                <p>{refusal}</p>
            </section>
        }
        .into_any();
    }
    let more = report.rejected - report.first_rejections.len() as i64;
    let tone = if report.rejected > 0 { "warn" } else { "good" };
    view! {
        <section class=format!("import-report notice {tone}") role="status" aria-label="Import report">
            <h2>"Imported " {title}</h2>
            <dl class="report-counts">
                <div><dt>"Imported"</dt><dd data-testid="imported">{report.imported}</dd></div>
                <div><dt>"Skipped as duplicates"</dt><dd data-testid="duplicates">{report.skipped_as_duplicates}</dd></div>
                <div><dt>"Rejected"</dt><dd data-testid="rejected">{report.rejected}</dd></div>
            </dl>
            {(report.skipped_as_duplicates > 0).then(|| view! {
                <p class="hint">"Skipped rows have a time this series already had; the stored bar was kept."</p>
            })}
            {(!report.first_rejections.is_empty()).then(|| view! {
                <h3>{if more > 0 { format!("The first {SHOWN_REJECTIONS} rejected rows") } else { "Rejected rows".to_string() }}</h3>
                <ul class="rejections">
                    {report.first_rejections.into_iter().map(|row| view! {
                        <li><span class="position">{format!("line {}", row.line)}</span>": " {row.reason}</li>
                    }).collect_view()}
                </ul>
                {(more > 0).then(|| view! { <p class="hint">{format!("… and {more} more rejected rows.")}</p> })}
            })}
        </section>
    }
    .into_any()
}

#[component]
fn SeriesTable(series: Vec<StoredSeries>) -> impl IntoView {
    if series.is_empty() {
        return view! {
            <div class="empty-state">
                <h2>"No market data yet"</h2>
                <p>"Upload a CSV of candles below to backtest on it."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <table class="strategy-table series-table">
            <caption>"Stored series"</caption>
            <thead>
                <tr>
                    <th scope="col">"Pair"</th>
                    <th scope="col">"Timeframe"</th>
                    <th scope="col">"Whose"</th>
                    <th scope="col">"First bar"</th>
                    <th scope="col">"Last bar"</th>
                    <th scope="col" class="number">"Bars"</th>
                    <th scope="col">"Source"</th>
                </tr>
            </thead>
            <tbody>
                {series.into_iter().map(|row| view! {
                    <tr>
                        <th scope="row">{row.pair}</th>
                        <td>{row.timeframe}</td>
                        <td>{if row.own { view! { <span class="status-badge status-active">"Yours"</span> }.into_any() } else { view! { <span class="status-badge status-draft">"Shared"</span> }.into_any() }}</td>
                        <td>{format_time(row.first_time)}</td>
                        <td>{format_time(row.last_time)}</td>
                        <td class="number">{row.bars}</td>
                        <td class="source">{row.sources}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// What the form knows about the chosen file, after hydration.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum ChosenFile {
    None,
    TooLarge,
    Unreadable(String),
    Preview { size: f64, rows: CandleImport },
}

#[component]
fn UploadForm() -> impl IntoView {
    let chosen = RwSignal::new(ChosenFile::None);
    let importing = RwSignal::new(false);
    let on_file = move |event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        read_chosen_file(event, chosen);
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        if chosen.get_untracked() == ChosenFile::TooLarge {
            event.prevent_default();
            return;
        }
        importing.set(true);
    };
    view! {
        <section class="panel upload" aria-labelledby="upload-heading">
            <h2 id="upload-heading">"Import a CSV of candles"</h2>
            <p class="hint">"A header naming time (or date), open, high, low, close and, optionally, volume, in any case and order; times as ISO dates, Unix seconds or milliseconds. Rows with a high below the low, a price that is not positive or a repeated time are rejected with their line. "
                {format!("Up to {} MiB.", MAX_UPLOAD_BYTES / (1024 * 1024))}</p>
            <form class="upload-form" method="post" action=IMPORT_PATH enctype="multipart/form-data" on:submit=on_submit>
                <div class="field">
                    <label for="upload-pair">"Pair"</label>
                    <input id="upload-pair" name="pair" type="text" required placeholder="BTC/USD" pattern="[A-Z0-9]{1,12}/[A-Z0-9]{1,12}" title="BASE/QUOTE in capitals, e.g. BTC/USD" />
                </div>
                <div class="field">
                    <label for="upload-timeframe">"Timeframe"</label>
                    <select id="upload-timeframe" name="timeframe">
                        {Timeframe::ALL.into_iter().map(|timeframe| view! {
                            <option value=timeframe.name() selected=timeframe == Timeframe::OneDay>{timeframe.name()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field file-field">
                    <label for="upload-file">"CSV file"</label>
                    <input id="upload-file" name="file" type="file" required accept=".csv,text/csv,text/plain" on:change=on_file />
                </div>
                <button type="submit" class="primary" disabled=move || importing.get() || chosen.get() == ChosenFile::TooLarge>
                    {move || if importing.get() { "Importing…" } else { "Import" }}
                </button>
            </form>
            {move || importing.get().then(|| view! {
                <p class="notice" role="status">"Uploading and importing… a million rows take a few seconds."</p>
            })}
            {move || match chosen.get() {
                ChosenFile::None => ().into_any(),
                ChosenFile::TooLarge => view! { <p class="notice bad" role="alert">{too_large_sentence()}</p> }.into_any(),
                ChosenFile::Unreadable(reason) => view! {
                    <p class="notice bad" role="alert">{format!("This file cannot be imported: {reason}")}</p>
                }.into_any(),
                ChosenFile::Preview { size, rows } => view! { <FilePreview size rows /> }.into_any(),
            }}
        </section>
    }
}

/// The first rows of the chosen file as the import will read them.
#[component]
fn FilePreview(size: f64, rows: CandleImport) -> impl IntoView {
    let shown = rows.candles.len();
    view! {
        <section class="file-preview" aria-label="Preview">
            <h3>{format!("Preview: the first {shown} rows of {}", file_size(size))}</h3>
            <table class="indicator-table preview-table">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col" class="number">"Open"</th>
                        <th scope="col" class="number">"High"</th>
                        <th scope="col" class="number">"Low"</th>
                        <th scope="col" class="number">"Close"</th>
                        <th scope="col" class="number">"Volume"</th>
                    </tr>
                </thead>
                <tbody>
                    {(0..shown).map(|bar| {
                        let candle = rows.candles.candle(bar);
                        view! {
                            <tr>
                                <td>{format_time(candle.time)}</td>
                                <td class="number">{candle.open}</td>
                                <td class="number">{candle.high}</td>
                                <td class="number">{candle.low}</td>
                                <td class="number">{candle.close}</td>
                                <td class="number">{candle.volume}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {(!rows.rejected.is_empty()).then(|| view! {
                <ul class="rejections">
                    {rows.rejected.into_iter().map(|row| view! {
                        <li><span class="position">{format!("line {}", row.line)}</span>": will be rejected: " {row.reason}</li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

/// "12.4 MiB", "830 KiB", "512 bytes".
fn file_size(bytes: f64) -> String {
    const KIB: f64 = 1024.0;
    if bytes >= KIB * KIB {
        format!("{:.1} MiB", bytes / (KIB * KIB))
    } else if bytes >= KIB {
        format!("{:.0} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads the first 64 KiB of the chosen file and previews its first rows.
#[cfg(feature = "hydrate")]
fn read_chosen_file(event: leptos::ev::Event, chosen: RwSignal<ChosenFile>) {
    use wasm_bindgen::JsCast;
    const PREVIEW_BYTES: f64 = 64.0 * 1024.0;
    let Some(input) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let Some(file) = input.files().and_then(|files| files.get(0)) else {
        chosen.set(ChosenFile::None);
        return;
    };
    let size = file.size();
    if size > MAX_UPLOAD_BYTES as f64 {
        chosen.set(ChosenFile::TooLarge);
        return;
    }
    let Ok(beginning) = file.slice_with_f64_and_f64(0.0, PREVIEW_BYTES) else {
        return;
    };
    leptos::task::spawn_local(async move {
        let text = wasm_bindgen_futures::JsFuture::from(beginning.text())
            .await
            .ok()
            .and_then(|text| text.as_string());
        chosen.set(match text {
            None => ChosenFile::Unreadable("it is not a text file".to_string()),
            Some(text) => {
                match super::preview_rows(&text, super::PREVIEW_ROWS, size <= PREVIEW_BYTES) {
                    Ok(rows) => ChosenFile::Preview { size, rows },
                    Err(error) => ChosenFile::Unreadable(error.to_string()),
                }
            }
        });
    });
}
