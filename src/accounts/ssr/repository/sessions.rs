//! The columns that accounts adds to tower-sessions' `sessions` table: the owner, the session
//! token the row holds, and what the list of active sessions shows (device, address, last
//! seen).

use chrono::NaiveDateTime;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::super::{events::SignedOutEverywhere, tokens::SESSION_CONTEXT};
use crate::accounts::UserId;
use crate::{error::AppError, realtime};

/// Records whose session row `session_id` is (so that ending every session of a user can
/// delete the rows themselves), which token it holds, and where it signed in from.
#[tracing::instrument(skip_all)]
pub async fn attach_session(
    pool: &PgPool,
    session_id: &str,
    user_id: UserId,
    token_id: Uuid,
    user_agent: Option<&str>,
    ip_address: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE sessions SET user_id = $2, token_id = $3, user_agent = $4, ip_address = $5,
                signed_in_at = now() AT TIME ZONE 'utc', last_seen_at = now() AT TIME ZONE 'utc'
         WHERE id = $1",
        session_id,
        user_id.0,
        token_id,
        user_agent,
        ip_address
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Notes that the session was used just now.
#[tracing::instrument(skip_all)]
pub async fn touch_session(pool: &PgPool, session_id: &str) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE sessions SET last_seen_at = now() AT TIME ZONE 'utc' WHERE id = $1",
        session_id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A signed-in session as the settings page lists it. `session_id` never leaves the server;
/// `token_id` names the session to its owner.
pub struct SessionRow {
    pub session_id: String,
    pub token_id: Uuid,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub last_seen_at: Option<NaiveDateTime>,
}

/// The user's live sessions, most recently seen first.
#[tracing::instrument(skip_all)]
pub async fn list_sessions(pool: &PgPool, user_id: UserId) -> Result<Vec<SessionRow>, AppError> {
    Ok(sqlx::query_as!(
        SessionRow,
        r#"SELECT s.id AS session_id, s.token_id AS "token_id!", s.user_agent, s.ip_address,
                  s.last_seen_at AS "last_seen_at: NaiveDateTime"
           FROM sessions s JOIN users_tokens t ON t.id = s.token_id AND t.user_id = s.user_id
           WHERE s.user_id = $1 AND s.expiry_date > now() AND t.context = $2
           ORDER BY s.last_seen_at DESC NULLS LAST"#,
        user_id.0,
        SESSION_CONTEXT
    )
    .fetch_all(pool)
    .await?)
}

/// Ends the user's session that holds `token_id` (never `current_session`): its row and its
/// token go. False when the user has no such other session.
#[tracing::instrument(skip_all)]
pub async fn revoke_session(
    connection: &mut PgConnection,
    user_id: UserId,
    token_id: Uuid,
    current_session: Option<&str>,
) -> Result<bool, AppError> {
    let revoked = sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND token_id = $2
           AND ($3::text IS NULL OR id <> $3::text)",
        user_id.0,
        token_id,
        current_session
    )
    .execute(&mut *connection)
    .await?
    .rows_affected()
        > 0;
    if revoked {
        sqlx::query!(
            "DELETE FROM users_tokens WHERE id = $1 AND user_id = $2 AND context = $3",
            token_id,
            user_id.0,
            SESSION_CONTEXT
        )
        .execute(&mut *connection)
        .await?;
    }
    Ok(revoked)
}

/// Ends every session of the user but `keep_session` (rows and session tokens) and closes the
/// user's websockets through `NOTIFY`; emailed tokens stay.
#[tracing::instrument(skip_all)]
pub async fn end_other_sessions(
    connection: &mut PgConnection,
    user_id: UserId,
    keep_session: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM users_tokens WHERE user_id = $1 AND context = $3
           AND id IS DISTINCT FROM (SELECT token_id FROM sessions WHERE id = $2::text)",
        user_id.0,
        keep_session,
        SESSION_CONTEXT
    )
    .execute(&mut *connection)
    .await?;
    end_sessions_but(connection, user_id, keep_session).await
}

/// Deletes every session row of the user but `keep_session` and (through `NOTIFY`, on every
/// server) closes the user's websockets: the end of both "log out everywhere else" and a
/// password change.
#[tracing::instrument(skip_all)]
pub async fn end_sessions_but(
    connection: &mut PgConnection,
    user_id: UserId,
    keep_session: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND ($2::text IS NULL OR id <> $2::text)",
        user_id.0,
        keep_session
    )
    .execute(&mut *connection)
    .await?;
    realtime::publish(&mut *connection, &SignedOutEverywhere { user_id }).await?;
    Ok(())
}
