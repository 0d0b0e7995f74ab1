//! Documents: the size limit holds on the server for every path that takes one, checking is
//! linear and off the async threads, quick fixes carry no copies of the text, and diffs stop
//! at their deadline.

use std::time::Duration;

use serde_json::Value;

use crate::harness::{spawn_app, spawn_app_with};
use crate::strategies::{document, Trader};

const SENTENCE_300_KB: &str = "The document is 300 KB; the limit is 256 KB.";

fn oversized() -> String {
    let mut text = document("Too large");
    text.push_str(&"#".repeat(300 * 1024 - text.len()));
    assert_eq!(text.len(), 300 * 1024);
    text
}

async fn check(trader: &Trader, content: &str, format: &str) -> reqwest::Response {
    trader
        .browser
        .call(
            "/api/strategies/check",
            &[("sequence", "1"), ("content", content), ("format", format)],
        )
        .await
}

#[tokio::test]
async fn the_toml_quick_fix_for_thousands_of_misplaced_keys_answers_in_proportion_to_the_text() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    // About 100 KB; each fix used to carry the text between its key and the first table
    // (about 200 MB in all).
    let text = "[[indicators]]\nversion=1\n".repeat(4000);
    let response = check(&trader, &text, "toml").await;
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    assert!(
        body.len() < 4 * text.len() + 64 * 1024,
        "{} bytes answered a {}-byte document",
        body.len(),
        text.len()
    );
    let reply: Value = serde_json::from_slice(&body).unwrap();
    let misplaced = reply["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|diagnostic| diagnostic["code"] == "E017")
        .expect("the misplaced keys are reported");
    let fix = &misplaced["fixes"][0];
    assert_eq!(fix["label"], "Move `version` above the first table");
    assert_eq!(fix["edits"][0]["insert"], "version=1\n", "{fix}");
}

#[tokio::test]
async fn thousands_of_repeated_keys_or_items_on_one_line_are_checked_before_the_deadline() {
    // Quadratic, each took tens of seconds; a deadline of 5 s now answers with a sentence
    // instead of a result, and the request's own limit with a 503.
    let app = spawn_app_with(&[("WORK_DEADLINE_MS", "5000"), ("REQUEST_TIMEOUT_SECS", "6")]).await;
    let trader = Trader::new(&app).await;
    for text in [
        "name: x\n".repeat(32_000),
        format!("indicators: [{}1]\n", "1, ".repeat(80_000)),
    ] {
        let response = check(&trader, &text, "yaml").await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let reply: Value = response.json().await.unwrap();
        let listed = reply["diagnostics"].as_array().unwrap();
        assert!(listed.len() <= 201, "{} diagnostics", listed.len());
    }
}

#[tokio::test]
async fn a_document_over_256_kb_is_refused_with_its_size_by_every_path_and_nothing_is_stored() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let text = oversized();

    // The keystroke check answers with the language's diagnostic, unread.
    let checked: Value = check(&trader, &text, "yaml").await.json().await.unwrap();
    assert_eq!(checked["diagnostics"][0]["code"], "E005");
    assert!(checked["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with(SENTENCE_300_KB));

    let refused = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 413);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["message"], SENTENCE_300_KB);
    };
    refused(trader.save(None, &text, None, true).await).await;
    refused(
        trader
            .browser
            .call(
                "/api/strategies/autosave",
                &[
                    ("tab_id", &uuid::Uuid::new_v4().to_string()),
                    ("sequence", "1"),
                    ("content", &text),
                    ("format", "yaml"),
                ],
            )
            .await,
    )
    .await;
    // A plain form post gets a page with the sentence.
    let page = trader
        .browser
        .post_form(
            "/strategies",
            &[
                ("strategy[content]", text.as_str()),
                ("strategy[format]", "yaml"),
                ("strategy[action]", "draft"),
            ],
        )
        .await;
    assert_eq!(page.status(), 413);
    assert!(page.text().await.unwrap().contains(SENTENCE_300_KB));
    assert_eq!(app.count("SELECT count(*) FROM strategy_versions").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM strategy_drafts").await, 0);

    // A version stored before the limit existed is neither duplicated nor restored.
    let id = trader.create("Old and large").await;
    sqlx::query(
        "INSERT INTO strategy_versions (strategy_id, number, format, content)
         VALUES ($1::uuid, 2, 'yaml', $2)",
    )
    .bind(&id)
    .bind(&text)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE strategies SET content = $2, version = 2 WHERE id = $1::uuid")
        .bind(&id)
        .bind(&text)
        .execute(&app.pool)
        .await
        .unwrap();
    refused(
        trader
            .browser
            .call("/api/strategies/duplicate", &[("id", &id)])
            .await,
    )
    .await;
    refused(
        trader
            .browser
            .call(
                "/api/strategies/restore",
                &[("id", &id), ("number", "2"), ("lock_version", "1")],
            )
            .await,
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM strategies").await, 1);
}

#[tokio::test]
async fn two_long_versions_with_no_line_in_common_are_too_different_to_compare_within_the_deadline()
{
    let app = spawn_app_with(&[("WORK_DEADLINE_MS", "1000"), ("REQUEST_TIMEOUT_SECS", "10")]).await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Far apart").await;
    // Stored before the size limit: 140,000 lines each, no line in common (minutes of work
    // for a line diff without a deadline).
    for (number, prefix) in [(2, "a"), (3, "b")] {
        let text: String = (0..140_000).map(|n| format!("{prefix}{n}\n")).collect();
        sqlx::query(
            "INSERT INTO strategy_versions (strategy_id, number, format, content)
             VALUES ($1::uuid, $2, 'yaml', $3)",
        )
        .bind(&id)
        .bind(number)
        .bind(text)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        trader.browser.call(
            "/api/strategies/compare",
            &[("id", &id), ("from", "2"), ("to", "3")],
        ),
    )
    .await
    .expect("an answer before the request's limit");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let comparison: Value = response.json().await.unwrap();
    assert_eq!(comparison["too_different"], true);
    assert_eq!(comparison["rows"], serde_json::json!([]));
    let page = trader
        .browser
        .get(&format!("/strategies/{id}/versions?from=2&to=3"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("too different to compare line by line"),
        "{page}"
    );
}

#[tokio::test]
async fn health_answers_while_heavy_checks_fill_the_work_pool() {
    // One thread of work, and checks that each take about a second of CPU in a debug build:
    // on the async threads they froze every request (the test's own runtime has one thread).
    let app = spawn_app_with(&[
        ("WORK_THREADS", "1"),
        ("WORK_QUEUE", "8"),
        ("WORK_DEADLINE_MS", "60000"),
        ("REQUEST_TIMEOUT_SECS", "90"),
    ])
    .await;
    let trader = Trader::new(&app).await;
    let text: String = (0..15_000).map(|n| format!("field_{n}: 1\n")).collect();
    assert!(text.len() < 256 * 1024);
    let checks: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, text) = (
                trader.browser.client.clone(),
                format!("{}/api/strategies/check", trader.browser.base),
                text.clone(),
            );
            let origin = trader.browser.base.clone();
            tokio::spawn(async move {
                client
                    .post(url)
                    .header("accept", "application/json")
                    .header("origin", origin)
                    .form(&[("sequence", "1"), ("content", &text), ("format", "yaml")])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..5 {
        let health = tokio::time::timeout(Duration::from_millis(500), app.get("/health"))
            .await
            .expect("/health answers while the pool is busy");
        assert_eq!(health.status(), 200);
    }
    assert!(
        checks.iter().any(|check| !check.is_finished()),
        "the checks were still running"
    );
    for check in checks {
        assert_eq!(check.await.unwrap(), 200);
    }
}

#[tokio::test]
async fn a_draft_with_a_300_character_pair_is_a_field_error_not_a_server_error() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let text = document("Long pair").replace("BTC/USD", &"X".repeat(300));
    let response = trader.save(None, &text, None, true).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["fields"][0]["field"], "trading_pair");
    assert_eq!(app.count("SELECT count(*) FROM strategies").await, 0);
}
