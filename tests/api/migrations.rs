use std::process::Command;

use sqlx::PgPool;

use crate::harness::TestDatabase;

/// Runs the real binary against `database` and returns its standard output.
fn trading_strategy(database: &TestDatabase, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_trading_strategy"))
        .args(args)
        .env("DATABASE_URL", &database.url)
        .env("APP_ENV", "test")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "trading_strategy {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Everything about the schema that a migration could change, as sorted text lines.
async fn schema(pool: &PgPool) -> Vec<String> {
    let columns: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, column_default::text
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE schemaname = 'public'
         AND tablename <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let constraints: Vec<(String, String)> = sqlx::query_as(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE connamespace = 'public'::regnamespace",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut lines: Vec<String> = columns
        .into_iter()
        .map(|(t, c, ty, null, default)| {
            format!("column {t}.{c} {ty} nullable={null} default={default:?}")
        })
        .chain(indexes.into_iter().map(|(n, d)| format!("index {n}: {d}")))
        .chain(
            constraints
                .into_iter()
                .map(|(n, d)| format!("constraint {n}: {d}")),
        )
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn rolling_back_one_migration_and_migrating_again_leaves_the_schema_as_before() {
    let database = TestDatabase::empty().await;
    trading_strategy(&database, &["migrate"]);
    let pool = PgPool::connect(&database.url).await.unwrap();
    let before = schema(&pool).await;
    assert!(before
        .iter()
        .any(|l| l.starts_with("column strategies.lock_version")));

    assert!(before.iter().any(|l| l.starts_with("column mail_outbox.")));

    let reverted = trading_strategy(&database, &["rollback", "1"]);
    assert!(reverted.contains("reverted"), "{reverted}");
    let rolled_back = schema(&pool).await;
    // The last migration adds the details of the active-sessions list to `sessions`.
    for column in [
        "sessions.token_id",
        "sessions.last_seen_at",
        "sessions.user_agent",
    ] {
        assert!(
            !rolled_back.iter().any(|l| l.contains(column)),
            "{column} survived the rollback"
        );
    }
    assert!(
        rolled_back.iter().any(|l| l.contains("sessions.user_id"))
            && rolled_back.iter().any(|l| l.contains("mail_outbox.")),
        "only the last migration was reverted"
    );

    let listed = trading_strategy(&database, &["migrations"]);
    assert!(listed.lines().any(|l| l.starts_with("down")), "{listed}");

    trading_strategy(&database, &["migrate"]);
    assert_eq!(schema(&pool).await, before);
    let listed = trading_strategy(&database, &["migrations"]);
    assert!(!listed.lines().any(|l| l.starts_with("down")), "{listed}");
    pool.close().await;
}

#[tokio::test]
async fn rolling_back_every_migration_leaves_no_table_behind() {
    let (database, pool) = TestDatabase::migrated().await;
    trading_strategy(&database, &["rollback", "4"]);
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(tables, vec![]);
    pool.close().await;
}

#[tokio::test]
async fn the_schema_matches_the_runbook_appendix() {
    let (_database, pool) = TestDatabase::migrated().await;
    let schema = schema(&pool).await;
    let has = |line: &str| {
        assert!(
            schema.iter().any(|l| l.starts_with(line)),
            "missing `{line}` in:\n{}",
            schema.join("\n")
        )
    };
    has("column users.id uuid nullable=NO default=Some(\"gen_random_uuid()\")");
    has("column users.email USER-DEFINED nullable=NO");
    has("column users.hashed_password character varying nullable=NO");
    has("column users.confirmed_at timestamp without time zone nullable=YES");
    has("column users.inserted_at timestamp without time zone nullable=NO");
    has("column users_tokens.token bytea nullable=NO");
    has("column users_tokens.sent_to character varying nullable=YES");
    has("column strategies.lock_version integer nullable=NO default=Some(\"1\")");
    has("column strategies.metadata jsonb nullable=YES");
    has("index users_email_index");
    has("index users_tokens_user_id_index");
    has("index users_tokens_context_token_index: CREATE UNIQUE INDEX");
    has("index strategies_user_id_idx");
    has("index strategies_status_idx");
    has("index strategies_user_name_version_idx: CREATE UNIQUE INDEX strategies_user_name_version_idx ON public.strategies USING btree (user_id, name, version)");
    has("constraint strategies_status_check: CHECK");
    has("constraint strategies_user_id_fkey: FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE");
    has("constraint users_tokens_user_id_fkey: FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE");
}

#[tokio::test]
async fn the_runbook_dashboard_queries_work_on_our_schema() {
    let (_database, pool) = TestDatabase::migrated().await;
    for query in [
        "SELECT COUNT(*) FROM users WHERE inserted_at > NOW() - INTERVAL '1 day'",
        "SELECT COUNT(*) FROM strategies WHERE inserted_at > NOW() - INTERVAL '1 day'",
        "SELECT COUNT(*) FROM strategies WHERE lock_version > 1",
    ] {
        let (count,): (i64,) = sqlx::query_as(query).fetch_one(&pool).await.unwrap();
        assert_eq!(count, 0, "{query}");
    }
    let rows = sqlx::query("SELECT status, COUNT(*) FROM strategies GROUP BY status")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(rows.is_empty());
}
