use crate::harness::{
    error_of, field_message, mail_to, spawn_app, spawn_app_with_mail, unique_email, PASSWORD,
};

#[tokio::test]
async fn the_runbook_smoke_test_registers_with_curl_as_written_and_answers_with_a_redirect() {
    let app = spawn_app().await;
    // Exactly the runbook's command, against this app.
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
    let status_line = answer.lines().next().unwrap_or_default();
    assert!(status_line.contains(" 303"), "{answer}");
    assert!(
        answer
            .to_lowercase()
            .contains("location: /strategies?notice=registered"),
        "{answer}"
    );
    let hash: String =
        sqlx::query_scalar("SELECT hashed_password FROM users WHERE email = 'test@example.com'")
            .fetch_one(&app.pool)
            .await
            .expect("curl created the account");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

#[tokio::test]
async fn registering_signs_in_unconfirmed_and_mails_a_confirmation_link() {
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some(email.as_str())
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
    // The unconfirmed user sees the banner with its resend button.
    let page = browser.get("/strategies").await.text().await.unwrap();
    assert!(page.contains("unconfirmed-banner"), "{page}");
    assert!(page.contains("Resend the link"));
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

    let response = app
        .browser()
        .register(&email.to_uppercase(), PASSWORD)
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        field_message(&error_of(response).await, "email").as_deref(),
        Some("Email has already been taken")
    );

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
async fn without_javascript_a_successful_form_redirects_and_signs_in() {
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
    assert_eq!(
        response.headers()["location"],
        "/strategies?notice=registered"
    );
    let page = browser.get("/strategies").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Your strategies"));
}
