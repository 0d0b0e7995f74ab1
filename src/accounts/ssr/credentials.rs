//! `Email` and `Password`: what a user typed, parsed once at the edge so that the rest of the
//! code never checks them again.

use std::{collections::HashSet, fmt, sync::LazyLock};

pub const MAX_EMAIL_CHARS: usize = 160;
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 72;

/// A trimmed address of at most 160 characters with one `@` and no spaces, that `lettre` reads
/// as exactly this address (no display name, no angle brackets, no control characters), so
/// what we store is what mail goes to. Comparison is the database's business (citext), so the
/// case is kept as typed.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        if email.is_empty() {
            return Err("Email can't be blank".into());
        }
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(format!(
                "Email must be at most {MAX_EMAIL_CHARS} characters"
            ));
        }
        let well_formed = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !email.contains(|c: char| c.is_whitespace() || c == ',' || c == ';')
            }
            None => false,
        };
        if !well_formed {
            return Err("Email must have the @ sign and no spaces".into());
        }
        let read_as_one_address = !email.contains(|c: char| c.is_control() || c == '<' || c == '>')
            && email
                .parse::<lettre::Address>()
                .is_ok_and(|address| AsRef::<str>::as_ref(&address) == email);
        if !read_as_one_address {
            return Err("Email must be a plain address such as name@example.com".into());
        }
        Ok(Email(email.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same address for every spelling of it: the key of per-account rate limits.
    pub fn canonical(&self) -> String {
        self.0.to_lowercase()
    }

    /// What a log line may carry: the domain and the first character, never the address.
    pub fn masked(&self) -> String {
        mask_email(&self.0)
    }
}

pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

/// A new password: 12 to 72 characters as typed (no trimming, no composition rules), not in
/// the shipped list of common passwords.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if length < MIN_PASSWORD_CHARS {
            return Err(format!(
                "Password must be at least {MIN_PASSWORD_CHARS} characters"
            ));
        }
        if length > MAX_PASSWORD_CHARS {
            return Err(format!(
                "Password must be at most {MAX_PASSWORD_CHARS} characters"
            ));
        }
        if is_common_password(raw) {
            return Err(
                "This password is one of the most common ones; please choose another".into(),
            );
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Common passwords from breached-password corpora, only those of 12 to 72 characters (the
/// only ones a valid password could be); the header of the file names its source.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.len()
}

/// The list is lower case; "Password1234" is as guessable as "password1234".
pub fn is_common_password(candidate: &str) -> bool {
    COMMON_PASSWORDS.contains(candidate.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_keeps_its_case() {
        assert_eq!(
            Email::parse("  Ann@Example.com \n").unwrap().as_str(),
            "Ann@Example.com"
        );
        assert_eq!(
            Email::parse("Ann@Example.com").unwrap().canonical(),
            "ann@example.com"
        );
    }

    #[test]
    fn an_email_needs_one_at_sign_no_spaces_and_at_most_160_characters() {
        for bad in [
            "",
            "   ",
            "ann",
            "ann@",
            "@example.com",
            "a b@example.com",
            "a@b@c",
            "Ann <ann@example.com>",
            "<ann@example.com>",
            "ann@example.com\0",
            "an\u{7}n@example.com",
            "ann@exa\u{0}mple.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        // The longest local part mail allows (64), and a domain whose labels fit too.
        let longest = format!(
            "{}@{}.{}.example.com",
            "a".repeat(64),
            "b".repeat(40),
            "c".repeat(42)
        );
        assert_eq!(longest.chars().count(), 160);
        assert!(Email::parse(&longest).is_ok());
        assert!(Email::parse(&format!("{longest}m")).is_err());
    }

    #[test]
    fn a_password_is_counted_as_typed_from_12_to_72_characters() {
        assert!(Password::parse("elevenchars").is_err());
        assert!(Password::parse("twelve chars").is_ok());
        // Spaces count and are kept: no trimming.
        assert_eq!(
            Password::parse("  padded pass  ").unwrap().expose(),
            "  padded pass  "
        );
        // Characters, not bytes: 72 three-byte characters are fine, 73 are not.
        assert!(Password::parse(&"€".repeat(72)).is_ok());
        assert!(Password::parse(&"€".repeat(73)).is_err());
        assert!(Password::parse(&"x".repeat(71)).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert!(common_password_count() >= 10_000);
        assert!(Password::parse("password1234").is_err());
        assert!(Password::parse("QWERTY123456").is_err());
        assert!(
            Password::parse("securepass123").is_ok(),
            "the runbook's smoke test password"
        );
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(
            format!("{:?}", Password::parse("correct horse battery").unwrap()),
            "[redacted]"
        );
        assert_eq!(
            format!("{:?}", Email::parse("ann@example.com").unwrap()),
            "Email(a***@example.com)"
        );
    }
}
