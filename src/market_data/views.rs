//! `/market-data`: the series a trader can backtest on (the shared sample data and the trader's
//! own uploads), the report of the last upload (`?import=<id>`), and the upload form. The form
//! is a plain multipart post, so it works without JavaScript; after hydration it previews the
//! first rows of the chosen file in the browser (the import's own reader, compiled to WASM),
//! refuses a file over the limit before sending it, and sends the form itself to show the
//! upload's progress (with Cancel) and then that the import runs; a failed upload says why
//! and keeps the form and the chosen file.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::web::islands::{enter_island, page_title};
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use super::{
    market_data, too_large_sentence, ImportReport, MarketDataOverview, StoredSeries, IMPORT_PATH,
    MAX_UPLOAD_BYTES, SHOWN_REJECTIONS,
};
use crate::{
    backtests::{candles::format_unix_time, CandleImport},
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
        <Title text=page_title("Market data") />
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
    if report.importing {
        return view! { <ImportProgress id=report.id title percent=report.percent_read() imported=report.imported /> }
            .into_any();
    }
    if let Some(refusal) = report.refusal.clone().filter(|_| report.imported == 0) {
        return view! {
            <section class="import-report notice bad" role="alert" aria-label="Import report">
                <h2>"Nothing imported from " {title}</h2>
                <p>{refusal}</p>
            </section>
        }
        .into_any();
    }
    let stopped = report.refusal.clone();
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
            {stopped.map(|stopped| view! { <p role="alert">{stopped}</p> })}
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

/// An import still running: how much of the file is read and how many rows are stored so far,
/// asked again every second; once it has ended the page loads again with its report.
// No `cfg_attr` on an island: its name is made from its tokens after they are configured,
// and would then differ between the server's build and the browser's.
#[island(lazy)]
fn ImportProgress(id: Uuid, title: String, percent: i64, imported: i64) -> impl IntoView {
    enter_island();
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
    let progress = RwSignal::new((percent, imported));
    #[cfg(feature = "hydrate")]
    if let Ok(handle) = set_interval_with_handle(
        move || {
            leptos::task::spawn_local(async move {
                match super::follow_import(id).await {
                    Ok(report) if report.importing => {
                        progress.set((report.percent_read(), report.imported))
                    }
                    Ok(_) => {
                        let _ = window().location().reload();
                    }
                    Err(_) => {}
                }
            });
        },
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <section class="import-report notice" role="status" aria-label="Import report">
            <h2>"Importing " {title}</h2>
            <progress max="100" value=move || progress.get().0.to_string() aria-label="Import progress">
                {move || format!("{}%", progress.get().0)}
            </progress>
            <p>{move || {
                let (percent, imported) = progress.get();
                format!("{percent}% of the file read, {imported} rows stored so far. You can leave this page: the import goes on.")
            }}</p>
            // Without JavaScript nothing follows the job: the page reloads itself until the
            // report is there (with JavaScript the island above follows it instead).
            <noscript>
                <meta http-equiv="refresh" content="2" />
                <p>"This page reloads itself every 2 seconds until the import is done."</p>
            </noscript>
        </section>
    }
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
                        <td>{format_unix_time(row.first_time)}</td>
                        <td>{format_unix_time(row.last_time)}</td>
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

/// Where a file sent by the hydrated page is. Without JavaScript the form is a plain post and
/// the browser shows its own progress.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Sending {
    Idle,
    /// Bytes sent of the whole request.
    Uploading {
        sent: f64,
        total: f64,
    },
    /// All sent; the server is reading and storing the rows.
    Importing,
    Cancelled,
    /// Why the upload did not complete; the form and the chosen file are still there.
    Failed(String),
}

/// The upload form, hydrated as an island (the rest of the page is the server's).
#[island(lazy)]
fn UploadForm() -> impl IntoView {
    enter_island();
    let chosen = RwSignal::new(ChosenFile::None);
    let sending = RwSignal::new(Sending::Idle);
    #[cfg(feature = "hydrate")]
    let upload = StoredValue::new_local(None::<ProgressUpload>);
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
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let form = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok());
            // Sent with progress; where the browser cannot, the plain post goes ahead.
            if let Some(started) = form.and_then(|form| ProgressUpload::start(&form, sending)) {
                event.prevent_default();
                upload.set_value(Some(started));
                return;
            }
        }
        sending.set(Sending::Importing);
    };
    let cancel = move |_| {
        #[cfg(feature = "hydrate")]
        upload.with_value(|upload| {
            if let Some(upload) = upload {
                upload.cancel();
            }
        });
        sending.set(Sending::Cancelled);
    };
    let busy = move || {
        matches!(
            sending.get(),
            Sending::Uploading { .. } | Sending::Importing
        )
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
                <button type="submit" class="primary" disabled=move || busy() || chosen.get() == ChosenFile::TooLarge>
                    {move || match sending.get() {
                        Sending::Uploading { .. } => "Uploading…",
                        Sending::Importing => "Importing…",
                        _ => "Import",
                    }}
                </button>
            </form>
            {move || match sending.get() {
                Sending::Idle => ().into_any(),
                Sending::Uploading { sent, total } => {
                    let percent = if total > 0.0 { (sent / total * 100.0).floor() } else { 0.0 };
                    view! {
                        <div class="notice upload-progress" role="status">
                            <p>{format!("Uploading: {percent}% of {}", file_size(total))}</p>
                            <progress aria-label="Upload progress" max="100" value=percent.to_string()>{format!("{percent}%")}</progress>
                            <button type="button" on:click=cancel>"Cancel upload"</button>
                        </div>
                    }.into_any()
                }
                Sending::Importing => view! {
                    <p class="notice" role="status">"Uploaded. Importing… a million rows take a few seconds."</p>
                }.into_any(),
                Sending::Cancelled => view! {
                    <p class="notice warn" role="status">"Upload cancelled: nothing was imported. Your file is still chosen."</p>
                }.into_any(),
                Sending::Failed(reason) => view! {
                    <p class="notice bad" role="alert">{format!("The upload did not complete: {reason} Your file is still chosen: import it again when you are ready.")}</p>
                }.into_any(),
            }}
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
                                <td>{format_unix_time(candle.time)}</td>
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

/// The form sent by `XMLHttpRequest`, the one browser API that reports how much of a request
/// body has gone. The server answers this request with where to go (`Navigation`) instead of
/// a redirect, so the report page is loaded once, by the browser itself.
#[cfg(feature = "hydrate")]
struct ProgressUpload {
    request: web_sys::XmlHttpRequest,
    /// Kept alive as long as the request can call them.
    _listeners: Vec<wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>>,
}

#[cfg(feature = "hydrate")]
impl ProgressUpload {
    fn start(form: &web_sys::HtmlFormElement, sending: RwSignal<Sending>) -> Option<Self> {
        use wasm_bindgen::{closure::Closure, JsCast};
        let data = web_sys::FormData::new_with_form(form).ok()?;
        let request = web_sys::XmlHttpRequest::new().ok()?;
        request.open("POST", IMPORT_PATH).ok()?;
        request
            .set_request_header("Accept", "application/json")
            .ok()?;
        let body = request.upload().ok()?;
        let listener = |handler: Box<dyn FnMut(web_sys::Event)>| Closure::wrap(handler);
        let progress = listener(Box::new(move |event: web_sys::Event| {
            if let Ok(event) = event.dyn_into::<web_sys::ProgressEvent>() {
                if event.length_computable() {
                    sending.set(Sending::Uploading {
                        sent: event.loaded(),
                        total: event.total(),
                    });
                }
            }
        }));
        let sent = listener(Box::new(move |_| {
            if sending.get_untracked() != Sending::Cancelled {
                sending.set(Sending::Importing);
            }
        }));
        let answered = request.clone();
        let loaded = listener(Box::new(move |_| {
            let status = answered.status().unwrap_or(0);
            let body = answered.response_text().ok().flatten().unwrap_or_default();
            match upload_answer(status, &body) {
                Ok(to) => {
                    let _ = window().location().set_href(&to);
                }
                Err(reason) => sending.set(Sending::Failed(reason)),
            }
        }));
        let lost = listener(Box::new(move |_| {
            sending.set(Sending::Failed(
                "the connection to the server was lost.".to_string(),
            ));
        }));
        body.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        body.set_onload(Some(sent.as_ref().unchecked_ref()));
        request.set_onload(Some(loaded.as_ref().unchecked_ref()));
        request.set_onerror(Some(lost.as_ref().unchecked_ref()));
        request.send_with_opt_form_data(Some(&data)).ok()?;
        sending.set(Sending::Uploading {
            sent: 0.0,
            total: 0.0,
        });
        Some(Self {
            request,
            _listeners: vec![progress, sent, loaded, lost],
        })
    }

    /// Stops the request while its body is still going: the server never sees a whole file,
    /// so nothing is imported.
    fn cancel(&self) {
        let _ = self.request.abort();
    }
}

/// Where to go after the server's answer to an upload, or why it failed, in a sentence.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn upload_answer(status: u16, body: &str) -> Result<String, String> {
    if (200..300).contains(&status) {
        return serde_json::from_str::<crate::web::Navigation>(body)
            .map(|navigation| navigation.to)
            .map_err(|_| "the server's answer could not be read.".to_string());
    }
    Err(match serde_json::from_str::<AppError>(body) {
        Ok(AppError::Validation { fields, .. }) if !fields.is_empty() => fields
            .iter()
            .map(|field| sentence(&field.message))
            .collect::<Vec<_>>()
            .join(" "),
        Ok(error) => sentence(&error.to_string()),
        Err(_) => format!("the server answered {status}."),
    })
}

/// `text` ending as a sentence does, so that another can follow it.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::upload_answer;

    #[test]
    fn an_accepted_upload_answers_where_its_report_is() {
        assert_eq!(
            upload_answer(200, r#"{"to":"/market-data?import=42"}"#),
            Ok("/market-data?import=42".to_string())
        );
    }

    #[test]
    fn a_refused_upload_says_why_in_sentences() {
        let refused = r#"{"kind":"validation","message":"Please correct the highlighted fields.","fields":[{"field":"pair","message":"Write the pair as BASE/QUOTE"},{"field":"file","message":"Choose a file."}]}"#;
        assert_eq!(
            upload_answer(422, refused),
            Err("Write the pair as BASE/QUOTE. Choose a file.".to_string())
        );
        assert_eq!(
            upload_answer(401, r#"{"kind":"unauthenticated"}"#),
            Err("Please log in to continue.".to_string())
        );
        assert_eq!(
            upload_answer(502, "<html>Bad gateway</html>"),
            Err("the server answered 502.".to_string())
        );
    }
}
