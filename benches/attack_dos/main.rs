//! Every attack of the review that bounded the server's work (docs/SECURITY-TESTS.md), against
//! a running release build on 127.0.0.1 (`scripts/attack/dos` builds and starts it): eight
//! hostile requests at once per attack, bounded in count and time, while `/health` is asked
//! every 10 ms and the server's resident memory is read every 20 ms. For each attack it prints
//! what the server answered, its peak resident memory and how much the attack raised it, and
//! `/health`'s p50 and p99; it fails when a goal is missed: a 500, a request raising the memory
//! by more than 64 MB (an upload: 200 MB), `/health` p99 over 50 ms, or 512 MB resident at any
//! point.
//!
//! Run: `cargo bench --features ssr --bench attack_dos -- --url http://127.0.0.1:PORT
//! --database-url postgres://... --server-pid PID`. The server must have 127.0.0.1 in
//! `TRUSTED_PROXIES` (each attack's requests then come from their own address through
//! `X-Forwarded-For`, so the per-address log-in limits do not stall the setup).

mod attacks;
mod payloads;
mod watch;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use anyhow::{bail, Context, Result};
use clap::Parser;
use reqwest::cookie::Jar;
use serde::Serialize;
use sqlx::postgres::PgPoolOptions;

#[path = "../../tests/hostile/documents.rs"]
mod documents;
#[path = "../load/mod.rs"]
mod load;
use load::{call, editor_client, ensure_local, sign_up};
use payloads::{rejected_rows, start_backtest, status_of, valid_candles, DAILY_STRATEGY};

#[derive(Debug, Parser)]
#[command(about = "The hostile requests of docs/SECURITY-TESTS.md against a running server")]
struct Args {
    #[arg(long, env = "BENCH_URL")]
    url: String,
    /// The server's database: accounts are confirmed and long versions stored through it.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The server's process, for its resident memory.
    #[arg(long)]
    server_pid: u32,
    /// Hostile requests in flight at once.
    #[arg(long, default_value_t = 8)]
    at_once: usize,
    /// Each attack stops after this many seconds, whatever it has sent by then.
    #[arg(long, default_value_t = 60)]
    attack_seconds: u64,
    #[arg(long)]
    json: bool,
    #[arg(long, hide = true)]
    bench: bool,
}

/// What one attack did to the server.
#[derive(Debug, Serialize)]
struct Outcome {
    attack: String,
    requests: usize,
    /// Answers by status (0: the connection failed or was closed, as a bound may do).
    statuses: BTreeMap<u16, usize>,
    baseline_mb: f64,
    peak_mb: f64,
    health_p50_ms: f64,
    health_p99_ms: f64,
    /// The most this attack may raise the memory.
    allowed_rise_mb: f64,
    problems: Vec<String>,
}

const HEALTH_P99_GOAL_MS: f64 = 50.0;
const RESIDENT_GOAL_MB: f64 = 512.0;

fn main() -> Result<()> {
    let args = Args::parse();
    ensure_local(&args.url)?;
    let outcomes = load::run_bounded(
        Duration::from_secs(args.attack_seconds * 16 + 300),
        run(&args),
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcomes)?);
    } else {
        print_table(&outcomes);
    }
    let failed: Vec<String> = outcomes
        .iter()
        .flat_map(|outcome| {
            outcome
                .problems
                .iter()
                .map(move |problem| format!("{}: {problem}", outcome.attack))
        })
        .collect();
    if !failed.is_empty() {
        bail!("goals missed:\n{}", failed.join("\n"));
    }
    Ok(())
}

fn print_table(outcomes: &[Outcome]) {
    println!(
        "| {:<46} | {:>8} | {:<28} | {:>9} | {:>8} | {:>10} | {:>10} |",
        "attack", "requests", "answers", "peak MB", "rise MB", "health p50", "health p99"
    );
    println!(
        "|{:-<48}|{:->10}|{:-<30}|{:->11}|{:->10}|{:->12}|{:->12}|",
        "", "", "", "", "", "", ""
    );
    for outcome in outcomes {
        let answers = outcome
            .statuses
            .iter()
            .map(|(status, count)| format!("{count}×{status}"))
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "| {:<46} | {:>8} | {:<28} | {:>9.1} | {:>8.1} | {:>8.1} ms | {:>8.1} ms |",
            outcome.attack,
            outcome.requests,
            answers,
            outcome.peak_mb,
            outcome.peak_mb - outcome.baseline_mb,
            outcome.health_p50_ms,
            outcome.health_p99_ms
        );
    }
}

/// The attacker's accounts and the server they attack.
struct Target {
    base: String,
    pid: u32,
    at_once: usize,
    deadline: Duration,
    jar: Arc<Jar>,
    strategy: String,
    pool: sqlx::PgPool,
}

async fn run(args: &Args) -> Result<Vec<Outcome>> {
    let base = args.url.trim_end_matches('/').to_string();
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&args.database_url)
        .await
        .context("the server's database")?;
    let jar = Arc::new(Jar::default());
    let attacker = editor_client(&jar)?;
    let email = sign_up(&attacker, &base).await?;
    sqlx::query("UPDATE users SET confirmed_at = now() WHERE email = $1")
        .bind(&email)
        .execute(&pool)
        .await?;
    let saved: serde_json::Value = call(
        &attacker,
        &base,
        "/api/strategies/save",
        &[
            ("content", DAILY_STRATEGY),
            ("format", "yaml"),
            ("draft", "false"),
        ],
    )
    .await?
    .json()
    .await?;
    let strategy = saved["id"]
        .as_str()
        .context("the attacker's strategy")?
        .to_string();
    let target = Target {
        base,
        pid: args.server_pid,
        at_once: args.at_once,
        deadline: Duration::from_secs(args.attack_seconds),
        jar,
        strategy,
        pool,
    };
    let mut outcomes = Vec::new();
    for shape in documents::SHAPES {
        let text = (shape.generate)(256 * 1024);
        let format = shape.format.name();
        outcomes.push(
            target
                .attack(&format!("check: {}", shape.name), 64.0, 40, |client| {
                    let (base, text) = (target.base.clone(), text.clone());
                    async move {
                        status_of(
                            call(
                                &client,
                                &base,
                                "/api/strategies/check",
                                &[("sequence", "1"), ("content", &text), ("format", format)],
                            )
                            .await,
                        )
                    }
                })
                .await,
        );
    }
    let oversized = format!("{DAILY_STRATEGY}{}", "#".repeat(300 * 1024));
    for path in [
        "/api/strategies/save",
        "/api/strategies/autosave",
        "/api/strategies/check",
    ] {
        outcomes.push(
            target
                .attack(&format!("300 KB document: {path}"), 64.0, 40, |client| {
                    let (base, text) = (target.base.clone(), oversized.clone());
                    let tab = uuid::Uuid::new_v4().to_string();
                    async move {
                        status_of(
                            call(
                                &client,
                                &base,
                                path,
                                &[
                                    ("content", &text),
                                    ("format", "yaml"),
                                    ("draft", "true"),
                                    ("tab_id", &tab),
                                    ("sequence", "1"),
                                ],
                            )
                            .await,
                        )
                    }
                })
                .await,
        );
    }
    outcomes.push(target.far_apart_versions().await?);
    outcomes.push(target.start_and_cancel().await?);
    outcomes.push(target.queue_flood().await?);
    outcomes.push(target.made_up_methods().await);
    outcomes.push(target.socket_floods().await?);
    for (name, file) in [
        // The body limit is 100 MiB with the form around the file.
        (
            "upload: 100 MiB of `1` rows",
            rejected_rows(100 * 1024 * 1024 - 4096),
        ),
        (
            "upload: 100 MB of valid candles",
            valid_candles(100_000_000),
        ),
    ] {
        outcomes.push(target.upload(name, file).await?);
    }
    outcomes.push(
        target
            .attack("draft with a 300-character pair", 64.0, 40, |client| {
                let base = target.base.clone();
                let text = DAILY_STRATEGY.replace("BTC/USD", &"X".repeat(300));
                async move {
                    status_of(
                        call(
                            &client,
                            &base,
                            "/api/strategies/save",
                            &[("content", &text), ("format", "yaml"), ("draft", "true")],
                        )
                        .await,
                    )
                }
            })
            .await,
    );
    outcomes.push(
        target
            .attack("backtest from the year -5000", 64.0, 40, |client| {
                let (base, id) = (target.base.clone(), target.strategy.clone());
                async move {
                    status_of(
                        start_backtest(&client, &base, &id, ("-5000-01-01", "2023-12-31")).await,
                    )
                }
            })
            .await,
    );
    Ok(outcomes)
}
