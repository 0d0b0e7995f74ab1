//! The `mail_outbox` table: mail queued by requests, claimed and marked by the sender.

use std::time::Duration;

use chrono::NaiveDateTime;
use sqlx::{PgConnection, PgPool};

use super::seconds;
use crate::error::AppError;

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

/// Records a failed attempt; with no `retry_in` the mail is given up on, and loses its bodies
/// (and the token link in them) like a sent one.
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
                failed_at = CASE WHEN $4 THEN now() AT TIME ZONE 'utc' ELSE NULL END,
                text_body = CASE WHEN $4 THEN '' ELSE text_body END,
                html_body = CASE WHEN $4 THEN '' ELSE html_body END
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
