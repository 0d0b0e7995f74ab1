//! The `live_connections` table: each user's open live connections across every server, so
//! that their number is bounded for the whole cluster. A connection's row goes when it
//! closes; rows a dead server left behind stop counting after 90 seconds.

use sqlx::PgPool;
use uuid::Uuid;

use crate::accounts::UserId;
use crate::error::AppError;

/// Opens `connection` for `user_id` unless the user already holds `cap` live ones; answers
/// whether it was opened. Claims of one user wait for each other, so two at once cannot both
/// take the last place.
#[tracing::instrument(skip_all)]
pub async fn open(
    pool: &PgPool,
    connection: Uuid,
    user_id: UserId,
    cap: i64,
) -> Result<bool, AppError> {
    let mut transaction = pool.begin().await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext('live_connections'), hashtext($1::uuid::text))",
        user_id.0
    )
    .execute(&mut *transaction)
    .await?;
    let opened = sqlx::query!(
        "INSERT INTO live_connections (connection_id, user_id)
         SELECT $1, $2
         WHERE (SELECT count(*) FROM live_connections
                WHERE user_id = $2 AND seen_at > now() - interval '90 seconds') < $3",
        connection,
        user_id.0,
        cap
    )
    .execute(&mut *transaction)
    .await?
    .rows_affected()
        == 1;
    transaction.commit().await?;
    Ok(opened)
}

/// Keeps a live connection counting.
#[tracing::instrument(skip_all)]
pub async fn still_open(pool: &PgPool, connection: Uuid) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE live_connections SET seen_at = now() WHERE connection_id = $1",
        connection
    )
    .execute(pool)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn close(pool: &PgPool, connection: Uuid) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM live_connections WHERE connection_id = $1",
        connection
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Rows of connections whose server died: not seen for a day.
#[tracing::instrument(skip_all)]
pub async fn delete_abandoned(pool: &PgPool) -> Result<u64, AppError> {
    Ok(
        sqlx::query!("DELETE FROM live_connections WHERE seen_at < now() - interval '1 day'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
