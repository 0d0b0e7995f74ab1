//! What one account may store: strategies, and the text of versions and working copies
//! together; refused with a sentence, and shown on the settings page.

use serde_json::Value;

use crate::harness::spawn_app_with;
use crate::strategies::{document, Trader};

#[tokio::test]
async fn a_strategy_past_the_quota_is_refused_with_a_sentence_and_the_settings_page_shows_it() {
    let app = spawn_app_with(&[("QUOTA_STRATEGIES", "2")]).await;
    let trader = Trader::new(&app).await;
    trader.create("One").await;
    let two = trader.create("Two").await;
    let third = trader.save(None, &document("Three"), None, false).await;
    assert_eq!(third.status(), 403);
    let error: Value = third.json().await.unwrap();
    assert_eq!(
        error["message"],
        "You have 2 strategies, the most one account may keep; delete some you no longer need to make room."
    );
    let duplicated = trader
        .browser
        .call("/api/strategies/duplicate", &[("id", &two)])
        .await;
    assert_eq!(duplicated.status(), 403);
    assert_eq!(app.count("SELECT count(*) FROM strategies").await, 2);

    let usage: Value = trader
        .browser
        .call("/api/strategies/storage-usage", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["strategies"]["used"], 2);
    assert_eq!(usage["strategies"]["quota"], 2);
    let page = trader
        .browser
        .get("/users/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Storage") && page.contains("2 of 2"),
        "{page}"
    );
}

#[tokio::test]
async fn versions_and_working_copies_past_the_stored_bytes_quota_are_refused() {
    let app = spawn_app_with(&[("QUOTA_STORED_MB", "1")]).await;
    let trader = Trader::new(&app).await;
    // 200 KB a version: the fifth goes past 1 MB.
    let long = |name: &str| format!("{}# {}\n", document(name), "x".repeat(200_000));
    let created: Value = trader
        .save(None, &long("Big"), None, false)
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let mut refused = None;
    for version in 2..=6 {
        let response = trader
            .save(Some(id), &long("Big"), Some(version - 1), false)
            .await;
        if response.status() != 200 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("a save past 1 MB is refused");
    assert_eq!(refused.status(), 403);
    let error: Value = refused.json().await.unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("of the 1.0 MB one account may store"),
        "{error}"
    );
    let autosave = trader
        .browser
        .call(
            "/api/strategies/autosave",
            &[
                ("tab_id", &uuid::Uuid::new_v4().to_string()),
                ("sequence", "1"),
                ("strategy_id", id),
                ("content", &long("Big")),
                ("format", "yaml"),
            ],
        )
        .await;
    assert_eq!(autosave.status(), 403);
    let stored = app
        .count("SELECT sum(octet_length(content))::int8 FROM strategy_versions")
        .await;
    assert!(stored <= 1_000_000, "{stored} bytes stored");
}
