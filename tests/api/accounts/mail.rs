use std::time::{Duration, Instant};

use super::logging::{captured_logs, lines};
use crate::harness::{mail_to, spawn_app_with, spawn_app_with_mail, unique_email, TestApp};

async fn wait_until(app: &TestApp, query: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.count(query).await == 0 {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_failed_send_is_kept_retried_and_logged_and_never_delays_the_request() {
    // Nothing listens on port 9: every attempt fails at once.
    let logs = captured_logs();
    let app = spawn_app_with(&[
        ("SMTP_HOST", "127.0.0.1"),
        ("SMTP_PORT", "9"),
        ("SMTP_STARTTLS", "false"),
    ])
    .await;
    let started = Instant::now();
    app.signed_up(&unique_email()).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    wait_until(
        &app,
        "SELECT count(*) FROM mail_outbox WHERE attempts >= 1 AND last_error IS NOT NULL
         AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at > now() AT TIME ZONE 'utc'",
        "the failed attempt is recorded and a retry scheduled",
    )
    .await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM mail_outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(lines(&logs)
        .iter()
        .any(|line| line.contains("will retry") && line.contains(&format!("mail_id={id}"))));
}

#[tokio::test]
async fn delivered_mail_leaves_no_link_behind_in_the_database() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    app.signed_up(&email).await;
    mail_to(&email, "Confirm your email").await;
    wait_until(
        &app,
        "SELECT count(*) FROM mail_outbox WHERE sent_at IS NOT NULL AND text_body = '' AND html_body = ''",
        "the delivered mail's bodies are cleared",
    )
    .await;
}

#[tokio::test]
async fn mail_given_up_on_loses_its_body_and_its_link() {
    // Nothing listens on port 9: every attempt fails at once.
    let app = spawn_app_with(&[
        ("SMTP_HOST", "127.0.0.1"),
        ("SMTP_PORT", "9"),
        ("SMTP_STARTTLS", "false"),
    ])
    .await;
    app.browser()
        .register(&unique_email(), crate::harness::PASSWORD)
        .await;
    wait_until(
        &app,
        "SELECT count(*) FROM mail_outbox",
        "the mail was queued",
    )
    .await;
    // Seven attempts behind it; the next one is the last.
    sqlx::query("UPDATE mail_outbox SET attempts = 7, next_attempt_at = now() AT TIME ZONE 'utc'")
        .execute(&app.pool)
        .await
        .unwrap();
    wait_until(
        &app,
        "SELECT count(*) FROM mail_outbox WHERE failed_at IS NOT NULL",
        "the mail was given up on",
    )
    .await;
    let (text, html): (String, String) =
        sqlx::query_as("SELECT text_body, html_body FROM mail_outbox")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((text.as_str(), html.as_str()), ("", ""));
}
