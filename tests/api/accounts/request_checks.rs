use trading_strategy::error::AppError;

use crate::harness::{error_of, spawn_app, spawn_app_with, unique_email, PASSWORD};

/// A log-in attempt (JSON, as the Leptos action sends it) from `client`, as the reverse proxy
/// reports it in `X-Forwarded-For`.
async fn log_in_from(
    app: &crate::harness::TestApp,
    client: &str,
    email: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/users/log-in"))
        .header("accept", "application/json")
        .header("x-forwarded-for", client)
        .form(&[("user[email]", email), ("user[password]", PASSWORD)])
        .send()
        .await
        .unwrap()
}

async fn users(app: &crate::harness::TestApp) -> i64 {
    app.count("SELECT count(*) FROM users").await
}

#[tokio::test]
async fn a_state_changing_request_from_another_site_is_refused() {
    let app = spawn_app().await;
    let register = |headers: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let mut request = app.client.post(app.url("/users/register")).form(&[
                ("user[email]", unique_email()),
                ("user[password]", PASSWORD.to_string()),
            ]);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request.send().await.unwrap()
        }
    };
    let ours = app.origin();
    for hostile in [
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![
            ("sec-fetch-site", "same-site".to_string()),
            ("origin", ours.clone()),
        ],
        vec![("origin", "https://evil.example".to_string())],
        vec![("origin", "null".to_string())],
        vec![("referer", "https://evil.example/form".to_string())],
    ] {
        let response = register(hostile.clone()).await;
        assert_eq!(response.status(), 403, "{hostile:?}");
        assert!(error_of(response)
            .await
            .to_string()
            .contains("another site"));
    }
    assert_eq!(users(&app).await, 0, "nothing changed");
    for friendly in [
        vec![
            ("sec-fetch-site", "same-origin".to_string()),
            ("origin", ours.clone()),
        ],
        vec![("referer", format!("{ours}/users/register"))],
        vec![],
    ] {
        assert!(
            register(friendly.clone()).await.status().is_redirection(),
            "{friendly:?}"
        );
    }
    assert_eq!(users(&app).await, 3);
}

#[tokio::test]
async fn nothing_changes_state_on_get() {
    let app = spawn_app().await;
    for path in [
        "/users/register?user[email]=a@example.com&user[password]=correct+horse+battery",
        "/users/log-out",
        "/users/confirm",
        "/users/reset-password?user[email]=a@example.com",
    ] {
        let response = app.get(path).await;
        assert!(response.status() != 500, "{path}");
    }
    assert_eq!(users(&app).await, 0);
    let mail: i64 = app.count("SELECT count(*) FROM mail_outbox").await;
    assert_eq!(mail, 0);
}

async fn assert_rate_limited(response: reqwest::Response) {
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=180).contains(&retry_after), "{retry_after}");
    let error: AppError = serde_json::from_value(error_of(response).await).unwrap();
    assert!(
        error
            .to_string()
            .starts_with("Too many attempts. Please try again in"),
        "{error}"
    );
}

#[tokio::test]
async fn logins_are_limited_to_10_in_3_minutes_with_a_clear_message_and_retry_after() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    for attempt in 1..=10 {
        let response = app
            .browser()
            .log_in(&email, "not the right password", false)
            .await;
        assert_eq!(response.status(), 422, "attempt {attempt}");
    }
    assert_rate_limited(app.browser().log_in(&email, PASSWORD, false).await).await;
    // Kept in Postgres, so that every server counts together.
    let windows: i64 = app
        .count("SELECT count(*) FROM rate_limits WHERE key LIKE 'log_in:%'")
        .await;
    assert_eq!(windows, 2, "one count for the client, one for the account");
}

#[tokio::test]
async fn the_account_limit_holds_whatever_the_client() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    // Each attempt from another client (behind the reverse proxy): only the account's count
    // reaches the limit.
    for client in 1..=10 {
        let response = log_in_from(&app, &format!("203.0.113.{client}"), &email).await;
        assert_eq!(response.status(), 200, "attempt from client {client}");
    }
    assert_rate_limited(log_in_from(&app, "203.0.113.11", &email).await).await;
    let other_account = log_in_from(&app, "203.0.113.12", &unique_email()).await;
    assert_eq!(other_account.status(), 422, "other accounts go on");
}

#[tokio::test]
async fn registration_reset_and_confirmation_are_rate_limited_too() {
    let app = spawn_app().await;
    let browser = app.browser();
    for _ in 0..10 {
        browser.register("not-an-email", PASSWORD).await;
        browser.request_reset("someone@example.com").await;
        browser.confirm("not-a-token").await;
    }
    assert_rate_limited(browser.register(&unique_email(), PASSWORD).await).await;
    assert_rate_limited(browser.request_reset("x@example.com").await).await;
    assert_rate_limited(browser.confirm("not-a-token").await).await;
}

#[tokio::test]
async fn every_page_carries_the_security_headers_and_its_scripts_the_policys_nonce() {
    let app = spawn_app().await;
    let response = app.get("/users/log-in").await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let policy = header("content-security-policy").expect("a CSP");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("default-src 'self'"));
    assert!(
        !policy.contains("'unsafe-inline' 'nonce")
            && !policy.contains("script-src 'self' 'unsafe-inline'")
    );
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(
        header("referrer-policy").as_deref(),
        Some("strict-origin-when-cross-origin")
    );
    assert_eq!(
        header("strict-transport-security"),
        None,
        "plain http: no HSTS"
    );
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in script-src")
        .to_string();
    let page = response.text().await.unwrap();
    let scripts = page.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        page.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every script has the nonce"
    );
    let again = app.get("/users/log-in").await;
    assert!(
        !again.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains(&nonce),
        "a nonce per response"
    );

    let tls = spawn_app_with(&[("PHX_HOST", "https://trade.example.com")]).await;
    let response = tls.get("/health").await;
    assert!(response.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    assert!(response.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn the_development_mailbox_shows_queued_mail_and_is_absent_in_production() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let page = app.get("/dev/mailbox").await.text().await.unwrap();
    assert!(
        page.contains(&email) && page.contains("Confirm your email"),
        "{page}"
    );

    let production = spawn_app_with(&[
        ("APP_ENV", "production"),
        ("PHX_HOST", "http://127.0.0.1"),
        ("SECRET_KEY_BASE", &"k".repeat(64)),
    ])
    .await;
    assert_eq!(production.get("/dev/mailbox").await.status(), 404);
}

#[tokio::test]
async fn password_hashing_runs_off_the_async_runtime() {
    // The test app shares this test's single-threaded runtime: were argon2 run on it, /health
    // would wait for every hash in flight.
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    let started = std::time::Instant::now();
    let logins: Vec<_> = (0..6)
        .map(|_| {
            let browser = app.browser();
            let email = email.clone();
            tokio::spawn(
                async move { browser.log_in(&email, "a wrong password here", false).await },
            )
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let health_started = std::time::Instant::now();
    assert_eq!(app.get("/health").await.status(), 200);
    let health = health_started.elapsed();
    for login in logins {
        login.await.unwrap();
    }
    let all = started.elapsed();
    assert!(
        health < all / 2,
        "health took {health:?} while six logins took {all:?}"
    );
}

#[test]
fn all_sql_of_the_app_is_checked_at_compile_time() {
    // `query!`/`query_as!`/`query_scalar!` bind every value; the function forms take any string.
    fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(std::path::Path::new("src"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for unchecked in [
            "sqlx::query(",
            "sqlx::query_as(",
            "sqlx::query_scalar(",
            "sqlx::raw_sql(",
        ] {
            assert!(
                !text.contains(unchecked),
                "{} uses {unchecked}",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn clients_behind_the_reverse_proxy_are_limited_each_by_their_own_address() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signed_up(&email).await;
    for _ in 0..10 {
        assert_eq!(
            log_in_from(&app, "203.0.113.9", &unique_email())
                .await
                .status(),
            422
        );
    }
    assert_rate_limited(log_in_from(&app, "203.0.113.9", &unique_email()).await).await;
    assert_eq!(
        log_in_from(&app, "198.51.100.20", &unique_email())
            .await
            .status(),
        422,
        "another client goes on"
    );
}
