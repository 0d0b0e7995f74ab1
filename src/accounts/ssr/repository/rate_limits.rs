//! The `rate_limits` table: fixed-window attempt counters.

use std::time::Duration;

use sqlx::PgPool;

use super::seconds;
use crate::error::AppError;

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
