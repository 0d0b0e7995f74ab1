//! Every attack of the review that bounded the server's work (docs/SECURITY-TESTS.md), against
//! a running release build on 127.0.0.1 (`scripts/attack-dos` builds and starts it): eight
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

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use reqwest::{cookie::CookieStore, cookie::Jar, Client};
use serde::Serialize;
use sqlx::postgres::PgPoolOptions;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

#[path = "../tests/hostile/documents.rs"]
mod documents;
#[path = "load/mod.rs"]
mod load;
use load::{call, editor_client, ensure_local, resident_kb, sign_up};

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

const DAILY_STRATEGY: &str = "name: Attacked\ntrading_pair: BTC/USD\ntimeframe: 1d\nindicators:\n  - type: rsi\n    name: rsi_14\n    parameters:\n      period: 14\nentry_conditions: rsi_14 < 30\nexit_conditions: rsi_14 > 70\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n";

fn status_of(response: Result<reqwest::Response>) -> u16 {
    response.map_or(0, |response| response.status().as_u16())
}

async fn start_backtest(
    client: &Client,
    base: &str,
    id: &str,
    (from, to): (&str, &str),
) -> Result<reqwest::Response> {
    call(
        client,
        base,
        "/api/strategies/start-backtest",
        &[
            ("id", id),
            ("from", from),
            ("to", to),
            ("cash", "10000"),
            ("commission", "0.1"),
            ("slippage", "0"),
        ],
    )
    .await
}

/// `bytes` of a candle file whose every row is `1`.
fn rejected_rows(bytes: usize) -> Vec<u8> {
    let mut file = b"time,open,high,low,close\n".to_vec();
    file.extend(std::iter::repeat_n(*b"1\n", (bytes - file.len()) / 2).flatten());
    file
}

/// About `bytes` of valid one-minute candles.
fn valid_candles(bytes: usize) -> Vec<u8> {
    let mut file = String::from("time,open,high,low,close,volume\n");
    let mut minute = 0i64;
    while file.len() < bytes {
        let close = 100.0 + (minute as f64 / 500.0).sin() * 10.0;
        file.push_str(&format!(
            "{},{:.4},{:.4},{:.4},{:.4},{}\n",
            1_600_000_000 + 60 * minute,
            close,
            close + 1.0,
            close - 1.0,
            close + 0.25,
            100 + minute % 50
        ));
        minute += 1;
    }
    file.into_bytes()
}

/// `/health` latencies and the server's peak memory, sampled while an attack runs.
#[derive(Default)]
struct Watch {
    health: Vec<Duration>,
    peak_kb: u64,
}

impl Target {
    /// Runs `request` `total` times, `at_once` at a time, from clients of the attacker's
    /// session, while watching `/health` and the server's memory.
    async fn attack<F, Fut>(
        &self,
        name: &str,
        allowed_rise_mb: f64,
        total: usize,
        request: F,
    ) -> Outcome
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = u16>,
    {
        // Longer than the work pool's deadline, so that its sentence arrives.
        let client = Client::builder()
            .cookie_provider(self.jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client");
        let started = Instant::now();
        let statuses = Mutex::new(BTreeMap::<u16, usize>::new());
        let sent = std::sync::atomic::AtomicUsize::new(0);
        let work = load::futures_join_all((0..self.at_once).map(|_| async {
            while started.elapsed() < self.deadline
                && sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total
            {
                let status = request(client.clone()).await;
                *statuses.lock().unwrap().entry(status).or_default() += 1;
            }
        }));
        let watched = self.watching(name, allowed_rise_mb, work).await;
        let statuses = statuses.into_inner().unwrap();
        watched.finish(statuses)
    }

    /// Runs `work` while asking `/health` every 10 ms and reading the memory every 20 ms.
    async fn watching(
        &self,
        name: &str,
        allowed_rise_mb: f64,
        work: impl std::future::Future,
    ) -> Watched {
        let baseline_kb = resident_kb(self.pid).unwrap_or_default();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // On a thread and a runtime of its own: the attack's own work (encoding 300 KB forms,
        // say) on this thread must not count as the server's latency.
        let prober = {
            let (done, base, pid) = (done.clone(), self.base.clone(), self.pid);
            std::thread::spawn(move || probe(&base, pid, baseline_kb, &done))
        };
        work.await;
        // A last look once the work has been answered: background work may still run.
        tokio::time::sleep(Duration::from_millis(200)).await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let watch = prober.join().expect("the prober ends");
        eprintln!("attacked: {name}");
        Watched {
            name: name.to_string(),
            allowed_rise_mb,
            baseline_kb,
            watch,
        }
    }

    async fn far_apart_versions(&self) -> Result<Outcome> {
        // Stored before the size limit: 140,000 lines each with no line in common.
        for (number, prefix) in [(2, "a"), (3, "b")] {
            let text: String = (0..140_000).map(|n| format!("{prefix}{n}\n")).collect();
            sqlx::query(
                "INSERT INTO strategy_versions (strategy_id, number, format, content)
                 VALUES ($1::uuid, $2, 'yaml', $3) ON CONFLICT DO NOTHING",
            )
            .bind(&self.strategy)
            .bind(number)
            .bind(text)
            .execute(&self.pool)
            .await?;
        }
        Ok(self
            .attack("compare two 140,000-line versions", 64.0, 16, |client| {
                let (base, id) = (self.base.clone(), self.strategy.clone());
                async move {
                    status_of(
                        call(
                            &client,
                            &base,
                            "/api/strategies/compare",
                            &[("id", &id), ("from", "2"), ("to", "3")],
                        )
                        .await,
                    )
                }
            })
            .await)
    }

    async fn start_and_cancel(&self) -> Result<Outcome> {
        Ok(self
            .attack("backtest started and cancelled", 64.0, 80, |client| {
                let (base, id) = (self.base.clone(), self.strategy.clone());
                async move {
                    let Ok(started) =
                        start_backtest(&client, &base, &id, ("2021-01-01", "2023-12-31")).await
                    else {
                        return 0;
                    };
                    if started.status() != 200 {
                        return started.status().as_u16();
                    }
                    let navigation: serde_json::Value = started.json().await.unwrap_or_default();
                    let run = navigation["to"]
                        .as_str()
                        .and_then(|to| to.split("/backtests/").nth(1))
                        .and_then(|rest| rest.split('?').next())
                        .unwrap_or_default()
                        .to_string();
                    status_of(
                        call(
                            &client,
                            &base,
                            "/api/strategies/cancel-backtest",
                            &[("id", &id), ("run", &run)],
                        )
                        .await,
                    )
                }
            })
            .await)
    }

    /// Twenty heavy runs (fifty indicators and ten long windows over 300,000 one-minute
    /// bars) started at once by one account: five are taken, the rest refused.
    async fn queue_flood(&self) -> Result<Outcome> {
        sqlx::query(
            "WITH source AS (INSERT INTO candle_sources (name) VALUES ('attack') RETURNING id)
             INSERT INTO candles (owner, pair, timeframe, time, open, high, low, close, volume, source_id)
             SELECT NULL, 'HEAVY/USD', '1m', to_timestamp(1704067200 + 60 * i),
                    100 + 10 * sin(i / 500.0), 101 + 10 * sin(i / 500.0), 99 + 10 * sin(i / 500.0),
                    100.2 + 10 * sin(i / 500.0) + sin(i / 3.0), 100, source.id
             FROM generate_series(0, 299999) i, source",
        )
        .execute(&self.pool)
        .await?;
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
        let windows: String = (900..910)
            .map(|window| format!(" AND highest(high, {window}) > lowest(low, {window})"))
            .collect();
        let entry = (0..50)
            .map(|i| format!("i{i} > 0"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let document = format!(
            "name: Heavy\ntrading_pair: HEAVY/USD\ntimeframe: 1m\nindicators:\n{indicators}\
             entry_conditions: ({entry}) AND close > open{windows}\nexit_conditions: close < open\n\
             position_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\n\
             risk_parameters:\n  max_daily_loss: 0.5\n  max_drawdown: 0.9\n"
        );
        let client = editor_client(&self.jar)?;
        let saved: serde_json::Value = call(
            &client,
            &self.base,
            "/api/strategies/save",
            &[
                ("content", &document),
                ("format", "yaml"),
                ("draft", "false"),
            ],
        )
        .await?
        .json()
        .await?;
        let heavy = saved["id"]
            .as_str()
            .context("the heavy strategy")?
            .to_string();
        Ok(self
            .attack(
                "twenty heavy backtests queued by one account",
                64.0,
                20,
                |client| {
                    let (base, id) = (self.base.clone(), heavy.clone());
                    async move {
                        status_of(
                            start_backtest(&client, &base, &id, ("2024-01-01", "2024-12-31")).await,
                        )
                    }
                },
            )
            .await)
    }

    async fn made_up_methods(&self) -> Outcome {
        let method = format!("{}Q1", "X".repeat(4000));
        self.attack("made-up 4,000-character methods", 64.0, 200, |client| {
            let (url, method) = (format!("{}/health", self.base), method.clone());
            async move {
                let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
                    return 0;
                };
                status_of(client.request(method, url).send().await.map_err(Into::into))
            }
        })
        .await
    }

    /// Sockets: 64 KiB+ messages, more messages than the rate allows, and more sockets than
    /// one account may hold.
    async fn socket_floods(&self) -> Result<Outcome> {
        let url = reqwest::Url::parse(&self.base)?;
        let cookie = self
            .jar
            .cookies(&url)
            .context("the attacker's session cookie")?
            .to_str()?
            .to_string();
        let socket_url = format!("{}/strategies/live", self.base.replacen("http", "ws", 1));
        let open = || {
            let (socket_url, cookie, origin) =
                (socket_url.clone(), cookie.clone(), self.base.clone());
            async move {
                let mut request = socket_url.into_client_request().ok()?;
                request.headers_mut().insert("origin", origin.parse().ok()?);
                request.headers_mut().insert("cookie", cookie.parse().ok()?);
                match tokio_tungstenite::connect_async(request).await {
                    Ok((socket, _)) => Some(Ok(socket)),
                    Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                        Some(Err(response.status().as_u16()))
                    }
                    Err(_) => None,
                }
            }
        };
        let statuses = Mutex::new(BTreeMap::<u16, usize>::new());
        let count = |status: u16| *statuses.lock().unwrap().entry(status).or_default() += 1;
        let work = async {
            // 25 sockets: 20 open (101), the rest refused (429).
            let mut held = Vec::new();
            for _ in 0..25 {
                match open().await {
                    Some(Ok(socket)) => {
                        count(101);
                        held.push(socket);
                    }
                    Some(Err(status)) => count(status),
                    None => count(0),
                }
            }
            // Each held socket: a 1 MiB message, or a flood of small ones; both close it.
            for (index, socket) in held.iter_mut().enumerate() {
                if index % 2 == 0 {
                    let _ = socket.send(Message::text("x".repeat(1024 * 1024))).await;
                } else {
                    for _ in 0..200 {
                        if socket
                            .send(Message::text(r#"{"watch":null}"#))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
            for socket in &mut held {
                let closed = tokio::time::timeout(Duration::from_secs(3), async {
                    while let Some(Ok(message)) = socket.next().await {
                        if let Message::Close(frame) = message {
                            return frame.map_or(1000, |frame| u16::from(frame.code));
                        }
                    }
                    1006
                })
                .await
                .unwrap_or(0);
                count(closed);
            }
        };
        let watched = self
            .watching("sockets: 25 opened, floods of messages", 64.0, work)
            .await;
        Ok(watched.finish(statuses.into_inner().unwrap()))
    }

    async fn upload(&self, name: &str, file: Vec<u8>) -> Result<Outcome> {
        let size = file.len();
        let statuses = Mutex::new(BTreeMap::<u16, usize>::new());
        let work = async {
            // The form as a browser sends it: the labels, then the file.
            const BOUNDARY: &str = "----attack-dos-boundary";
            let mut body = Vec::with_capacity(file.len() + 512);
            for (name, value) in [("pair", "ATTACK/USD"), ("timeframe", "1m")] {
                body.extend_from_slice(
                    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"attack.csv\"\r\nContent-Type: text/csv\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(&file);
            body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
            drop(file);
            let client = Client::builder()
                .cookie_provider(self.jar.clone())
                .timeout(Duration::from_secs(120))
                .build()
                .expect("a client");
            let answer = client
                .post(format!("{}/market-data/import", self.base))
                .header("accept", "application/json")
                .header("origin", &self.base)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(body)
                .send()
                .await;
            let status = status_of(answer.map_err(Into::into));
            *statuses.lock().unwrap().entry(status).or_default() += 1;
            // The import goes on in the background: watched until it has ended.
            let ended = Instant::now();
            while ended.elapsed() < self.deadline {
                let importing: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM candle_imports WHERE status = 'importing'",
                )
                .fetch_one(&self.pool)
                .await
                .unwrap_or(0);
                if importing == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        let watched = self.watching(name, 200.0, work).await;
        let mut outcome = watched.finish(statuses.into_inner().unwrap());
        let report: Option<(i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT imported, rejected, refusal FROM candle_imports ORDER BY created_at DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        eprintln!("{name} ({size} bytes): {report:?}");
        match report {
            Some((imported, rejected, _)) if imported + rejected > 0 => {}
            other => outcome
                .problems
                .push(format!("the import did nothing: {other:?}")),
        }
        Ok(outcome)
    }
}

/// Asks `/health` every 10 ms and reads the server's memory every 20 ms until `done`.
fn probe(base: &str, pid: u32, baseline_kb: u64, done: &std::sync::atomic::AtomicBool) -> Watch {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let client = Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a client");
        let mut watch = Watch {
            peak_kb: baseline_kb,
            ..Watch::default()
        };
        let mut next_memory = Instant::now();
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            let asked = Instant::now();
            if client
                .get(format!("{base}/health"))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200)
            {
                watch.health.push(asked.elapsed());
            }
            if Instant::now() >= next_memory {
                watch.peak_kb = watch.peak_kb.max(resident_kb(pid).unwrap_or_default());
                next_memory = Instant::now() + Duration::from_millis(20);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        watch
    })
}

/// What watching an attack saw, before its answers are added.
struct Watched {
    name: String,
    allowed_rise_mb: f64,
    baseline_kb: u64,
    watch: Watch,
}

impl Watched {
    fn finish(self, statuses: BTreeMap<u16, usize>) -> Outcome {
        let mut health = self.watch.health;
        health.sort();
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        let percentile = |p: f64| {
            if health.is_empty() {
                return f64::NAN;
            }
            let rank = ((p / 100.0) * health.len() as f64).ceil() as usize;
            ms(&health[rank.clamp(1, health.len()) - 1])
        };
        let (baseline_mb, peak_mb) = (
            self.baseline_kb as f64 / 1024.0,
            self.watch.peak_kb as f64 / 1024.0,
        );
        let mut problems = Vec::new();
        if let Some(count) = statuses.get(&500) {
            problems.push(format!("{count} answers of 500"));
        }
        if peak_mb - baseline_mb > self.allowed_rise_mb {
            problems.push(format!(
                "the memory rose by {:.1} MB (at most {})",
                peak_mb - baseline_mb,
                self.allowed_rise_mb
            ));
        }
        if peak_mb > RESIDENT_GOAL_MB {
            problems.push(format!(
                "{peak_mb:.1} MB resident (at most {RESIDENT_GOAL_MB})"
            ));
        }
        let (p50, p99) = (percentile(50.0), percentile(99.0));
        // No sample at all (NaN) misses the goal too.
        if p99.is_nan() || p99 > HEALTH_P99_GOAL_MS {
            problems.push(format!(
                "/health p99 {p99:.1} ms (at most {HEALTH_P99_GOAL_MS})"
            ));
        }
        Outcome {
            attack: self.name,
            requests: statuses.values().sum(),
            statuses,
            baseline_mb,
            peak_mb,
            health_p50_ms: p50,
            health_p99_ms: p99,
            allowed_rise_mb: self.allowed_rise_mb,
            problems,
        }
    }
}
