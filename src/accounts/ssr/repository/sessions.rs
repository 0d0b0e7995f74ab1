//! The owner column that accounts adds to tower-sessions' `sessions` table.

use sqlx::PgPool;
use uuid::Uuid;

use crate::error::AppError;

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
