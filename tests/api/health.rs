use sqlx::postgres::PgPoolOptions;
use trading_strategy::server;

use crate::harness::{leptos_options, serve, spawn_app, test_settings};

#[tokio::test]
async fn health_says_ok_when_the_database_answers() {
    let app = spawn_app().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn health_answers_503_with_a_reason_when_the_database_is_unreachable() {
    // Nothing listens on port 1: every connection attempt fails at once.
    let unreachable = "postgres://postgres@127.0.0.1:1/nowhere";
    let pool = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(1))
        .connect_lazy(unreachable)
        .unwrap();
    let state = server::app_state(leptos_options(), pool, test_settings(unreachable, &[]));
    let address = serve(state).await;
    let response = reqwest::get(format!("http://{address}/health"))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "error");
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.contains("database"), "reason: {reason}");
    assert!(
        !reason.contains("postgres://"),
        "the reason must not leak the URL: {reason}"
    );
}

#[tokio::test]
async fn health_needs_no_session_cookie_and_sets_none() {
    let app = spawn_app().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none());
}
