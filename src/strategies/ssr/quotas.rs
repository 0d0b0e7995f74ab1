//! What one user may store of strategies: how many strategies, and how many bytes of text in
//! their versions and working copies together (`QUOTA_STRATEGIES`, `QUOTA_STORED_MB`). Counted
//! in SQL when something would be added, so every path that adds (a save, a duplicate, an
//! autosave, a restore) meets the same bound with the same sentence.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::accounts::UserId;
use crate::{
    config::Quotas,
    error::AppError,
    state::AppState,
    strategies::usage::{Measure, StorageUsage},
};

/// Bytes of text in the user's versions and working copies, but the working copy of `tab`
/// (which an autosave is about to replace).
#[tracing::instrument(skip_all)]
pub async fn stored_bytes(
    connection: &mut PgConnection,
    user_id: UserId,
    but_tab: Option<Uuid>,
) -> Result<i64, AppError> {
    // `octet_length` reads a stored text's size from its header, without reading the text.
    Ok(sqlx::query_scalar!(
        r#"SELECT (SELECT coalesce(sum(octet_length(v.content)), 0)
                   FROM strategy_versions v JOIN strategies s ON s.id = v.strategy_id
                   WHERE s.user_id = $1)::int8
                + (SELECT coalesce(sum(octet_length(d.content)), 0)
                   FROM strategy_drafts d
                   WHERE d.user_id = $1 AND d.tab_id IS DISTINCT FROM $2)::int8 AS "bytes!""#,
        user_id.0,
        but_tab
    )
    .fetch_one(connection)
    .await?)
}

#[tracing::instrument(skip_all)]
pub async fn strategy_count(
    connection: &mut PgConnection,
    user_id: UserId,
) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM strategies WHERE user_id = $1"#,
        user_id.0
    )
    .fetch_one(connection)
    .await?)
}

/// `Ok` when the user may add one more strategy.
pub async fn room_for_a_strategy(
    connection: &mut PgConnection,
    user_id: UserId,
    quotas: &Quotas,
) -> Result<(), AppError> {
    let count = strategy_count(connection, user_id).await?;
    if count >= quotas.strategies {
        crate::web::instruments::limit_hit("quota_strategies");
        return Err(AppError::Forbidden {
            message: format!(
                "You have {count} strategies, the most one account may keep; delete some you no longer need to make room."
            ),
        });
    }
    Ok(())
}

/// `Ok` when `adding` more bytes of text (a version, or the working copy of `tab` in place of
/// its last one) stay within the user's quota.
pub async fn room_for_text(
    connection: &mut PgConnection,
    user_id: UserId,
    adding: usize,
    tab: Option<Uuid>,
    quotas: &Quotas,
) -> Result<(), AppError> {
    let stored = stored_bytes(connection, user_id, tab).await?;
    if stored.saturating_add(adding as i64) > quotas.stored_bytes {
        crate::web::instruments::limit_hit("quota_stored_bytes");
        return Err(AppError::Forbidden {
            message: format!(
                "Your versions and working copies take {} of the {} one account may store; \
                 delete strategies you no longer need to make room.",
                megabytes(stored),
                megabytes(quotas.stored_bytes)
            ),
        });
    }
    Ok(())
}

/// Every figure of the settings page's "Storage", with its quota.
pub async fn usage(state: &AppState, user_id: UserId) -> Result<StorageUsage, AppError> {
    let quotas = &state.settings.bounds.quotas;
    let mut connection = state.pool.acquire().await?;
    let strategies = strategy_count(&mut connection, user_id).await?;
    let stored = stored_bytes(&mut connection, user_id, None).await?;
    drop(connection);
    let (candle_rows, import_reports) =
        crate::market_data::ssr::flows::stored_by(state, user_id).await?;
    Ok(StorageUsage {
        strategies: Measure {
            used: strategies,
            quota: quotas.strategies,
        },
        stored_bytes: Measure {
            used: stored,
            quota: quotas.stored_bytes,
        },
        candle_rows: Measure {
            used: candle_rows,
            quota: quotas.candle_rows,
        },
        import_reports: Measure {
            used: import_reports,
            quota: quotas.import_reports,
        },
    })
}

/// "12.3 MB".
pub fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::megabytes;

    #[test]
    fn sizes_read_in_megabytes_with_one_decimal() {
        assert_eq!(megabytes(100_000_000), "100.0 MB");
        assert_eq!(megabytes(12_345_678), "12.3 MB");
    }
}
