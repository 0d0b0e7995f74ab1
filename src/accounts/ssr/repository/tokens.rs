//! The `users_tokens` table: session tokens and emailed tokens (stored as SHA-256 digests).

use std::time::Duration;

use chrono::NaiveDateTime;
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::{
    super::tokens::{TokenPurpose, SESSION_CONTEXT},
    seconds, UserRecord,
};
use crate::accounts::UserId;
use crate::error::AppError;

#[tracing::instrument(skip_all)]
pub async fn insert_token(
    executor: impl PgExecutor<'_>,
    user_id: UserId,
    digest: &[u8],
    purpose: &TokenPurpose,
    sent_to: Option<&str>,
) -> Result<Uuid, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO users_tokens (user_id, token, context, sent_to, inserted_at)
         VALUES ($1, $2, $3, $4, now() AT TIME ZONE 'utc')
         RETURNING id",
        user_id.0,
        digest,
        purpose.context(),
        sent_to
    )
    .fetch_one(executor)
    .await?)
}

/// The user whose live session token has this digest.
#[tracing::instrument(skip_all)]
pub async fn find_user_by_session_token(
    pool: &PgPool,
    digest: &[u8],
    lifetime: Duration,
) -> Result<Option<UserRecord>, AppError> {
    Ok(sqlx::query_as!(
        UserRecord,
        r#"SELECT u.id AS "id: UserId", u.email::text AS "email!", u.hashed_password, u.confirmed_at AS "confirmed_at: NaiveDateTime"
           FROM users_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token = $1 AND t.context = $2
             AND t.inserted_at > (now() AT TIME ZONE 'utc') - make_interval(secs => $3)"#,
        digest,
        SESSION_CONTEXT,
        seconds(lifetime)
    )
    .fetch_optional(pool)
    .await?)
}

/// Until when the session row `session_id` holding the session token `digest` lives: the
/// earlier of the row's expiry and the token's age reaching `lifetime`; `None` when either
/// is gone or past.
#[tracing::instrument(skip_all)]
pub async fn session_alive_until(
    pool: &PgPool,
    session_id: &str,
    digest: &[u8],
    lifetime: Duration,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT least(s.expiry_date,
                        (t.inserted_at AT TIME ZONE 'utc') + make_interval(secs => $4)) AS "until!: chrono::DateTime<chrono::Utc>"
           FROM sessions s JOIN users_tokens t ON t.id = s.token_id
           WHERE s.id = $1 AND t.token = $2 AND t.context = $3
             AND s.expiry_date > now()
             AND t.inserted_at > (now() AT TIME ZONE 'utc') - make_interval(secs => $4)"#,
        session_id,
        digest,
        SESSION_CONTEXT,
        seconds(lifetime)
    )
    .fetch_optional(pool)
    .await?)
}

#[tracing::instrument(skip_all)]
pub async fn delete_session_token(pool: &PgPool, digest: &[u8]) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM users_tokens WHERE token = $1 AND context = $2",
        digest,
        SESSION_CONTEXT
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// An emailed token that is still good: the token row and its user.
pub struct EmailedToken {
    pub token_id: Uuid,
    pub sent_to: Option<String>,
    pub user: UserRecord,
}

/// Finds the user of an emailed token that is within its lifetime and still addressed to the
/// account's email (for an email change: issued while the account had its current email, so
/// the `current_email` of the purpose is not needed here). The token row stays locked until
/// `connection`'s transaction ends, so that two uses of one link cannot both succeed.
#[tracing::instrument(skip_all)]
pub async fn find_emailed_token(
    connection: &mut PgConnection,
    digest: &[u8],
    purpose: &TokenPurpose,
) -> Result<Option<EmailedToken>, AppError> {
    let kind = match purpose {
        TokenPurpose::ChangeEmail { .. } => "change".to_string(),
        other => other.context(),
    };
    let row = sqlx::query!(
        r#"SELECT t.id AS token_id, t.sent_to, u.id, u.email::text AS "email!", u.hashed_password, u.confirmed_at AS "confirmed_at: NaiveDateTime"
           FROM users_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token = $1
             AND t.inserted_at > (now() AT TIME ZONE 'utc') - make_interval(secs => $3)
             AND CASE WHEN $2::text = 'change' THEN t.context = 'change:' || u.email::text
                      ELSE t.context = $2::text AND u.email = t.sent_to::citext END
           FOR UPDATE OF t"#,
        digest,
        kind,
        seconds(purpose.lifetime())
    )
    .fetch_optional(&mut *connection)
    .await?;
    Ok(row.map(|row| EmailedToken {
        token_id: row.token_id,
        sent_to: row.sent_to,
        user: UserRecord {
            id: UserId(row.id),
            email: row.email,
            hashed_password: row.hashed_password,
            confirmed_at: row.confirmed_at,
        },
    }))
}

#[tracing::instrument(skip_all)]
pub async fn delete_token(connection: &mut PgConnection, token_id: Uuid) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM users_tokens WHERE id = $1", token_id)
        .execute(&mut *connection)
        .await?;
    Ok(())
}
