//! Rate limits on login, registration, password reset, confirmation and re-authentication: per
//! client (an IPv6 client by its /64) and per account, counted in Postgres so that every copy
//! of the server agrees. Mail that a form sends to an address also has an allowance: one a
//! minute per address and kind, and a daily cap per address.

use std::{
    net::{IpAddr, Ipv6Addr},
    time::Duration,
};

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::{credentials::Email, repository};
use crate::accounts::UserId;
use crate::error::AppError;

pub const ATTEMPTS_PER_WINDOW: i32 = 10;
pub const WINDOW: Duration = Duration::from_secs(3 * 60);

/// One mail of a kind to one address a minute, and this many mails in all to one address a day.
pub const MAIL_COOLDOWN: Duration = Duration::from_secs(60);
pub const MAILS_PER_ADDRESS_PER_DAY: i32 = 10;
/// "Confirm your new email" mails one account may have sent in a day.
pub const EMAIL_CHANGES_PER_ACCOUNT_PER_DAY: i32 = 5;
pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitedAction {
    LogIn,
    Register,
    ResetPassword,
    Confirmation,
    /// Giving the current password again in settings (changing email or password).
    Reauthenticate,
}

impl LimitedAction {
    fn key(self) -> &'static str {
        match self {
            LimitedAction::LogIn => "log_in",
            LimitedAction::Register => "register",
            LimitedAction::ResetPassword => "reset_password",
            LimitedAction::Confirmation => "confirmation",
            LimitedAction::Reauthenticate => "reauthenticate",
        }
    }
}

/// Whom an attempt is counted against besides the client.
#[derive(Debug, Clone, Copy)]
pub enum Account<'a> {
    Email(&'a Email),
    User(Uuid),
}

/// The key that names an address without keeping it.
fn digest_of(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The part of a client's address that one client controls: an IPv4 address, or an IPv6 /64
/// (one subscriber's network, whose addresses it can change at will).
pub fn client_key(client: Option<IpAddr>) -> String {
    match client.map(|ip| ip.to_canonical()) {
        None => "unknown".to_string(),
        Some(IpAddr::V4(address)) => address.to_string(),
        Some(IpAddr::V6(address)) => {
            let [a, b, c, d, ..] = address.segments();
            format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

fn account_key(account: Account<'_>) -> String {
    match account {
        Account::Email(email) => digest_of(&email.canonical()),
        Account::User(user_id) => format!("user:{user_id}"),
    }
}

/// Counts one hit under each key; refuses (429 with `Retry-After`) once any has gone past
/// `limit` in its window.
async fn count(
    pool: &PgPool,
    keys: &[String],
    limit: i32,
    window: Duration,
) -> Result<(), AppError> {
    let mut retry_after: Option<f64> = None;
    for key in keys {
        let (hits, seconds_left) = repository::count_attempt(pool, key, window).await?;
        if hits > limit {
            retry_after = Some(retry_after.unwrap_or(0.0).max(seconds_left));
        }
    }
    match retry_after {
        None => Ok(()),
        Some(seconds) => Err(AppError::RateLimited {
            retry_after_secs: seconds.ceil().max(1.0) as u64,
        }),
    }
}

/// Counts this attempt for the client and for the account; refuses it (429 with
/// `Retry-After`) once either has made more than `ATTEMPTS_PER_WINDOW` in the window.
pub async fn count_attempt(
    pool: &PgPool,
    action: LimitedAction,
    client: Option<IpAddr>,
    account: Option<Account<'_>>,
) -> Result<(), AppError> {
    let client = client_key(client);
    let mut keys = vec![format!("{}:ip:{client}", action.key())];
    if let Some(account) = account {
        keys.push(format!("{}:account:{}", action.key(), account_key(account)));
    }
    count(pool, &keys, ATTEMPTS_PER_WINDOW, WINDOW)
        .await
        .inspect_err(|_| tracing::warn!(action = action.key(), %client, "rate limit reached"))
}

/// Counts one "confirm your new email" mail for `user_id`; refuses past the daily cap.
pub async fn count_email_change_mail(pool: &PgPool, user_id: UserId) -> Result<(), AppError> {
    let key = format!("email_change_mail:user:{user_id}");
    count(pool, &[key], EMAIL_CHANGES_PER_ACCOUNT_PER_DAY, DAY)
        .await
        .inspect_err(|_| tracing::warn!(%user_id, "daily cap on email change mail reached"))
}

/// Whether a mail of `kind` may go to `address` now: at most one a minute per kind, and
/// `MAILS_PER_ADDRESS_PER_DAY` in all. The form answers the same either way (it must not tell
/// whether the address is registered), so a refusal only means no mail.
pub async fn mail_allowed(pool: &PgPool, kind: &str, address: &str) -> Result<bool, AppError> {
    let address = digest_of(&address.to_lowercase());
    let minute = format!("mail:{kind}:minute:{address}");
    let day = format!("mail:day:{address}");
    // Only a mail past its cooldown counts towards the day.
    let allowed = match count(pool, &[minute], 1, MAIL_COOLDOWN).await {
        Ok(()) => count(pool, &[day], MAILS_PER_ADDRESS_PER_DAY, DAY).await,
        refused => refused,
    };
    match allowed {
        Ok(()) => Ok(true),
        Err(AppError::RateLimited { .. }) => {
            tracing::info!(
                kind,
                "mail to an address held back by its cooldown or daily cap"
            );
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::client_key;

    #[test]
    fn an_ipv6_client_is_its_64_and_an_ipv4_client_its_address() {
        let key = |ip: &str| client_key(Some(ip.parse().unwrap()));
        assert_eq!(key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2::ffff"), key("2001:db8:1:2:aaaa::1"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("203.0.113.9"), "203.0.113.9");
        assert_eq!(key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(client_key(None), "unknown");
    }
}
