//! The `candle_imports` table: each upload's report, read back only by its uploader.

use sqlx::{types::Json, PgPool};
use uuid::Uuid;

use crate::{backtests::RejectedRow, error::AppError, market_data::ImportReport};

/// A report before it is stored.
pub struct NewReport<'a> {
    pub user_id: Uuid,
    pub pair: &'a str,
    pub timeframe: &'a str,
    pub file_name: &'a str,
    pub imported: i64,
    pub skipped_as_duplicates: i64,
    pub rejected: i64,
    pub first_rejections: &'a [RejectedRow],
    pub refusal: Option<&'a str>,
}

pub async fn insert(pool: &PgPool, report: NewReport<'_>) -> Result<Uuid, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO candle_imports
           (user_id, pair, timeframe, file_name, imported, skipped_as_duplicates, rejected,
            first_rejections, refusal)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING id",
        report.user_id,
        report.pair,
        report.timeframe,
        report.file_name,
        report.imported,
        report.skipped_as_duplicates,
        report.rejected,
        Json(report.first_rejections) as _,
        report.refusal,
    )
    .fetch_one(pool)
    .await?)
}

/// The report `id` if `user_id` made it.
pub async fn find(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<ImportReport>, AppError> {
    let row = sqlx::query!(
        r#"SELECT id, pair, timeframe, file_name, imported, skipped_as_duplicates, rejected,
                  first_rejections AS "first_rejections: Json<Vec<RejectedRow>>",
                  refusal, created_at AS "created_at: chrono::DateTime<chrono::Utc>"
           FROM candle_imports
           WHERE id = $1 AND user_id = $2"#,
        id,
        user_id,
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
    }))
}
