//! The `candle_imports` table: each upload's report, read back only by its uploader. A report
//! is made when the upload arrives ('importing'), follows its job's progress, and ends with
//! the counts, the first rejected rows and, if the file was refused, why. Each user keeps the
//! newest `QUOTA_IMPORT_REPORTS`; older ones are deleted as new ones come. A user has one
//! import running at a time (a unique index says so).

use sqlx::{types::Json, PgPool};
use uuid::Uuid;

use crate::accounts::UserId;
use crate::{
    backtests::RejectedRow,
    error::AppError,
    market_data::ssr::candle_store::{Series, StoredCount},
    market_data::ImportReport,
};

/// A report of an upload refused as a whole.
pub struct NewReport<'a> {
    pub user_id: UserId,
    pub pair: &'a str,
    pub timeframe: &'a str,
    pub file_name: &'a str,
    pub refusal: &'a str,
}

impl<'a> NewReport<'a> {
    pub fn refused(
        user_id: UserId,
        pair: &'a str,
        timeframe: &'a str,
        file_name: &'a str,
        refusal: &'a str,
    ) -> Self {
        NewReport {
            user_id,
            pair,
            timeframe,
            file_name,
            refusal,
        }
    }
}

/// Stores a refused upload's report, keeping the user's newest `keep`.
pub async fn insert(pool: &PgPool, report: NewReport<'_>, keep: i64) -> Result<Uuid, AppError> {
    let id = sqlx::query_scalar!(
        "INSERT INTO candle_imports (user_id, pair, timeframe, file_name, refusal, status)
         VALUES ($1, $2, $3, $4, $5, 'finished')
         RETURNING id",
        report.user_id.0,
        report.pair,
        report.timeframe,
        report.file_name,
        report.refusal,
    )
    .fetch_one(pool)
    .await?;
    keep_newest(pool, report.user_id, keep).await?;
    Ok(id)
}

/// The report of an import that starts now, keeping the user's newest `keep`.
pub async fn start(
    pool: &PgPool,
    user_id: UserId,
    series: &Series,
    file_name: &str,
    bytes_total: u64,
    keep: i64,
) -> Result<Uuid, AppError> {
    let id = sqlx::query_scalar!(
        "INSERT INTO candle_imports (user_id, pair, timeframe, file_name, status, bytes_total)
         VALUES ($1, $2, $3, $4, 'importing', $5)
         RETURNING id",
        user_id.0,
        series.pair,
        series.timeframe.name(),
        file_name,
        bytes_total as i64,
    )
    .fetch_one(pool)
    .await
    .map_err(|error| match error {
        sqlx::Error::Database(database)
            if database.constraint() == Some("candle_imports_one_running_per_user") =>
        {
            crate::web::instruments::limit_hit("imports_per_user");
            AppError::LimitReached {
                message: "An import of yours is still running; wait for it to end before you upload another file.".into(),
            }
        }
        other => AppError::from(other),
    })?;
    keep_newest(pool, user_id, keep).await?;
    Ok(id)
}

async fn keep_newest(pool: &PgPool, user_id: UserId, keep: i64) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM candle_imports WHERE user_id = $1 AND status = 'finished' AND id NOT IN (
           SELECT id FROM candle_imports WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2)",
        user_id.0,
        keep
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// How far a running import got.
pub async fn progress(
    pool: &PgPool,
    id: Uuid,
    count: &StoredCount,
    bytes_read: u64,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE candle_imports SET imported = $2, skipped_as_duplicates = $3, bytes_read = $4,
                updated_at = now()
         WHERE id = $1",
        id,
        count.inserted as i64,
        count.skipped_as_duplicates as i64,
        bytes_read as i64
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// How an import ended.
pub async fn finish(
    pool: &PgPool,
    id: Uuid,
    count: &StoredCount,
    rejected: i64,
    first_rejections: &[RejectedRow],
    refusal: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE candle_imports SET status = 'finished', imported = $2, skipped_as_duplicates = $3,
                rejected = $4, first_rejections = $5, refusal = $6, bytes_read = bytes_total,
                updated_at = now()
         WHERE id = $1",
        id,
        count.inserted as i64,
        count.skipped_as_duplicates as i64,
        rejected,
        Json(first_rejections) as _,
        refusal,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Imports whose server stopped mid-way (no progress for ten minutes) end with a sentence.
pub async fn give_up_stalled(pool: &PgPool) -> Result<u64, AppError> {
    Ok(sqlx::query!(
        "UPDATE candle_imports SET status = 'finished', updated_at = now(),
                refusal = 'The server stopped during this import; import the file again (rows already stored are skipped).'
         WHERE status = 'importing' AND updated_at < now() - interval '10 minutes'"
    )
    .execute(pool)
    .await?
    .rows_affected())
}

pub async fn count(pool: &PgPool, user_id: UserId) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM candle_imports WHERE user_id = $1"#,
        user_id.0
    )
    .fetch_one(pool)
    .await?)
}

/// The report `id` if `user_id` made it.
pub async fn find(
    pool: &PgPool,
    user_id: UserId,
    id: Uuid,
) -> Result<Option<ImportReport>, AppError> {
    let row = sqlx::query!(
        r#"SELECT id, pair, timeframe, file_name, imported, skipped_as_duplicates, rejected,
                  first_rejections AS "first_rejections: Json<Vec<RejectedRow>>",
                  refusal, created_at AS "created_at: chrono::DateTime<chrono::Utc>",
                  status, bytes_total, bytes_read
           FROM candle_imports
           WHERE id = $1 AND user_id = $2"#,
        id,
        user_id.0,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| ImportReport {
        id: row.id,
        pair: row.pair,
        timeframe: row.timeframe,
        file_name: row.file_name,
        imported: row.imported,
        skipped_as_duplicates: row.skipped_as_duplicates,
        rejected: row.rejected,
        first_rejections: row.first_rejections.0,
        refusal: row.refusal,
        created_at: row.created_at,
        importing: row.status == "importing",
        bytes_total: row.bytes_total,
        bytes_read: row.bytes_read,
    }))
}
