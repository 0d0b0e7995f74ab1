//! The `users` table: accounts, their email and password hash, confirmation.

use std::fmt;

use chrono::NaiveDateTime;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::super::{credentials::Email, tokens::CONFIRM_CONTEXT};
use crate::accounts::UserId;
use crate::error::AppError;

/// A user as stored. The hash never leaves the server and never prints.
#[derive(Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub hashed_password: String,
    pub confirmed_at: Option<NaiveDateTime>,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("hashed_password", &"[redacted]")
            .finish_non_exhaustive()
    }
}

const EMAIL_TAKEN: &str = "Email has already been taken";

fn email_taken_or(error: sqlx::Error) -> AppError {
    match &error {
        sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => {
            AppError::field("email", EMAIL_TAKEN)
        }
        _ => AppError::from(error),
    }
}

/// Creates the account, or does nothing when the email is taken (`None`): registration
/// answers the same either way.
#[tracing::instrument(skip_all)]
pub async fn insert_user_unless_taken(
    pool: &PgPool,
    email: &Email,
    hashed_password: &str,
) -> Result<Option<Uuid>, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO users (email, hashed_password, inserted_at, updated_at)
         VALUES ($1::text, $2, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc')
         ON CONFLICT (email) DO NOTHING
         RETURNING id",
        email.as_str(),
        hashed_password
    )
    .fetch_optional(pool)
    .await?)
}

#[tracing::instrument(skip_all)]
pub async fn email_is_taken(pool: &PgPool, email: &Email) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE email = $1::text::citext) AS "taken!""#,
        email.as_str()
    )
    .fetch_one(pool)
    .await?)
}

#[tracing::instrument(skip_all)]
/// Whether the account `user_id` confirmed its email (false for no such account).
#[tracing::instrument(skip_all)]
pub async fn is_confirmed(pool: &PgPool, user_id: UserId) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND confirmed_at IS NOT NULL) AS "confirmed!""#,
        user_id.0
    )
    .fetch_one(pool)
    .await?)
}

pub async fn find_user_by_email(
    pool: &PgPool,
    email: &Email,
) -> Result<Option<UserRecord>, AppError> {
    Ok(sqlx::query_as!(
        UserRecord,
        r#"SELECT id AS "id: UserId", email::text AS "email!", hashed_password, confirmed_at AS "confirmed_at: NaiveDateTime"
           FROM users WHERE email = $1::text::citext"#,
        email.as_str()
    )
    .fetch_optional(pool)
    .await?)
}

#[tracing::instrument(skip_all)]
pub async fn update_password_hash(
    pool: &PgPool,
    user_id: UserId,
    hashed_password: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users SET hashed_password = $2, updated_at = now() AT TIME ZONE 'utc' WHERE id = $1",
        user_id.0,
        hashed_password
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks the account confirmed and spends every confirmation token it has; true when this was
/// its first confirmation.
#[tracing::instrument(skip_all)]
pub async fn confirm_user(
    connection: &mut PgConnection,
    user_id: UserId,
) -> Result<bool, AppError> {
    let first = sqlx::query!(
        "UPDATE users SET confirmed_at = now() AT TIME ZONE 'utc', updated_at = now() AT TIME ZONE 'utc'
         WHERE id = $1 AND confirmed_at IS NULL",
        user_id.0
    )
    .execute(&mut *connection)
    .await?
    .rows_affected()
        == 1;
    sqlx::query!(
        "DELETE FROM users_tokens WHERE user_id = $1 AND context = $2",
        user_id.0,
        CONFIRM_CONTEXT
    )
    .execute(&mut *connection)
    .await?;
    Ok(first)
}

/// Moves the account to `new_email` (which the link proved the user reads) and spends every
/// email-change token.
#[tracing::instrument(skip_all)]
pub async fn change_email(
    connection: &mut PgConnection,
    user_id: UserId,
    new_email: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users SET email = $2::text, confirmed_at = COALESCE(confirmed_at, now() AT TIME ZONE 'utc'),
                updated_at = now() AT TIME ZONE 'utc'
         WHERE id = $1",
        user_id.0,
        new_email
    )
    .execute(&mut *connection)
    .await
    .map_err(email_taken_or)?;
    sqlx::query!(
        "DELETE FROM users_tokens WHERE user_id = $1 AND context LIKE 'change:%'",
        user_id.0
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Stores a new password hash and ends everything the old password opened: every token, every
/// session row but `keep_session`, and (through `NOTIFY`, on every server) every websocket.
#[tracing::instrument(skip_all)]
pub async fn replace_password(
    connection: &mut PgConnection,
    user_id: UserId,
    hashed_password: &str,
    keep_session: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users SET hashed_password = $2, updated_at = now() AT TIME ZONE 'utc' WHERE id = $1",
        user_id.0,
        hashed_password
    )
    .execute(&mut *connection)
    .await?;
    end_every_token_and_session(connection, user_id, keep_session).await
}

/// Deletes every token of the user and every session row but `keep_session`, and (through
/// `NOTIFY`, on every server) closes the user's websockets.
#[tracing::instrument(skip_all)]
pub async fn end_every_token_and_session(
    connection: &mut PgConnection,
    user_id: UserId,
    keep_session: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM users_tokens WHERE user_id = $1", user_id.0)
        .execute(&mut *connection)
        .await?;
    super::end_sessions_but(connection, user_id, keep_session).await
}
