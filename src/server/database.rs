//! The connection pool and the schema's migrations (apply, revert, list).

use std::{str::FromStr, time::Duration};

use anyhow::{bail, Context};
use sqlx::{
    migrate::{Migrate, MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool, Postgres,
};

use crate::config::Settings;

/// The migrations under `migrations/`, embedded in the binary so a release needs no source tree.
pub fn migrator() -> Migrator {
    sqlx::migrate!("./migrations")
}

/// The serving pool: every connection's statements are cancelled by Postgres after
/// `DB_STATEMENT_TIMEOUT_MS`, and waiting for a free connection ends after
/// `DB_ACQUIRE_TIMEOUT_MS` (the request then answers 503 with a sentence).
pub async fn connect(settings: &Settings) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(settings.database_url.expose())
        .context("DATABASE_URL is not a usable Postgres URL")?
        .options([(
            "statement_timeout",
            format!("{}ms", settings.limits.statement.as_millis()),
        )]);
    PgPoolOptions::new()
        .max_connections(settings.pool_size)
        .min_connections(1.min(settings.pool_size))
        .acquire_timeout(settings.limits.pool_acquire)
        .idle_timeout(Duration::from_secs(300))
        .connect_with(options)
        .await
        .context("cannot connect to the database named by DATABASE_URL")
}

pub async fn connect_url(url: &str, pool_size: u32) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(pool_size)
        .min_connections(1.min(pool_size))
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
        .connect(url)
        .await
        .context("cannot connect to the database named by DATABASE_URL")
}

/// Creates the database named by the URL when it does not exist yet.
pub async fn create_database_if_missing(url: &str) -> anyhow::Result<bool> {
    if Postgres::database_exists(url)
        .await
        .context("cannot reach the Postgres server named by DATABASE_URL")?
    {
        return Ok(false);
    }
    Postgres::create_database(url)
        .await
        .context("cannot create the database named by DATABASE_URL")?;
    Ok(true)
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    migrator()
        .run(pool)
        .await
        .context("applying migrations failed")
}

/// Reverts the last `count` applied migrations, newest first.
pub async fn rollback(pool: &PgPool, count: usize) -> anyhow::Result<Vec<i64>> {
    let mut applied = applied_versions(pool).await?;
    applied.sort_unstable();
    if count > applied.len() {
        bail!(
            "cannot roll back {count} migrations: only {} are applied",
            applied.len()
        );
    }
    let keep = applied.len() - count;
    let target = if keep == 0 { 0 } else { applied[keep - 1] };
    migrator()
        .undo(pool, target)
        .await
        .context("reverting migrations failed")?;
    Ok(applied.split_off(keep).into_iter().rev().collect())
}

/// One line of `trading_strategy migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

pub async fn migration_statuses(pool: &PgPool) -> anyhow::Result<Vec<MigrationStatus>> {
    let applied = applied_versions(pool).await?;
    Ok(migrator()
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| MigrationStatus {
            version: m.version,
            description: m.description.to_string(),
            applied: applied.contains(&m.version),
        })
        .collect())
}

/// Migrations the binary knows that the database has not applied yet.
pub async fn pending_migrations(pool: &PgPool) -> anyhow::Result<Vec<MigrationStatus>> {
    Ok(migration_statuses(pool)
        .await?
        .into_iter()
        .filter(|m| !m.applied)
        .collect())
}

async fn applied_versions(pool: &PgPool) -> anyhow::Result<Vec<i64>> {
    let mut connection = pool.acquire().await?;
    connection.ensure_migrations_table().await?;
    Ok(connection
        .list_applied_migrations()
        .await?
        .into_iter()
        .map(|m| m.version)
        .collect())
}
