//! argon2id hashing and verification, on the work pool (each costs 19 MiB and tens of
//! milliseconds of CPU, so a flood of log-ins waits for the pool's threads instead of taking
//! memory without bound). The hash string is kept whole
//! (it names its own parameters), so the parameters can rise later: a login with an older
//! hash stores a new one.

use std::sync::LazyLock;

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params,
};
use rand_core::OsRng;

use super::credentials::Password;
use crate::{error::AppError, work_pool::WorkPool};

/// m=19456 KiB, t=2, p=1: the `argon2` crate's default, as SECURITY.md asks.
fn hasher() -> Argon2<'static> {
    Argon2::default()
}

fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::internal(format!("password hashing failed: {error}")))
}

/// Verified against when the email is unknown, so that an unknown email costs the same work.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_blocking("a password that no account has, only here to spend the same time")
        .unwrap_or_default()
});

pub async fn hash_password(work: &WorkPool, password: Password) -> Result<String, AppError> {
    hash_plain(work, password.expose().to_string()).await
}

/// Hashes a password that was already accepted once (a rehash at login with new parameters,
/// where the rules of the day it was chosen applied).
pub async fn hash_plain(work: &WorkPool, password: String) -> Result<String, AppError> {
    work.run(None, "checking passwords", move |_| {
        hash_blocking(&password)
    })
    .await?
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Valid { needs_rehash: bool },
    Invalid,
}

/// Checks `candidate` against `stored`, or against a dummy hash when there is no account, so
/// that both cases take one argon2 verification.
pub async fn verify_password(
    work: &WorkPool,
    candidate: String,
    stored: Option<String>,
) -> Result<Verification, AppError> {
    work.run(None, "checking passwords", move |_| {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            tracing::warn!("a stored password hash could not be parsed");
            return Verification::Invalid;
        };
        let matches = hasher()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        if matches && known {
            Verification::Valid {
                needs_rehash: !uses_current_parameters(&parsed),
            }
        } else {
            Verification::Invalid
        }
    })
    .await
}

fn uses_current_parameters(hash: &PasswordHash<'_>) -> bool {
    let current = Params::default();
    let algorithm_current = hash.algorithm == Algorithm::Argon2id.ident();
    match Params::try_from(hash) {
        Ok(params) => {
            algorithm_current
                && params.m_cost() == current.m_cost()
                && params.t_cost() == current.t_cost()
                && params.p_cost() == current.p_cost()
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work() -> WorkPool {
        WorkPool::new(crate::work_pool::WorkPoolSize {
            threads: 1,
            waiting: 4,
            deadline: std::time::Duration::from_secs(30),
        })
    }

    fn password(text: &str) -> Password {
        Password::parse(text).unwrap()
    }

    #[tokio::test]
    async fn a_hash_is_argon2id_with_19_mib_two_passes_and_one_lane() {
        let hash = hash_password(&work(), password("correct horse battery"))
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password(&work(), password("correct horse battery"))
            .await
            .unwrap();
        assert_eq!(
            verify_password(&work(), "correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap(),
            Verification::Valid {
                needs_rehash: false
            }
        );
        assert_eq!(
            verify_password(&work(), "wrong horse battery".into(), Some(hash))
                .await
                .unwrap(),
            Verification::Invalid
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies_even_with_the_dummy_password() {
        let outcome = verify_password(
            &work(),
            "a password that no account has, only here to spend the same time".into(),
            None,
        )
        .await
        .unwrap();
        assert_eq!(outcome, Verification::Invalid);
    }

    #[tokio::test]
    async fn a_hash_with_weaker_parameters_asks_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            argon2::Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let hash = weak
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            verify_password(&work(), "correct horse battery".into(), Some(hash))
                .await
                .unwrap(),
            Verification::Valid { needs_rehash: true }
        );
    }
}
