//! Backtests: a cancel stops the engine itself, a run has a time and a bar limit, one account
//! has at most five runs waiting or running and sees only its own place in line, claims are
//! fair between accounts, and a run keeps a bounded page-able list of trades and thinned
//! charts.

use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;
use trading_strategy::strategies::backtests::ssr::queue as backtest_queue;
use uuid::Uuid;

use crate::harness::{spawn_app_with, TestApp};
use crate::strategies::Trader;

/// Fifty indicators over one-minute bars, in the market about half the time: a heavy run;
/// with `windows`, ten highest-and-lowest windows of about 900 bars make it heavier still.
fn heavy_strategy(name: &str, windows: bool) -> String {
    let kinds = ["sma", "ema", "rsi", "wma", "atr"];
    let indicators: String = (0..50)
        .map(|i| {
            format!(
                "  - type: {}\n    name: i{i}\n    parameters:\n      period: {}\n",
                kinds[i % 5],
                10 + i * 3
            )
        })
        .collect();
    let mut entry = (0..50)
        .map(|i| format!("i{i} > 0"))
        .collect::<Vec<_>>()
        .join(" AND ");
    if windows {
        for window in 900..910 {
            entry.push_str(&format!(
                " AND highest(high, {window}) > lowest(low, {window})"
            ));
        }
    }
    format!(
        "name: {name}\ntrading_pair: TEST/USD\ntimeframe: 1m\nindicators:\n{indicators}\
         entry_conditions: ({entry}) AND close > open\nexit_conditions: close < open OR i2 > 70\n\
         position_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\n\
         risk_parameters:\n  max_daily_loss: 0.5\n  max_drawdown: 0.9\n"
    )
}

/// `count` one-minute TEST/USD bars from 2024-01-01 in the shared market data.
async fn minute_bars(pool: &PgPool, count: i64) {
    sqlx::query(
        "WITH source AS (INSERT INTO candle_sources (name) VALUES ('generated') RETURNING id)
         INSERT INTO candles (owner, pair, timeframe, time, open, high, low, close, volume, source_id)
         SELECT NULL, 'TEST/USD', '1m', to_timestamp(1704067200 + 60 * i),
                100 + 10 * sin(i / 500.0) + 5 * sin(i / 37.0),
                101 + 10 * sin(i / 500.0) + 5 * sin(i / 37.0),
                99 + 10 * sin(i / 500.0) + 5 * sin(i / 37.0),
                100.2 + 10 * sin(i / 500.0) + 5 * sin(i / 37.0) + sin(i / 3.0), 100, source.id
         FROM generate_series(0, $1 - 1) i, source",
    )
    .bind(count)
    .execute(pool)
    .await
    .unwrap();
}

impl Trader {
    /// A valid strategy on the sample data's daily BTC/USD bars (2021 to 2024).
    async fn create_daily(&self, name: &str) -> String {
        let text = crate::strategies::document(name).replace("\"1h\"", "\"1d\"");
        self.create_from(&text).await
    }

    /// Starts a run over every stored day and answers its id.
    async fn run_all(&self, id: &str) -> String {
        self.run_started(id, "2024-01-01", "2024-12-31").await
    }
}

#[derive(sqlx::FromRow, Debug)]
struct RunRow {
    status: String,
    error: Option<String>,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

async fn run_row(pool: &PgPool, run: &str) -> RunRow {
    sqlx::query_as(
        "SELECT status, error, started_at, finished_at FROM backtest_runs WHERE id = $1::uuid",
    )
    .bind(run)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits (at most a minute) until the run has one of `statuses`.
async fn wait_for(pool: &PgPool, run: &str, statuses: &[&str]) -> RunRow {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let row = run_row(pool, run).await;
        if statuses.contains(&row.status.as_str()) {
            return row;
        }
        assert!(Instant::now() < deadline, "run {run} is still {row:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An app with `bars` one-minute bars and a trader's heavy strategy on them.
async fn heavy_app(extra: &[(&str, &str)], bars: i64, windows: bool) -> (TestApp, Trader, String) {
    let app = spawn_app_with(extra).await;
    minute_bars(&app.pool, bars).await;
    let trader = Trader::new(&app).await;
    let id = trader.create_from(&heavy_strategy("Heavy", windows)).await;
    (app, trader, id)
}

#[tokio::test]
async fn a_run_past_its_time_limit_is_stopped_with_a_sentence() {
    // About five seconds of engine in a debug build.
    let (app, trader, id) = heavy_app(&[("BACKTEST_TIME_LIMIT_SECS", "1")], 300_000, true).await;
    let run = trader.run_all(&id).await;
    let ended = wait_for(&app.pool, &run, &["finished", "failed"]).await;
    assert_eq!(ended.status, "failed", "{ended:?}");
    assert_eq!(
        ended.error.as_deref(),
        Some("The backtest ran for 1 second, the longest one may run, so it was stopped; choose a shorter range.")
    );
}

#[tokio::test]
async fn a_run_larger_than_the_engines_memory_fails_with_its_size_before_reading_its_bars() {
    // 300,000 bars of at least eight columns of eight bytes: over 18 MB.
    let (app, trader, id) = heavy_app(&[("BACKTEST_MEMORY_MB", "16")], 300_000, true).await;
    let run = trader.run_all(&id).await;
    let ended = wait_for(&app.pool, &run, &["finished", "failed"]).await;
    assert_eq!(ended.status, "failed", "{ended:?}");
    let error = ended.error.unwrap();
    assert!(
        error.starts_with("This backtest would hold about "),
        "{error}"
    );
    assert!(
        error.ends_with(
            "more than the 16 MB this server gives its backtests; choose a shorter range or fewer indicators."
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_long_run_keeps_ten_thousand_trades_by_pages_and_thinned_charts_and_its_cancelled_twin_stops_at_once(
) {
    // Two years of minutes, the first read by the paged run and both by the heavier one below,
    // whose whole run takes several times what a cancel and the next claim take, even on busy
    // cores; the memory bound is raised to hold it.
    let (app, trader, id) = heavy_app(
        &[
            ("MAX_CONCURRENT_BACKTESTS", "1"),
            ("BACKTEST_MEMORY_MB", "2048"),
        ],
        1_000_000,
        false,
    )
    .await;
    let whole = trader.run_all(&id).await;
    let finished = wait_for(&app.pool, &whole, &["finished", "failed"]).await;
    assert_eq!(finished.status, "finished", "{finished:?}");

    let results = |page: &'static str| {
        let (browser, id, run) = (&trader.browser, id.clone(), whole.clone());
        async move {
            let answer: Value = browser
                .call(
                    "/api/strategies/backtest-results",
                    &[("id", &id), ("run", &run), ("trades_page", page)],
                )
                .await
                .json()
                .await
                .unwrap();
            answer
        }
    };
    let third = results("3").await;
    assert!(
        third["metrics"]["trades"].as_i64().unwrap() > 10_000,
        "{}",
        third["metrics"]
    );
    assert_eq!(third["trades_kept"], 10_000);
    assert_eq!(third["trades_first"], 400);
    assert_eq!(third["trades"].as_array().unwrap().len(), 200);
    assert!(third["equity"]["time"].as_array().unwrap().len() <= 2_000);
    let prices = third["prices"]["time"].as_array().unwrap().len();
    assert!((1_000..=2_000).contains(&prices), "{prices} price points");
    // Past the last page: the last page.
    assert_eq!(results("99").await["trades_first"], 9_800);

    // A heavier strategy (ten wide windows more) over both years, run whole to learn how long
    // that takes; then its twin, cancelled as soon as it runs, lets the next run start at once:
    // its engine stopped, and with it this server's one place.
    let heavier = trader.create_from(&heavy_strategy("Heavier", true)).await;
    let whole = trader
        .run_started(&heavier, "2024-01-01", "2025-12-31")
        .await;
    let finished = wait_for(&app.pool, &whole, &["finished", "failed"]).await;
    assert_eq!(finished.status, "finished", "{finished:?}");
    let took = finished.finished_at.unwrap() - finished.started_at.unwrap();
    // The next run waits behind the twin from the start, so that nothing but the cancel and
    // the claim lies between the twin's start and its own.
    let twin = trader
        .run_started(&heavier, "2024-01-01", "2025-12-31")
        .await;
    let next = trader.run_all(&id).await;
    wait_for(&app.pool, &twin, &["running"]).await;
    let cancelled = trader
        .browser
        .call(
            "/api/strategies/cancel-backtest",
            &[("id", &heavier), ("run", &twin)],
        )
        .await;
    assert_eq!(cancelled.status(), 200, "{:?}", cancelled.text().await);
    let twin_started = run_row(&app.pool, &twin).await.started_at.unwrap();
    let next_row = wait_for(&app.pool, &next, &["running", "finished"]).await;
    // Had the twin's engine run on, the next run could not have started before the twin's
    // whole run was over.
    let after = next_row.started_at.unwrap() - twin_started;
    assert!(
        after < took,
        "the next run started {after} after its cancelled twin; its whole run takes {took}"
    );
}

#[tokio::test]
async fn one_account_has_at_most_five_runs_waiting_or_running_and_sees_its_own_place_in_line() {
    // The app's worker claims nothing: its one place is held by a run elsewhere.
    let app = spawn_app_with(&[("MAX_CONCURRENT_BACKTESTS", "1")]).await;
    trading_strategy::market_data::ssr::sample_data::load_sample_data_if_empty(&app.pool)
        .await
        .unwrap();
    let (first, second, holder) = (
        Trader::new(&app).await,
        Trader::new(&app).await,
        Trader::new(&app).await,
    );
    let holding = holder.create_daily("Holder").await;
    hold_a_place(&app.pool, &holding).await;
    let mine = first.create_daily("Mine").await;
    for _ in 0..5 {
        let response = first
            .start_backtest(&mine, "2022-01-01", "2022-12-31")
            .await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
    }
    let sixth = first
        .start_backtest(&mine, "2022-01-01", "2022-12-31")
        .await;
    assert_eq!(sixth.status(), 429);
    let error: Value = sixth.json().await.unwrap();
    assert_eq!(
        error["message"],
        "You have 5 backtests waiting or running, the most one account may have at once; wait for one to finish or cancel one."
    );
    // Another account's run waits behind those five, and is told it is first of its own.
    let theirs = second.create_daily("Theirs").await;
    let response = second
        .start_backtest(&theirs, "2022-01-01", "2022-12-31")
        .await;
    assert_eq!(response.status(), 200);
    let panel: Value = second
        .browser
        .call("/api/strategies/backtests", &[("id", &theirs)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(panel["runs"][0]["place_in_line"], 1, "{panel}");
}

#[tokio::test]
async fn claims_go_to_the_account_with_the_fewest_runs_running_before_the_oldest() {
    let app = spawn_app_with(&[("MAX_CONCURRENT_BACKTESTS", "1")]).await;
    trading_strategy::market_data::ssr::sample_data::load_sample_data_if_empty(&app.pool)
        .await
        .unwrap();
    let (busy, patient, holder) = (
        Trader::new(&app).await,
        Trader::new(&app).await,
        Trader::new(&app).await,
    );
    let holding = holder.create_daily("Holder").await;
    hold_a_place(&app.pool, &holding).await;
    let flood = busy.create_daily("Flood").await;
    for _ in 0..4 {
        assert_eq!(
            busy.start_backtest(&flood, "2022-01-01", "2022-12-31")
                .await
                .status(),
            200
        );
    }
    let waiting = patient.create_daily("Waiting").await;
    assert_eq!(
        patient
            .start_backtest(&waiting, "2022-01-01", "2022-12-31")
            .await
            .status(),
        200
    );
    // A worker elsewhere with two free places (the cap of 3 less the held run).
    let worker = Uuid::new_v4();
    let first = backtest_queue::claim_next(&app.pool, worker, 30.0, 3)
        .await
        .unwrap()
        .unwrap();
    let second = backtest_queue::claim_next(&app.pool, worker, 30.0, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.strategy_id.to_string(), flood, "the oldest first");
    assert_eq!(
        second.strategy_id.to_string(),
        waiting,
        "then the account running nothing, before the flood's older runs"
    );
}

#[tokio::test]
async fn a_range_of_more_bars_than_a_run_may_read_is_a_field_error() {
    let app = spawn_app_with(&[("BACKTEST_MAX_BARS", "1000")]).await;
    trading_strategy::market_data::ssr::sample_data::load_sample_data_if_empty(&app.pool)
        .await
        .unwrap();
    let trader = Trader::new(&app).await;
    let id = trader.create_daily("Long range").await;
    let response = trader.start_backtest(&id, "2021-01-01", "2024-12-31").await;
    assert_eq!(response.status(), 422, "{:?}", response.text().await);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["fields"][0]["field"], "from");
    assert!(
        error["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than the 1000 one backtest may read"),
        "{error}"
    );
}

/// A run of `strategy_id` holding a live lease on a server that is not this test's.
async fn hold_a_place(pool: &PgPool, strategy_id: &str) {
    sqlx::query(
        "INSERT INTO backtest_runs (user_id, strategy_id, version, pair, timeframe, range_from, range_to,
                                    initial_cash, commission, slippage, status, worker_id, lease_until, attempts)
         SELECT user_id, id, version, 'BTC/USD', '1d', '2022-01-01', '2022-12-31', 10000, 0, 0,
                'running', gen_random_uuid(), now() + interval '1 hour', 1
         FROM strategies WHERE id = $1::uuid",
    )
    .bind(strategy_id)
    .execute(pool)
    .await
    .unwrap();
}
