//! Requests: a made-up method cannot create metric series or long log lines, styles need the
//! nonce, out-of-range dates are field errors, and an account that never confirmed its email
//! may not spend the server's storage or CPU on uploads and backtests.

use serde_json::Value;

use crate::harness::{spawn_app, spawn_app_with, unique_email};
use crate::strategies::Trader;

#[tokio::test]
async fn a_made_up_method_is_counted_as_other_and_creates_no_metric_series() {
    let app = spawn_app_with(&[("METRICS_TOKEN", crate::metrics::TOKEN)]).await;
    let method = format!("{}Q1", "X".repeat(4000));
    let response = app
        .client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            app.url("/health"),
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let exposition = crate::metrics::scrape(&app.client, &app.url("/metrics")).await;
    assert!(
        !exposition.contains("XXXXXXXX"),
        "the method became a label"
    );
    assert!(
        exposition.lines().any(
            |line| line.starts_with("trading_strategy_http_requests_total")
                && line.contains("method=\"OTHER\"")
        ),
        "{exposition}"
    );
}

#[tokio::test]
async fn styles_need_this_response_s_nonce_and_nothing_inline_is_allowed() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let style = policy
        .split(';')
        .map(str::trim)
        .find(|directive| directive.starts_with("style-src"))
        .unwrap();
    assert!(!style.contains("unsafe-inline"), "{policy}");
    assert!(style.contains("'nonce-"), "{policy}");
    let page = response.text().await.unwrap();
    assert!(
        !page.contains(" style=\""),
        "an inline style attribute on the page"
    );
}

#[tokio::test]
async fn a_backtest_from_the_year_minus_5000_is_a_field_error_not_a_server_error() {
    let app = spawn_app().await;
    trading_strategy::market_data::ssr::sample_data::load_sample_data_if_empty(&app.pool)
        .await
        .unwrap();
    let trader = Trader::new(&app).await;
    let id = trader.create("Ancient").await;
    let response = trader
        .start_backtest(&id, "-5000-01-01", "2020-12-31")
        .await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["fields"][0]["field"], "from");
    assert_eq!(
        error["fields"][0]["message"],
        "Choose a day in the years 1900 to 2199."
    );
}

#[tokio::test]
async fn an_unconfirmed_account_is_told_to_confirm_before_uploading_or_backtesting() {
    let app = spawn_app().await;
    trading_strategy::market_data::ssr::sample_data::load_sample_data_if_empty(&app.pool)
        .await
        .unwrap();
    let browser = app.signed_up(&unique_email()).await;
    let trader = Trader { browser };
    let id = trader.create("Unconfirmed").await;
    let backtest = trader.start_backtest(&id, "2020-01-01", "2020-12-31").await;
    assert_eq!(backtest.status(), 403);
    let error: Value = backtest.json().await.unwrap();
    assert_eq!(
        error["message"],
        "Confirm your email address to run backtests: open the link we mailed you, or ask for a new one at /users/confirm."
    );
    let upload = super::uploads::upload(
        &trader.browser,
        "application/json",
        "BTC/USD",
        "1d",
        "time,open,high,low,close\n",
    )
    .await;
    assert_eq!(upload.status(), 403);
    let error: Value = upload.json().await.unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Confirm your email address to upload market data"),
        "{error}"
    );
    assert_eq!(app.count("SELECT count(*) FROM backtest_runs").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM candle_imports").await, 0);
}
