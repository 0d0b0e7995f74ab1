//! Nothing hangs: a request past its time limit, a busy pool, a slow statement and a client
//! that trickles its headers each end with a sentence or a closed connection, in bounded time.

use std::time::{Duration, Instant};

use sqlx::postgres::PgPoolOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trading_strategy::{
    error::{AppError, POOL_BUSY},
    server::{self, connections, database, http},
};

use crate::harness::{
    error_of, leptos_options, serve_browser_on, test_settings, Browser, TestDatabase,
};

/// The app over a pool of one connection, which the test holds, so that every request
/// that needs the database waits for it.
async fn app_with_its_only_connection_taken(
    extra: &[(&str, &str)],
    acquire_timeout: Duration,
) -> (
    Browser,
    sqlx::pool::PoolConnection<sqlx::Postgres>,
    TestDatabase,
) {
    let (database, _migrated) = TestDatabase::migrated().await;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(acquire_timeout)
        .connect(&database.url)
        .await
        .unwrap();
    let held = pool.acquire().await.unwrap();
    let browser = serve_browser_on(pool, &database.url, extra).await;
    (browser, held, database)
}

async fn log_in_attempt(browser: &Browser) -> reqwest::Response {
    browser
        .log_in(
            "someone@example.com",
            "a password that is long enough",
            false,
        )
        .await
}

#[tokio::test]
async fn when_no_database_connection_comes_free_a_request_answers_503_with_a_sentence() {
    let (browser, _held, _database) =
        app_with_its_only_connection_taken(&[], Duration::from_millis(500)).await;
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(10), log_in_attempt(&browser))
        .await
        .expect("the request answers instead of hanging");
    assert_eq!(response.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(5));
    let error = error_of(response).await;
    assert_eq!(error["message"], POOL_BUSY);
}

#[tokio::test]
async fn a_request_past_its_time_limit_answers_503_with_a_sentence() {
    // The pool would wait 20 s; the request limit (1 s) ends it first.
    let (browser, _held, _database) = app_with_its_only_connection_taken(
        &[("REQUEST_TIMEOUT_SECS", "1")],
        Duration::from_secs(20),
    )
    .await;
    let started = Instant::now();
    let response = log_in_attempt(&browser).await;
    assert_eq!(response.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(5));
    let error = error_of(response).await;
    assert_eq!(
        error["message"],
        "The server could not answer within 1 seconds, so it stopped trying. Please try again."
    );
}

#[tokio::test]
async fn postgres_cancels_a_statement_past_the_statement_time_limit() {
    let (database, _pool) = TestDatabase::migrated().await;
    let settings = test_settings(&database.url, &[("DB_STATEMENT_TIMEOUT_MS", "200")]);
    let pool = database::connect(&settings).await.unwrap();
    let started = Instant::now();
    let error = sqlx::query("SELECT pg_sleep(5)")
        .execute(&pool)
        .await
        .expect_err("the statement is cancelled");
    assert!(started.elapsed() < Duration::from_secs(3));
    let error = AppError::from(error);
    assert_eq!(error.status(), 503, "{error:?}");
    assert!(error.to_string().contains("took too long"), "{error}");
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_disconnected() {
    let (database, pool) = TestDatabase::migrated().await;
    let state = server::app_state(leptos_options(), pool, test_settings(&database.url, &[]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(connections::serve(
        listener,
        http::router(state),
        Duration::from_secs(1),
        std::future::pending(),
    ));

    // A whole request is answered.
    let health = reqwest::get(format!("http://{address}/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // Half a request, then nothing: the server hangs up after the header time limit.
    let mut slow = tokio::net::TcpStream::connect(address).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest))
        .await
        .expect("the server closes the connection instead of waiting forever")
        .ok();
    assert!(started.elapsed() >= Duration::from_millis(900));
    let answer = String::from_utf8_lossy(&rest);
    assert!(!answer.contains("200 OK"), "{answer}");
}
