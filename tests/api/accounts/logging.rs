use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use tracing_subscriber::fmt::MakeWriter;

use crate::harness::{mail_to, spawn_app_with_mail, unique_email, NEW_PASSWORD, PASSWORD};

/// Everything the test binary logs from the moment the first test asks for it.
#[derive(Clone, Default)]
pub(super) struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

pub(super) fn captured_logs() -> CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        tracing_subscriber::fmt()
            .with_env_filter("info,sqlx=warn,tower_sessions=warn")
            .with_ansi(false)
            .with_writer(logs.clone())
            .init();
        logs
    })
    .clone()
}

pub(super) fn lines(logs: &CapturedLogs) -> Vec<String> {
    String::from_utf8_lossy(&logs.0.lock().unwrap())
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn sign_ins_failures_and_password_and_email_changes_are_logged_with_user_and_ip_but_no_secret(
) {
    let logs = captured_logs();
    let app = spawn_app_with_mail().await;
    let email = unique_email();
    let browser = app.signed_up(&email).await;
    let user_id = app.user_id(&email).await.to_string();
    let confirmation_token = mail_to(&email, "Confirm your email").await.token();
    let session_cookie = browser.log_in(&email, PASSWORD, false).await.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    app.browser()
        .log_in(&email, "a wrong password typed here", false)
        .await;
    let new_email = unique_email();
    browser.change_email(&new_email, PASSWORD).await;
    let change_token = mail_to(&new_email, "Confirm your new email").await.token();
    browser.confirm_email_change(&change_token).await;
    browser.change_password(NEW_PASSWORD, PASSWORD).await;
    browser
        .get(&format!("/users/confirm/{confirmation_token}"))
        .await;

    let lines = lines(&logs);
    let about = |event: &str| {
        lines
            .iter()
            .find(|line| line.contains(event) && line.contains(&user_id))
            .unwrap_or_else(|| panic!("no `{event}` line for the user in:\n{}", lines.join("\n")))
            .clone()
    };
    for event in [
        "signed in",
        "email change requested",
        "email changed",
        "password changed",
    ] {
        let line = about(event);
        assert!(line.contains("ip=127.0.0.1"), "{line}");
    }
    let masked = format!("{}***@example.com", &email[..1]);
    let failure = lines
        .iter()
        .find(|line| line.contains("failed sign-in") && line.contains(&masked))
        .expect("a failed sign-in line");
    assert!(failure.contains("ip=127.0.0.1"), "{failure}");

    for secret in [
        PASSWORD,
        NEW_PASSWORD,
        "a wrong password typed here",
        email.as_str(),
        new_email.as_str(),
        confirmation_token.as_str(),
        change_token.as_str(),
        session_cookie.as_str(),
    ] {
        assert!(
            !lines.iter().any(|line| line.contains(secret)),
            "`{secret}` reached the log"
        );
    }
}

#[tokio::test]
async fn a_server_error_shows_a_generic_message_with_the_request_id_and_the_log_has_the_detail() {
    let logs = captured_logs();
    let app = crate::harness::spawn_app().await;
    sqlx::query("DROP TABLE rate_limits")
        .execute(&app.pool)
        .await
        .unwrap();
    let response = app.browser().register(&unique_email(), PASSWORD).await;
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body = response.text().await.unwrap();
    let error: trading_strategy::error::AppError = serde_json::from_str(&body).unwrap();
    assert_eq!(
        error,
        trading_strategy::error::AppError::Internal {
            request_id: request_id.clone()
        }
    );
    assert!(error
        .to_string()
        .starts_with("Something went wrong on our side"));
    assert!(
        !body.contains("rate_limits"),
        "no detail for the user: {body}"
    );
    let lines = lines(&logs);
    assert!(
        lines
            .iter()
            .any(|line| line.contains(&request_id) && line.contains("rate_limits")),
        "the log has the detail under the request id"
    );
}
