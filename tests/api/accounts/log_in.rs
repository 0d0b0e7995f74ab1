use std::time::{Duration, Instant};

use argon2::{
    password_hash::{PasswordHasher, SaltString},
    Algorithm, Argon2, Params, Version,
};

use crate::harness::{error_of, spawn_app, unique_email, PASSWORD};

#[tokio::test]
async fn logging_in_lands_where_the_user_was_going_or_on_strategies() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;

    let browser = app.browser();
    let response = browser.get("/users/settings").await;
    assert_eq!(response.status(), 303);
    let to_log_in = response.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to_log_in, "/users/log-in?return_to=%2Fusers%2Fsettings");

    let response = browser
        .post_form(
            "/users/log-in",
            &[
                ("user[email]", &email),
                ("user[password]", PASSWORD),
                ("return_to", "/users/settings"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/users/settings");
    assert_eq!(browser.get("/users/settings").await.status(), 200);

    let other = app.browser();
    let response = other
        .post_form(
            "/users/log-in",
            &[("user[email]", &email), ("user[password]", PASSWORD)],
        )
        .await;
    assert_eq!(response.headers()["location"], "/strategies");
}

#[tokio::test]
async fn return_to_never_leads_to_another_site() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    for hostile in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let response = app
            .browser()
            .post_form(
                "/users/log-in",
                &[
                    ("user[email]", &email),
                    ("user[password]", PASSWORD),
                    ("return_to", hostile),
                ],
            )
            .await;
        assert_eq!(response.headers()["location"], "/strategies", "{hostile}");
    }
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer_after_the_same_work() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;

    let mut answers = Vec::new();
    let mut timings = [Vec::new(), Vec::new()];
    for round in 0..3 {
        for (which, login) in [(0, email.clone()), (1, unique_email())] {
            let started = Instant::now();
            let response = app
                .browser()
                .log_in(&login, "not the right password", false)
                .await;
            timings[which].push(started.elapsed());
            let status = response.status();
            let error = error_of(response).await;
            if round == 0 {
                answers.push((status, error));
            }
        }
    }
    assert_eq!(answers[0], answers[1], "the same status and message");
    assert_eq!(answers[0].0, 422);
    assert_eq!(answers[0].1["message"], "Invalid email or password");
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[1]
    };
    let (known, unknown) = (median(&mut timings[0]), median(&mut timings[1]));
    // One argon2 verification each (tens of milliseconds): an unknown email is not answered
    // noticeably faster.
    assert!(
        unknown.as_secs_f64() > known.as_secs_f64() * 0.5,
        "unknown email {unknown:?} vs wrong password {known:?}"
    );
}

#[tokio::test]
async fn a_hash_with_older_parameters_is_replaced_at_login() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(4096, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
    let old_hash = weak
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    sqlx::query("UPDATE users SET hashed_password = $1")
        .bind(&old_hash)
        .execute(&app.pool)
        .await
        .unwrap();

    assert_eq!(
        app.browser().log_in(&email, PASSWORD, false).await.status(),
        200
    );
    let new_hash: String = sqlx::query_scalar("SELECT hashed_password FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        new_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{new_hash}"
    );
    // The new hash still opens the account.
    assert_eq!(
        app.browser().log_in(&email, PASSWORD, false).await.status(),
        200
    );
}

#[tokio::test]
async fn guest_pages_send_a_signed_in_user_to_strategies() {
    let app = spawn_app().await;
    let browser = app.signed_up(&unique_email()).await;
    for page in ["/users/register", "/users/log-in", "/users/reset-password"] {
        let response = browser.get(page).await;
        assert_eq!(response.status(), 303, "{page}");
        assert_eq!(response.headers()["location"], "/strategies", "{page}");
    }
    let guest = app.browser();
    assert_eq!(guest.get("/users/log-in").await.status(), 200);
    let response = guest.get("/strategies").await;
    assert_eq!(
        response.headers()["location"],
        "/users/log-in?return_to=%2Fstrategies"
    );
}

#[tokio::test]
async fn the_header_shows_the_email_with_settings_and_log_out_or_register_and_log_in() {
    let app = spawn_app().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let page = browser.get("/strategies").await.text().await.unwrap();
    // In place in the header, not streamed later for a script to move: it works without
    // JavaScript.
    let header = page.split("</header>").next().unwrap();
    assert!(
        header.contains(&email) && header.contains("Log out"),
        "{header}"
    );
    assert!(
        page.contains(&email) && page.contains("Settings") && page.contains("Log out"),
        "{page}"
    );
    let page = app.browser().get("/").await.text().await.unwrap();
    assert!(page.contains("Register") && page.contains("Log in") && !page.contains("Log out"));
}
