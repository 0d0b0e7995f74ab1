//! Every SQL statement of accounts: users, tokens, the session owner column, rate-limit
//! counters and the mail queue. All of them `query!`, checked at compile time.

use std::{fmt, time::Duration};

use chrono::NaiveDateTime;
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use super::{
    credentials::Email,
    tokens::{TokenPurpose, SESSION_CONTEXT},
};
use crate::error::AppError;

/// A user as stored. The hash never leaves the server and never prints.
#[derive(Clone)]
pub struct UserRecord {
    pub id: Uuid,
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

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

#[tracing::instrument(skip_all)]
pub async fn insert_user(
    pool: &PgPool,
    email: &Email,
    hashed_password: &str,
) -> Result<Uuid, AppError> {
    sqlx::query_scalar!(
        "INSERT INTO users (email, hashed_password, inserted_at, updated_at)
         VALUES ($1::text, $2, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc')
         RETURNING id",
        email.as_str(),
        hashed_password
    )
    .fetch_one(pool)
    .await
    .map_err(email_taken_or)
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
pub async fn find_user_by_email(
    pool: &PgPool,
    email: &Email,
) -> Result<Option<UserRecord>, AppError> {
    Ok(sqlx::query_as!(
        UserRecord,
        r#"SELECT id, email::text AS "email!", hashed_password, confirmed_at AS "confirmed_at: NaiveDateTime"
           FROM users WHERE email = $1::text::citext"#,
        email.as_str()
    )
    .fetch_optional(pool)
    .await?)
}

#[tracing::instrument(skip_all)]
pub async fn update_password_hash(
    pool: &PgPool,
    user_id: Uuid,
    hashed_password: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users SET hashed_password = $2, updated_at = now() AT TIME ZONE 'utc' WHERE id = $1",
        user_id,
        hashed_password
    )
    .execute(pool)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn insert_token(
    executor: impl PgExecutor<'_>,
    user_id: Uuid,
    digest: &[u8],
    purpose: &TokenPurpose,
    sent_to: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO users_tokens (user_id, token, context, sent_to, inserted_at)
         VALUES ($1, $2, $3, $4, now() AT TIME ZONE 'utc')",
        user_id,
        digest,
        purpose.context(),
        sent_to
    )
    .execute(executor)
    .await?;
    Ok(())
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
        r#"SELECT u.id, u.email::text AS "email!", u.hashed_password, u.confirmed_at AS "confirmed_at: NaiveDateTime"
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

/// Records whose session row `session_id` is, so that ending every session of a user can
/// delete the rows themselves.
#[tracing::instrument(skip_all)]
pub async fn attach_session(
    pool: &PgPool,
    session_id: &str,
    user_id: Uuid,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE sessions SET user_id = $2 WHERE id = $1",
        session_id,
        user_id
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
            id: row.id,
            email: row.email,
            hashed_password: row.hashed_password,
            confirmed_at: row.confirmed_at,
        },
    }))
}

/// Marks the account confirmed and spends every confirmation token it has.
#[tracing::instrument(skip_all)]
pub async fn confirm_user(connection: &mut PgConnection, user_id: Uuid) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users SET confirmed_at = now() AT TIME ZONE 'utc', updated_at = now() AT TIME ZONE 'utc'
         WHERE id = $1 AND confirmed_at IS NULL",
        user_id
    )
    .execute(&mut *connection)
    .await?;
    sqlx::query!(
        "DELETE FROM users_tokens WHERE user_id = $1 AND context = $2",
        user_id,
        super::tokens::CONFIRM_CONTEXT
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Moves the account to `new_email` (which the link proved the user reads) and spends every
/// email-change token.
#[tracing::instrument(skip_all)]
pub async fn change_email(
    connection: &mut PgConnection,
    user_id: Uuid,
    new_email: &str,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users SET email = $2::text, confirmed_at = COALESCE(confirmed_at, now() AT TIME ZONE 'utc'),
                updated_at = now() AT TIME ZONE 'utc'
         WHERE id = $1",
        user_id,
        new_email
    )
    .execute(&mut *connection)
    .await
    .map_err(email_taken_or)?;
    sqlx::query!(
        "DELETE FROM users_tokens WHERE user_id = $1 AND context LIKE 'change:%'",
        user_id
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_token(connection: &mut PgConnection, token_id: Uuid) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM users_tokens WHERE id = $1", token_id)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Stores a new password hash and ends everything the old password opened: every token, every
/// session row but `keep_session`, and (through `NOTIFY`, on every server) every websocket.
#[tracing::instrument(skip_all)]
pub async fn replace_password(
    connection: &mut PgConnection,
    user_id: Uuid,
    hashed_password: &str,
    keep_session: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users SET hashed_password = $2, updated_at = now() AT TIME ZONE 'utc' WHERE id = $1",
        user_id,
        hashed_password
    )
    .execute(&mut *connection)
    .await?;
    sqlx::query!("DELETE FROM users_tokens WHERE user_id = $1", user_id)
        .execute(&mut *connection)
        .await?;
    sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND ($2::text IS NULL OR id <> $2::text)",
        user_id,
        keep_session
    )
    .execute(&mut *connection)
    .await?;
    sqlx::query!(
        "SELECT pg_notify($1, $2::text)",
        super::signed_out::CHANNEL,
        user_id.to_string()
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Counts one attempt under `key` in a fixed window; returns the attempts in the window so far
/// and the seconds until it ends.
#[tracing::instrument(skip_all)]
pub async fn count_attempt(
    pool: &PgPool,
    key: &str,
    window: Duration,
) -> Result<(i32, f64), AppError> {
    let row = sqlx::query!(
        r#"INSERT INTO rate_limits AS r (key, window_started_at, hits)
           VALUES ($1, now() AT TIME ZONE 'utc', 1)
           ON CONFLICT (key) DO UPDATE SET
             hits = CASE WHEN r.window_started_at <= (now() AT TIME ZONE 'utc') - make_interval(secs => $2)
                         THEN 1 ELSE r.hits + 1 END,
             window_started_at = CASE WHEN r.window_started_at <= (now() AT TIME ZONE 'utc') - make_interval(secs => $2)
                         THEN now() AT TIME ZONE 'utc' ELSE r.window_started_at END
           RETURNING hits,
             EXTRACT(EPOCH FROM (window_started_at + make_interval(secs => $2) - (now() AT TIME ZONE 'utc')))::float8
               AS "retry_after_secs!""#,
        key,
        seconds(window)
    )
    .fetch_one(pool)
    .await?;
    Ok((row.hits, row.retry_after_secs))
}

pub struct QueuedMail {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: i32,
}

#[tracing::instrument(skip_all)]
pub async fn enqueue_mail(
    pool: &PgPool,
    to_address: &str,
    subject: &str,
    text_body: &str,
    html_body: &str,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO mail_outbox (to_address, subject, text_body, html_body, next_attempt_at, inserted_at)
         VALUES ($1, $2, $3, $4, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc')
         RETURNING id",
        to_address,
        subject,
        text_body,
        html_body
    )
    .fetch_one(pool)
    .await?)
}

/// Mail due for (another) attempt, locked so that another server does not send it too.
#[tracing::instrument(skip_all)]
pub async fn claim_due_mail(
    connection: &mut PgConnection,
    limit: i64,
) -> Result<Vec<QueuedMail>, AppError> {
    Ok(sqlx::query_as!(
        QueuedMail,
        "SELECT id, to_address, subject, text_body, html_body, attempts FROM mail_outbox
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() AT TIME ZONE 'utc'
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit
    )
    .fetch_all(&mut *connection)
    .await?)
}

/// The bodies carry links with tokens: once delivered they are not kept.
#[tracing::instrument(skip_all)]
pub async fn mark_mail_sent(connection: &mut PgConnection, id: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE mail_outbox SET sent_at = now() AT TIME ZONE 'utc', attempts = attempts + 1,
                text_body = '', html_body = '', last_error = NULL
         WHERE id = $1",
        id
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn mark_mail_attempt_failed(
    connection: &mut PgConnection,
    id: i64,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2,
                next_attempt_at = (now() AT TIME ZONE 'utc') + make_interval(secs => $3),
                failed_at = CASE WHEN $4 THEN now() AT TIME ZONE 'utc' ELSE NULL END
         WHERE id = $1",
        id,
        error,
        retry_in.map(seconds).unwrap_or(0.0),
        retry_in.is_none()
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

pub struct MailboxEntry {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub inserted_at: NaiveDateTime,
}

#[tracing::instrument(skip_all)]
pub async fn recent_mail(pool: &PgPool) -> Result<Vec<MailboxEntry>, AppError> {
    Ok(sqlx::query_as!(
        MailboxEntry,
        r#"SELECT id, to_address, subject, text_body, inserted_at AS "inserted_at: NaiveDateTime"
           FROM mail_outbox ORDER BY id DESC LIMIT 50"#
    )
    .fetch_all(pool)
    .await?)
}

/// Deletes what can no longer be used: expired sessions, tokens past the longest lifetime,
/// finished rate-limit windows. Returns the number of session rows deleted.
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
    sqlx::query!("DELETE FROM rate_limits WHERE window_started_at < (now() AT TIME ZONE 'utc') - interval '1 hour'")
        .execute(pool)
        .await?;
    Ok(sessions)
}
