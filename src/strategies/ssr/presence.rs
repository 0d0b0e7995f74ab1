//! The `strategy_presence` table: which editor connections have which strategy open, across
//! every server; a connection's row goes when it closes, and rows a dead server left behind
//! stop counting after 90 seconds.

use crate::strategies::StrategyId;
use sqlx::PgPool;
use uuid::Uuid;

use crate::accounts::UserId;
use crate::error::AppError;

/// Marks `connection` as showing `strategy` (or nothing), if the strategy is the user's;
/// returns the strategy it showed before, so that both can be announced.
#[tracing::instrument(skip_all)]
pub async fn watch(
    pool: &PgPool,
    connection: Uuid,
    user_id: UserId,
    strategy: Option<StrategyId>,
) -> Result<Option<StrategyId>, AppError> {
    let before = sqlx::query_scalar!(
        "DELETE FROM strategy_presence WHERE connection_id = $1 RETURNING strategy_id",
        connection
    )
    .fetch_optional(pool)
    .await?;
    if let Some(strategy) = strategy {
        sqlx::query!(
            "INSERT INTO strategy_presence (connection_id, user_id, strategy_id, seen_at)
             SELECT $1, $2, id, now() AT TIME ZONE 'utc' FROM strategies WHERE id = $3 AND user_id = $2",
            connection,
            user_id.0,
            strategy.0
        )
        .execute(pool)
        .await?;
    }
    Ok(before.map(StrategyId))
}

/// Keeps a live connection's row counting.
#[tracing::instrument(skip_all)]
pub async fn still_here(pool: &PgPool, connection: Uuid) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE strategy_presence SET seen_at = now() AT TIME ZONE 'utc' WHERE connection_id = $1",
        connection
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// How many of the user's connections show `strategy` now.
#[tracing::instrument(skip_all)]
pub async fn open_count(
    pool: &PgPool,
    user_id: UserId,
    strategy: StrategyId,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM strategy_presence
           WHERE strategy_id = $1 AND user_id = $2
             AND seen_at > (now() AT TIME ZONE 'utc') - interval '90 seconds'"#,
        strategy.0,
        user_id.0
    )
    .fetch_one(pool)
    .await?)
}
