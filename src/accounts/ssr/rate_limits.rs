//! Rate limits on login, registration, password reset and confirmation: per client IP and per
//! account, counted in Postgres so that every copy of the server agrees.

use std::{net::IpAddr, time::Duration};

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::{credentials::Email, repository};
use crate::error::AppError;

pub const ATTEMPTS_PER_WINDOW: i32 = 10;
pub const WINDOW: Duration = Duration::from_secs(3 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitedAction {
    LogIn,
    Register,
    ResetPassword,
    Confirmation,
}

impl LimitedAction {
    fn key(self) -> &'static str {
        match self {
            LimitedAction::LogIn => "log_in",
            LimitedAction::Register => "register",
            LimitedAction::ResetPassword => "reset_password",
            LimitedAction::Confirmation => "confirmation",
        }
    }
}

/// Counts this attempt for the client and for the account; refuses it (429 with
/// `Retry-After`) once either has made more than `ATTEMPTS_PER_WINDOW` in the window.
pub async fn count_attempt(
    pool: &PgPool,
    action: LimitedAction,
    client: Option<IpAddr>,
    account: Option<&Email>,
) -> Result<(), AppError> {
    let client = client.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    let mut keys = vec![format!("{}:ip:{client}", action.key())];
    if let Some(email) = account {
        // The key names the account without keeping its address.
        let digest = Sha256::digest(email.canonical().as_bytes());
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        keys.push(format!("{}:account:{hex}", action.key()));
    }
    let mut retry_after: Option<f64> = None;
    for key in &keys {
        let (hits, seconds_left) = repository::count_attempt(pool, key, WINDOW).await?;
        if hits > ATTEMPTS_PER_WINDOW {
            retry_after = Some(retry_after.unwrap_or(0.0).max(seconds_left));
        }
    }
    match retry_after {
        None => Ok(()),
        Some(seconds) => {
            tracing::warn!(action = action.key(), %client, "rate limit reached");
            Err(AppError::RateLimited {
                retry_after_secs: seconds.ceil().max(1.0) as u64,
            })
        }
    }
}
