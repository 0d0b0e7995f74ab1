//! Accounts: registration, confirmation, login and sessions, password reset, settings, and
//! the mail they send. Shared types here, server functions in `api`, pages in `views`; the
//! server-only flows, storage, hashing, tokens, sessions, mail and rate limits in `ssr`.

mod api;
pub mod views;

pub use api::*;

#[cfg(feature = "ssr")]
pub mod ssr;

use serde::{Deserialize, Serialize};

/// Where a signed-in user lands by default.
pub const HOME_OF_SIGNED_IN: &str = "/strategies";

/// The signed-in user as pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    pub confirmed: bool,
}

crate::ids::uuid_id!(
    /// An account's id: what every query of a trader's data is scoped by. Made from the signed-in
    /// session or a stored row, never from a client's input.
    UserId
);

/// What an account whose email is not confirmed is told when it asks for what costs the
/// server (uploading market data, running backtests): `to` says what ("upload market data").
pub fn confirm_email_first(to: &str) -> String {
    format!(
        "Confirm your email address to {to}: open the link we mailed you, or ask for a new one at /users/confirm."
    )
}

/// Where registration leads, whether or not the email was already registered.
pub const CHECK_EMAIL_PATH: &str = "/users/check-email";

/// One signed-in session of the account, as the settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveSession {
    /// Names the session to its owner (for revoking it); not the session's secret id.
    pub id: String,
    /// Browser and system, read from the user agent ("Firefox on Linux").
    pub device: String,
    /// The address it signed in from.
    pub address: String,
    /// When it was last used (UTC).
    pub last_seen: String,
    /// The session this page is seen in.
    pub current: bool,
}

/// The `user[...]` fields of every account form (each form sends the ones it has).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password_confirmation: String,
    #[serde(default)]
    pub remember_me: Option<String>,
}

impl std::fmt::Debug for UserForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserForm([redacted])")
    }
}

/// `return_to` only ever leads to a path of this site (never `//other.site` or `/\other`).
pub fn safe_return_to(requested: Option<&str>) -> String {
    match requested {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control()) =>
        {
            path.to_string()
        }
        _ => HOME_OF_SIGNED_IN.to_string(),
    }
}

/// Short notices that a redirect names by code (`?notice=...`), so no text travels in URLs.
pub fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "confirmation-sent" => {
            "If your email is in our system and it has not been confirmed yet, you will receive an email with instructions shortly."
        }
        "reset-sent" => "If your email is in our system, you will receive instructions to reset your password shortly.",
        "password-reset" => "Password reset successfully. Please log in with your new password.",
        "confirmed" => "Your email is confirmed. Thank you!",
        "email-change-sent" => "A link to confirm your email change has been sent to the new address.",
        "email-changed" => "Email changed successfully.",
        "password-changed" => "Password updated successfully. Your other sessions have ended.",
        "logged-out" => "Logged out successfully.",
        "session-revoked" => "That session has ended.",
        "logged-out-elsewhere" => "You are logged out everywhere else.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(safe_return_to(Some("/users/settings")), "/users/settings");
        assert_eq!(
            safe_return_to(Some("/strategies?page=2")),
            "/strategies?page=2"
        );
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "",
            "javascript:x",
        ] {
            assert_eq!(
                safe_return_to(Some(hostile)),
                HOME_OF_SIGNED_IN,
                "{hostile}"
            );
        }
        assert_eq!(safe_return_to(None), HOME_OF_SIGNED_IN);
    }
}
