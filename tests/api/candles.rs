//! Market data through the real binary: `import-candles` and the sample data `migrate` loads.

use std::path::PathBuf;
use std::process::{Command, Output};

use sqlx::PgPool;
use trading_strategy::language::model::Timeframe;
use trading_strategy::market_data::ssr::candle_store::{read_candles, Series};

use crate::harness::TestDatabase;

fn run(database: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trading_strategy"))
        .args(args)
        .env("DATABASE_URL", &database.url)
        .env("APP_ENV", "test")
        .output()
        .expect("the binary runs")
}

/// Runs the binary, checks that it succeeded and returns its standard output.
fn succeeds(database: &TestDatabase, args: &[&str]) -> String {
    let output = run(database, args);
    assert!(
        output.status.success(),
        "trading_strategy {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A CSV file of its own for one test, removed when dropped.
struct CsvFile(PathBuf);

impl CsvFile {
    fn new(text: &str) -> Self {
        let path = std::env::temp_dir().join(format!("candles-{}.csv", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).unwrap();
        CsvFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for CsvFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn import_args<'a>(pair: &'a str, timeframe: &'a str, path: &'a str) -> [&'a str; 6] {
    [
        "import-candles",
        "--pair",
        pair,
        "--timeframe",
        timeframe,
        path,
    ]
}

fn import(database: &TestDatabase, pair: &str, timeframe: &str, file: &CsvFile) -> String {
    succeeds(database, &import_args(pair, timeframe, file.path()))
}

fn series(pair: &str, timeframe: Timeframe) -> Series {
    Series {
        pair: pair.to_string(),
        timeframe,
    }
}

async fn count(pool: &PgPool, pair: &str, timeframe: &str, source: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM candles c JOIN candle_sources s ON s.id = c.source_id
         WHERE c.pair = $1 AND c.timeframe = $2 AND s.name = $3",
    )
    .bind(pair)
    .bind(timeframe)
    .bind(source)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_accepted_layout_imports_the_same_two_bars() {
    let (database, pool) = TestDatabase::migrated().await;
    let layouts = [
        // pandas' index under an empty first header, as in ../shared/data
        ",Open,High,Low,Close,Volume\n2024-01-01,10,12,9,11,100\n2024-01-02,11,13,10,12,200\n",
        // any case and order, `date`
        "VOLUME,close,Low,HIGH,Open,Date\n100,11,9,12,10,2024-01-01\n200,12,10,13,11,2024-01-02\n",
        // ISO date-times with and without an offset
        "timestamp,open,high,low,close,volume\n2024-01-01T00:00:00Z,10,12,9,11,100\n2024-01-02 00:00:00,11,13,10,12,200\n",
        // Unix seconds
        "time,open,high,low,close,volume\n1704067200,10,12,9,11,100\n1704153600,11,13,10,12,200\n",
        // Unix milliseconds, rows out of order
        "ts,o,h,l,c,v\n1704153600000,11,13,10,12,200\n1704067200000,10,12,9,11,100\n",
    ];
    for (index, layout) in layouts.iter().enumerate() {
        let pair = format!("LAYOUT{index}/USD");
        let file = CsvFile::new(layout);
        let report = import(&database, &pair, "1d", &file);
        assert!(report.contains("imported: 2"), "layout {index}: {report}");
        assert!(report.contains("rejected: 0"), "layout {index}: {report}");
        let candles = read_candles(&pool, &series(&pair, Timeframe::OneDay), None, None)
            .await
            .unwrap();
        assert_eq!(candles.time, vec![1_704_067_200, 1_704_153_600], "{index}");
        assert_eq!(candles.open, vec![10.0, 11.0], "layout {index}");
        assert_eq!(candles.close, vec![11.0, 12.0], "layout {index}");
        assert_eq!(candles.volume, vec![100.0, 200.0], "layout {index}");
    }
    // Without a volume column, volume is 0.
    let file = CsvFile::new("date,open,high,low,close\n2024-01-01,10,12,9,11\n");
    import(&database, "NOVOL/USD", "1d", &file);
    let candles = read_candles(&pool, &series("NOVOL/USD", Timeframe::OneDay), None, None)
        .await
        .unwrap();
    assert_eq!(candles.volume, vec![0.0]);
}

#[tokio::test]
async fn a_rejected_row_is_reported_with_its_line_and_reason_and_the_rest_imported() {
    let (database, pool) = TestDatabase::migrated().await;
    let file = CsvFile::new(
        "date,open,high,low,close,volume\n\
         2024-01-01,10,12,9,11,100\n\
         2024-01-02,11,9,13,12,200\n\
         2024-01-03,0,13,10,12,200\n\
         2024-01-01,10,12,9,11,100\n\
         2024-01-05,11,13,10,12,200\n",
    );
    let report = import(&database, "BTC/USD", "1d", &file);
    assert!(report.contains("imported: 2"), "{report}");
    assert!(report.contains("rejected: 3"), "{report}");
    let path = file.path();
    assert!(
        report.contains(&format!(
            "{path}:3: rejected: the high 9 is below the low 13"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "{path}:4: rejected: the open 0 is not a positive price"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "{path}:5: rejected: the time 2024-01-01 repeats an earlier row's"
        )),
        "{report}"
    );
    assert_eq!(count(&pool, "BTC/USD", "1d", &file_name(&file)).await, 2);
}

fn file_name(file: &CsvFile) -> String {
    file.0.file_name().unwrap().to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_re_import_skips_the_bars_already_stored_and_says_so() {
    let (database, pool) = TestDatabase::migrated().await;
    let first = CsvFile::new("date,open,high,low,close\n2024-01-01,1,2,1,1\n2024-01-02,1,2,1,1\n");
    let report = import(&database, "ETH/USD", "1h", &first);
    assert!(report.contains("imported: 2"), "{report}");
    assert!(report.contains("skipped as duplicates: 0"), "{report}");

    // The same two bars (the first with other prices: the stored one stays) and one new bar.
    let second = CsvFile::new(
        "date,open,high,low,close\n2024-01-01,5,6,5,5\n2024-01-02,1,2,1,1\n2024-01-03,1,2,1,1\n",
    );
    let report = import(&database, "ETH/USD", "1h", &second);
    assert!(report.contains("imported: 1"), "{report}");
    assert!(report.contains("skipped as duplicates: 2"), "{report}");
    let candles = read_candles(&pool, &series("ETH/USD", Timeframe::OneHour), None, None)
        .await
        .unwrap();
    assert_eq!(candles.open, vec![1.0, 1.0, 1.0]);

    // Another timeframe of the same pair is another series.
    let report = import(&database, "ETH/USD", "4h", &second);
    assert!(report.contains("imported: 3"), "{report}");
}

#[tokio::test]
async fn an_unreadable_file_or_a_bad_pair_or_timeframe_fails_with_a_reason() {
    let database = TestDatabase::empty().await;
    let missing = run(
        &database,
        &import_args("BTC/USD", "1d", "/no/such/file.csv"),
    );
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("cannot read the file"), "{stderr}");

    let file = CsvFile::new("date,open,high,low,close\n2024-01-01,1,2,1,1\n");
    for (pair, timeframe, expected) in [
        (
            "btc/usd",
            "1d",
            "trading pairs are written in capitals: `BTC/USD`",
        ),
        ("BTCUSD", "1d", "is not a trading pair"),
        ("BTC/USD", "1M", "unknown timeframe `1M`"),
    ] {
        let output = run(&database, &import_args(pair, timeframe, file.path()));
        assert!(!output.status.success(), "{pair} {timeframe}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[tokio::test]
async fn migrate_loads_the_sample_data_once_and_a_second_migrate_adds_nothing() {
    let database = TestDatabase::empty().await;
    let output = succeeds(&database, &["migrate"]);
    assert!(
        output.contains("sample data: 2148 1d bars of GOOG/USD (GOOG.csv)"),
        "{output}"
    );
    assert!(
        output.contains("sample data: 5000 1h bars of EUR/USD (EURUSD.csv)"),
        "{output}"
    );
    assert!(
        output.contains("sample data: 1461 1d bars of BTC/USD (synthetic)"),
        "{output}"
    );
    let pool = PgPool::connect(&database.url).await.unwrap();
    assert_eq!(count(&pool, "GOOG/USD", "1d", "GOOG.csv").await, 2148);
    assert_eq!(count(&pool, "EUR/USD", "1h", "EURUSD.csv").await, 5000);
    assert_eq!(count(&pool, "BTC/USD", "1d", "synthetic").await, 1461);
    let goog = read_candles(&pool, &series("GOOG/USD", Timeframe::OneDay), None, None)
        .await
        .unwrap();
    assert_eq!(goog.time[0], 1_092_873_600); // 2004-08-19
    assert_eq!(goog.close[0], 100.34);

    let again = succeeds(&database, &["migrate"]);
    assert!(!again.contains("sample data"), "{again}");
    let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM candles")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(total, 2148 + 5000 + 1461);
    pool.close().await;
}

#[tokio::test]
async fn a_range_read_keeps_the_bars_between_both_bounds() {
    let (database, pool) = TestDatabase::migrated().await;
    let file = CsvFile::new(
        "date,open,high,low,close\n2024-01-01,1,2,1,1\n2024-01-02,2,2,1,1\n2024-01-03,3,3,1,1\n",
    );
    import(&database, "SOL/USD", "1d", &file);
    let candles = read_candles(
        &pool,
        &series("SOL/USD", Timeframe::OneDay),
        Some(1_704_153_600),
        Some(1_704_240_000),
    )
    .await
    .unwrap();
    assert_eq!(candles.open, vec![2.0, 3.0]);
}

#[tokio::test]
async fn rolling_back_the_candles_migration_removes_the_table() {
    let database = TestDatabase::empty().await;
    succeeds(&database, &["migrate"]);
    // Revert the candles migration and whatever came after it.
    let listed = succeeds(&database, &["migrations"]);
    let newer = listed
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .filter(|version| version.parse::<u64>().is_ok_and(|v| v >= 20261201000001))
        .count();
    let reverted = succeeds(&database, &["rollback", &newer.to_string()]);
    assert!(reverted.contains("reverted 20261201000001"), "{reverted}");
    let pool = PgPool::connect(&database.url).await.unwrap();
    let (exists,): (bool,) = sqlx::query_as("SELECT to_regclass('public.candles') IS NOT NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!exists);
    pool.close().await;
}
