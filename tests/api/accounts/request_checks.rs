use trading_strategy::{config::Settings, error::AppError};

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

/// The app as deployed behind a reverse proxy on this host.
async fn behind_a_trusted_proxy() -> crate::harness::TestApp {
    spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await
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
    let app = behind_a_trusted_proxy().await;
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
async fn the_development_mailbox_is_served_only_when_asked_for_and_only_to_loopback_clients() {
    let app = spawn_app_with(&[("DEV_MAILBOX", "true"), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let email = unique_email();
    app.browser().register(&email, PASSWORD).await;
    // The confirmation mail is queued after the answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let page = loop {
        let page = app.get("/dev/mailbox").await.text().await.unwrap();
        if page.contains(&email) || std::time::Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(
        page.contains(&email) && page.contains("Confirm your email"),
        "{page}"
    );
    // A client that the proxy on this host forwards from elsewhere is not on loopback.
    let forwarded = app
        .client
        .get(app.url("/dev/mailbox"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 404);

    let not_asked = spawn_app().await;
    assert_eq!(not_asked.get("/dev/mailbox").await.status(), 404);

    let production = spawn_app_with(&[
        ("APP_ENV", "production"),
        ("PHX_HOST", "http://127.0.0.1"),
        ("SECRET_KEY_BASE", &"k".repeat(64)),
    ])
    .await;
    assert_eq!(production.get("/dev/mailbox").await.status(), 404);
    let refused = Settings::from_lookup(|name| match name {
        "APP_ENV" => Some("production".into()),
        "DATABASE_URL" => Some("postgres://127.0.0.1/x".into()),
        "PHX_HOST" => Some("example.com".into()),
        "SECRET_KEY_BASE" => Some("k".repeat(64)),
        "DEV_MAILBOX" => Some("true".into()),
        _ => None,
    });
    assert_eq!(refused.unwrap_err().name, "DEV_MAILBOX");
}

#[tokio::test]
async fn cookie_secure_false_is_refused_in_production() {
    let production = |cookie_secure: Option<&'static str>| {
        Settings::from_lookup(move |name| match name {
            "APP_ENV" => Some("production".into()),
            "DATABASE_URL" => Some("postgres://127.0.0.1/x".into()),
            "PHX_HOST" => Some("example.com".into()),
            "SECRET_KEY_BASE" => Some("k".repeat(64)),
            "COOKIE_SECURE" => cookie_secure.map(String::from),
            _ => None,
        })
    };
    let error = production(Some("false")).unwrap_err();
    assert_eq!(error.name, "COOKIE_SECURE");
    assert!(error
        .to_string()
        .contains("cannot be turned off in production"));
    assert!(production(None).unwrap().cookie_secure);
    assert!(production(Some("true")).unwrap().cookie_secure);
}

#[tokio::test]
async fn a_state_changing_request_with_a_session_cookie_but_no_origin_headers_is_refused() {
    let app = spawn_app().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let bare = |path: &str| {
        browser
            .client
            .post(app.url(path))
            .header("accept", "application/json")
    };
    // The browser's cookie jar adds the session cookie; nothing says where the request came from.
    let response = bare("/users/log-out").send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(error_of(response)
        .await
        .to_string()
        .contains("another site"));
    assert_eq!(
        browser.signed_in_as().await.as_deref(),
        Some(email.as_str()),
        "still signed in"
    );
    // Any one of the three headers from our origin lets it through.
    let response = bare("/users/log-out")
        .header("referer", format!("{}/users/settings", app.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Without a session cookie, a client that is not a browser (curl) still passes.
    assert!(app
        .client
        .post(app.url("/users/register"))
        .form(&[
            ("user[email]", unique_email().as_str()),
            ("user[password]", PASSWORD)
        ])
        .send()
        .await
        .unwrap()
        .status()
        .is_redirection());
}

#[tokio::test]
async fn the_content_security_policy_lets_pages_connect_only_to_this_origins_websocket() {
    let app = spawn_app().await;
    let policy = app.get("/users/log-in").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let connect_src = policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("connect-src"))
        .expect("a connect-src")
        .to_string();
    assert_eq!(
        connect_src,
        format!("connect-src 'self' ws://{}", app.address)
    );
    let tls = spawn_app_with(&[("PHX_HOST", "https://trade.example.com")]).await;
    let policy = tls.get("/health").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        policy.contains("connect-src 'self' wss://trade.example.com;"),
        "{policy}"
    );
}

#[tokio::test]
async fn without_trusted_proxies_x_forwarded_for_is_ignored_and_every_client_counts_as_its_peer() {
    let app = spawn_app().await;
    for client in 1..=10 {
        let response = log_in_from(&app, &format!("203.0.113.{client}"), &unique_email()).await;
        assert_eq!(response.status(), 422, "attempt {client}");
    }
    // Another forwarded address changes nothing: the limit is the peer's.
    assert_rate_limited(log_in_from(&app, "198.51.100.77", &unique_email()).await).await;
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT key FROM rate_limits WHERE key LIKE 'log_in:ip:%'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(keys, vec!["log_in:ip:127.0.0.1".to_string()]);
}

#[tokio::test]
async fn ipv6_clients_are_rate_limited_by_their_64() {
    let app = behind_a_trusted_proxy().await;
    for host in 1..=10 {
        let response = log_in_from(&app, &format!("2001:db8:1:2::{host:x}"), &unique_email()).await;
        assert_eq!(response.status(), 422, "attempt {host}");
    }
    // Another address of the same /64 is the same client.
    assert_rate_limited(log_in_from(&app, "2001:db8:1:2:ffff::1", &unique_email()).await).await;
    // Another /64 is another client.
    assert_eq!(
        log_in_from(&app, "2001:db8:1:3::1", &unique_email())
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn a_form_post_that_hits_a_rate_limit_gets_the_429_page_with_retry_after_like_the_hydrated_page(
) {
    let app = spawn_app().await;
    let browser = app.browser();
    let email = unique_email();
    for _ in 0..10 {
        browser
            .post_form(
                "/users/log-in",
                &[
                    ("user[email]", &email),
                    ("user[password]", "a wrong long password"),
                ],
            )
            .await;
    }
    let response = browser
        .post_form(
            "/users/log-in",
            &[
                ("user[email]", &email),
                ("user[password]", "a wrong long password"),
            ],
        )
        .await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=180).contains(&retry_after), "{retry_after}");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(!response.headers().contains_key("location"));
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Too many attempts. Please try again in"),
        "{page}"
    );
    // The hydrated page gets the same status, header and sentence.
    assert_rate_limited(browser.log_in(&email, "a wrong long password", false).await).await;
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

/// What in `text` builds or runs SQL from a string instead of a compile-checked `query!`.
fn unchecked_sql(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for unchecked in [
        "sqlx::query(",
        "sqlx::query_as(",
        "sqlx::query_scalar(",
        "sqlx::raw_sql(",
        "query_with(",
        "query_with::",
        "query_as_with(",
        "query_as_with::",
        "query_scalar_with(",
        "query_scalar_with::",
        "QueryBuilder",
        "Executor::",
        "sqlx::Executor",
    ] {
        if text.contains(unchecked) {
            found.push(unchecked.to_string());
        }
    }
    // An executor's own methods take any string: `.execute("...")`, `.fetch_all(&sql)`, ...
    for method in [
        ".execute(",
        ".execute_many(",
        ".fetch(",
        ".fetch_many(",
        ".fetch_all(",
        ".fetch_one(",
        ".fetch_optional(",
        ".prepare(",
    ] {
        for (at, _) in text.match_indices(method) {
            let argument = text[at + method.len()..].trim_start();
            let stringy = argument.starts_with('"')
                || argument.starts_with("r\"")
                || argument.starts_with("r#\"")
                || argument.starts_with("&format!")
                || argument.starts_with("format!")
                || argument.starts_with("&*format!")
                || argument.starts_with("&sql")
                || argument.starts_with("sql")
                || argument.starts_with("&query")
                || argument.starts_with("query.")
                || argument.starts_with("String::");
            if stringy {
                found.push(format!("{}{}", method, &argument[..argument.len().min(20)]));
            }
        }
    }
    found
}

#[test]
fn the_sql_check_catches_executor_execute_with_a_string_query_builder_and_query_with() {
    for hostile in [
        r#"pool.execute("DELETE FROM users").await"#,
        r#"connection.execute(&*format!("DELETE FROM {table}")).await"#,
        r#"sqlx::Executor::execute(&pool, "DELETE FROM users")"#,
        r#"let mut builder = QueryBuilder::<Postgres>::new("SELECT * FROM users WHERE ");"#,
        r#"sqlx::query_with(&sql, arguments).execute(&pool)"#,
        r#"sqlx::query_as_with::<_, Row, _>(&sql, arguments)"#,
        r#"pool.fetch_all(sql.as_str())"#,
        r#"sqlx::query(&format!("SELECT {column} FROM users"))"#,
    ] {
        assert!(!unchecked_sql(hostile).is_empty(), "missed: {hostile}");
    }
    for fine in [
        r#"sqlx::query!("DELETE FROM users WHERE id = $1", id).execute(pool).await?"#,
        r#"sqlx::query_scalar!("SELECT 1").fetch_one(&mut *connection).await?"#,
        r#"query.execute(executor).await?; fn f(executor: impl PgExecutor<'_>) {}"#,
    ] {
        assert_eq!(unchecked_sql(fine), Vec::<String>::new(), "{fine}");
    }
}

#[test]
fn all_sql_of_the_app_is_checked_at_compile_time() {
    // `query!`/`query_as!`/`query_scalar!` bind every value; the function forms, an
    // executor's methods and `QueryBuilder` take any string.
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
        let found = unchecked_sql(&text);
        assert!(found.is_empty(), "{} uses {found:?}", file.display());
    }
}

#[tokio::test]
async fn clients_behind_the_reverse_proxy_are_limited_each_by_their_own_address() {
    let app = behind_a_trusted_proxy().await;
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
