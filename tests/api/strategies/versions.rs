use serde_json::Value;

use super::{document, Trader};
use crate::harness::spawn_app;

#[tokio::test]
async fn comparing_two_versions_lists_the_changes_in_trading_terms_and_the_lines() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Tuned").await;
    let tuned = document("Tuned").replace("period: 14", "period: 21");
    assert_eq!(
        trader
            .save(Some(&id), &tuned, Some(1), false)
            .await
            .status(),
        200
    );
    let response = trader
        .browser
        .call(
            "/api/strategies/compare",
            &[("id", &id), ("from", "1"), ("to", "2")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let comparison: Value = response.json().await.unwrap();
    let changes = comparison["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["path"], "rsi_14.period");
    assert_eq!(changes[0]["before"], "14");
    assert_eq!(changes[0]["after"], "21");
    let rows = comparison["rows"].as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["change"] == "removed" && r["text"] == "      period: 14"));
    assert!(rows
        .iter()
        .any(|r| r["change"] == "added" && r["text"] == "      period: 21"));
}

#[tokio::test]
async fn restoring_an_old_version_saves_it_as_the_newest() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Undo").await;
    let changed = document("Undo").replace("rsi_14 < 30", "rsi_14 < 25");
    trader.save(Some(&id), &changed, Some(1), false).await;
    let restored = trader
        .browser
        .call(
            "/api/strategies/restore",
            &[("id", &id), ("number", "1"), ("lock_version", "2")],
        )
        .await;
    assert_eq!(restored.status(), 200);
    let overview = trader.overview_json(&id).await;
    assert_eq!(overview["document"]["version"], 3);
    assert_eq!(overview["document"]["content"], document("Undo"));
}

#[tokio::test]
async fn a_version_record_is_never_changed_once_written() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Kept").await;
    let update = sqlx::query(
        "UPDATE strategy_versions SET content = 'rewritten' WHERE strategy_id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.pool)
    .await;
    let error = update.expect_err("versions refuse updates").to_string();
    assert!(error.contains("never changed"), "{error}");
}
