//! The live channel: a frame limit, a message rate, a cap on one account's sockets, a ping
//! that must be answered, and the socket closing as soon as its session ends for any reason
//! (log-out, revoked, expired).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{spawn_app, spawn_app_with, unique_email, TestApp};

type Socket = crate::harness::LiveSocket;

/// The live socket of the session `cookie`, or the status its upgrade was refused with.
async fn open(app: &TestApp, cookie: &str) -> Result<Socket, u16> {
    app.live_socket(cookie).await
}

/// How the socket ended within `wait`: its close frame (code and reason), `None` for a socket
/// that just ended; panics when it is still open.
async fn ended(socket: &mut Socket, wait: Duration) -> Option<(u16, String)> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => panic!("the socket is still open after {wait:?}"),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return frame.map(|frame| (u16::from(frame.code), frame.reason.to_string()))
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return None,
        }
    }
}

async fn signed_up_session(app: &TestApp) -> (String, crate::harness::Browser, String) {
    let email = unique_email();
    app.trader(&email).await;
    let (cookie, browser) = app.session(&email).await;
    (cookie, browser, email)
}

#[tokio::test]
async fn a_message_over_64_kib_closes_the_socket() {
    let app = spawn_app().await;
    let (cookie, _, _) = signed_up_session(&app).await;
    let mut socket = open(&app, &cookie).await.unwrap();
    let _ = socket.send(Message::text("x".repeat(100 * 1024))).await;
    ended(&mut socket, Duration::from_secs(2)).await;
    closed_for_the_server(&app).await;
}

/// Waits (at most 2 s) until the server has let go of every live connection.
async fn closed_for_the_server(app: &TestApp) {
    for _ in 0..100 {
        if app.count("SELECT count(*) FROM live_connections").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server still holds a live connection");
}

#[tokio::test]
async fn more_messages_than_the_rate_allows_close_the_socket_with_the_reason() {
    let app = spawn_app_with(&[("LIVE_MESSAGES_PER_SECOND", "2")]).await;
    let (cookie, _, _) = signed_up_session(&app).await;
    let mut socket = open(&app, &cookie).await.unwrap();
    for _ in 0..30 {
        if socket
            .send(Message::text(r#"{"watch":null}"#))
            .await
            .is_err()
        {
            break;
        }
    }
    let (code, reason) = ended(&mut socket, Duration::from_secs(2))
        .await
        .expect("a close frame");
    assert_eq!(code, 1008);
    assert_eq!(reason, "Too many messages: at most 2 a second.");
}

#[tokio::test]
async fn one_account_holds_at_most_its_number_of_live_sockets() {
    let app = spawn_app_with(&[("LIVE_SOCKETS_PER_USER", "3")]).await;
    let (cookie, _, _) = signed_up_session(&app).await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(open(&app, &cookie).await.unwrap());
    }
    assert_eq!(open(&app, &cookie).await.err(), Some(429));
    let mut closing = sockets.pop().unwrap();
    closing.close(None).await.unwrap();
    while closing.next().await.is_some() {}
    for _ in 0..50 {
        if app.count("SELECT count(*) FROM live_connections").await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        open(&app, &cookie).await.is_ok(),
        "a closed socket frees its place"
    );
}

#[tokio::test]
async fn a_peer_that_answers_no_ping_is_dropped() {
    let app = spawn_app_with(&[("LIVE_PING_SECS", "1")]).await;
    let (cookie, _, _) = signed_up_session(&app).await;
    // Never read: its pings go unanswered.
    let _silent = open(&app, &cookie).await.unwrap();
    assert_eq!(app.count("SELECT count(*) FROM live_connections").await, 1);
    for _ in 0..100 {
        if app.count("SELECT count(*) FROM live_connections").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the silent socket was still open after 5 seconds of unanswered pings");
}

#[tokio::test]
async fn logging_out_closes_the_session_s_socket_within_two_seconds() {
    let app = spawn_app().await;
    let (cookie, browser, _) = signed_up_session(&app).await;
    let mut socket = open(&app, &cookie).await.unwrap();
    assert_eq!(browser.log_out().await.status(), 200);
    let frame = ended(&mut socket, Duration::from_secs(2)).await;
    assert_eq!(
        frame.map(|(_, reason)| reason).as_deref(),
        Some("Your session has ended; log in again.")
    );
}

#[tokio::test]
async fn a_revoked_session_s_socket_closes_within_two_seconds() {
    let app = spawn_app().await;
    let (cookie, _, email) = signed_up_session(&app).await;
    let mut socket = open(&app, &cookie).await.unwrap();
    // The same account elsewhere ends that session from its settings.
    let (_, elsewhere) = app.session(&email).await;
    let sessions: Value = elsewhere
        .call("/users/settings/sessions", &[])
        .await
        .json()
        .await
        .unwrap();
    let other = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == false)
        .expect("the socket's session is listed")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoked = elsewhere
        .call("/users/settings/sessions/revoke", &[("id", &other)])
        .await;
    assert_eq!(revoked.status(), 200, "{:?}", revoked.text().await);
    ended(&mut socket, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn an_expiring_session_s_socket_closes_at_its_expiry() {
    let app = spawn_app().await;
    let (cookie, _, email) = signed_up_session(&app).await;
    sqlx::query(
        "UPDATE sessions SET expiry_date = now() + interval '1 second'
         WHERE user_id = (SELECT id FROM users WHERE email = $1)",
    )
    .bind(&email)
    .execute(&app.pool)
    .await
    .unwrap();
    let mut socket = open(&app, &cookie).await.unwrap();
    ended(&mut socket, Duration::from_secs(3)).await;
}
