//! Account tokens: 32 random bytes from the OS generator. The database keeps only their
//! SHA-256; mail carries them as URL-safe base64; session tokens stay in the server-side
//! session.

use std::{fmt, time::Duration};

use sha2::{Digest, Sha256};

/// What a token is for: the `context` column of `users_tokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenPurpose {
    Session {
        remember: bool,
    },
    ConfirmEmail,
    ResetPassword,
    /// Valid only while the account still has `current_email` (the phx.gen.auth scheme:
    /// the context names the address the change started from).
    ChangeEmail {
        current_email: String,
    },
}

pub const SESSION_CONTEXT: &str = "session";
pub const CONFIRM_CONTEXT: &str = "confirm";
pub const RESET_PASSWORD_CONTEXT: &str = "reset_password";

impl TokenPurpose {
    pub fn context(&self) -> String {
        match self {
            TokenPurpose::Session { .. } => SESSION_CONTEXT.into(),
            TokenPurpose::ConfirmEmail => CONFIRM_CONTEXT.into(),
            TokenPurpose::ResetPassword => RESET_PASSWORD_CONTEXT.into(),
            TokenPurpose::ChangeEmail { current_email } => format!("change:{current_email}"),
        }
    }

    /// How long a token works after it was issued.
    pub fn lifetime(&self) -> Duration {
        const DAY: u64 = 24 * 60 * 60;
        match self {
            TokenPurpose::Session { remember: true } => Duration::from_secs(60 * DAY),
            TokenPurpose::Session { remember: false } => Duration::from_secs(DAY),
            TokenPurpose::ConfirmEmail => Duration::from_secs(7 * DAY),
            TokenPurpose::ResetPassword => Duration::from_secs(30 * 60),
            TokenPurpose::ChangeEmail { .. } => Duration::from_secs(DAY),
        }
    }
}

/// A fresh token: `encoded` goes to the user, `digest` to the database.
pub struct IssuedToken {
    pub encoded: EncodedToken,
    pub digest: Vec<u8>,
}

impl IssuedToken {
    pub fn generate() -> Self {
        let bytes = crate::secrets::random_bytes::<32>();
        IssuedToken {
            encoded: EncodedToken(crate::secrets::url_safe(&bytes)),
            digest: Sha256::digest(bytes).to_vec(),
        }
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuedToken([redacted])")
    }
}

/// A token as it travels (URL-safe base64 of the 32 bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedToken(String);

impl EncodedToken {
    pub fn new(text: impl Into<String>) -> Self {
        EncodedToken(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 the database holds, or `None` for anything that is not a token of ours.
    pub fn digest(&self) -> Option<Vec<u8>> {
        let bytes = crate::secrets::from_url_safe(self.0.trim())?;
        (bytes.len() == 32).then(|| Sha256::digest(&bytes).to_vec())
    }
}

impl fmt::Debug for EncodedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_32_random_bytes_sent_as_url_safe_base64_and_stored_as_sha256() {
        let token = IssuedToken::generate();
        let text = token.encoded.expose();
        assert_eq!(text.len(), 43);
        assert!(text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(token.digest.len(), 32);
        assert_eq!(token.encoded.digest(), Some(token.digest.clone()));
        assert_ne!(IssuedToken::generate().digest, token.digest);
    }

    #[test]
    fn anything_else_has_no_digest() {
        assert_eq!(EncodedToken::new("not a token").digest(), None);
        assert_eq!(EncodedToken::new("c2hvcnQ").digest(), None);
    }

    #[test]
    fn lifetimes_are_as_security_md_says() {
        assert_eq!(
            TokenPurpose::ConfirmEmail.lifetime(),
            Duration::from_secs(7 * 86_400)
        );
        assert_eq!(
            TokenPurpose::ResetPassword.lifetime(),
            Duration::from_secs(30 * 60)
        );
        let change = TokenPurpose::ChangeEmail {
            current_email: "a@b.c".into(),
        };
        assert_eq!(change.lifetime(), Duration::from_secs(86_400));
        assert_eq!(change.context(), "change:a@b.c");
    }

    #[test]
    fn tokens_never_print() {
        let token = IssuedToken::generate();
        assert!(!format!("{token:?}").contains(token.encoded.expose()));
        assert_eq!(format!("{:?}", token.encoded), "[redacted]");
    }
}
