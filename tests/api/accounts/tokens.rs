use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};

use crate::harness::{error_of, mail_to, spawn_app_with_mail, unique_email, TestApp, PASSWORD};

/// Moves every token of `context` back in time by `seconds`.
async fn back_date(app: &TestApp, context_like: &str, seconds: i64) {
    sqlx::query("UPDATE users_tokens SET inserted_at = inserted_at - make_interval(secs => $2::float8) WHERE context LIKE $1")
        .bind(context_like)
        .bind(seconds as f64)
        .execute(&app.pool)
        .await
        .unwrap();
}

async fn confirmed(app: &TestApp, email: &str) -> bool {
    sqlx::query_scalar::<_, Option<chrono::NaiveDateTime>>(
        "SELECT confirmed_at FROM users WHERE email = $1::text::citext",
    )
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .unwrap()
    .is_some()
}

#[tokio::test]
async fn an_emailed_token_is_32_random_bytes_in_url_safe_base64_stored_only_as_its_sha256() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let token = mail_to(&email, "Confirm your email").await.token();
    let bytes = URL_SAFE_NO_PAD.decode(&token).expect("URL-safe base64");
    assert_eq!(bytes.len(), 32);
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT token FROM users_tokens WHERE context = 'confirm'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, vec![Sha256::digest(&bytes).to_vec()]);
    let raw_anywhere: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users_tokens WHERE token = $1")
            .bind(&bytes)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(raw_anywhere, 0);
    // The session token stays server-side: the cookie holds only the session id.
    let session_tokens: i64 = app
        .count("SELECT count(*) FROM users_tokens WHERE context = 'session'")
        .await;
    assert_eq!(session_tokens, 1);
}

#[tokio::test]
async fn the_confirmation_link_confirms_once_and_only_by_post() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let mail = mail_to(&email, "Confirm your email").await;

    // Following the link (a GET, as a mail scanner would) shows a button and changes nothing.
    let page = browser.get(&mail.link_path()).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Confirm my account"));
    assert!(!confirmed(&app, &email).await);

    let response = browser
        .post_form("/users/confirm", &[("token", &mail.token())])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/strategies?notice=confirmed"
    );
    assert!(confirmed(&app, &email).await);

    let again = app
        .browser()
        .call("/users/confirm", &[("token", &mail.token())])
        .await;
    assert_eq!(again.status(), 422);
    assert!(error_of(again).await["message"]
        .as_str()
        .unwrap()
        .contains("invalid or it has expired"));
}

#[tokio::test]
async fn a_confirmation_link_works_for_7_days() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let token = mail_to(&email, "Confirm your email").await.token();
    back_date(&app, "confirm", 7 * 86_400 - 60).await;
    let browser = app.browser();
    let response = browser.confirm(&token).await;
    assert_eq!(response.status(), 200, "6 days 23:59 old");

    let other = unique_email();
    app.signed_up(&other).await;
    let token = mail_to(&other, "Confirm your email").await.token();
    back_date(&app, "confirm", 7 * 86_400 + 60).await;
    assert_eq!(browser.confirm(&token).await.status(), 422, "7 days old");
    assert!(!confirmed(&app, &other).await);
}

#[tokio::test]
async fn a_reset_link_works_for_30_minutes() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let reset = |token: String| {
        let browser = app.browser();
        async move {
            browser
                .reset_password(&token, "a brand new passphrase")
                .await
                .status()
        }
    };
    app.browser().request_reset(&email).await;
    let token = mail_to(&email, "Reset your password").await.token();
    back_date(&app, "reset_password", 31 * 60).await;
    assert_eq!(reset(token).await, 422, "31 minutes old");

    let second = unique_email();
    app.signed_up(&second).await;
    app.browser().request_reset(&second).await;
    let token = mail_to(&second, "Reset your password").await.token();
    back_date(&app, "reset_password", 29 * 60).await;
    assert_eq!(reset(token.clone()).await, 200, "29 minutes old");
    assert_eq!(reset(token).await, 422, "used once already");
}

#[tokio::test]
async fn an_email_change_link_works_for_1_day() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let change = |new_email: String| {
        let browser = &browser;
        async move {
            let response = browser.change_email(&new_email, PASSWORD).await;
            assert_eq!(response.status(), 200);
            mail_to(&new_email, "Confirm your new email").await.token()
        }
    };
    let late = change(unique_email()).await;
    back_date(&app, "change:%", 86_400 + 60).await;
    let confirm = |token: String| {
        let browser = app.browser();
        async move { browser.confirm_email_change(&token).await.status() }
    };
    assert_eq!(confirm(late).await, 422, "a day and a minute old");

    let new_email = unique_email();
    let timely = change(new_email.clone()).await;
    back_date(&app, "change:%", 86_400 - 60).await;
    assert_eq!(confirm(timely).await, 200, "a minute short of a day");
    assert!(!confirmed_exists(&app, &email).await);
    assert!(confirmed_exists(&app, &new_email).await);
}

async fn confirmed_exists(app: &TestApp, email: &str) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users WHERE email = $1::text::citext")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
        == 1
}

#[tokio::test]
async fn an_emailed_token_works_only_while_it_was_sent_to_the_accounts_email() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let confirm_token = mail_to(&email, "Confirm your email").await.token();
    app.browser().request_reset(&email).await;
    let reset_token = mail_to(&email, "Reset your password").await.token();

    // The account's email changes (through a confirmed email change).
    let new_email = unique_email();
    browser.change_email(&new_email, PASSWORD).await;
    let change_token = mail_to(&new_email, "Confirm your new email").await.token();
    assert_eq!(
        browser.confirm_email_change(&change_token).await.status(),
        200
    );

    // Links sent to the old address are dead.
    assert_eq!(browser.confirm(&confirm_token).await.status(), 422);
    let reset = app
        .browser()
        .reset_password(&reset_token, "another long passphrase")
        .await;
    assert_eq!(reset.status(), 422);
}
