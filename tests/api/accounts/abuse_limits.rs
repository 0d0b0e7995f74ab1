//! Limits on what a stolen session or a script can make the app do: re-authentication
//! attempts in settings, and the mail a form may send to one address.

use std::time::Duration;

use crate::harness::{
    spawn_app, spawn_app_with, unique_email, Browser, TestApp, NEW_PASSWORD, PASSWORD,
};

/// A password change in settings from `client` (as the reverse proxy on this host reports it).
async fn change_password_from(
    browser: &Browser,
    client: &str,
    current_password: &str,
) -> reqwest::Response {
    browser
        .client
        .post(format!("{}/users/settings/password", browser.base))
        .header("accept", "application/json")
        .header("origin", &browser.base)
        .header("x-forwarded-for", client)
        .form(&[
            ("user[password]", NEW_PASSWORD),
            ("user[password_confirmation]", NEW_PASSWORD),
            ("current_password", current_password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn settings_count_password_attempts_per_account_before_checking_the_password() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let browser = app.signed_up(&unique_email()).await;
    for client in 1..=10 {
        let response = change_password_from(
            &browser,
            &format!("203.0.113.{client}"),
            "a wrong guess here",
        )
        .await;
        assert_eq!(response.status(), 422, "guess {client}");
    }
    // The right password, from yet another client: refused before it is checked.
    let response = change_password_from(&browser, "203.0.113.99", PASSWORD).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let response = browser.change_email(&unique_email(), PASSWORD).await;
    assert_eq!(response.status(), 429, "changing the email counts too");
}

#[tokio::test]
async fn settings_count_password_attempts_per_client_across_accounts() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let first = app.signed_up(&unique_email()).await;
    let second = app.signed_up(&unique_email()).await;
    for guess in 1..=10 {
        let response = change_password_from(&first, "198.51.100.5", "a wrong guess here").await;
        assert_eq!(response.status(), 422, "guess {guess}");
    }
    let response = change_password_from(&second, "198.51.100.5", PASSWORD).await;
    assert_eq!(response.status(), 429);
    let response = change_password_from(&second, "198.51.100.6", PASSWORD).await;
    assert_eq!(response.status(), 200, "another client goes on");
}

#[tokio::test]
async fn an_account_can_send_at_most_five_email_change_mails_a_day() {
    let app = spawn_app().await;
    let browser = app.signed_up(&unique_email()).await;
    for change in 1..=5 {
        let response = browser.change_email(&unique_email(), PASSWORD).await;
        assert_eq!(response.status(), 200, "change {change}");
    }
    let response = browser.change_email(&unique_email(), PASSWORD).await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 3600, "until the day is over: {retry_after}");
    let queued = app
        .count("SELECT count(*) FROM mail_outbox WHERE subject = 'Confirm your new email'")
        .await;
    assert_eq!(queued, 5);
}

/// Waits until the mail queued after the answers has settled, then counts mail about
/// `subject` to `address`.
async fn mail_queued(app: &TestApp, address: &str, subject: &str) -> i64 {
    let count = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM mail_outbox WHERE to_address = $1 AND subject = $2",
        )
        .bind(address)
        .bind(subject)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let mut last = -1;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = count().await;
        if now == last {
            return now;
        }
        last = now;
    }
}

/// Moves every window but the daily ones into the past: the per-client limits and the
/// one-a-minute cooldowns start again, the daily caps go on counting.
async fn a_few_minutes_later(app: &TestApp) {
    sqlx::query(
        "UPDATE rate_limits SET window_started_at = window_started_at - interval '4 minutes'
         WHERE key NOT LIKE 'mail:day:%'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn password_reset_mail_goes_to_an_address_at_most_once_a_minute_and_ten_times_a_day() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let browser = app.browser();
    for _ in 0..3 {
        assert_eq!(browser.request_reset(&email).await.status(), 200);
    }
    assert_eq!(mail_queued(&app, &email, "Reset your password").await, 1);
    for _ in 0..12 {
        a_few_minutes_later(&app).await;
        assert_eq!(
            browser.request_reset(&email).await.status(),
            200,
            "the same answer"
        );
        mail_queued(&app, &email, "Reset your password").await;
    }
    assert_eq!(mail_queued(&app, &email, "Reset your password").await, 10);
}

#[tokio::test]
async fn confirmation_mail_is_resent_at_most_once_a_minute_and_within_the_daily_cap() {
    let app = spawn_app().await;
    let email = unique_email();
    app.browser().register(&email, PASSWORD).await;
    assert_eq!(mail_queued(&app, &email, "Confirm your email").await, 1);
    let browser = app.browser();
    for _ in 0..3 {
        let response = browser
            .call("/users/resend-confirmation", &[("user[email]", &email)])
            .await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(
        mail_queued(&app, &email, "Confirm your email").await,
        2,
        "the registration's and one resent"
    );
    for _ in 0..12 {
        a_few_minutes_later(&app).await;
        browser
            .call("/users/resend-confirmation", &[("user[email]", &email)])
            .await;
        // The mail (and its cooldown) is recorded after the answer: let it land before the
        // clock moves on, or the next attempt would meet a cooldown not yet moved back.
        mail_queued(&app, &email, "Confirm your email").await;
    }
    assert_eq!(mail_queued(&app, &email, "Confirm your email").await, 11);
}
