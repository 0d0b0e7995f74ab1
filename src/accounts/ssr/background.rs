//! The account work that runs beside the requests: delivering queued mail, and deleting
//! expired sessions, tokens and rate-limit windows.

use std::time::Duration;

use super::{mail, repository};
use crate::{background, state::AppState};

#[derive(Debug, Clone, Copy)]
pub struct UpkeepIntervals {
    /// How often the mail sender looks for retries due (new mail wakes it at once).
    pub mail_poll: Duration,
    pub expired_rows_cleanup: Duration,
}

impl Default for UpkeepIntervals {
    fn default() -> Self {
        UpkeepIntervals {
            mail_poll: Duration::from_secs(5),
            expired_rows_cleanup: Duration::from_secs(10 * 60),
        }
    }
}

/// Starts the background tasks (the realtime hub must already listen: the mail sender
/// wakes on its events).
pub fn spawn_background(state: &AppState, intervals: UpkeepIntervals) {
    tokio::spawn(mail::run_sender(
        state.pool.clone(),
        state.settings.clone(),
        state.realtime.subscribe(),
        intervals.mail_poll,
    ));
    let pool = state.pool.clone();
    background::every(
        intervals.expired_rows_cleanup,
        "deleted expired sessions",
        move || {
            let pool = pool.clone();
            async move { repository::delete_expired_rows(&pool).await }
        },
    );
}
