use serde_json::Value;

use super::{document, Trader};
use crate::harness::{error_of, field_message, spawn_app};

#[tokio::test]
async fn saving_a_new_strategy_stores_the_row_and_version_1_in_one_go() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("RSI dip").await;
    let overview = trader.overview_json(&id).await;
    assert_eq!(overview["document"]["version"], 1);
    assert_eq!(overview["document"]["lock_version"], 1);
    assert_eq!(overview["document"]["status"], "draft");
    assert_eq!(overview["versions"].as_array().unwrap().len(), 1);
    let (name, pair, timeframe): (String, String, String) =
        sqlx::query_as("SELECT name, trading_pair, timeframe FROM strategies WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), pair.as_str(), timeframe.as_str()),
        ("RSI dip", "BTC/USD", "1h")
    );
}

#[tokio::test]
async fn saving_with_a_stale_lock_version_returns_a_conflict() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Trend").await;
    let first = trader
        .save(Some(&id), &document("Trend"), Some(1), false)
        .await;
    assert_eq!(first.status(), 200);
    let stale = trader
        .save(Some(&id), &document("Trend 2"), Some(1), false)
        .await;
    assert_eq!(stale.status(), 409);
    let error = error_of(stale).await;
    assert_eq!(error["kind"], "conflict");
    assert_eq!(error["current_version"], 2);
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("another window"));
}

#[tokio::test]
async fn save_refuses_a_document_with_errors_but_save_as_draft_keeps_it() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let broken = document("Broken").replace("rsi_14 > 70", "rsi_14 >");
    let refused = trader.save(None, &broken, None, false).await;
    assert_eq!(refused.status(), 422);
    let error = error_of(refused).await;
    assert!(
        error["message"].as_str().unwrap().contains("Save as draft"),
        "{error}"
    );
    assert_eq!(app.count("SELECT count(*) FROM strategies").await, 0);

    let kept = trader.save(None, &broken, None, true).await;
    assert_eq!(kept.status(), 200);
    let saved: Value = kept.json().await.unwrap();
    let content: String =
        sqlx::query_scalar("SELECT content FROM strategy_versions WHERE strategy_id = $1::uuid")
            .bind(saved["id"].as_str().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(content, broken, "the draft is kept exactly as typed");
}

#[tokio::test]
async fn a_name_already_used_in_any_case_is_a_field_error_on_name() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    trader.create("Momentum").await;
    let clash = trader.save(None, &document("MOMENTUM"), None, false).await;
    assert_eq!(clash.status(), 422);
    let error = error_of(clash).await;
    assert!(field_message(&error, "name")
        .unwrap()
        .contains("already have a strategy named"));
    // The keystroke check says so too.
    let check = trader
        .browser
        .call(
            "/api/strategies/check",
            &[
                ("sequence", "7"),
                ("content", &document("momentum")),
                ("format", "yaml"),
            ],
        )
        .await;
    let reply: Value = check.json().await.unwrap();
    assert_eq!(reply["sequence"], 7);
    assert_eq!(reply["name_taken"], true);
    // As diagnostic E050, first, underlined on the line that writes the name.
    let clash = &reply["diagnostics"][0];
    assert_eq!(clash["code"], "E050", "{reply}");
    assert!(clash["message"]
        .as_str()
        .unwrap()
        .contains("already have a strategy named"));
    let name_line = document("momentum")
        .lines()
        .position(|line| line.starts_with("name:"))
        .unwrap()
        + 1;
    assert_eq!(clash["span"]["line"], name_line as u64, "{clash}");
    // Typing on under the same name, the editor's last answer stands; a new name is asked.
    for (checked, expected) in [("momentum", true), ("Other", true)] {
        let check = trader
            .browser
            .call(
                "/api/strategies/check",
                &[
                    ("sequence", "8"),
                    ("content", &document("momentum")),
                    ("format", "yaml"),
                    ("checked_name", checked),
                    ("checked_name_taken", "true"),
                ],
            )
            .await;
        let reply: Value = check.json().await.unwrap();
        assert_eq!(reply["name_taken"], expected, "{checked}");
    }
    let renamed = trader
        .browser
        .call(
            "/api/strategies/check",
            &[
                ("sequence", "9"),
                ("content", &document("Fresh name")),
                ("format", "yaml"),
                ("checked_name", "momentum"),
                ("checked_name_taken", "true"),
            ],
        )
        .await;
    let reply: Value = renamed.json().await.unwrap();
    assert_eq!(reply["name_taken"], false, "a new name is looked up again");
}

#[tokio::test]
async fn the_version_and_the_row_change_together_or_not_at_all() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let id = trader.create("Atomic").await;
    // A version 2 that is already there makes writing the next version fail after the row
    // was updated, inside the same transaction.
    sqlx::query("INSERT INTO strategy_versions (strategy_id, number, format, content) VALUES ($1::uuid, 2, 'yaml', 'x')")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    let failed = trader
        .save(Some(&id), &document("Atomic 2"), Some(1), false)
        .await;
    assert_eq!(failed.status(), 500);
    let (name, version, lock): (String, i32, i32) =
        sqlx::query_as("SELECT name, version, lock_version FROM strategies WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), version, lock),
        ("Atomic", 1, 1),
        "the row kept its version"
    );
}

#[tokio::test]
async fn a_plain_form_post_creates_and_saves_and_a_refusal_keeps_the_text() {
    let app = spawn_app().await;
    let trader = Trader::new(&app).await;
    let created = trader
        .browser
        .post_form(
            "/strategies",
            &[
                ("strategy[content]", &document("No script")),
                ("strategy[format]", "yaml"),
                ("strategy[action]", "save"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/strategies/") && location.ends_with("?notice=saved"),
        "{location}"
    );
    let id = location
        .trim_start_matches("/strategies/")
        .trim_end_matches("?notice=saved")
        .to_string();

    let saved = trader
        .browser
        .post_form(
            &format!("/strategies/{id}"),
            &[
                ("strategy[content]", &document("No script, again")),
                ("strategy[format]", "yaml"),
                ("strategy[lock_version]", "1"),
                ("strategy[action]", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(trader.overview_json(&id).await["document"]["version"], 2);

    // An error is refused by Save: the editor page comes back with the text and the reason.
    let broken = document("No script, again").replace("timeframe: \"1h\"", "timeframe: \"2h\"");
    let refused = trader
        .browser
        .post_form(
            &format!("/strategies/{id}"),
            &[
                ("strategy[content]", &broken),
                ("strategy[format]", "yaml"),
                ("strategy[lock_version]", "2"),
                ("strategy[action]", "save"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 303);
    assert_eq!(
        refused.headers()["location"],
        format!("/strategies/{id}/edit")
    );
    let page = trader.editor_page(&id).await;
    assert!(
        page.contains("timeframe: &quot;2h&quot;") || page.contains("timeframe: \"2h\""),
        "the text came back"
    );
    assert!(page.contains("Save as draft"), "the reason is shown");
    assert!(
        page.contains("aria-label=\"Problems\""),
        "the problems list is there"
    );
    assert!(page.contains("2h"), "{page}");
    assert_eq!(
        trader.overview_json(&id).await["document"]["version"],
        2,
        "nothing was saved"
    );
}

/// Runs the real `curl` with a cookie jar, as an operator scripting the form would. A request
/// that carries a session must say where it comes from (`Origin`), as a browser does.
async fn curl(jar: &std::path::Path, url: &str, fields: &[(&str, &str)]) -> (String, String) {
    let origin = url.split('/').take(3).collect::<Vec<_>>().join("/");
    let mut command = tokio::process::Command::new("curl");
    command
        .arg("-H")
        .arg(format!("Origin: {origin}"))
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-c",
        ])
        .arg(jar)
        .arg("-b")
        .arg(jar);
    for (name, value) in fields {
        command
            .arg("--data-urlencode")
            .arg(format!("{name}={value}"));
    }
    let output = command.arg(url).output().await.expect("curl runs");
    let text = String::from_utf8(output.stdout).unwrap();
    let (status, location) = text.split_once(' ').unwrap_or((&text, ""));
    (status.to_string(), location.to_string())
}

#[tokio::test]
async fn curl_can_log_in_then_create_and_save_a_strategy_through_the_plain_form() {
    let app = spawn_app().await;
    let email = crate::harness::unique_email();
    app.signed_up(&email).await;
    let jar = std::env::temp_dir().join(format!("jar-{}", uuid::Uuid::new_v4()));
    let (status, _) = curl(
        &jar,
        &app.url("/users/log-in"),
        &[
            ("user[email]", &email),
            ("user[password]", crate::harness::PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, "303");
    let (status, location) = curl(
        &jar,
        &app.url("/strategies"),
        &[
            ("strategy[content]", &document("By curl")),
            ("strategy[format]", "yaml"),
        ],
    )
    .await;
    assert_eq!(status, "303", "{location}");
    let id = location
        .rsplit_once("/strategies/")
        .map(|(_, rest)| rest.trim_end_matches("?notice=saved").to_string())
        .expect("the strategy's page");
    let (status, _) = curl(
        &jar,
        &app.url(&format!("/strategies/{id}")),
        &[
            ("strategy[content]", &document("By curl, again")),
            ("strategy[format]", "yaml"),
            ("strategy[lock_version]", "1"),
        ],
    )
    .await;
    assert_eq!(status, "303");
    let name: String = sqlx::query_scalar("SELECT name FROM strategies WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(name, "By curl, again");
    let _ = std::fs::remove_file(jar);
}
