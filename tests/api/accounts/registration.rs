use trading_strategy::accounts::ssr::credentials::{common_password_count, is_common_password};

use crate::harness::{
    error_of, field_message, mail_to, spawn_app, spawn_app_with_mail, unique_email, PASSWORD,
};

/// The runbook's smoke test, exactly as written: the status line and `Location` of its answer.
async fn runbook_registration(app: &crate::harness::TestApp) -> (String, String) {
    let output = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-i",
            "-X",
            "POST",
            &app.url("/users/register"),
            "-d",
            "user[email]=test@example.com&user[password]=securepass123",
        ])
        .output()
        .await
        .expect("curl runs");
    let answer = String::from_utf8_lossy(&output.stdout).to_string();
    let status_line = answer.lines().next().unwrap_or_default().trim().to_string();
    let location = answer
        .lines()
        .find_map(|line| {
            line.to_lowercase()
                .strip_prefix("location:")
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no Location: {answer}"));
    (status_line, location)
}

#[tokio::test]
async fn the_runbook_smoke_test_registers_with_curl_as_written_and_gets_the_same_redirect_either_way(
) {
    let app = spawn_app().await;
    let (status, location) = runbook_registration(&app).await;
    assert!(status.contains(" 303"), "{status}");
    assert_eq!(location, "/users/check-email");
    let hash: String =
        sqlx::query_scalar("SELECT hashed_password FROM users WHERE email = 'test@example.com'")
            .fetch_one(&app.pool)
            .await
            .expect("curl created the account");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    // Again, now that the address is registered: the very same answer.
    assert_eq!(runbook_registration(&app).await, (status, location));
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);
}

#[tokio::test]
async fn the_runbook_password_securepass123_is_not_a_common_password_and_registers() {
    assert!(!is_common_password("securepass123"));
    let app = spawn_app().await;
    let response = app
        .browser()
        .register(&unique_email(), "securepass123")
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_common_password_list_holds_over_10000_breached_passwords_all_of_12_to_72_characters() {
    assert!(
        common_password_count() >= 10_000,
        "{}",
        common_password_count()
    );
    let entries: Vec<&str> = include_str!("../../../src/accounts/ssr/common_passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    assert_eq!(entries.len(), common_password_count());
    for entry in &entries {
        let length = entry.chars().count();
        assert!(
            (12..=72).contains(&length),
            "{entry:?} has {length} characters"
        );
    }
    // Known entries of the breached corpora, whatever their case.
    for known in [
        "qwerty123456",
        "1qaz2wsx3edc",
        "password1234",
        "Passwordpassword",
        "iloveyou1234",
        "123qweasdzxc",
    ] {
        assert!(is_common_password(known), "{known}");
    }
}

#[tokio::test]
async fn registering_with_a_registered_email_answers_the_same_after_the_same_work_and_mails_the_owner_a_note(
) {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let first = app.browser().register(&email, PASSWORD).await;
    assert_eq!(first.status(), 200);
    let first: serde_json::Value = first.json().await.unwrap();
    mail_to(&email, "Confirm your email").await;

    let started = std::time::Instant::now();
    let again = app
        .browser()
        .register(&email.to_uppercase(), "another long passphrase")
        .await;
    let taken_took = started.elapsed();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<serde_json::Value>().await.unwrap(), first);
    assert_eq!(first["to"], "/users/check-email");
    let note = mail_to(&email, "Someone tried to register with your email").await;
    assert!(
        note.text.contains("/users/log-in") && note.text.contains("/users/reset-password"),
        "{}",
        note.text
    );
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);

    // The same work: the taken address costs an argon2 hash too, like a new one.
    let started = std::time::Instant::now();
    assert_eq!(
        app.browser()
            .register(&unique_email(), PASSWORD)
            .await
            .status(),
        200
    );
    let new_took = started.elapsed();
    assert!(
        taken_took * 3 > new_took,
        "a taken address took {taken_took:?}, a new one {new_took:?}"
    );
    let page = app
        .browser()
        .get("/users/check-email")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Check your email to continue"), "{page}");
}

#[tokio::test]
async fn registering_does_not_sign_in_and_the_mailed_link_confirms_and_signs_in() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let browser = app.browser();
    assert_eq!(browser.register(&email, PASSWORD).await.status(), 200);
    assert_eq!(
        browser.signed_in_as().await,
        None,
        "registration does not sign in"
    );
    let confirmed: Option<chrono::NaiveDateTime> =
        sqlx::query_scalar("SELECT confirmed_at FROM users WHERE email = $1::text::citext")
            .bind(&email)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(confirmed, None);
    let mail = mail_to(&email, "Confirm your email").await;
    assert!(
        mail.link_path().starts_with("/users/confirm/"),
        "{}",
        mail.text
    );
    assert!(
        mail.html.contains("<a href="),
        "an HTML body too: {}",
        mail.html
    );
    let response = browser
        .post_form("/users/confirm", &[("token", &mail.token())])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/strategies?notice=confirmed"
    );
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some(email.as_str())
    );

    // An unconfirmed account may still log in with its password, and sees the banner.
    let other = unique_email();
    let unconfirmed = app.signed_up(&other).await;
    let page = unconfirmed.get("/strategies").await.text().await.unwrap();
    assert!(page.contains("unconfirmed-banner"), "{page}");
    assert!(page.contains("Resend the link"));
}

#[tokio::test]
async fn an_email_that_lettre_would_read_differently_is_refused_with_a_field_error() {
    let app = spawn_app().await;
    for hostile in [
        "Ann <ann@example.com>",
        "<ann@example.com>",
        "ann@example.com\0",
        "ann\u{7}@example.com",
        "\"ann\"@example.com>",
    ] {
        let response = app.browser().register(hostile, PASSWORD).await;
        assert_eq!(response.status(), 422, "{hostile:?}");
        assert!(
            field_message(&error_of(response).await, "email").is_some(),
            "{hostile:?}"
        );
        let response = app.browser().request_reset(hostile).await;
        assert_eq!(response.status(), 422, "{hostile:?}");
    }
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
}

#[tokio::test]
async fn passwords_need_12_to_72_characters_and_must_not_be_common() {
    let app = spawn_app().await;
    let browser = app.browser();
    for (password, expected) in [
        ("short pass", "at least 12"),
        (&"x".repeat(73)[..], "at most 72"),
        ("password1234", "common"),
        ("Qwerty123456", "common"),
    ] {
        let response = browser.register(&unique_email(), password).await;
        assert_eq!(response.status(), 422, "{password}");
        let error = error_of(response).await;
        let message = field_message(&error, "password").unwrap();
        assert!(message.contains(expected), "{password}: {message}");
    }
    // Counted as typed: 12 characters with spaces, or 72 multi-byte ones, are fine.
    assert_eq!(
        browser
            .register(&unique_email(), "  twelve 12  ")
            .await
            .status(),
        200
    );
    let browser = app.browser();
    assert_eq!(
        browser
            .register(&unique_email(), &"é".repeat(72))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn emails_are_trimmed_at_most_160_characters_and_unique_whatever_their_case() {
    let app = spawn_app().await;
    let email = unique_email();
    let padded = format!("  {email}  ");
    assert_eq!(
        app.browser().register(&padded, PASSWORD).await.status(),
        200
    );
    let stored: String = sqlx::query_scalar("SELECT email::text FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, email);

    // The same address in other letters: the same answer as a new one, and no second account.
    let response = app
        .browser()
        .register(&email.to_uppercase(), PASSWORD)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);

    let too_long = format!("{}@example.com", "a".repeat(150));
    let response = app.browser().register(&too_long, PASSWORD).await;
    assert_eq!(response.status(), 422);
    assert!(field_message(&error_of(response).await, "email")
        .unwrap()
        .contains("160"));
}

#[tokio::test]
async fn without_javascript_a_failed_form_returns_to_the_form_which_shows_the_error_by_its_field() {
    let app = spawn_app().await;
    let browser = app.browser();
    let response = browser
        .post_form(
            "/users/register",
            &[
                ("user[email]", "not-an-email"),
                ("user[password]", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.contains("/users/register?") && location.contains("__err="),
        "{location}"
    );
    let path = location.trim_start_matches(&app.origin()).to_string();
    let page = browser.get(&path).await.text().await.unwrap();
    assert!(
        page.contains("Email must have the @ sign and no spaces"),
        "{page}"
    );
    assert!(
        page.contains("data-field=\"email\""),
        "the message sits by its field"
    );
}

#[tokio::test]
async fn without_javascript_registering_redirects_to_the_check_email_page_and_does_not_sign_in() {
    let app = spawn_app().await;
    let browser = app.browser();
    let email = unique_email();
    let response = browser
        .post_form(
            "/users/register",
            &[("user[email]", &email), ("user[password]", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/users/check-email");
    let page = browser.get("/users/check-email").await;
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Check your email to continue"));
    assert_eq!(browser.signed_in_as().await, None);
}
