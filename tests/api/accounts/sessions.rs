use std::time::Duration;

use crate::harness::{spawn_app, spawn_app_with, unique_email, PASSWORD};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("session=") || c.starts_with("__Host-session="))
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

/// The session id inside a cookie value: the cookie is signed, its first 44 characters are
/// the signature (base64 of an HMAC-SHA256).
fn session_id(cookie_value: &str) -> String {
    cookie_value[44..].to_string()
}

async fn session_rows_with_id(app: &crate::harness::TestApp, id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM sessions WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// What `/users/current` says to a request carrying `cookie_value` as the session cookie.
async fn current_user_with_cookie(app: &crate::harness::TestApp, cookie_value: &str) -> String {
    app.browser()
        .client
        .post(app.url("/users/current"))
        .header("accept", "application/json")
        .header("origin", app.origin())
        .header("cookie", format!("session={cookie_value}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn session_rows(app: &crate::harness::TestApp) -> i64 {
    app.count("SELECT count(*) FROM sessions").await
}

#[tokio::test]
async fn the_cookie_is_http_only_and_same_site_lax_and_secure_with_the_host_prefix_when_configured()
{
    let app = spawn_app().await;
    let email = unique_email();
    let browser = app.browser();
    browser.register(&email, PASSWORD).await;
    let response = browser.log_in(&email, PASSWORD, false).await;
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.starts_with("session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    assert!(!cookie.contains("Secure"), "plain http local run: {cookie}");

    let secure = spawn_app_with(&[("COOKIE_SECURE", "true")]).await;
    let browser = secure.browser();
    browser.register(&email, PASSWORD).await;
    let response = browser.log_in(&email, PASSWORD, false).await;
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.starts_with("__Host-session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && !cookie.contains("Domain"));
}

#[tokio::test]
async fn the_session_id_changes_at_login_and_the_old_id_is_worthless() {
    let app = spawn_app().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let response = browser.log_in(&email, PASSWORD, false).await;
    let first = cookie_value(&session_cookie(&response).expect("a cookie at login"));
    let response = browser.log_in(&email, PASSWORD, false).await;
    let second = cookie_value(&session_cookie(&response).expect("a new cookie at the next login"));
    assert_ne!(first, second);
    assert_eq!(session_rows_with_id(&app, &session_id(&second)).await, 1);
    assert_eq!(
        session_rows_with_id(&app, &session_id(&first)).await,
        0,
        "the old id names no session any more"
    );
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some(email.as_str())
    );
}

#[tokio::test]
async fn logging_out_ends_the_session_and_its_id() {
    let app = spawn_app().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let response = browser.log_in(&email, PASSWORD, false).await;
    let id = cookie_value(&session_cookie(&response).unwrap());
    assert_eq!(session_rows_with_id(&app, &session_id(&id)).await, 1);
    let response = browser.log_out().await;
    assert_eq!(response.status(), 200);
    assert_eq!(browser.signed_in_as().await, None);
    // Replaying the old cookie gets nothing.
    assert_eq!(current_user_with_cookie(&app, &id).await, "null");
    assert_eq!(session_rows_with_id(&app, &session_id(&id)).await, 0);
    // Log out is a POST: a GET does nothing.
    let browser = app.browser();
    browser.log_in(&email, PASSWORD, false).await;
    let _ = browser.get("/users/log-out").await;
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some(email.as_str())
    );
}

#[tokio::test]
async fn remember_me_extends_the_lifetime_of_the_same_kind_of_session() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let ordinary = app.browser().log_in(&email, PASSWORD, false).await;
    let remembered = app.browser().log_in(&email, PASSWORD, true).await;
    let max_age = |response: &reqwest::Response| -> i64 {
        let cookie = session_cookie(response).unwrap();
        cookie
            .split(';')
            .find_map(|part| part.trim().strip_prefix("Max-Age="))
            .expect("a Max-Age")
            .parse()
            .unwrap()
    };
    assert!(max_age(&ordinary) <= 2 * 3600, "{}", max_age(&ordinary));
    assert!(
        max_age(&remembered) >= 29 * 86_400,
        "{}",
        max_age(&remembered)
    );
    // Both are rows of the one session table with a session token: no second credential.
    let contexts: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT context FROM users_tokens WHERE context = 'session'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(contexts, vec!["session".to_string()]);
}

#[tokio::test]
async fn a_session_expires_after_inactivity() {
    let app = spawn_app().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    sqlx::query("UPDATE sessions SET expiry_date = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(browser.signed_in_as().await, None);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_even_while_in_use() {
    let app = spawn_app().await;
    let email = unique_email();
    let ordinary = app.signed_up(&email).await;
    let remembered = app.browser();
    remembered.log_in(&email, PASSWORD, true).await;

    let back_date = |hours: i64| {
        let pool = app.pool.clone();
        async move {
            sqlx::query("UPDATE users_tokens SET inserted_at = inserted_at - make_interval(hours => $1::int) WHERE context = 'session'")
                .bind(hours as i32)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    back_date(23).await;
    assert!(
        ordinary.signed_in_as().await.is_some(),
        "23 hours old: still good"
    );
    back_date(2).await;
    assert_eq!(ordinary.signed_in_as().await, None, "past one day");
    assert!(
        remembered.signed_in_as().await.is_some(),
        "remembered: 60 days"
    );
    back_date(59 * 24).await;
    assert_eq!(remembered.signed_in_as().await, None, "past 60 days");
}

#[tokio::test]
async fn expired_session_rows_are_deleted_in_the_background() {
    let app = spawn_app().await;
    app.signed_up(&unique_email()).await;
    app.signed_up(&unique_email()).await;
    assert_eq!(session_rows(&app).await, 2);
    sqlx::query("UPDATE sessions SET expiry_date = now() - interval '1 minute' WHERE id = (SELECT id FROM sessions LIMIT 1)")
        .execute(&app.pool)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while session_rows(&app).await != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the expired row is still there"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_forged_or_tampered_session_cookie_is_worthless() {
    let app = spawn_app().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let response = browser.log_in(&email, PASSWORD, false).await;
    let genuine = cookie_value(&session_cookie(&response).unwrap());
    assert!(current_user_with_cookie(&app, &genuine)
        .await
        .contains(&email));

    // The bare id without its signature, and the cookie with one signature character changed.
    let bare_id = session_id(&genuine);
    let first = genuine.chars().next().unwrap();
    let other = if first == 'A' { 'B' } else { 'A' };
    let tampered = format!("{other}{}", &genuine[1..]);
    for forged in [bare_id, tampered] {
        assert_eq!(
            current_user_with_cookie(&app, &forged).await,
            "null",
            "{forged}"
        );
    }
}
