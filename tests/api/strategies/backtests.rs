//! Backtests in the app: started from the strategy page, run by the queue's worker over the
//! stored candles, shown on the results page and as CSV, the gate to activation, the cap on
//! runs at once across servers (two app states in this process, and two processes of the real
//! binary), a dead server's run finished by another, cancelling, and
//! another user's run being a 404.

use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;
use trading_strategy::{
    market_data::ssr::sample_data::load_sample_data_if_empty, server,
    strategies::backtests::ssr::queue as backtest_queue,
};
use uuid::Uuid;

use super::Trader;
use crate::harness::{
    error_of, field_message, leptos_options, spawn_app, spawn_app_with, test_settings, TestApp,
    TEST_INTERVALS,
};

/// An SMA crossover on the sample data's daily Google bars.
fn crossover(name: &str, fast: u32) -> String {
    format!(
        "name: \"{name}\"\ntrading_pair: \"GOOG/USD\"\ntimeframe: \"1d\"\nindicators:\n  - type: sma\n    name: fast\n    parameters:\n      period: {fast}\n  - type: sma\n    name: slow\n    parameters:\n      period: 30\nentry_conditions: \"crosses_above(fast, slow)\"\nexit_conditions: \"crosses_below(fast, slow)\"\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.5\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.5\n"
    )
}

impl Trader {
    async fn create_crossover(&self, name: &str) -> String {
        let response = self.save(None, &crossover(name, 10), None, false).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let saved: Value = response.json().await.unwrap();
        saved["id"].as_str().unwrap().to_string()
    }

    /// Starts a backtest over 2006-2012 and answers the run's id.
    async fn backtest(&self, id: &str) -> String {
        self.run_started(id, "2006-01-01", "2012-12-31").await
    }

    async fn panel(&self, id: &str) -> Value {
        let response = self
            .browser
            .call("/api/strategies/backtests", &[("id", id)])
            .await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    async fn results(&self, id: &str, run: &str) -> reqwest::Response {
        self.browser
            .call(
                "/api/strategies/backtest-results",
                &[("id", id), ("run", run)],
            )
            .await
    }

    async fn cancel(&self, id: &str, run: &str) -> reqwest::Response {
        self.browser
            .call(
                "/api/strategies/cancel-backtest",
                &[("id", id), ("run", run)],
            )
            .await
    }
}

async fn status_of(pool: &PgPool, run: &str) -> String {
    sqlx::query_scalar("SELECT status FROM backtest_runs WHERE id = $1::uuid")
        .bind(run)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Waits (at most a minute: the test command runs many tests at once) until the run has
/// `status`.
async fn wait_for(pool: &PgPool, run: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = status_of(pool, run).await;
        if now == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "run {run} is still {now}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn with_sample_data(app: &TestApp) {
    load_sample_data_if_empty(&app.pool).await.unwrap();
}

/// A run of someone's strategy that holds a live lease on a server that is not this test's:
/// it takes one place under the cap.
async fn occupy_a_place(pool: &PgPool, strategy_id: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO backtest_runs (user_id, strategy_id, version, pair, timeframe, range_from, range_to,
                                    initial_cash, commission, slippage, status, worker_id, lease_until, attempts)
         SELECT user_id, id, version, 'GOOG/USD', '1d', '2006-01-01', '2012-12-31', 10000, 0, 0,
                'running', gen_random_uuid(), now() + interval '1 hour', 1
         FROM strategies WHERE id = $1::uuid RETURNING id",
    )
    .bind(strategy_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// An app whose own worker can claim nothing (its cap is 1, and a run held elsewhere takes the
/// place), a trader and a strategy `name` of theirs; answers the held run's id too. Its one
/// trader may queue 10 runs (the queue's tests fill it from one account).
async fn app_with_its_only_place_held(name: &str) -> (TestApp, Trader, String, Uuid) {
    let app = spawn_app_with(&[
        ("MAX_CONCURRENT_BACKTESTS", "1"),
        ("BACKTESTS_PER_USER", "10"),
    ])
    .await;
    with_sample_data(&app).await;
    let trader = Trader::new(&app).await;
    let id = trader.create_crossover(name).await;
    let held = occupy_a_place(&app.pool, &id).await;
    (app, trader, id, held)
}

#[tokio::test]
async fn a_backtest_runs_to_its_results_and_then_the_strategy_can_be_activated() {
    let app = spawn_app().await;
    with_sample_data(&app).await;
    let trader = Trader::new(&app).await;
    let id = trader.create_crossover("Crossover").await;

    let panel = trader.panel(&id).await;
    assert_eq!(panel["series"], serde_json::json!(["GOOG/USD", "1d"]));
    assert_eq!(panel["defaults"]["from"], "2004-08-19");
    assert_eq!(panel["stored"]["bars"], 2148);

    let run = trader.backtest(&id).await;
    wait_for(&app.pool, &run, "finished").await;

    let results: Value = trader.results(&id, &run).await.json().await.unwrap();
    assert_eq!(results["run"]["version"], 1);
    assert_eq!(results["run"]["settings"]["from"], "2006-01-01");
    assert_eq!(results["run"]["settings"]["commission"], 0.001);
    let trades = results["metrics"]["trades"].as_u64().unwrap();
    assert!(trades > 5, "a crossover trades on seven years of bars");
    assert_eq!(results["trades"].as_array().unwrap().len() as u64, trades);
    let points = results["equity"]["equity"].as_array().unwrap().len();
    assert!((500..=2000).contains(&points), "{points} points drawn");
    assert!(!results["prices"]["close"].as_array().unwrap().is_empty());

    let listed = trader.panel(&id).await;
    assert_eq!(listed["runs"][0]["status"], "finished");
    assert_eq!(listed["runs"][0]["trades"], trades);

    let activated = trader.change_status(&id, "activate").await;
    assert_eq!(activated.status(), 200, "{:?}", activated.text().await);
    assert_eq!(
        trader.overview_json(&id).await["document"]["status"],
        "active"
    );
}

#[tokio::test]
async fn activation_is_refused_again_once_a_new_version_is_saved() {
    let app = spawn_app().await;
    with_sample_data(&app).await;
    let trader = Trader::new(&app).await;
    let id = trader.create_crossover("Edited").await;
    let run = trader.backtest(&id).await;
    wait_for(&app.pool, &run, "finished").await;

    let saved = trader
        .save(Some(&id), &crossover("Edited", 12), Some(1), false)
        .await;
    assert_eq!(saved.status(), 200);
    let refused = trader.change_status(&id, "activate").await;
    assert_eq!(refused.status(), 409);
    assert_eq!(
        error_of(refused).await["message"],
        "Run a backtest of version 2 first."
    );

    // The old run's page says it is of an older version.
    let page = trader
        .browser
        .get(&format!("/strategies/{id}/backtests/{run}"))
        .await;
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Results of version 1; the strategy is now at version 2."));

    let again = trader.backtest(&id).await;
    wait_for(&app.pool, &again, "finished").await;
    assert_eq!(trader.change_status(&id, "activate").await.status(), 200);
}

#[tokio::test]
async fn a_failed_or_cancelled_run_does_not_open_activation() {
    let (app, trader, id, _) = app_with_its_only_place_held("Not yet").await;
    let run = trader.backtest(&id).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status_of(&app.pool, &run).await, "queued");
    assert_eq!(trader.panel(&id).await["runs"][0]["place_in_line"], 1);

    assert_eq!(trader.cancel(&id, &run).await.status(), 200);
    assert_eq!(status_of(&app.pool, &run).await, "cancelled");
    let twice = trader.cancel(&id, &run).await;
    assert_eq!(twice.status(), 409);
    assert!(error_of(twice).await["message"]
        .as_str()
        .unwrap()
        .contains("already cancelled"));
    assert_eq!(trader.change_status(&id, "activate").await.status(), 409);
}

#[tokio::test]
async fn cancelling_a_running_run_frees_its_place_for_the_next() {
    // Elsewhere, this trader's own run is running and holds the only place.
    let (app, trader, id, running) = app_with_its_only_place_held("Busy").await;
    let running = running.to_string();
    let waiting = trader.backtest(&id).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status_of(&app.pool, &waiting).await, "queued");

    assert_eq!(trader.cancel(&id, &running).await.status(), 200);
    assert_eq!(status_of(&app.pool, &running).await, "cancelled");
    wait_for(&app.pool, &waiting, "finished").await;
}

#[tokio::test]
async fn the_start_form_reports_unreadable_values_and_days_without_candles_by_field() {
    let app = spawn_app().await;
    with_sample_data(&app).await;
    let trader = Trader::new(&app).await;
    let id = trader.create_crossover("Careful").await;

    let bad = trader
        .browser
        .call(
            "/api/strategies/start-backtest",
            &[
                ("id", id.as_str()),
                ("from", "soon"),
                ("to", "2012-12-31"),
                ("cash", "-1"),
                ("commission", "50"),
                ("slippage", "0"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let error = error_of(bad).await;
    for field in ["from", "cash", "commission"] {
        assert!(field_message(&error, field).is_some(), "{field}: {error}");
    }

    let outside = trader.start_backtest(&id, "1990-01-01", "1990-12-31").await;
    assert_eq!(outside.status(), 422);
    assert!(field_message(&error_of(outside).await, "from")
        .unwrap()
        .contains("2004-08-19 to 2013-03-01"));
    assert_eq!(app.count("SELECT count(*) FROM backtest_runs").await, 0);
}

#[tokio::test]
async fn the_results_page_shows_figures_charts_and_settings_and_the_trades_download_as_csv() {
    let app = spawn_app().await;
    with_sample_data(&app).await;
    let trader = Trader::new(&app).await;
    let id = trader.create_crossover("Shown").await;
    let run = trader.backtest(&id).await;
    wait_for(&app.pool, &run, "finished").await;

    let page = trader
        .browser
        .get(&format!("/strategies/{id}/backtests/{run}"))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "Backtest of Shown, version 1",
        "Total return",
        "Max drawdown",
        "Sharpe ratio",
        "class=\"equity-line\"",
        "class=\"drawdown-area\"",
        "class=\"marker entry\"",
        "class=\"hover-strip\"",
        "Trade 1: bought",
        "0.1% per side",
        "2006-01-01 to 2012-12-31",
        "Download trades (CSV)",
    ] {
        assert!(html.contains(expected), "the page lacks {expected:?}");
    }
    assert!(!html.contains("the strategy is now at version"));

    let csv = trader
        .browser
        .get(&format!("/strategies/{id}/backtests/{run}/trades.csv"))
        .await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("entry_time,exit_time,"));
    let trades: Value = trader.results(&id, &run).await.json().await.unwrap();
    assert_eq!(
        lines.count() as u64,
        trades["metrics"]["trades"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn another_users_backtest_is_not_found_anywhere() {
    let app = spawn_app().await;
    with_sample_data(&app).await;
    let owner = Trader::new(&app).await;
    let id = owner.create_crossover("Mine").await;
    let run = owner.backtest(&id).await;
    wait_for(&app.pool, &run, "finished").await;

    let other = Trader::new(&app).await;
    assert_eq!(other.results(&id, &run).await.status(), 404);
    assert_eq!(other.cancel(&id, &run).await.status(), 404);
    assert_eq!(
        other
            .browser
            .call("/api/strategies/backtests", &[("id", &id)])
            .await
            .status(),
        404
    );
    assert_eq!(
        other
            .start_backtest(&id, "2006-01-01", "2012-12-31")
            .await
            .status(),
        404
    );
    let page = other
        .browser
        .get(&format!("/strategies/{id}/backtests/{run}"))
        .await;
    assert_eq!(page.status(), 404);
    assert!(!page.text().await.unwrap().contains("Total return"));
    assert_eq!(
        other
            .browser
            .get(&format!("/strategies/{id}/backtests/{run}/trades.csv"))
            .await
            .status(),
        404
    );
}

/// A second server process on the same database, with its own pool, hub and worker.
async fn second_server(app: &TestApp, extra: &[(&str, &str)]) -> trading_strategy::state::AppState {
    let pool = server::database::connect_url(&app.database.url, 5)
        .await
        .unwrap();
    let state = server::app_state(
        leptos_options(),
        pool,
        test_settings(&app.database.url, extra),
    );
    server::start_background(&state, TEST_INTERVALS).await;
    state
}

#[tokio::test]
async fn a_run_whose_server_died_is_finished_by_another_server() {
    let app = spawn_app().await;
    with_sample_data(&app).await;
    let trader = Trader::new(&app).await;
    let id = trader.create_crossover("Survivor").await;
    let run = trader.backtest(&id).await;
    wait_for(&app.pool, &run, "finished").await;
    let _other = second_server(&app, &[]).await;

    // As if a server had claimed it again and died: running, its lease run out, no results.
    sqlx::query(
        "UPDATE backtest_runs SET status = 'running', worker_id = gen_random_uuid(),
                lease_until = now() - interval '1 second', metrics = NULL, trades = NULL,
                equity = NULL, finished_at = NULL
         WHERE id = $1::uuid",
    )
    .bind(&run)
    .execute(&app.pool)
    .await
    .unwrap();
    wait_for(&app.pool, &run, "finished").await;
    let attempts: i32 =
        sqlx::query_scalar("SELECT attempts FROM backtest_runs WHERE id = $1::uuid")
            .bind(&run)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(attempts, 2);
    let results: Value = trader.results(&id, &run).await.json().await.unwrap();
    assert!(results["metrics"]["trades"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_run_that_stalled_too_often_is_given_up_with_a_reason() {
    let app = spawn_app().await;
    with_sample_data(&app).await;
    let trader = Trader::new(&app).await;
    let id = trader.create_crossover("Unlucky").await;
    let run = occupy_a_place(&app.pool, &id).await.to_string();
    sqlx::query(
        "UPDATE backtest_runs SET lease_until = now() - interval '1 second', attempts = $2
         WHERE id = $1::uuid",
    )
    .bind(&run)
    .bind(backtest_queue::MAX_ATTEMPTS)
    .execute(&app.pool)
    .await
    .unwrap();
    wait_for(&app.pool, &run, "failed").await;
    let results: Value = trader.results(&id, &run).await.json().await.unwrap();
    assert!(results["run"]["error"]
        .as_str()
        .unwrap()
        .contains("stopped 3 times"));
}

#[tokio::test]
async fn two_servers_claiming_at_once_never_exceed_the_cap() {
    // The app's own worker may claim nothing: its cap of 1 is taken by a run elsewhere.
    let (app, trader, id, _) = app_with_its_only_place_held("Crowded").await;
    for _ in 0..4 {
        trader.backtest(&id).await;
    }
    let servers = [
        server::database::connect_url(&app.database.url, 2)
            .await
            .unwrap(),
        server::database::connect_url(&app.database.url, 2)
            .await
            .unwrap(),
    ];
    // With a cap of 2, one place is free: of two simultaneous claims exactly one succeeds,
    // round after round.
    for round in 0..4 {
        let (a, b) = tokio::join!(
            backtest_queue::claim_next(&servers[0], Uuid::new_v4(), 60.0, 2),
            backtest_queue::claim_next(&servers[1], Uuid::new_v4(), 60.0, 2),
        );
        let claimed = [a.unwrap(), b.unwrap()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>();
        assert_eq!(claimed.len(), 1, "round {round}");
        let live = app
            .count(
                "SELECT count(*) FROM backtest_runs WHERE status = 'running' AND lease_until > now()",
            )
            .await;
        assert_eq!(live, 2, "round {round}");
        // The claimed run ends, freeing the place for the next round.
        sqlx::query(
            "UPDATE backtest_runs SET status = 'cancelled', lease_until = NULL WHERE id = $1",
        )
        .bind(claimed[0].id)
        .execute(&app.pool)
        .await
        .unwrap();
    }
}

/// Server processes of the real binary, stopped when the test ends however it ends.
struct ServerProcesses(Vec<std::process::Child>);

impl Drop for ServerProcesses {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn two_server_processes_share_the_queue_never_exceeding_the_cap_nor_running_a_run_twice() {
    // The test's own server may claim nothing: its cap of 1 is taken by a run held elsewhere.
    let (app, trader, id, held) = app_with_its_only_place_held("Shared queue").await;

    // Two copies of the real binary on the same database, each allowed 3 at once: with the
    // held run, 2 places are free between them.
    let mut servers = ServerProcesses(Vec::new());
    for _ in 0..2 {
        let port = crate::binary::free_port();
        let mut command = crate::binary::serve_command(&app.database, port);
        command
            .env("MAX_CONCURRENT_BACKTESTS", "3")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        servers.0.push(crate::binary::start(command, port).await);
    }

    let mut runs = Vec::new();
    for _ in 0..8 {
        runs.push(trader.backtest(&id).await);
    }
    for run in &runs {
        wait_for(&app.pool, run, "finished").await;
    }

    let ran: Vec<(
        i32,
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
    )> = sqlx::query_as(
        "SELECT attempts, started_at, finished_at FROM backtest_runs
             WHERE strategy_id = $1::uuid AND id <> $2 ORDER BY started_at",
    )
    .bind(&id)
    .bind(held)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(ran.len(), 8);
    // Claimed once each: no run was taken by both servers, or taken over.
    assert!(ran.iter().all(|(attempts, _, _)| *attempts == 1), "{ran:?}");
    // At no moment did more than the 2 free places run: the most runs whose time spans
    // overlap, counted from their start and finish times.
    let most_at_once = ran
        .iter()
        .map(|(_, started, _)| {
            ran.iter()
                .filter(|(_, other_start, other_finish)| {
                    other_start <= started && started < other_finish
                })
                .count()
        })
        .max()
        .unwrap();
    assert!(most_at_once <= 2, "{most_at_once} ran at once: {ran:?}");
}
