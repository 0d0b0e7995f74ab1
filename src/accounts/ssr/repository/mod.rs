//! Every SQL statement of accounts, by table group: users, tokens, the session owner column,
//! rate-limit counters and the mail queue. All of them `query!`, checked at compile time.

mod mail_outbox;
mod rate_limits;
mod sessions;
mod tokens;
mod users;

use std::time::Duration;

use sqlx::PgPool;

pub use mail_outbox::*;
pub use rate_limits::*;
pub use sessions::*;
pub use tokens::*;
pub use users::*;

use super::tokens::TokenPurpose;
use crate::error::AppError;

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// Deletes what can no longer be used: expired sessions, tokens past the longest lifetime,
/// finished rate-limit windows (the longest lasts a day). Returns the number of session rows deleted.
#[tracing::instrument(skip_all)]
pub async fn delete_expired_rows(pool: &PgPool) -> Result<u64, AppError> {
    let sessions = sqlx::query!("DELETE FROM sessions WHERE expiry_date < now()")
        .execute(pool)
        .await?
        .rows_affected();
    sqlx::query!(
        "DELETE FROM users_tokens WHERE inserted_at < (now() AT TIME ZONE 'utc') - make_interval(secs => $1)",
        seconds(TokenPurpose::Session { remember: true }.lifetime())
    )
    .execute(pool)
    .await?;
    sqlx::query!("DELETE FROM rate_limits WHERE window_started_at < (now() AT TIME ZONE 'utc') - interval '25 hours'")
        .execute(pool)
        .await?;
    Ok(sessions)
}
