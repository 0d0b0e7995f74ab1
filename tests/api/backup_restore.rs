//! Backup and restore as docs/DEPLOYMENT.md does them: `pg_dump -F c` of a database the app
//! has filled, `pg_restore` into a fresh database, and the app started on the copy: every
//! row of every table (users, strategies, versions, and whatever tables come later, such as
//! backtests) is intact, and the app serves it to its owner after a new log-in.

use std::{collections::BTreeMap, process::Command};

use sqlx::{postgres::PgPoolOptions, PgPool, Row};

use crate::{
    harness::{serve_browser_on, spawn_app, unique_email, TestDatabase, PASSWORD},
    strategies::{document, Trader},
};

/// Each table of the schema with its row count and a digest of all its rows.
async fn every_row(pool: &PgPool) -> BTreeMap<String, (i64, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut rows = BTreeMap::new();
    for table in tables {
        let summary = sqlx::query(&format!(
            r#"SELECT count(*) AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS digest FROM "{table}" t"#
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        rows.insert(table, (summary.get("n"), summary.get("digest")));
    }
    rows
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} runs (Debian's postgresql-client): {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_dump_restored_into_a_fresh_database_keeps_every_row_and_the_app_serves_it() {
    let app = spawn_app().await;
    let email = unique_email();
    let trader = Trader {
        browser: app.trader(&email).await,
    };
    let id = trader.create("Backed up").await;
    let second = trader
        .save(
            Some(&id),
            &document("Backed up, second version"),
            Some(1),
            false,
        )
        .await;
    assert_eq!(second.status(), 200, "{:?}", second.text().await);
    Trader::new(&app).await.create("Someone else's").await;
    let before = every_row(&app.pool).await;
    for table in ["users", "strategies", "strategy_versions"] {
        assert!(before[table].0 > 0, "{table} has rows to back up");
    }

    let dump = std::env::temp_dir().join(format!("ts-backup-{}.dump", uuid::Uuid::new_v4()));
    let dump_path = dump.to_str().unwrap();
    run(
        "pg_dump",
        &["-F", "c", "-d", &app.database.url, "-f", dump_path],
    );
    let restored = TestDatabase::empty().await;
    run(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "-d",
            &restored.url,
            dump_path,
        ],
    );
    std::fs::remove_file(&dump).unwrap();

    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect(&restored.url)
        .await
        .unwrap();
    assert_eq!(every_row(&pool).await, before, "every row of every table");

    // The app on the restored database: the owner logs in again and finds both versions.
    let browser = serve_browser_on(pool, &restored.url, &[]).await;
    let logged_in = browser.log_in(&email, PASSWORD, false).await;
    assert_eq!(logged_in.status(), 200, "{:?}", logged_in.text().await);
    let owner = Trader { browser };
    let overview = owner.overview_json(&id).await;
    assert!(
        overview.to_string().contains("Backed up, second version"),
        "{overview}"
    );
    let first = owner
        .browser
        .call(
            "/api/strategies/version",
            &[("id", id.as_str()), ("number", "1")],
        )
        .await;
    assert_eq!(first.status(), 200);
    let first = first.text().await.unwrap();
    assert!(
        first.contains("Backed up") && !first.contains("second version"),
        "{first}"
    );
}
