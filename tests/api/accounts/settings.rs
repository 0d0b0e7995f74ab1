use std::time::Duration;
use trading_strategy::accounts::ssr::events::SignedOutEverywhere;
use trading_strategy::accounts::UserId;

use crate::harness::{
    error_of, field_message, mail_to, spawn_app, spawn_app_with_mail, unique_email, NEW_PASSWORD,
    PASSWORD,
};

#[tokio::test]
async fn changing_the_email_needs_the_current_password_and_a_link_sent_to_the_new_address() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let new_email = unique_email();

    let refused = browser
        .change_email(&new_email, "not my password at all")
        .await;
    assert_eq!(refused.status(), 422);
    assert!(field_message(&error_of(refused).await, "current_password").is_some());

    let response = browser
        .post_form(
            "/users/settings/email",
            &[("user[email]", &new_email), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/users/settings?notice=email-change-sent"
    );
    let notice = mail_to(&email, "Your email is about to change").await;
    assert!(
        !notice.text.contains(&new_email),
        "the notice masks the new address: {}",
        notice.text
    );
    let link = mail_to(&new_email, "Confirm your new email").await;
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some(email.as_str()),
        "nothing changed yet"
    );

    let page = browser.get(&link.link_path()).await;
    assert!(page.text().await.unwrap().contains("Change my email"));
    let response = browser
        .post_form("/users/settings/confirm-email", &[("token", &link.token())])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some(new_email.as_str())
    );
    assert_eq!(
        browser.confirm_email_change(&link.token()).await.status(),
        422,
        "once only"
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions_only() {
    let app = spawn_app().await;
    let email = unique_email();
    let this = app.signed_up(&email).await;
    let other = app.browser();
    other.log_in(&email, PASSWORD, false).await;
    let user_id = app.user_id(&email).await;
    let mut signed_out = app.state.realtime.subscribe::<SignedOutEverywhere>();

    let fields = |current: &'static str| {
        [
            ("user[password]", NEW_PASSWORD),
            ("user[password_confirmation]", NEW_PASSWORD),
            ("current_password", current),
        ]
    };
    let refused = this
        .change_password(NEW_PASSWORD, "wrong current password")
        .await;
    assert_eq!(refused.status(), 422);
    assert!(field_message(&error_of(refused).await, "current_password").is_some());
    assert!(other.signed_in_as().await.is_some());

    let mismatch = this
        .call(
            "/users/settings/password",
            &[
                ("user[password]", NEW_PASSWORD),
                ("user[password_confirmation]", "something else entirely"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        field_message(&error_of(mismatch).await, "password_confirmation").as_deref(),
        Some("Does not match the password")
    );

    let response = this
        .post_form("/users/settings/password", &fields(PASSWORD))
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/users/settings?notice=password-changed"
    );
    assert_eq!(
        this.signed_in_as().await.as_deref(),
        Some(email.as_str()),
        "this session goes on"
    );
    assert_eq!(other.signed_in_as().await, None, "the other session ended");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 1);
    let notice = tokio::time::timeout(Duration::from_secs(5), signed_out.recv())
        .await
        .expect("the websocket hook fired")
        .unwrap();
    assert_eq!(notice.user_id, UserId(user_id));
}

#[tokio::test]
async fn settings_need_a_signed_in_user() {
    let app = spawn_app().await;
    let response = app.browser().change_password(NEW_PASSWORD, PASSWORD).await;
    assert_eq!(response.status(), 401);
}
