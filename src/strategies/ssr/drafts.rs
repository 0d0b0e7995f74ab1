//! The `strategy_drafts` table: each editor tab's working copy, written after the user pauses
//! typing, kept until the save it leads to commits or for 30 days.

use crate::strategies::StrategyId;
use chrono::NaiveDateTime;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::repository::parse_format;
use crate::accounts::UserId;
use crate::{error::AppError, language::Format, strategies::WorkingCopy};

/// Stores a tab's working copy unless the stored one has a newer sequence number (a late,
/// stale write); returns whether it was stored.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all)]
pub async fn store(
    pool: &PgPool,
    user_id: UserId,
    tab_id: Uuid,
    strategy_id: Option<StrategyId>,
    sequence: i64,
    format: Format,
    content: &str,
    base_lock_version: Option<i32>,
) -> Result<bool, AppError> {
    let stored = sqlx::query_scalar!(
        r#"INSERT INTO strategy_drafts
             (user_id, tab_id, strategy_id, sequence, format, content, base_lock_version, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, now() AT TIME ZONE 'utc')
           ON CONFLICT (user_id, tab_id) DO UPDATE SET
             strategy_id = EXCLUDED.strategy_id, sequence = EXCLUDED.sequence,
             format = EXCLUDED.format, content = EXCLUDED.content,
             base_lock_version = EXCLUDED.base_lock_version, updated_at = EXCLUDED.updated_at
           WHERE strategy_drafts.sequence < EXCLUDED.sequence
           RETURNING 1 AS "stored!""#,
        user_id.0,
        tab_id,
        strategy_id.map(|id| id.0),
        sequence,
        format.name(),
        content,
        base_lock_version
    )
    .fetch_optional(pool)
    .await?;
    Ok(stored.is_some())
}

/// The newest working copy of a strategy (or of a strategy not saved yet), from any tab, that
/// differs from `committed` (a tab that went back to the committed text hides no other's).
#[tracing::instrument(skip_all)]
pub async fn newest(
    pool: &PgPool,
    user_id: UserId,
    strategy_id: Option<StrategyId>,
    committed: &str,
) -> Result<Option<WorkingCopy>, AppError> {
    let row = sqlx::query!(
        r#"SELECT tab_id, format, content, base_lock_version,
                  updated_at AS "updated_at: NaiveDateTime"
           FROM strategy_drafts
           WHERE user_id = $1 AND strategy_id IS NOT DISTINCT FROM $2 AND content <> $3
           ORDER BY updated_at DESC LIMIT 1"#,
        user_id.0,
        strategy_id.map(|id| id.0),
        committed
    )
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(WorkingCopy {
            tab_id: row.tab_id,
            format: parse_format(&row.format)?,
            content: row.content,
            base_lock_version: row.base_lock_version,
            saved_at: row.updated_at.and_utc(),
            changes: Vec::new(),
            in_this_browser: false,
        })
    })
    .transpose()
}

/// Forgets a tab's working copy (its save committed, or the user discarded it).
#[tracing::instrument(skip_all)]
pub async fn forget(
    connection: &mut PgConnection,
    user_id: UserId,
    tab_id: Uuid,
) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM strategy_drafts WHERE user_id = $1 AND tab_id = $2",
        user_id.0,
        tab_id
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Working copies untouched for 30 days are given up.
#[tracing::instrument(skip_all)]
pub async fn delete_expired(pool: &PgPool) -> Result<u64, AppError> {
    Ok(sqlx::query!(
        "DELETE FROM strategy_drafts WHERE updated_at < (now() AT TIME ZONE 'utc') - interval '30 days'"
    )
    .execute(pool)
    .await?
    .rows_affected())
}
