//! `spawn_app()`: a fresh database (dropped afterwards) and the real router on a random port,
//! plus typed helpers, so each test reads as what a user does.

use std::{net::SocketAddr, time::Duration};

use sqlx::{postgres::PgPoolOptions, PgPool};
use trading_strategy::{
    accounts::ssr::UpkeepIntervals,
    config::Settings,
    server::{self, database, http, BackgroundIntervals},
    state::AppState,
};

/// The Postgres server the tests may create databases on: `DATABASE_URL` with its database
/// name ignored, or the local server.
pub fn server_url() -> String {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    match url.rsplit_once('/') {
        Some((server, _database)) if server.contains("://") && server.matches('/').count() >= 2 => {
            server.to_string()
        }
        _ => url,
    }
}

/// A database made for one test and dropped when the test ends, whatever its outcome.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// An empty database, with no migrations applied.
    pub async fn empty() -> Self {
        let name = format!("ts_test_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&format!("{}/postgres", server_url()))
            .await
            .expect("the test Postgres server answers");
        sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&admin)
            .await
            .expect("a test database can be created");
        admin.close().await;
        let url = format!("{}/{name}", server_url());
        TestDatabase { name, url }
    }

    /// A database with every migration applied.
    pub async fn migrated() -> (Self, PgPool) {
        let database = Self::empty().await;
        let pool = database::connect_url(&database.url, 5).await.unwrap();
        database::migrate(&pool).await.unwrap();
        (database, pool)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin_url = format!("{}/postgres", server_url());
        // Drop runs inside the test's runtime, which cannot block on async work: use a thread
        // with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(admin) = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&admin_url)
                    .await
                {
                    let _ =
                        sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                            .execute(&admin)
                            .await;
                }
            })
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

pub struct TestApp {
    pub address: SocketAddr,
    #[allow(dead_code)] // for tests that look at or change the database directly
    pub pool: PgPool,
    pub client: reqwest::Client,
    pub state: AppState,
    // Held for its `Drop`, which removes the database; declared last so it goes last.
    #[allow(dead_code)]
    pub database: TestDatabase,
}

pub fn test_settings(database_url: &str, extra: &[(&str, &str)]) -> Settings {
    let mut env: Vec<(String, String)> = vec![
        ("APP_ENV".into(), "test".into()),
        ("DATABASE_URL".into(), database_url.into()),
        ("POOL_SIZE".into(), "5".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::from_lookup(|name| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test settings are valid")
}

pub fn leptos_options() -> leptos::config::LeptosOptions {
    // The tests run from the crate root, where Leptos.toml is.
    http::load_leptos_options(None).expect("Leptos.toml is readable")
}

/// Serves `state` on a random local port and returns the address.
pub async fn serve(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    serve_on(listener, state);
    address
}

/// Serves `state` on `listener`.
pub fn serve_on(listener: tokio::net::TcpListener, state: AppState) {
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Background intervals short enough for a test to see their effect.
pub const TEST_INTERVALS: BackgroundIntervals = BackgroundIntervals {
    accounts: UpkeepIntervals {
        mail_poll: Duration::from_millis(200),
        expired_rows_cleanup: Duration::from_millis(500),
    },
    strategies: trading_strategy::strategies::ssr::WorkerIntervals {
        backtest_poll: Duration::from_millis(200),
    },
};

/// An app's state on `pool` (the database at `database_url`) and the local port it is to be
/// served on: bound first, so that the public URL (links in mail, the Origin check) has the
/// real port.
pub async fn bound_app_state(
    pool: PgPool,
    database_url: &str,
    extra_settings: &[(&str, &str)],
) -> (tokio::net::TcpListener, SocketAddr, AppState) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let settings = test_settings(database_url, extra_settings).with_listen_address(address);
    let state = server::app_state(leptos_options(), pool, settings);
    (listener, address, state)
}

/// Serves an app on `pool` without its background tasks and returns a browser pointed at it.
pub async fn serve_browser_on(
    pool: PgPool,
    database_url: &str,
    extra_settings: &[(&str, &str)],
) -> Browser {
    let (listener, address, state) = bound_app_state(pool, database_url, extra_settings).await;
    serve_on(listener, state);
    Browser {
        client: client(true),
        base: format!("http://{address}"),
    }
}

pub async fn spawn_app_with(extra_settings: &[(&str, &str)]) -> TestApp {
    let (database, pool) = TestDatabase::migrated().await;
    let (listener, address, state) =
        bound_app_state(pool.clone(), &database.url, extra_settings).await;
    server::start_background(&state, TEST_INTERVALS).await;
    serve_on(listener, state.clone());
    TestApp {
        address,
        pool,
        client: client(false),
        state,
        database,
    }
}

/// An HTTP client that never follows redirects, with or without a cookie jar (a browser).
pub fn client(keeps_cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(keeps_cookies)
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the app answers")
    }
}

/// The SMTP sink the test command starts (MailDev): where the app sends, and where the
/// tests read what it sent.
pub fn smtp_sink_ports() -> (String, String) {
    (
        std::env::var("SMTP_SINK_SMTP_PORT").unwrap_or_else(|_| "1025".into()),
        std::env::var("SMTP_SINK_WEB_PORT").unwrap_or_else(|_| "1080".into()),
    )
}

/// The app with its mail going through the SMTP sink (plain SMTP: only allowed outside
/// production, for this local sink).
pub async fn spawn_app_with_mail() -> TestApp {
    let (smtp_port, _) = smtp_sink_ports();
    spawn_app_with(&[
        ("SMTP_HOST", "127.0.0.1"),
        ("SMTP_PORT", smtp_port.as_str()),
        ("SMTP_STARTTLS", "false"),
    ])
    .await
}

/// An address no other test uses (they share the SMTP sink).
pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

pub const PASSWORD: &str = "correct horse battery staple";
pub const NEW_PASSWORD: &str = "a different long passphrase";

#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub text: String,
    pub html: String,
}

impl ReceivedMail {
    /// The path of the first link of ours in the text body (`/users/...`).
    pub fn link_path(&self) -> String {
        let start = self.text.find("http://").expect("the mail has a link");
        let url: String = self.text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        let after_scheme = &url["http://".len()..];
        let path_start = after_scheme.find('/').expect("the link has a path");
        after_scheme[path_start..].to_string()
    }

    /// The token at the end of the link.
    pub fn token(&self) -> String {
        self.link_path().rsplit('/').next().unwrap().to_string()
    }
}

/// Waits (up to 15 s) for mail to `address` whose subject contains `subject`, as received by
/// the SMTP sink.
pub async fn mail_to(address: &str, subject: &str) -> ReceivedMail {
    let (_, web_port) = smtp_sink_ports();
    let url = format!("http://127.0.0.1:{web_port}/email");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let listed = reqwest::get(&url).await.unwrap_or_else(|error| {
            panic!("the SMTP sink answers at {url} (start it: source scripts/lib.sh && start_smtp_sink): {error}")
        });
        let mails: Vec<serde_json::Value> = listed
            .json()
            .await
            .expect("the SMTP sink lists mail as JSON");
        let found = mails.iter().rev().find(|mail| {
            let to_us = mail["to"].as_array().is_some_and(|to| {
                to.iter().any(|r| {
                    r["address"]
                        .as_str()
                        .is_some_and(|a| a.eq_ignore_ascii_case(address))
                })
            });
            to_us
                && mail["subject"]
                    .as_str()
                    .is_some_and(|s| s.contains(subject))
        });
        if let Some(mail) = found {
            return ReceivedMail {
                text: mail["text"].as_str().unwrap_or_default().to_string(),
                html: mail["html"].as_str().unwrap_or_default().to_string(),
            };
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to {address} about {subject:?} reached the SMTP sink"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A browser: keeps cookies, sends `Origin` like a browser does, never follows redirects.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html")
            .send()
            .await
            .expect("the app answers")
    }

    /// A plain HTML form post, as with JavaScript off.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("accept", "text/html")
            .header("origin", &self.base)
            .header("referer", format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("the app answers")
    }

    /// A server function call as the hydrated page makes it.
    pub async fn call(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("accept", "application/json")
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .form(fields)
            .send()
            .await
            .expect("the app answers")
    }

    /// The email of the signed-in account, if any.
    pub async fn signed_in_as(&self) -> Option<String> {
        let response = self.call("/users/current", &[]).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let account: Option<serde_json::Value> = response.json().await.unwrap();
        account.map(|a| a["email"].as_str().unwrap().to_string())
    }

    pub async fn register(&self, email: &str, password: &str) -> reqwest::Response {
        self.call(
            "/users/register",
            &[("user[email]", email), ("user[password]", password)],
        )
        .await
    }

    pub async fn log_in(&self, email: &str, password: &str, remember: bool) -> reqwest::Response {
        let mut fields = vec![("user[email]", email), ("user[password]", password)];
        if remember {
            fields.push(("user[remember_me]", "true"));
        }
        self.call("/users/log-in", &fields).await
    }

    pub async fn log_out(&self) -> reqwest::Response {
        self.call("/users/log-out", &[]).await
    }

    pub async fn confirm(&self, token: &str) -> reqwest::Response {
        self.call("/users/confirm", &[("token", token)]).await
    }

    pub async fn request_reset(&self, email: &str) -> reqwest::Response {
        self.call("/users/reset-password", &[("user[email]", email)])
            .await
    }

    pub async fn reset_password(&self, token: &str, password: &str) -> reqwest::Response {
        self.call(
            "/users/reset-password/update",
            &[
                ("token", token),
                ("user[password]", password),
                ("user[password_confirmation]", password),
            ],
        )
        .await
    }

    pub async fn change_email(&self, new_email: &str, current_password: &str) -> reqwest::Response {
        self.call(
            "/users/settings/email",
            &[
                ("user[email]", new_email),
                ("current_password", current_password),
            ],
        )
        .await
    }

    pub async fn confirm_email_change(&self, token: &str) -> reqwest::Response {
        self.call("/users/settings/confirm-email", &[("token", token)])
            .await
    }

    pub async fn change_password(
        &self,
        new_password: &str,
        current_password: &str,
    ) -> reqwest::Response {
        self.call(
            "/users/settings/password",
            &[
                ("user[password]", new_password),
                ("user[password_confirmation]", new_password),
                ("current_password", current_password),
            ],
        )
        .await
    }
}

impl TestApp {
    pub fn origin(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn browser(&self) -> Browser {
        Browser {
            client: client(true),
            base: self.origin(),
        }
    }

    /// A browser signed in to a new account (registered, not confirmed). Registration does not
    /// sign in, so the browser then logs in with the password (an unconfirmed account may);
    /// the rate-limit counters that this set-up touched are cleared, so that a test counts only
    /// its own attempts.
    pub async fn signed_up(&self, email: &str) -> Browser {
        let browser = self.browser();
        let response = browser.register(email, PASSWORD).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let response = browser.log_in(email, PASSWORD, false).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        sqlx::query("DELETE FROM rate_limits")
            .execute(&self.pool)
            .await
            .unwrap();
        browser
    }

    /// A browser signed in to a new account whose email is confirmed, as a trader's is after
    /// following the mailed link: what uploading market data and running backtests need.
    pub async fn trader(&self, email: &str) -> Browser {
        let browser = self.signed_up(email).await;
        sqlx::query("UPDATE users SET confirmed_at = now() WHERE email = $1::text::citext")
            .bind(email)
            .execute(&self.pool)
            .await
            .unwrap();
        browser
    }

    /// The value of a `SELECT count(*) ...`.
    pub async fn count(&self, query: &str) -> i64 {
        sqlx::query_scalar(query)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn user_id(&self, email: &str) -> uuid::Uuid {
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1::text::citext")
            .bind(email)
            .fetch_one(&self.pool)
            .await
            .expect("the user exists")
    }
}

/// The error a server function answered with (JSON).
pub async fn error_of(response: reqwest::Response) -> serde_json::Value {
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not a JSON error: {text}"))
}

/// The message for `field` in a validation error.
pub fn field_message(error: &serde_json::Value, field: &str) -> Option<String> {
    error["fields"]
        .as_array()?
        .iter()
        .find(|f| f["field"] == field)
        .map(|f| f["message"].as_str().unwrap().to_string())
}

/// A live socket (`/strategies/live`) as a page opens it: this site's Origin and a session.
pub type LiveSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestApp {
    /// A new session of `email` (already registered): its `Cookie` header, and a browser that
    /// sends it, for tests that open sockets on a session and then end it.
    pub async fn session(&self, email: &str) -> (String, Browser) {
        session_at(&self.origin(), email).await
    }

    /// The live socket of the session `cookie`, or the status its upgrade was refused with.
    pub async fn live_socket(&self, cookie: &str) -> Result<LiveSocket, u16> {
        self.socket_at("/strategies/live", cookie).await
    }

    /// A socket at `path` opened as a page of this site opens it, on the session `cookie`.
    pub async fn socket_at(&self, path: &str, cookie: &str) -> Result<LiveSocket, u16> {
        socket_to(&self.origin(), path, cookie).await
    }
}

/// A new session of `email` (already registered) on the server at `base`: its `Cookie` header,
/// and a browser that sends it.
pub async fn session_at(base: &str, email: &str) -> (String, Browser) {
    let signing_in = Browser {
        client: client(false),
        base: base.to_string(),
    };
    let response = signing_in.log_in(email, PASSWORD, false).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let with_cookie = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(reqwest::header::COOKIE, cookie.parse().unwrap())]
                .into_iter()
                .collect(),
        )
        .build()
        .unwrap();
    (
        cookie,
        Browser {
            client: with_cookie,
            base: base.to_string(),
        },
    )
}

/// A socket at `path` of the server at `base`, opened as a page of that site opens it, on the
/// session `cookie`; or the status its upgrade was refused with.
pub async fn socket_to(base: &str, path: &str, cookie: &str) -> Result<LiveSocket, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{base}{path}")
        .replacen("http", "ws", 1)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", base.parse().unwrap());
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(error) => panic!("the upgrade failed: {error}"),
    }
}
