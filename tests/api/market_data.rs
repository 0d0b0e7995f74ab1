//! Market data in the app: uploads through the real route as a browser posts them, their
//! reports, and whose bars a trader reads.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trading_strategy::accounts::UserId;
use trading_strategy::language::model::Timeframe;
use trading_strategy::market_data::ssr::candle_store::{candles_for, read_candles, Series};
use trading_strategy::market_data::ssr::sample_data::load_sample_data_if_empty;

use crate::harness::{spawn_app, unique_email, Browser, TestApp};

const BOUNDARY: &str = "----market-data-test-boundary";

/// The upload form's multipart post, as a browser without JavaScript sends it.
async fn upload(browser: &Browser, pair: &str, timeframe: &str, csv: &str) -> reqwest::Response {
    upload_accepting("text/html", browser, pair, timeframe, csv).await
}

/// The same post with its `Accept` header: the hydrated page asks for JSON.
async fn upload_accepting(
    accept: &str,
    browser: &Browser,
    pair: &str,
    timeframe: &str,
    csv: &str,
) -> reqwest::Response {
    upload_file(
        browser,
        accept,
        pair,
        timeframe,
        "candles.csv",
        csv.as_bytes(),
    )
    .await
}

/// The upload form's multipart post of `file` named `file_name`, as a browser sends it, with
/// its `Accept` header (`text/html` for a plain form post, JSON for the hydrated page).
pub async fn upload_file(
    browser: &Browser,
    accept: &str,
    pair: &str,
    timeframe: &str,
    file_name: &str,
    file: &[u8],
) -> reqwest::Response {
    let mut body = Vec::with_capacity(file.len() + 512);
    for (name, value) in [("pair", pair), ("timeframe", timeframe)] {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    browser
        .client
        .post(format!("{}/market-data/import", browser.base))
        .header("accept", accept)
        .header("origin", &browser.base)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("the app answers")
}

/// Uploads, expects the 303 to the page with the report and returns the page's data for it.
async fn upload_and_report(browser: &Browser, pair: &str, timeframe: &str, csv: &str) -> Value {
    let response = upload(browser, pair, timeframe, csv).await;
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let id = location
        .strip_prefix("/market-data?import=")
        .unwrap_or_else(|| panic!("redirected to {location}"));
    finished_report(browser, id).await
}

/// The report of import `id` once its job has ended (an upload is imported in the
/// background; its report says 'importing' until then).
async fn finished_report(browser: &Browser, id: &str) -> Value {
    for _ in 0..200 {
        let overview = overview(browser, Some(id)).await;
        assert!(overview["report"].is_object(), "{overview}");
        if overview["report"]["importing"] != true {
            return overview["report"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import {id} did not end within 10 seconds")
}

async fn overview(browser: &Browser, import: Option<&str>) -> Value {
    let fields: Vec<(&str, &str)> = import.map(|id| ("import", id)).into_iter().collect();
    let response = browser.call("/api/market-data/overview", &fields).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    response.json().await.unwrap()
}

fn own_series(overview: &Value) -> Vec<(String, String, i64)> {
    overview["series"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|series| series["own"] == true)
        .map(|series| {
            (
                series["pair"].as_str().unwrap().to_string(),
                series["timeframe"].as_str().unwrap().to_string(),
                series["bars"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn signed_up(app: &TestApp) -> Browser {
    app.trader(&unique_email()).await
}

const FIVE_ROWS_TWO_BAD: &str = "date,open,high,low,close,volume\n\
    2024-01-01,10,12,9,11,100\n\
    2024-01-02,11,9,13,12,200\n\
    2024-01-03,11,13,10,12,200\n\
    2024-01-01,10,12,9,11,100\n\
    2024-01-05,11,13,10,12,200\n";

#[tokio::test]
async fn an_upload_imports_the_good_rows_and_reports_each_rejected_row_with_its_line() {
    let app = spawn_app().await;
    let browser = signed_up(&app).await;
    let report = upload_and_report(&browser, "BTC/USD", "1d", FIVE_ROWS_TWO_BAD).await;
    assert_eq!(report["imported"], 3, "{report}");
    assert_eq!(report["skipped_as_duplicates"], 0, "{report}");
    assert_eq!(report["rejected"], 2, "{report}");
    assert_eq!(report["first_rejections"][0]["line"], 3);
    assert_eq!(
        report["first_rejections"][0]["reason"],
        "the high 9 is below the low 13"
    );
    assert_eq!(report["first_rejections"][1]["line"], 5);
    assert_eq!(report["file_name"], "candles.csv");
    let listed = overview(&browser, None).await;
    assert_eq!(
        own_series(&listed),
        vec![("BTC/USD".to_string(), "1d".to_string(), 3)]
    );
}

#[tokio::test]
async fn the_page_sending_an_upload_itself_is_told_where_the_report_is_and_an_error_comes_as_the_error(
) {
    let app = spawn_app().await;
    let browser = signed_up(&app).await;
    let json = "application/json";
    let response = upload_accepting(json, &browser, "BTC/USD", "1d", FIVE_ROWS_TWO_BAD).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let to = answer["to"].as_str().expect("where to go");
    let id = to.strip_prefix("/market-data?import=").expect(to);
    assert_eq!(finished_report(&browser, id).await["imported"], 3);

    let signed_out = upload_accepting(json, &app.browser(), "BTC/USD", "1d", "").await;
    assert_eq!(signed_out.status(), 401);
    assert_eq!(
        signed_out.json::<Value>().await.unwrap()["kind"],
        "unauthenticated"
    );
}

#[tokio::test]
async fn a_re_upload_skips_the_rows_already_stored() {
    let app = spawn_app().await;
    let browser = signed_up(&app).await;
    upload_and_report(&browser, "ETH/USD", "1h", FIVE_ROWS_TWO_BAD).await;
    let again = format!("{FIVE_ROWS_TWO_BAD}2024-01-06,11,13,10,12,200\n");
    let report = upload_and_report(&browser, "ETH/USD", "1h", &again).await;
    assert_eq!(report["imported"], 1, "{report}");
    assert_eq!(report["skipped_as_duplicates"], 3, "{report}");
    assert_eq!(report["rejected"], 2, "{report}");
}

#[tokio::test]
async fn a_file_without_a_usable_header_or_a_bad_pair_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let browser = signed_up(&app).await;
    let report = upload_and_report(&browser, "BTC/USD", "1d", "time,open,high\n1,2,3\n").await;
    assert_eq!(report["imported"], 0);
    let refusal = report["refusal"].as_str().unwrap();
    assert!(refusal.contains("no `low` column"), "{refusal}");
    let report = upload_and_report(&browser, "btc/usd", "1d", FIVE_ROWS_TWO_BAD).await;
    let refusal = report["refusal"].as_str().unwrap();
    assert!(refusal.contains("`BTC/USD`"), "{refusal}");
    assert!(own_series(&overview(&browser, None).await).is_empty());
}

#[tokio::test]
async fn a_nul_character_in_any_field_or_row_is_reported_not_a_server_error() {
    // Postgres text cannot hold U+0000; wapiti's time-based SQL module sent it in the pair.
    let app = spawn_app().await;
    let browser = signed_up(&app).await;
    let report = upload_and_report(&browser, "BTC\0/USD", "1d\0", FIVE_ROWS_TWO_BAD).await;
    assert_eq!(report["imported"], 0);
    let refusal = report["refusal"].as_str().unwrap();
    assert!(refusal.starts_with("The pair: "), "{refusal}");
    assert!(!refusal.contains('\0'), "{refusal}");
    let with_nul_in_a_row = "time,open,high,low,close,volume\n\
        2024-01-01,1,2,1,1.5,10\n\
        2024-01-02,1\0,2,1,1.5,10\n";
    let report = upload_and_report(&browser, "BTC/USD", "1d", with_nul_in_a_row).await;
    assert_eq!(report["imported"], 1, "{report}");
    assert_eq!(report["rejected"], 1, "{report}");
    let reason = report["first_rejections"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("is not a number"), "{reason}");
}

#[tokio::test]
async fn another_traders_upload_is_neither_listed_nor_read_for_me() {
    let app = spawn_app().await;
    load_sample_data_if_empty(&app.pool).await.unwrap();
    let (alice_email, bob_email) = (unique_email(), unique_email());
    let alice = app.trader(&alice_email).await;
    let bob = app.trader(&bob_email).await;
    // Alice uploads her own GOOG/USD 1d, a series the shared sample data also has.
    let report = upload_and_report(
        &alice,
        "GOOG/USD",
        "1d",
        "date,open,high,low,close\n2030-01-01,1,2,1,1\n2030-01-02,1,2,1,1\n",
    )
    .await;
    assert_eq!(report["imported"], 2);
    let report_id = report["id"].as_str().unwrap().to_string();

    assert!(own_series(&overview(&bob, None).await).is_empty());
    assert!(overview(&bob, Some(&report_id)).await["report"].is_null());

    let goog = Series {
        pair: "GOOG/USD".to_string(),
        timeframe: Timeframe::OneDay,
    };
    let alice_id = app.user_id(&alice_email).await;
    let bob_id = app.user_id(&bob_email).await;
    let for_alice = candles_for(&app.pool, UserId(alice_id), &goog, None, None)
        .await
        .unwrap();
    let for_bob = candles_for(&app.pool, UserId(bob_id), &goog, None, None)
        .await
        .unwrap();
    let shared = read_candles(&app.pool, &goog, None, None).await.unwrap();
    assert_eq!(for_alice.len(), 2, "Alice reads her own upload");
    assert_eq!(for_bob, shared, "Bob reads the shared sample data");
    assert!(shared.len() > 2000);

    // The editor's signal preview reads the same choice, through its server function.
    let alice_recent = recent_goog(&alice).await;
    assert_eq!(alice_recent["own"], true);
    assert_eq!(alice_recent["candles"]["time"].as_array().unwrap().len(), 2);
    let bob_recent = recent_goog(&bob).await;
    assert_eq!(bob_recent["own"], false);
    assert_eq!(
        bob_recent["candles"]["time"].as_array().unwrap().len(),
        1000
    );
}

async fn recent_goog(browser: &Browser) -> Value {
    let response = browser
        .call(
            "/api/market-data/recent",
            &[("pair", "GOOG/USD"), ("timeframe", "1d")],
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_upload_needs_a_signed_in_trader() {
    let app = spawn_app().await;
    let response = upload(&app.browser(), "BTC/USD", "1d", FIVE_ROWS_TWO_BAD).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        app.count("SELECT count(*) FROM candles WHERE owner IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_file_over_the_upload_limit_is_refused_with_a_sentence_before_it_is_sent() {
    let app = spawn_app().await;
    // A request that announces 200 MiB and sends none of it: the answer comes first.
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let request = format!(
        "POST /market-data/import HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nAccept: text/html\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        app.address,
        app.origin(),
        200 * 1024 * 1024
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let read = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("the upload limit is 100 MiB"), "{answer}");
    // Elsewhere the usual limit stays.
    let response = app
        .browser()
        .post_form(
            "/users/log-in",
            &[("user[email]", &"x".repeat(2 * 1024 * 1024))],
        )
        .await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn deleting_an_account_removes_the_bars_it_uploaded() {
    let app = spawn_app().await;
    let email = unique_email();
    let browser = app.trader(&email).await;
    upload_and_report(&browser, "BTC/USD", "1d", FIVE_ROWS_TWO_BAD).await;
    let uploaded = "SELECT count(*) FROM candles WHERE owner IS NOT NULL";
    assert_eq!(app.count(uploaded).await, 3);
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(app.user_id(&email).await)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.count(uploaded).await, 0);
}
