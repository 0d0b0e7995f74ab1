//! Working copies: the autosave keeps what a tab typed (valid or not), a late write never
//! replaces a newer one, opening the editor offers a working copy nobody saved, and the save
//! it leads to forgets it.

use serde_json::Value;

use super::{document, Trader};
use crate::harness::spawn_app;

async fn autosave(
    trader: &Trader,
    tab: &str,
    sequence: &str,
    strategy: Option<&str>,
    content: &str,
) -> reqwest::Response {
    let mut fields = vec![
        ("tab_id", tab),
        ("sequence", sequence),
        ("content", content),
        ("format", "yaml"),
    ];
    if let Some(strategy) = strategy {
        fields.push(("strategy_id", strategy));
    }
    trader
        .browser
        .call("/api/strategies/autosave", &fields)
        .await
}

#[tokio::test]
async fn an_autosave_keeps_even_an_invalid_text_and_a_stale_write_never_replaces_a_newer_one() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Kept").await;
    let tab = uuid::Uuid::new_v4().to_string();
    let newer = document("Kept").replace("rsi_14 > 70", "rsi_14 >");
    let response = autosave(&trader, &tab, "2", Some(&id), &newer).await;
    assert_eq!(response.status(), 200);
    let ack: Value = response.json().await.unwrap();
    assert_eq!(ack["stored"], true);
    // The write numbered 1 arrives late: it is acknowledged but changes nothing.
    let late: Value = autosave(&trader, &tab, "1", Some(&id), "older text")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(late["stored"], false);

    let start = trader.open(Some(&id)).await;
    let copy = &start["working_copy"];
    assert_eq!(
        copy["content"],
        newer.as_str(),
        "the newest text, errors and all"
    );
    assert!(copy["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["change"] == "added" && r["text"] == "exit_conditions: \"rsi_14 >\""));
    assert!(start["autosave_interval_ms"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn an_autosave_with_a_nul_character_is_kept_without_it_not_refused_with_a_server_error() {
    // Postgres text cannot hold U+0000, which a paste from a binary file can carry.
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Nul").await;
    let tab = uuid::Uuid::new_v4().to_string();
    let pasted = document("Nul").replace("rsi_14 > 70", "rsi_14 > 7\u{0}0");
    let response = autosave(&trader, &tab, "1", Some(&id), &pasted).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let start = trader.open(Some(&id)).await;
    assert_eq!(
        start["working_copy"]["content"],
        pasted.replace('\u{0}', "\u{FFFD}").as_str()
    );
}

#[tokio::test]
async fn saving_a_document_with_a_nul_character_answers_with_its_line_not_a_server_error() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let pasted = document("Nul saved").replace("rsi_14 > 70", "rsi_14 > 7\u{0}0");
    for draft in [false, true] {
        let response = trader.save(None, &pasted, None, draft).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status == 200 || status == 422,
            "draft {draft}: {status} {body}"
        );
        assert!(!body.contains("internal"), "draft {draft}: {body}");
    }
}

#[tokio::test]
async fn the_save_a_working_copy_leads_to_forgets_it() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let tab = uuid::Uuid::new_v4().to_string();
    let text = document("Not yet saved");
    assert_eq!(
        autosave(&trader, &tab, "1", None, &text).await.status(),
        200
    );
    assert_eq!(
        trader.open(None).await["working_copy"]["content"],
        text.as_str()
    );
    let saved = trader
        .browser
        .call(
            "/api/strategies/save",
            &[
                ("content", &text),
                ("format", "yaml"),
                ("draft", "false"),
                ("tab_id", &tab),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200);
    assert!(trader.open(None).await["working_copy"].is_null());
    assert_eq!(app.count("SELECT count(*) FROM strategy_drafts").await, 0);
}

#[tokio::test]
async fn a_working_copy_can_be_discarded_and_another_users_strategy_is_not_found() {
    let app = spawn_app().await;
    let owner = Trader::new(&app).await;
    let id = owner.create("Mine").await;
    let stranger = Trader::new(&app).await;
    let tab = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        autosave(&stranger, &tab, "1", Some(&id), "stolen?")
            .await
            .status(),
        404
    );
    assert_eq!(
        autosave(&owner, &tab, "1", Some(&id), "edited")
            .await
            .status(),
        200
    );
    let discarded = owner
        .browser
        .call("/api/strategies/discard-working-copy", &[("tab_id", &tab)])
        .await;
    assert_eq!(discarded.status(), 200);
    assert!(owner.open(Some(&id)).await["working_copy"].is_null());
}

#[tokio::test]
async fn a_tab_back_at_the_committed_text_does_not_hide_another_tabs_working_copy() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Two tabs").await;
    let kept = document("Two tabs").replace("rsi_14 > 70", "rsi_14 > 72");
    let (kept_tab, other_tab) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    assert_eq!(
        autosave(&trader, &kept_tab, "1", Some(&id), &kept)
            .await
            .status(),
        200
    );
    // Later, another tab autosaves the committed text (it took theirs, or undid its edits).
    let committed = document("Two tabs");
    assert_eq!(
        autosave(&trader, &other_tab, "1", Some(&id), &committed)
            .await
            .status(),
        200
    );
    assert_eq!(
        trader.open(Some(&id)).await["working_copy"]["content"],
        kept.as_str()
    );
}
