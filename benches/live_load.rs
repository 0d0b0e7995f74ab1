//! Log-ins, autosaves and the live channel under load, against running servers (the release
//! build; `scripts/bench/live` builds it, starts two copies on one scratch database and runs
//! this): log-ins from many addresses at once; 500 editors autosaving every second; 500 open
//! editor websockets, the server's memory with them open, and the time from a save to its
//! notice in every one of them, on one server and across two. Figures and goals are in
//! BENCHMARKS.md ("Autosave and live notices").
//!
//! Run: `cargo bench --features ssr --bench live_load -- --url http://127.0.0.1:A
//! --second-url http://127.0.0.1:B --database-url postgres://... --server-pid PID
//! --second-server-pid PID`. Both servers must list 127.0.0.1 in `TRUSTED_PROXIES` (the
//! log-ins come from many addresses through `X-Forwarded-For`, as they would behind the load
//! balancer; log-ins are rate limited per address) and have `PHX_HOST` set to the first URL
//! (the origin checks). Every scenario is bounded in count and in time, and so is the run.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use reqwest::{cookie::CookieStore, cookie::Jar, Client};
use serde::Serialize;
use sqlx::postgres::PgPoolOptions;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use uuid::Uuid;

#[path = "load/mod.rs"]
mod load;
use load::{
    call, editor_client, ensure_local, insert_strategies, resident_kb, scenario, sign_up, Scenario,
};

#[derive(Debug, Parser)]
#[command(about = "Load generator for autosave and the live channel (see BENCHMARKS.md)")]
struct Args {
    /// The first server, on 127.0.0.1: log-ins, autosaves, saves and the first sockets.
    #[arg(long, env = "BENCH_URL")]
    url: String,
    /// A second copy of the server on the same database, for notices across servers.
    #[arg(long)]
    second_url: Option<String>,
    /// The servers' database, for inserting users and strategies.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The first server's process, for its memory with the sockets open.
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long)]
    second_server_pid: Option<u32>,
    /// Log-ins, by as many users, from `login_clients` clients at once.
    #[arg(long, default_value_t = 200)]
    logins: usize,
    #[arg(long, default_value_t = 20)]
    login_clients: usize,
    /// Editors autosaving (each its own strategy and tab), once every `autosave_ms`.
    #[arg(long, default_value_t = 500)]
    editors: usize,
    #[arg(long, default_value_t = 1000)]
    autosave_ms: u64,
    /// How long the editors autosave.
    #[arg(long, default_value_t = 20)]
    autosave_seconds: u64,
    /// Open editor websockets.
    #[arg(long, default_value_t = 500)]
    sockets: usize,
    /// Saves whose notices are timed, one every `save_ms`.
    #[arg(long, default_value_t = 20)]
    saves: usize,
    #[arg(long, default_value_t = 250)]
    save_ms: u64,
    /// Each scenario stops after this many seconds, whatever it has done by then.
    #[arg(long, default_value_t = 120)]
    scenario_seconds: u64,
    #[arg(long)]
    json: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Serialize)]
struct Memory {
    when: String,
    resident_kb: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    scenarios: Vec<Scenario>,
    memory: Vec<Memory>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    ensure_local(&args.url)?;
    if let Some(second) = &args.second_url {
        ensure_local(second)?;
    }
    // The whole run is bounded: five scenarios and the sockets' opening.
    let report = load::run_bounded(
        Duration::from_secs(args.scenario_seconds * 6 + 120),
        run(&args),
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        load::print_scenarios(&report.scenarios);
        for memory in &report.memory {
            println!("resident memory {}: {} kB", memory.when, memory.resident_kb);
        }
    }
    Ok(())
}

async fn run(args: &Args) -> Result<Report> {
    let base = args.url.trim_end_matches('/').to_string();
    let deadline = Duration::from_secs(args.scenario_seconds);
    let jar = Arc::new(Jar::default());
    let first = editor_client(&jar)?;
    let email = sign_up(&first, &base).await?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&args.database_url)
        .await
        .context("connecting to DATABASE_URL")?;
    let mut scenarios = Vec::new();
    let mut memory = Vec::new();
    let mut measure_memory = |when: &str, pid: Option<u32>| {
        if let Some(resident_kb) = pid.and_then(resident_kb) {
            memory.push(Memory {
                when: when.to_string(),
                resident_kb,
            });
        }
    };
    measure_memory("of the first server before the load", args.server_pid);

    let users = insert_users(&pool, &email, args.logins).await?;
    scenarios.push(log_ins(&base, &users, args.login_clients, deadline).await?);

    insert_strategies(&pool, &email, args.editors.max(1) as i64).await?;
    let strategies: Vec<Uuid> = sqlx::query_scalar(
        "SELECT s.id FROM strategies s JOIN users u ON u.id = s.user_id
         WHERE u.email = $1 ORDER BY s.name",
    )
    .bind(&email)
    .fetch_all(&pool)
    .await?;
    let editors = (0..args.editors)
        .map(|_| editor_client(&jar))
        .collect::<Result<Vec<_>>>()?;
    scenarios.push(
        autosaves(
            &base,
            &editors,
            &strategies,
            Duration::from_millis(args.autosave_ms),
            Duration::from_secs(args.autosave_seconds).min(deadline),
        )
        .await?,
    );
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM strategy_drafts d JOIN users u ON u.id = d.user_id WHERE u.email = $1",
    )
    .bind(&email)
    .fetch_one(&pool)
    .await?;
    ensure!(
        stored as usize == args.editors,
        "{stored} working copies stored for {} editors",
        args.editors
    );
    measure_memory("of the first server after the autosaves", args.server_pid);

    // The strategy whose saves are announced: saved through the first server.
    let saved = save(&first, &base, None, None).await?;
    let mut target = (saved.id, saved.lock_version, saved.version);
    let cookie = jar
        .cookies(&reqwest::Url::parse(&base)?)
        .context("no session cookie")?
        .to_str()?
        .to_string();
    let mut servers = vec![("one server", base.clone(), args.server_pid)];
    if let Some(second) = &args.second_url {
        servers.push((
            "across two servers",
            second.trim_end_matches('/').to_string(),
            args.second_server_pid,
        ));
    }
    for (name, socket_base, pid) in servers {
        let sockets = open_sockets(&socket_base, &base, &cookie, &strategies, args.sockets).await?;
        measure_memory(
            &format!(
                "of the server holding {} open editor sockets ({name})",
                sockets.len()
            ),
            pid,
        );
        let (samples, missed, seconds) = notices(
            &first,
            &base,
            sockets,
            &mut target,
            args.saves,
            Duration::from_millis(args.save_ms),
            deadline,
        )
        .await?;
        scenarios.push(scenario(
            &format!("save to notice in every socket, {name}"),
            args.sockets,
            samples,
            missed,
            seconds,
        ));
    }
    Ok(Report { scenarios, memory })
}

/// `count` more users with the signed-up user's password (its hash copied, so no sign-up
/// per user), confirmed; their emails.
async fn insert_users(pool: &sqlx::PgPool, email: &str, count: usize) -> Result<Vec<String>> {
    let emails: Vec<String> = sqlx::query_scalar(
        "INSERT INTO users (email, hashed_password, confirmed_at, inserted_at, updated_at)
         SELECT 'login-' || i || '-' || $1, hashed_password, now(), now(), now()
         FROM users, generate_series(1, $2::int) AS i WHERE email = $1
         RETURNING email::text",
    )
    .bind(email)
    .bind(i32::try_from(count)?)
    .fetch_all(pool)
    .await
    .context("inserting the log-in users")?;
    ensure!(emails.len() == count, "{} users inserted", emails.len());
    Ok(emails)
}

/// Each user logs in once, `clients` at a time, each log-in from its own address (through
/// `X-Forwarded-For`, as behind the load balancer).
async fn log_ins(
    base: &str,
    users: &[String],
    clients: usize,
    deadline: Duration,
) -> Result<Scenario> {
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = (0..clients.max(1)).map(|_| {
        let next = &next;
        async move {
            let mut samples = Vec::new();
            let mut failures = 0;
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= users.len() || started.elapsed() > deadline {
                    break;
                }
                // A fresh client per log-in: a new visitor with no session.
                let Ok(client) = editor_client(&Arc::new(Jar::default())) else {
                    failures += 1;
                    continue;
                };
                let address = format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256);
                let sent = Instant::now();
                let answer = client
                    .post(format!("{base}/users/log-in"))
                    .header("accept", "application/json")
                    .header("origin", base)
                    .header("x-forwarded-for", address)
                    .form(&[
                        ("user[email]", users[n].as_str()),
                        ("user[password]", load::PASSWORD),
                    ])
                    .send()
                    .await;
                match answer {
                    Ok(response) if response.status() == 200 => samples.push(sent.elapsed()),
                    _ => failures += 1,
                }
            }
            (samples, failures)
        }
    });
    let results = load::futures_join_all(workers).await;
    let seconds = started.elapsed().as_secs_f64();
    let (mut samples, mut failures) = (Vec::new(), 0);
    for (s, f) in results {
        samples.extend(s);
        failures += f;
    }
    Ok(scenario(
        "log-in (argon2), each from its own address",
        clients,
        samples,
        failures,
        seconds,
    ))
}

/// Every editor autosaves its own strategy once per `interval` (staggered across it), whether
/// or not its last autosave came back, for `duration`; latency counts from when it was due.
async fn autosaves(
    base: &str,
    editors: &[Client],
    strategies: &[Uuid],
    interval: Duration,
    duration: Duration,
) -> Result<Scenario> {
    ensure!(
        strategies.len() >= editors.len(),
        "{} strategies for {} editors",
        strategies.len(),
        editors.len()
    );
    let started = Instant::now();
    let base: Arc<str> = base.into();
    let tabs: Vec<Uuid> = editors.iter().map(|_| Uuid::new_v4()).collect();
    let mut set = tokio::task::JoinSet::new();
    let mut finished = Vec::new();
    let rounds = (duration.as_millis() / interval.as_millis().max(1)) as usize;
    for n in 0..rounds * editors.len() {
        let editor = n % editors.len();
        let round = n / editors.len();
        let due =
            started + interval * round as u32 + interval * editor as u32 / editors.len() as u32;
        tokio::time::sleep_until(due.into()).await;
        let (client, base) = (editors[editor].clone(), base.clone());
        let (tab, strategy) = (tabs[editor].to_string(), strategies[editor].to_string());
        set.spawn(async move {
            let content = format!(
                "name: \"Working copy {editor}\"\n# autosave {round}: the trader is still typing\n"
            );
            let sequence = round.to_string();
            let answer = call(
                &client,
                &base,
                "/api/strategies/autosave",
                &[
                    ("tab_id", tab.as_str()),
                    ("sequence", sequence.as_str()),
                    ("strategy_id", strategy.as_str()),
                    ("content", content.as_str()),
                    ("format", "yaml"),
                    ("base_lock_version", "1"),
                ],
            )
            .await;
            let ok = match answer {
                Ok(response) if response.status() == 200 => response
                    .json::<serde_json::Value>()
                    .await
                    .is_ok_and(|ack| ack["stored"] == true),
                _ => false,
            };
            (ok, due.elapsed())
        });
        while let Some(done) = set.try_join_next() {
            finished.push(done?);
        }
    }
    while let Some(done) = set.join_next().await {
        finished.push(done?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let failures = finished.iter().filter(|(ok, _)| !ok).count();
    let samples = finished
        .into_iter()
        .filter(|(ok, _)| *ok)
        .map(|(_, latency)| latency)
        .collect();
    Ok(scenario(
        &format!("autosave, every {} ms per editor", interval.as_millis()),
        editors.len(),
        samples,
        failures,
        seconds,
    ))
}

struct Saved {
    id: Uuid,
    version: i32,
    lock_version: i32,
}

/// Saves the announced strategy (a new one when `id` is none) as the editor's save button.
async fn save(
    client: &Client,
    base: &str,
    id: Option<Uuid>,
    lock_version: Option<i32>,
) -> Result<Saved> {
    let id_text = id.map(|id| id.to_string());
    let lock_text = lock_version.map(|v| v.to_string());
    let content = format!(
        "name: \"Announced\"\ntrading_pair: \"BTC/USD\"\ntimeframe: \"1h\"\nindicators:\n  - type: rsi\n    name: rsi_14\n    parameters:\n      period: 14\nentry_conditions: \"rsi_14 < 30\"\nexit_conditions: \"rsi_14 > 70\"\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n# save {}\n",
        lock_version.unwrap_or(0)
    );
    let mut fields = vec![
        ("content", content.as_str()),
        ("format", "yaml"),
        ("draft", "false"),
    ];
    if let (Some(id), Some(lock)) = (&id_text, &lock_text) {
        fields.push(("id", id.as_str()));
        fields.push(("lock_version", lock.as_str()));
    }
    let response = call(client, base, "/api/strategies/save", &fields).await?;
    ensure!(
        response.status() == 200,
        "a save answered {}: {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    let saved: serde_json::Value = response.json().await?;
    Ok(Saved {
        id: saved["id"].as_str().context("no id")?.parse()?,
        version: saved["version"].as_i64().context("no version")? as i32,
        lock_version: saved["lock_version"].as_i64().context("no lock_version")? as i32,
    })
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `count` editor sockets on `socket_base`, signed in with `cookie`, each showing its own
/// strategy, as the editor page opens them.
async fn open_sockets(
    socket_base: &str,
    origin: &str,
    cookie: &str,
    strategies: &[Uuid],
    count: usize,
) -> Result<Vec<Socket>> {
    let url = format!("{}/strategies/live", socket_base.replacen("http", "ws", 1));
    let mut sockets = Vec::with_capacity(count);
    for n in 0..count {
        let mut request = url.as_str().into_client_request()?;
        request.headers_mut().insert("origin", origin.parse()?);
        request.headers_mut().insert("cookie", cookie.parse()?);
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .with_context(|| format!("opening socket {n} on {socket_base}"))?;
        let watch = serde_json::json!({ "watch": strategies[n % strategies.len()] });
        socket.send(Message::text(watch.to_string())).await?;
        sockets.push(socket);
    }
    // Let the presence announcements of the opening settle before timing anything.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(sockets)
}

/// Saves the target `saves` times, one every `interval`, and times each save's notice in
/// every socket from when the save was sent (so the save's own commit is included). A notice
/// that never came counts as a failure.
async fn notices(
    client: &Client,
    base: &str,
    sockets: Vec<Socket>,
    target: &mut (Uuid, i32, i32),
    saves: usize,
    interval: Duration,
    deadline: Duration,
) -> Result<(Vec<Duration>, usize, f64)> {
    let sent_at: Arc<Mutex<HashMap<i32, Instant>>> = Arc::default();
    let strategy = target.0;
    let last_version = target.2 + saves as i32;
    let started = Instant::now();
    let mut readers = tokio::task::JoinSet::new();
    for mut socket in sockets {
        let sent_at = sent_at.clone();
        readers.spawn(async move {
            let mut samples = Vec::new();
            let until = tokio::time::Instant::now() + deadline;
            while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until, socket.next()).await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(live) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                if live["type"] != "changed" || live["strategy_id"] != strategy.to_string() {
                    continue;
                }
                let version = live["version"].as_i64().unwrap_or_default() as i32;
                if let Some(sent) = sent_at.lock().unwrap().get(&version) {
                    samples.push(sent.elapsed());
                }
                if version >= last_version {
                    break;
                }
            }
            let _ = socket.close(None).await;
            samples
        });
    }
    for _ in 0..saves {
        let next_version = target.2 + 1;
        sent_at.lock().unwrap().insert(next_version, Instant::now());
        let saved = save(client, base, Some(target.0), Some(target.1)).await?;
        ensure!(
            saved.version == next_version,
            "the save made version {}, not {next_version}",
            saved.version
        );
        *target = (saved.id, saved.lock_version, saved.version);
        tokio::time::sleep(interval).await;
    }
    let expected = readers.len() * saves;
    let mut samples = Vec::with_capacity(expected);
    while let Some(done) = readers.join_next().await {
        samples.extend(done?);
    }
    let missed = expected - samples.len();
    Ok((samples, missed, started.elapsed().as_secs_f64()))
}
