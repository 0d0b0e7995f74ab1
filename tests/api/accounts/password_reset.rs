use std::time::{Duration, Instant};
use trading_strategy::accounts::ssr::events::SignedOutEverywhere;
use trading_strategy::accounts::UserId;

use crate::harness::{
    error_of, mail_to, spawn_app, spawn_app_with_mail, unique_email, NEW_PASSWORD, PASSWORD,
};

#[tokio::test]
async fn asking_for_a_reset_answers_the_same_whether_or_not_the_email_exists() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let mut answers = Vec::new();
    for address in [email.clone(), unique_email()] {
        for call_as_page in [false, true] {
            let browser = app.browser();
            let response = if call_as_page {
                browser.request_reset(&address).await
            } else {
                browser
                    .post_form("/users/reset-password", &[("user[email]", &address)])
                    .await
            };
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string());
            answers.push((
                call_as_page,
                status,
                location,
                response.text().await.unwrap(),
            ));
        }
    }
    assert_eq!(answers[0], answers[2]);
    assert_eq!(answers[1], answers[3]);
    assert_eq!(
        answers[0].2.as_deref(),
        Some("/users/log-in?notice=reset-sent")
    );
    let page = app
        .browser()
        .get("/users/log-in?notice=reset-sent")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("If your email is in our system, you will receive instructions"),
        "{page}"
    );
}

#[tokio::test]
async fn resending_the_confirmation_answers_the_same_whether_or_not_the_email_exists() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let known = app
        .browser()
        .post_form("/users/resend-confirmation", &[("user[email]", &email)])
        .await;
    let unknown = app
        .browser()
        .post_form(
            "/users/resend-confirmation",
            &[("user[email]", &unique_email())],
        )
        .await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(known.headers()["location"], unknown.headers()["location"]);
    assert_eq!(
        known.headers()["location"],
        "/users/log-in?notice=confirmation-sent"
    );
    // The known, unconfirmed address got a second link. It is made after the answer has gone
    // (so both answers take the same time): wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let count = app
            .count("SELECT count(*) FROM users_tokens WHERE context = 'confirm'")
            .await;
        if count == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no second confirmation link (found {count})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_reset_sets_the_password_ends_every_session_and_does_not_sign_in() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let first = app.signed_up(&email).await;
    let second = app.browser();
    second.log_in(&email, PASSWORD, true).await;
    let user_id = app.user_id(&email).await;
    let mut signed_out = app.state.realtime.subscribe::<SignedOutEverywhere>();

    let guest = app.browser();
    guest
        .post_form("/users/reset-password", &[("user[email]", &email)])
        .await;
    let mail = mail_to(&email, "Reset your password").await;
    let form = guest.get(&mail.link_path()).await.text().await.unwrap();
    assert!(form.contains("New password"), "{form}");
    let response = guest
        .post_form(
            "/users/reset-password/update",
            &[
                ("token", &mail.token()),
                ("user[password]", NEW_PASSWORD),
                ("user[password_confirmation]", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/users/log-in?notice=password-reset"
    );

    assert_eq!(guest.signed_in_as().await, None, "a reset does not sign in");
    assert_eq!(first.signed_in_as().await, None);
    assert_eq!(second.signed_in_as().await, None);
    let leftovers: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users_tokens), (SELECT count(*) FROM sessions WHERE user_id IS NOT NULL)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(leftovers, (0, 0), "every token and every session is gone");
    let notice = tokio::time::timeout(Duration::from_secs(5), signed_out.recv())
        .await
        .expect("the websocket hook fired")
        .unwrap();
    assert_eq!(notice.user_id, UserId(user_id));

    assert_eq!(
        app.browser().log_in(&email, PASSWORD, false).await.status(),
        422
    );
    assert_eq!(
        app.browser()
            .log_in(&email, NEW_PASSWORD, false)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn an_invalid_reset_link_shows_a_clear_message() {
    let app = spawn_app_with_mail().await;
    let page = app
        .browser()
        .get("/users/reset-password/not-a-real-token")
        .await;
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("invalid or it has expired"));
}

#[tokio::test]
async fn the_banners_resend_button_sends_a_new_link_to_a_signed_in_unconfirmed_user() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let first = mail_to(&email, "Confirm your email").await.token();
    let response = browser.post_form("/users/resend-confirmation", &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/strategies?notice=confirmation-sent"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let second = loop {
        let token = mail_to(&email, "Confirm your email").await.token();
        if token != first {
            break token;
        }
        assert!(std::time::Instant::now() < deadline, "no second link");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(browser.confirm(&second).await.status(), 200);
    let page = browser.get("/strategies").await.text().await.unwrap();
    assert!(
        !page.contains("unconfirmed-banner"),
        "the banner goes once confirmed"
    );
}

#[tokio::test]
async fn a_reset_with_a_made_up_token_is_refused_before_any_password_hashing() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let browser = app.browser();
    // 32 bytes that no one was sent: the link's message, not the short password's, because the
    // token is looked up first.
    let made_up = "A".repeat(43);
    let reset = |password: &'static str| {
        let browser = &browser;
        let made_up = made_up.clone();
        async move {
            browser
                .call(
                    "/users/reset-password/update",
                    &[
                        ("token", made_up.as_str()),
                        ("user[password]", password),
                        ("user[password_confirmation]", password),
                    ],
                )
                .await
        }
    };
    let response = reset("short").await;
    assert_eq!(response.status(), 422);
    let error = error_of(response).await;
    assert!(
        error
            .to_string()
            .contains("link is invalid or it has expired"),
        "{error}"
    );
    // And it takes far less than one argon2 verification (a failed log-in).
    let mut reset_took = Duration::MAX;
    let mut log_in_took = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(reset(NEW_PASSWORD).await.status(), 422);
        reset_took = reset_took.min(started.elapsed());
        let started = Instant::now();
        assert_eq!(
            browser
                .log_in(&email, "not the password at all", false)
                .await
                .status(),
            422
        );
        log_in_took = log_in_took.min(started.elapsed());
    }
    assert!(
        reset_took * 2 < log_in_took,
        "a made-up token took {reset_took:?}, one hash {log_in_took:?}"
    );
}
