//! Uploads: the file goes to disk as it arrives and is imported by a background job in
//! batches, a file of rejected rows keeps only the first reasons, the file name is stored once,
//! and the account's candle quota stops an import with a sentence.

use serde_json::Value;

use crate::harness::{spawn_app, spawn_app_with, Browser};
use crate::strategies::Trader;

/// The upload form's post of `csv` as `hostile.csv`, with `accept`.
pub async fn upload(
    browser: &Browser,
    accept: &str,
    pair: &str,
    timeframe: &str,
    csv: &str,
) -> reqwest::Response {
    crate::market_data::upload_file(
        browser,
        accept,
        pair,
        timeframe,
        "hostile.csv",
        csv.as_bytes(),
    )
    .await
}

/// Uploads, then follows the report until its import has ended.
async fn imported(browser: &Browser, csv: &str) -> Value {
    let response = upload(browser, "application/json", "BTC/USD", "1m", csv).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let answer: Value = response.json().await.unwrap();
    let id = answer["to"]
        .as_str()
        .unwrap()
        .strip_prefix("/market-data?import=")
        .unwrap()
        .to_string();
    for _ in 0..600 {
        let report: Value = browser
            .call("/api/market-data/import-report", &[("id", &id)])
            .await
            .json()
            .await
            .unwrap();
        if report["importing"] != true {
            return report;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import did not end within a minute")
}

/// `rows` one-minute candles from 2024-01-01.
fn minute_candles(rows: usize) -> String {
    let mut csv = String::from("time,open,high,low,close,volume\n");
    for minute in 0..rows {
        csv.push_str(&format!("{},10,12,9,11,100\n", 1_704_067_200 + 60 * minute));
    }
    csv
}

#[tokio::test]
async fn a_file_of_a_million_bad_rows_keeps_the_first_hundred_reasons_and_counts_the_rest() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    // 2 MB of `1\n` rows: every reason used to be kept, about 40 times the file in memory.
    let csv = format!("time,open,high,low,close\n{}", "1\n".repeat(1_000_000));
    let report = imported(&trader.browser, &csv).await;
    assert_eq!(report["rejected"], 1_000_000, "{report}");
    assert_eq!(report["imported"], 0);
    assert_eq!(report["first_rejections"].as_array().unwrap().len(), 100);
    assert_eq!(report["first_rejections"][0]["line"], 2);
    let stored: i64 =
        sqlx::query_scalar("SELECT octet_length(first_rejections::text)::int8 FROM candle_imports")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(stored < 20_000, "{stored} bytes of reasons kept");
}

#[tokio::test]
async fn an_import_runs_in_batches_in_the_background_and_names_its_file_once() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let report = imported(&trader.browser, &minute_candles(25_000)).await;
    assert_eq!(report["imported"], 25_000, "{report}");
    assert_eq!(report["bytes_read"], report["bytes_total"]);
    assert_eq!(
        app.count("SELECT count(*) FROM candle_sources WHERE name = 'hostile.csv'")
            .await,
        1
    );
    // The series' rows point at the one source row.
    assert_eq!(
        app.count("SELECT count(DISTINCT source_id) FROM candles WHERE owner IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn a_line_longer_than_a_row_can_be_is_rejected_without_being_kept() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let csv = format!(
        "time,open,high,low,close\n{}\n2024-01-01,1,2,1,1\n",
        "9".repeat(5_000_000)
    );
    let report = imported(&trader.browser, &csv).await;
    assert_eq!(report["imported"], 1, "{report}");
    assert_eq!(
        report["first_rejections"][0]["reason"],
        "the row is longer than 1000 characters"
    );
}

#[tokio::test]
async fn a_time_of_9e18_is_a_rejected_row_not_a_server_error() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let report = imported(
        &trader.browser,
        "time,open,high,low,close\n9000000000000000000,1,2,1,1\n2024-01-01,1,2,1,1\n",
    )
    .await;
    assert_eq!(report["imported"], 1, "{report}");
    assert!(report["first_rejections"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("outside the years 1900 to 2199"));
}

#[tokio::test]
async fn the_candle_quota_stops_an_import_with_a_sentence_and_refuses_the_next() {
    let app = spawn_app_with(&[("QUOTA_CANDLE_ROWS", "15000")]).await;
    let trader = Trader::new(&app).await;
    let report = imported(&trader.browser, &minute_candles(25_000)).await;
    assert_eq!(report["imported"], 15_000, "{report}");
    assert!(report["refusal"]
        .as_str()
        .unwrap()
        .starts_with("Stopped at the quota"));
    let refused = imported(&trader.browser, &minute_candles(10)).await;
    assert_eq!(refused["imported"], 0);
    assert!(
        refused["refusal"]
            .as_str()
            .unwrap()
            .contains("the most one account may keep (15000)"),
        "{refused}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM candles WHERE owner IS NOT NULL")
            .await,
        15_000
    );
}

#[tokio::test]
async fn only_the_newest_import_reports_are_kept() {
    let app = spawn_app_with(&[("QUOTA_IMPORT_REPORTS", "2")]).await;
    let trader = Trader::new(&app).await;
    for _ in 0..4 {
        imported(&trader.browser, &minute_candles(3)).await;
    }
    assert_eq!(app.count("SELECT count(*) FROM candle_imports").await, 2);
}
