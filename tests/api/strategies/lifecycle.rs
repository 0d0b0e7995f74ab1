use serde_json::Value;

use super::{document, Trader};
use crate::harness::{error_of, spawn_app};

#[tokio::test]
async fn activation_is_refused_until_a_backtest_of_the_current_version_finished() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Gate").await;
    let refused = trader.change_status(&id, "activate").await;
    assert_eq!(refused.status(), 409);
    assert_eq!(
        error_of(refused).await["message"],
        "Run a backtest of version 1 first."
    );
    assert_eq!(
        trader.overview_json(&id).await["document"]["status"],
        "draft"
    );
}

#[tokio::test]
async fn archive_then_restore_to_draft_and_the_archived_strategy_is_read_only() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Shelf").await;
    let archived = trader.change_status(&id, "archive").await;
    assert_eq!(archived.status(), 200);
    let overview = trader.overview_json(&id).await;
    assert_eq!(overview["document"]["status"], "archived");
    assert_eq!(
        overview["transitions"],
        serde_json::json!(["restore_to_draft"])
    );
    let lock = overview["document"]["lock_version"].as_i64().unwrap();

    let edit = trader
        .save(Some(&id), &document("Shelf"), Some(lock), false)
        .await;
    assert_eq!(edit.status(), 403);
    assert!(error_of(edit).await["message"]
        .as_str()
        .unwrap()
        .contains("archived and read-only"));

    let again = trader.change_status(&id, "archive").await;
    assert_eq!(again.status(), 409);
    assert_eq!(
        error_of(again).await["message"],
        "This strategy is already archived."
    );

    assert_eq!(
        trader.change_status(&id, "restore_to_draft").await.status(),
        200
    );
    assert_eq!(
        trader.overview_json(&id).await["document"]["status"],
        "draft"
    );
}

#[tokio::test]
async fn an_active_strategy_cannot_be_archived_edited_or_deleted() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Live").await;
    // Activation needs a backtest, which does not exist yet: set the state directly.
    sqlx::query("UPDATE strategies SET status = 'active' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    let archive = trader.change_status(&id, "archive").await;
    assert_eq!(archive.status(), 409);
    assert_eq!(
        error_of(archive).await["message"],
        "This strategy is active; deactivate it first."
    );
    let edit = trader
        .save(Some(&id), &document("Live"), Some(1), false)
        .await;
    assert_eq!(edit.status(), 403);
    assert_eq!(
        error_of(edit).await["message"],
        "This strategy is active; deactivate it to edit."
    );
    let delete = trader
        .browser
        .call("/api/strategies/delete", &[("id", &id)])
        .await;
    assert_eq!(delete.status(), 409);
    assert_eq!(trader.change_status(&id, "deactivate").await.status(), 200);
    assert_eq!(
        trader.overview_json(&id).await["document"]["status"],
        "inactive"
    );
}

#[tokio::test]
async fn only_drafts_and_archived_strategies_can_be_deleted() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Scratch").await;
    let deleted = trader
        .browser
        .call("/api/strategies/delete", &[("id", &id)])
        .await;
    assert_eq!(deleted.status(), 200);
    let navigation: Value = deleted.json().await.unwrap();
    assert_eq!(navigation["to"], "/strategies?notice=deleted");
    assert_eq!(trader.overview(&id).await.status(), 404);
    assert_eq!(app.count("SELECT count(*) FROM strategy_versions").await, 0);
}

#[tokio::test]
async fn duplicating_names_the_copies_and_writes_the_name_into_each_document() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Breakout").await;
    let mut copies = Vec::new();
    for _ in 0..2 {
        let response = trader
            .browser
            .call("/api/strategies/duplicate", &[("id", &id)])
            .await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let navigation: Value = response.json().await.unwrap();
        let to = navigation["to"].as_str().unwrap();
        copies.push(
            to.trim_start_matches("/strategies/")
                .trim_end_matches("?notice=duplicated")
                .to_string(),
        );
    }
    let first = trader.overview_json(&copies[0]).await;
    let second = trader.overview_json(&copies[1]).await;
    assert_eq!(first["document"]["name"], "Breakout - Copy");
    assert_eq!(second["document"]["name"], "Breakout - Copy 2");
    assert!(second["document"]["content"]
        .as_str()
        .unwrap()
        .contains("name: \"Breakout - Copy 2\""));
    assert_eq!(second["document"]["status"], "draft");
    assert_eq!(second["document"]["version"], 1);
}

#[tokio::test]
async fn the_runbook_dashboard_queries_count_strategies_as_written() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Counted").await;
    trader
        .save(Some(&id), &document("Counted"), Some(1), false)
        .await;
    trader.create("Other").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM strategies WHERE inserted_at > NOW() - INTERVAL '1 day'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM strategies WHERE lock_version > 1")
            .await,
        1
    );
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM strategies GROUP BY status")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(rows, vec![("draft".to_string(), 2)]);
}
