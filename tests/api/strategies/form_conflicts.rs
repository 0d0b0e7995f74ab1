//! The editor without JavaScript loses a race: the plain form post answers with a page that
//! keeps the text and offers Keep mine (overwrite) or Take theirs (the text kept as a working
//! copy).

use super::{document, Trader};
use crate::harness::spawn_app;

/// A strategy at version 2, saved "in another window" after the form was opened at version 1.
async fn strategy_changed_elsewhere(trader: &Trader) -> String {
    let id = trader.create("Raced").await;
    let theirs = document("Raced").replace("rsi_14 < 30", "rsi_14 < 25");
    let response = trader.save(Some(&id), &theirs, Some(1), false).await;
    assert_eq!(response.status(), 200);
    id
}

/// The editor's plain form, posted with the text `mine` (opened at version 1) and the button
/// `action` (`save`, or after the conflict `keep_mine` or `take_theirs`, which the page
/// posts with the lock version of their version 2).
async fn post(trader: &Trader, id: &str, mine: &str, action: &str) -> reqwest::Response {
    let mut fields = vec![
        ("strategy[content]", mine),
        ("strategy[format]", "yaml"),
        ("strategy[lock_version]", "1"),
        ("strategy[action]", action),
    ];
    if action != "save" {
        fields.extend([
            ("strategy[theirs_lock_version]", "2"),
            ("strategy[keep_as_draft]", "false"),
        ]);
    }
    trader
        .browser
        .post_form(&format!("/strategies/{id}"), &fields)
        .await
}

#[tokio::test]
async fn a_stale_plain_form_save_comes_back_with_the_text_and_keep_mine_saves_it_on_top() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = strategy_changed_elsewhere(&trader).await;
    let mine = document("Raced").replace("rsi_14 > 70", "rsi_14 > 75");

    let stale = post(&trader, &id, &mine, "save").await;
    assert_eq!(stale.status(), 303);
    assert_eq!(
        stale.headers()["location"],
        format!("/strategies/{id}/edit")
    );
    assert_eq!(trader.overview_json(&id).await["document"]["version"], 2);

    let page = trader.editor_page(&id).await;
    assert!(
        page.contains("rsi_14 &gt; 75") || page.contains("rsi_14 > 75"),
        "my text is in the form: {page}"
    );
    assert!(page.contains("Version 2 was saved in another window meanwhile"));
    let diff = page
        .split("Your text against version 2")
        .nth(1)
        .expect("the diff is shown");
    assert!(
        diff.contains("- entry_conditions: &quot;rsi_14 &lt; 25&quot;")
            || diff.contains("- entry_conditions: \"rsi_14 &lt; 25\""),
        "their line, removed by mine: {diff}"
    );
    assert!(
        page.contains(r#"name="strategy[theirs_lock_version]" value="2""#),
        "{page}"
    );
    assert!(page.contains(r#"value="keep_mine""#) && page.contains(r#"value="take_theirs""#));

    // Keep mine, as the page's button posts it: the same text, on top of version 2.
    let kept = post(&trader, &id, &mine, "keep_mine").await;
    assert_eq!(kept.status(), 303);
    assert_eq!(
        kept.headers()["location"],
        format!("/strategies/{id}?notice=saved")
    );
    let overview = trader.overview_json(&id).await;
    assert_eq!(overview["document"]["version"], 3);
    assert_eq!(overview["document"]["content"], mine.as_str());
}

#[tokio::test]
async fn take_theirs_from_the_conflict_page_keeps_the_text_as_a_working_copy() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = strategy_changed_elsewhere(&trader).await;
    let mine = document("Raced").replace("rsi_14 > 70", "rsi_14 > 80");

    let taken = post(&trader, &id, &mine, "take_theirs").await;
    assert_eq!(taken.status(), 303);
    assert_eq!(
        taken.headers()["location"],
        format!("/strategies/{id}/edit")
    );

    let start = trader.open(Some(&id)).await;
    assert_eq!(start["document"]["version"], 2, "theirs is what opens");
    assert!(start["document"]["content"]
        .as_str()
        .unwrap()
        .contains("rsi_14 < 25"));
    assert_eq!(
        start["working_copy"]["content"],
        mine.as_str(),
        "mine is kept"
    );
    assert_eq!(trader.overview_json(&id).await["document"]["version"], 2);
}

#[tokio::test]
async fn without_javascript_the_kept_text_comes_back_into_the_form_or_is_discarded() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = strategy_changed_elsewhere(&trader).await;
    let mine = document("Raced").replace("rsi_14 > 70", "rsi_14 > 85");
    assert_eq!(post(&trader, &id, &mine, "take_theirs").await.status(), 303);
    let page = trader.editor_page(&id).await;
    assert!(
        page.contains("Unsaved changes from") && page.contains(r#"value="restore_working_copy""#)
    );

    // Restore them: the kept text is in the form, based on the version it was written on, so
    // that saving it over theirs is a conflict with the choice again, never a silent overwrite.
    assert_eq!(
        post(&trader, &id, "", "restore_working_copy")
            .await
            .status(),
        303
    );
    let page = trader.editor_page(&id).await;
    assert!(
        page.contains("Your unsaved changes are back in the form"),
        "{page}"
    );
    assert!(
        page.contains("rsi_14 &gt; 85") || page.contains("rsi_14 > 85"),
        "{page}"
    );
    assert!(
        page.contains(r#"name="strategy[lock_version]" value="1""#),
        "{page}"
    );

    // Discard them: the copy is gone.
    let tab = trader.open(Some(&id)).await["working_copy"]["tab_id"]
        .as_str()
        .unwrap()
        .to_string();
    let discarded = trader
        .browser
        .post_form(
            &format!("/strategies/{id}"),
            &[
                ("strategy[content]", ""),
                ("strategy[working_copy_tab]", &tab),
                ("strategy[action]", "discard_working_copy"),
            ],
        )
        .await;
    assert_eq!(discarded.status(), 303);
    assert!(trader.open(Some(&id)).await["working_copy"].is_null());
}
