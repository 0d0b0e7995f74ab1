//! The account work that runs beside the requests: delivering queued mail, deleting expired
//! sessions, tokens and rate-limit windows, and relaying sign-outs from Postgres.

use std::time::Duration;

use super::{mail, repository, signed_out};
use crate::server::AppState;

#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    /// How often the mail sender looks for retries due (new mail wakes it at once).
    pub mail_poll: Duration,
    pub expired_rows_cleanup: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            mail_poll: Duration::from_secs(5),
            expired_rows_cleanup: Duration::from_secs(10 * 60),
        }
    }
}

/// Starts the background tasks; returns once the sign-out relay listens, so that no
/// sign-out announced afterwards is missed.
pub async fn spawn(state: &AppState, intervals: Intervals) {
    tokio::spawn(mail::run_sender(
        state.pool.clone(),
        state.settings.clone(),
        state.mail_wakeup.clone(),
        intervals.mail_poll,
    ));
    let pool = state.pool.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(intervals.expired_rows_cleanup);
        loop {
            ticks.tick().await;
            match repository::delete_expired_rows(&pool).await {
                Ok(0) => {}
                Ok(sessions) => tracing::info!(sessions, "deleted expired sessions"),
                Err(error) => tracing::warn!(%error, "could not delete expired sessions"),
            }
        }
    });
    let (ready, listening) = tokio::sync::oneshot::channel();
    tokio::spawn(signed_out::relay(
        state.pool.clone(),
        state.signed_out.clone(),
        ready,
    ));
    let _ = tokio::time::timeout(Duration::from_secs(10), listening).await;
}
