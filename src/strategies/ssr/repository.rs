//! Every SQL statement of strategies and their versions. Each one names the owner (`user_id`)
//! in SQL, so another user's strategy is simply not found; all are `query!`, checked at
//! compile time against `.sqlx/`.

use crate::strategies::StrategyId;
use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::accounts::UserId;
use crate::{
    error::AppError,
    language::Format,
    strategies::{
        ListQuery, StrategyDocument, StrategyListItem, StrategyStatus, VersionInfo, PAGE_SIZE,
    },
};

/// The constraint that keeps names unique per user, whatever their case.
pub const UNIQUE_NAME_INDEX: &str = "strategies_user_lower_name_idx";

/// The columns that mirror the document on every save.
#[derive(Debug, Clone)]
pub struct MirroredFields {
    pub name: String,
    pub description: Option<String>,
    pub trading_pair: String,
    pub timeframe: String,
    pub format: Format,
    pub content: String,
}

pub(super) fn parse_format(text: &str) -> Result<Format, AppError> {
    Format::from_name(text)
        .ok_or_else(|| AppError::internal(format!("unknown format {text:?} stored")))
}

pub fn parse_status(text: &str) -> Result<StrategyStatus, AppError> {
    StrategyStatus::parse(text)
        .ok_or_else(|| AppError::internal(format!("unknown status {text:?} stored")))
}

fn utc(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

/// What a trader is told when another of their strategies has the name: on saving (a field
/// error) and on every keystroke (diagnostic E050).
pub fn name_taken_message(name: &str) -> String {
    format!("You already have a strategy named \u{201c}{name}\u{201d}; choose another name.")
}

/// A name clash becomes a field error on `name` (by the constraint's name, not its message).
pub fn name_taken_or(error: sqlx::Error, name: &str) -> AppError {
    match &error {
        sqlx::Error::Database(db) if db.constraint() == Some(UNIQUE_NAME_INDEX) => {
            AppError::field("name", name_taken_message(name))
        }
        _ => AppError::from(error),
    }
}

#[tracing::instrument(skip_all)]
pub async fn list(
    pool: &PgPool,
    user_id: UserId,
    query: &ListQuery,
) -> Result<(Vec<StrategyListItem>, i64), AppError> {
    let status = query.status.map(StrategyStatus::as_str);
    let search = (!query.search.is_empty()).then(|| {
        // A name search, not a pattern: the user's `%` and `_` are literal.
        let escaped = query
            .search
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let offset = i64::from(query.page.saturating_sub(1)) * i64::from(PAGE_SIZE);
    let rows = sqlx::query!(
        r#"SELECT id, name, status, version, trading_pair, timeframe,
                  updated_at AS "updated_at: NaiveDateTime", count(*) OVER () AS "total!"
           FROM strategies
           WHERE user_id = $1
             AND ($2::text IS NULL OR status = $2)
             AND ($3::text IS NULL OR lower(name) LIKE $3)
           ORDER BY
             CASE WHEN $4 = 'name_asc' THEN lower(name) END ASC,
             CASE WHEN $4 = 'name_desc' THEN lower(name) END DESC,
             CASE WHEN $4 = 'created_asc' THEN inserted_at END ASC,
             CASE WHEN $4 = 'created_desc' THEN inserted_at END DESC,
             CASE WHEN $4 = 'updated_asc' THEN updated_at END ASC,
             updated_at DESC, id
           LIMIT $5 OFFSET $6"#,
        user_id.0,
        status,
        search,
        query.sort.as_str(),
        i64::from(PAGE_SIZE),
        offset
    )
    .fetch_all(pool)
    .await?;
    let total = rows.first().map_or(0, |row| row.total);
    let items = rows
        .into_iter()
        .map(|row| {
            Ok(StrategyListItem {
                id: StrategyId(row.id),
                name: row.name,
                status: parse_status(&row.status)?,
                version: row.version,
                trading_pair: row.trading_pair,
                timeframe: row.timeframe,
                updated_at: utc(row.updated_at),
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok((items, total))
}

/// Whether the user has any strategy (an empty list may only be an empty filter).
#[tracing::instrument(skip_all)]
pub async fn has_any(pool: &PgPool, user_id: UserId) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM strategies WHERE user_id = $1) AS "any!""#,
        user_id.0
    )
    .fetch_one(pool)
    .await?)
}

#[tracing::instrument(skip_all)]
pub async fn name_is_taken(
    pool: &PgPool,
    user_id: UserId,
    name: &str,
    except: Option<StrategyId>,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM strategies
             WHERE user_id = $1 AND lower(name) = lower($2) AND ($3::uuid IS NULL OR id <> $3))
           AS "taken!""#,
        user_id.0,
        name,
        except.map(|id| id.0)
    )
    .fetch_one(pool)
    .await?)
}

/// A strategy with what the overview needs beyond the document.
pub struct StoredStrategy {
    pub document: StrategyDocument,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all)]
pub async fn find(
    connection: &mut PgConnection,
    user_id: UserId,
    id: StrategyId,
) -> Result<StoredStrategy, AppError> {
    let row = sqlx::query!(
        r#"SELECT id, name, status, format, content, version, lock_version, description,
                  inserted_at AS "inserted_at: NaiveDateTime", updated_at AS "updated_at: NaiveDateTime"
           FROM strategies WHERE id = $1 AND user_id = $2"#,
        id.0,
        user_id.0
    )
    .fetch_optional(&mut *connection)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(StoredStrategy {
        document: StrategyDocument {
            id: StrategyId(row.id),
            name: row.name,
            status: parse_status(&row.status)?,
            format: parse_format(&row.format)?,
            content: row.content,
            version: row.version,
            lock_version: row.lock_version,
        },
        description: row.description,
        created_at: utc(row.inserted_at),
        updated_at: utc(row.updated_at),
    })
}

/// Locks the row until the transaction ends, so that a status change checks and changes the
/// same strategy; not found when it is not this user's.
#[tracing::instrument(skip_all)]
pub async fn lock(
    connection: &mut PgConnection,
    user_id: UserId,
    id: StrategyId,
) -> Result<(), AppError> {
    sqlx::query_scalar!(
        "SELECT id FROM strategies WHERE id = $1 AND user_id = $2 FOR UPDATE",
        id.0,
        user_id.0
    )
    .fetch_optional(&mut *connection)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(())
}

/// A new strategy at version 1 (its version record is written by the caller, in the same
/// transaction).
#[tracing::instrument(skip_all)]
pub async fn insert(
    connection: &mut PgConnection,
    user_id: UserId,
    fields: &MirroredFields,
) -> Result<StrategyId, AppError> {
    sqlx::query_scalar!(
        "INSERT INTO strategies (user_id, name, description, format, content, trading_pair, timeframe,
                                 status, version, lock_version, inserted_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', 1, 1, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc')
         RETURNING id",
        user_id.0,
        fields.name,
        fields.description,
        fields.format.name(),
        fields.content,
        fields.trading_pair,
        fields.timeframe
    )
    .fetch_one(&mut *connection)
    .await
    .map(StrategyId)
    .map_err(|error| name_taken_or(error, &fields.name))
}

/// What a committed update gives back.
pub struct Updated {
    pub version: i32,
    pub lock_version: i32,
    pub status: StrategyStatus,
    pub updated_at: DateTime<Utc>,
}

/// Replaces the document when the row still has `lock_version` and may be edited; returns
/// the new version and lock version, or `None` when nothing matched (the caller says why).
#[tracing::instrument(skip_all)]
pub async fn update_document(
    connection: &mut PgConnection,
    user_id: UserId,
    id: StrategyId,
    lock_version: i32,
    fields: &MirroredFields,
) -> Result<Option<Updated>, AppError> {
    let row = sqlx::query!(
        r#"UPDATE strategies SET name = $4, description = $5, format = $6, content = $7,
                  trading_pair = $8, timeframe = $9, version = version + 1,
                  lock_version = lock_version + 1, updated_at = now() AT TIME ZONE 'utc'
           WHERE id = $1 AND user_id = $2 AND lock_version = $3 AND status IN ('draft', 'inactive')
           RETURNING version, lock_version, status, updated_at AS "updated_at: NaiveDateTime""#,
        id.0,
        user_id.0,
        lock_version,
        fields.name,
        fields.description,
        fields.format.name(),
        fields.content,
        fields.trading_pair,
        fields.timeframe
    )
    .fetch_optional(&mut *connection)
    .await
    .map_err(|error| name_taken_or(error, &fields.name))?;
    row.map(|row| {
        Ok(Updated {
            version: row.version,
            lock_version: row.lock_version,
            status: parse_status(&row.status)?,
            updated_at: utc(row.updated_at),
        })
    })
    .transpose()
}

#[tracing::instrument(skip_all)]
pub async fn insert_version(
    connection: &mut PgConnection,
    strategy_id: StrategyId,
    number: i32,
    format: Format,
    content: &str,
    author_id: UserId,
) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO strategy_versions (strategy_id, number, format, content, author_id, inserted_at)
         VALUES ($1, $2, $3, $4, $5, now() AT TIME ZONE 'utc')",
        strategy_id.0,
        number,
        format.name(),
        content,
        author_id.0
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn set_status(
    connection: &mut PgConnection,
    user_id: UserId,
    id: StrategyId,
    status: StrategyStatus,
) -> Result<i32, AppError> {
    Ok(sqlx::query_scalar!(
        "UPDATE strategies SET status = $3, lock_version = lock_version + 1,
                updated_at = now() AT TIME ZONE 'utc'
         WHERE id = $1 AND user_id = $2 RETURNING lock_version",
        id.0,
        user_id.0,
        status.as_str()
    )
    .fetch_one(&mut *connection)
    .await?)
}

/// Deletes a draft or archived strategy (and, by cascade, its versions).
#[tracing::instrument(skip_all)]
pub async fn delete(
    connection: &mut PgConnection,
    user_id: UserId,
    id: StrategyId,
) -> Result<bool, AppError> {
    Ok(sqlx::query!(
        "DELETE FROM strategies WHERE id = $1 AND user_id = $2 AND status IN ('draft', 'archived')",
        id.0,
        user_id.0
    )
    .execute(&mut *connection)
    .await?
    .rows_affected()
        == 1)
}

/// The names of this user's strategies that start like `prefix` (for "- Copy 2", "- Copy 3").
#[tracing::instrument(skip_all)]
pub async fn names_starting_with(
    pool: &PgPool,
    user_id: UserId,
    prefix: &str,
) -> Result<Vec<String>, AppError> {
    let escaped = prefix
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Ok(sqlx::query_scalar!(
        "SELECT lower(name) FROM strategies WHERE user_id = $1 AND lower(name) LIKE $2",
        user_id.0,
        format!("{escaped}%")
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .flatten()
    .collect())
}

#[tracing::instrument(skip_all)]
pub async fn versions(
    pool: &PgPool,
    user_id: UserId,
    strategy_id: StrategyId,
) -> Result<Vec<VersionInfo>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT v.number, v.format, u.email::text AS author, v.inserted_at AS "inserted_at: NaiveDateTime"
           FROM strategy_versions v
           JOIN strategies s ON s.id = v.strategy_id
           LEFT JOIN users u ON u.id = v.author_id
           WHERE v.strategy_id = $1 AND s.user_id = $2
           ORDER BY v.number DESC"#,
        strategy_id.0,
        user_id.0
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(VersionInfo {
                number: row.number,
                format: parse_format(&row.format)?,
                author: row.author,
                saved_at: utc(row.inserted_at),
            })
        })
        .collect()
}

#[tracing::instrument(skip_all)]
pub async fn version(
    pool: &PgPool,
    user_id: UserId,
    strategy_id: StrategyId,
    number: i32,
) -> Result<(VersionInfo, String), AppError> {
    let row = sqlx::query!(
        r#"SELECT v.number, v.format, v.content, u.email::text AS author,
                  v.inserted_at AS "inserted_at: NaiveDateTime"
           FROM strategy_versions v
           JOIN strategies s ON s.id = v.strategy_id
           LEFT JOIN users u ON u.id = v.author_id
           WHERE v.strategy_id = $1 AND s.user_id = $2 AND v.number = $3"#,
        strategy_id.0,
        user_id.0,
        number
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((
        VersionInfo {
            number: row.number,
            format: parse_format(&row.format)?,
            author: row.author,
            saved_at: utc(row.inserted_at),
        },
        row.content,
    ))
}
