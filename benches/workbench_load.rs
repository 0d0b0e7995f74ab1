//! The strategy workbench under load, against a running server (the release build; see
//! `scripts/bench/workbench`, which builds and starts one on a scratch database and runs this):
//! the keystroke check (`/api/strategies/check`) with 1 and with 50 editors typing at once,
//! beside the no-op `/api/ping` on the same run as the floor; the list page and the list server
//! function for a user with 10,000 strategies; duplicating a 200 KB document. Figures and goals
//! are in BENCHMARKS.md ("Strategy workbench").
//!
//! Run: `cargo bench --features ssr --bench workbench_load -- --url http://127.0.0.1:PORT
//! --database-url postgres://...` (or `BENCH_URL` and `DATABASE_URL`); `--json` prints the
//! results for machines. The server must listen on 127.0.0.1 with `PHX_HOST` set to that URL
//! (the server functions check `Origin`). It signs up one user (log-ins are rate limited per
//! address), inserts that user's strategies straight into the database, and stops by itself:
//! every scenario is bounded in requests and in time, and so is the whole run.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use reqwest::{cookie::Jar, Client};
use serde::Serialize;
use sqlx::postgres::PgPoolOptions;
use trading_strategy::{language::Format, strategies::templates::Template};

#[path = "load/mod.rs"]
mod load;
use load::{
    call, editor_client, ensure_local, futures_join_all, insert_strategies, scenario, sequential,
    sign_up, Scenario,
};

#[derive(Debug, Parser)]
#[command(about = "Load generator for the strategy workbench (see BENCHMARKS.md)")]
struct Args {
    /// The server, on 127.0.0.1 (or localhost) only.
    #[arg(long, env = "BENCH_URL")]
    url: String,
    /// The server's database, for inserting the list's strategies.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Requests per keystroke scenario (ping and check, each with 1 and with 50 editors).
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Concurrent editors of the busy scenarios.
    #[arg(long, default_value_t = 50)]
    editors: usize,
    /// Milliseconds between two keystrokes of one editor in the typing scenarios (100: ten keys
    /// a second, a fast typist).
    #[arg(long, default_value_t = 100)]
    keystroke_ms: u64,
    /// Strategies of the list's user.
    #[arg(long, default_value_t = 10_000)]
    strategies: i64,
    /// Requests for each of the list page and the list server function.
    #[arg(long, default_value_t = 200)]
    list_requests: usize,
    /// Duplicates of the 200 KB document.
    #[arg(long, default_value_t = 50)]
    duplicates: usize,
    /// Each scenario stops after this many seconds, whatever it has done by then.
    #[arg(long, default_value_t = 120)]
    scenario_seconds: u64,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Write the two documents (check.yaml, big.yaml) into this folder and stop, to check them
    /// with `trading_strategy check`.
    #[arg(long, hide = true)]
    write_documents: Option<std::path::PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    url: String,
    strategies_of_the_user: i64,
    check_document_bytes: usize,
    duplicated_document_bytes: usize,
    scenarios: Vec<Scenario>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(folder) = &args.write_documents {
        std::fs::write(folder.join("check.yaml"), check_document())?;
        std::fs::write(folder.join("big.yaml"), big_document())?;
        return Ok(());
    }
    ensure_local(&args.url)?;
    // The whole run is bounded too: six keystroke scenarios, two list ones, one duplicate.
    let report = load::run_bounded(
        Duration::from_secs(args.scenario_seconds * 10 + 120),
        run(&args),
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

async fn run(args: &Args) -> Result<Report> {
    let base = args.url.trim_end_matches('/').to_string();
    let jar = Arc::new(Jar::default());
    let first = editor_client(&jar)?;
    let email = sign_up(&first, &base).await?;

    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&args.database_url)
        .await
        .context("connecting to DATABASE_URL")?;
    insert_strategies(&pool, &email, args.strategies).await?;
    eprintln!("inserted {} strategies", args.strategies);

    let mut scenarios = Vec::new();
    let check_document = check_document();
    // The editors: each its own client, so its own keep-alive connection, all signed in as
    // the one user (one account in many tabs).
    let editors = (0..args.editors.max(1))
        .map(|_| editor_client(&jar))
        .collect::<Result<Vec<_>>>()?;
    let deadline = Duration::from_secs(args.scenario_seconds);
    for concurrency in [1, args.editors.max(1)] {
        let clients = &editors[..concurrency];
        // Warm the connections (and the server's caches) first, unmeasured.
        keystrokes(clients, &base, Target::Ping, concurrency * 4, deadline).await?;
        keystrokes(
            clients,
            &base,
            Target::Check(&check_document),
            concurrency * 4,
            deadline,
        )
        .await?;
        for target in [Target::Ping, Target::Check(&check_document)] {
            let (name, samples, failures, seconds) =
                keystrokes(clients, &base, target, args.requests, deadline).await?;
            let name = format!("{name}, flat out");
            scenarios.push(scenario(&name, concurrency, samples, failures, seconds));
        }
    }
    // The same editors at a typist's pace (the editor checks every keystroke, unthrottled).
    let interval = Duration::from_millis(args.keystroke_ms);
    let clients = &editors[..];
    for target in [Target::Ping, Target::Check(&check_document)] {
        let (samples, failures, seconds) =
            typing(clients, &base, target, args.requests, interval, deadline).await?;
        let name = match target {
            Target::Ping => "/api/ping, typing",
            Target::Check(_) => "/api/strategies/check, typing",
        };
        scenarios.push(scenario(name, clients.len(), samples, failures, seconds));
    }

    let list = &editors[0];
    let page = || async {
        let response = list
            .get(format!("{base}/strategies"))
            .header("accept", "text/html")
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        anyhow::Ok(status == 200 && body.contains("Bench 09999"))
    };
    let (samples, failures, seconds) = sequential(args.list_requests, deadline, page).await?;
    scenarios.push(scenario(
        "GET /strategies, the list page",
        1,
        samples,
        failures,
        seconds,
    ));
    let function = || async {
        let response = call(
            list,
            &base,
            "/api/strategies/list",
            &[
                ("query[search]", ""),
                ("query[page]", "1"),
                ("query[sort]", "UpdatedDesc"),
            ],
        )
        .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        anyhow::Ok(status == 200 && body["items"].as_array().is_some_and(|i| i.len() == 50))
    };
    let (samples, failures, seconds) = sequential(args.list_requests, deadline, function).await?;
    scenarios.push(scenario(
        "/api/strategies/list",
        1,
        samples,
        failures,
        seconds,
    ));

    let big = big_document();
    let response = call(
        list,
        &base,
        "/api/strategies/save",
        &[
            ("content", big.as_str()),
            ("format", "yaml"),
            ("draft", "false"),
        ],
    )
    .await?;
    ensure!(
        response.status() == 200,
        "saving the 200 KB document answered {}: {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    let saved: serde_json::Value = response.json().await?;
    let id = saved["id"]
        .as_str()
        .context("no id in the save's answer")?
        .to_string();
    let duplicate = || async {
        let response = call(
            list,
            &base,
            "/api/strategies/duplicate",
            &[("id", id.as_str())],
        )
        .await?;
        let status = response.status();
        response.bytes().await?;
        anyhow::Ok(status == 200)
    };
    let (samples, failures, seconds) = sequential(args.duplicates, deadline, duplicate).await?;
    scenarios.push(scenario(
        "/api/strategies/duplicate, 200 KB",
        1,
        samples,
        failures,
        seconds,
    ));
    let copies: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM strategies s JOIN users u ON u.id = s.user_id
         WHERE u.email = $1 AND s.name LIKE 'Big document - Copy%'",
    )
    .bind(&email)
    .fetch_one(&pool)
    .await?;
    ensure!(
        copies as usize == args.duplicates,
        "{copies} copies in the database after {} duplicates",
        args.duplicates
    );

    Ok(Report {
        url: base,
        strategies_of_the_user: args.strategies,
        check_document_bytes: check_document.len(),
        duplicated_document_bytes: big.len(),
        scenarios,
    })
}

#[derive(Clone, Copy)]
enum Target<'a> {
    Ping,
    Check(&'a str),
}

/// `total` requests shared by the `clients`, each sending its next one when the last answered
/// (an editor types the next key after the check of the last one came back). Returns the
/// scenario's name, the latencies, the failures and the wall time.
async fn keystrokes(
    clients: &[Client],
    base: &str,
    target: Target<'_>,
    total: usize,
    deadline: Duration,
) -> Result<(&'static str, Vec<Duration>, usize, f64)> {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let editors = clients.iter().enumerate().map(|(editor, client)| {
        let next = &next;
        async move {
            let mut samples = Vec::new();
            let mut failures = 0;
            let mut text = match target {
                Target::Check(document) => document.to_string(),
                Target::Ping => String::new(),
            };
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total || started.elapsed() > deadline {
                    break;
                }
                let sent = Instant::now();
                if let Target::Check(_) = target {
                    type_one_key(&mut text, editor, n);
                }
                let ok = keystroke(client, base, target, &text, n).await;
                if ok {
                    samples.push(sent.elapsed());
                } else {
                    failures += 1;
                }
            }
            (samples, failures)
        }
    });
    let results = futures_join_all(editors).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut samples = Vec::with_capacity(total);
    let mut failures = 0;
    for (s, f) in results {
        samples.extend(s);
        failures += f;
    }
    let name = match target {
        Target::Ping => "/api/ping",
        Target::Check(_) => "/api/strategies/check",
    };
    Ok((name, samples, failures, seconds))
}

/// One keystroke's request: a ping, or a check of `text` numbered `n`; whether it was
/// answered as it should be.
async fn keystroke(client: &Client, base: &str, target: Target<'_>, text: &str, n: usize) -> bool {
    let (path, fields) = match target {
        Target::Ping => ("/api/ping", Vec::new()),
        Target::Check(_) => (
            "/api/strategies/check",
            vec![
                ("sequence", n.to_string()),
                ("content", text.to_string()),
                ("format", "yaml".to_string()),
                // As the editor does while the name stays the same: the name and its answer
                // from the previous check, so the server need not ask the database again.
                ("checked_name", "MA cross".to_string()),
                ("checked_name_taken", "false".to_string()),
            ],
        ),
    };
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let Ok(response) = call(client, base, path, &fields).await else {
        return false;
    };
    let status = response.status();
    match target {
        Target::Ping => response.bytes().await.is_ok() && status == 200,
        Target::Check(_) => match response.json::<serde_json::Value>().await {
            Ok(reply) => {
                status == 200
                    && reply["sequence"].as_u64() == Some(n as u64)
                    && reply["name_taken"] == false
            }
            Err(_) => false,
        },
    }
}

/// Editors typing at a person's pace: each sends a keystroke every `interval` (the editors
/// staggered across it) whether or not the last reply came back, as the editor does (it sends
/// every keystroke and drops stale replies). The latency counts from when the key was due, so
/// a server that falls behind is not flattered by keys sent late.
async fn typing(
    clients: &[Client],
    base: &str,
    target: Target<'_>,
    total: usize,
    interval: Duration,
    deadline: Duration,
) -> Result<(Vec<Duration>, usize, f64)> {
    let started = Instant::now();
    let editors = clients.len();
    let base: Arc<str> = base.into();
    let mut texts: Vec<String> = (0..editors)
        .map(|_| match target {
            Target::Check(document) => document.to_string(),
            Target::Ping => String::new(),
        })
        .collect();
    let mut set = tokio::task::JoinSet::new();
    let mut finished = Vec::with_capacity(total);
    for n in 0..total {
        let editor = n % editors;
        let round = (n / editors) as u32;
        let due = started + interval * round + interval * editor as u32 / editors as u32;
        tokio::time::sleep_until(due.into()).await;
        if started.elapsed() > deadline {
            break;
        }
        if let Target::Check(_) = target {
            type_one_key(&mut texts[editor], editor, n);
        }
        let (client, base, text) = (clients[editor].clone(), base.clone(), texts[editor].clone());
        let is_ping = matches!(target, Target::Ping);
        set.spawn(async move {
            let target = if is_ping {
                Target::Ping
            } else {
                Target::Check(&text)
            };
            let ok = keystroke(&client, &base, target, &text, n).await;
            (ok, due.elapsed())
        });
        // Collect what has finished, so the set stays small.
        while let Some(done) = set.try_join_next() {
            finished.push(done?);
        }
    }
    let mut samples = Vec::with_capacity(total);
    let mut failures = 0;
    while let Some(done) = set.join_next().await {
        finished.push(done?);
    }
    for (ok, latency) in finished {
        if ok {
            samples.push(latency);
        } else {
            failures += 1;
        }
    }
    Ok((samples, failures, started.elapsed().as_secs_f64()))
}

fn print_table(report: &Report) {
    println!(
        "workbench_load against {} ({} strategies for the user; check document {} bytes; \
         duplicated document {} bytes)",
        report.url,
        report.strategies_of_the_user,
        report.check_document_bytes,
        report.duplicated_document_bytes
    );
    load::print_scenarios(&report.scenarios);
}

/// What an editor types into: the moving-average template (about 1 KB of commented YAML)
/// with notes below it, about 2 KB in all, and a last comment line that the editor types on.
fn check_document() -> String {
    let template = Template::find("ma_cross").expect("the ma_cross template");
    let mut text = template.text(Format::Yaml).to_string();
    while text.len() < 1990 {
        text.push_str(
            "# Notes: review after a month of paper trading; compare with the plain cross.\n",
        );
    }
    text.push_str("# typing: \n");
    text
}

/// One keystroke: the editor's last line (a comment) gets the next letter, and starts over
/// after 60 of them, so that every check sees new text of about the same length.
fn type_one_key(text: &mut String, editor: usize, n: usize) {
    let line_start = text.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
    let typed = text.len() - 1 - line_start - "# typing: ".len();
    text.truncate(text.len() - 1);
    if typed >= 60 {
        text.truncate(line_start + "# typing: ".len());
    }
    text.push((b'a' + ((editor + n) % 26) as u8) as char);
    text.push('\n');
}

/// A valid document of about 200 KB: 50 indicators (the language's maximum), a description of
/// 1,000 characters (its maximum), and the rest comments, which the language ignores.
fn big_document() -> String {
    let description = "A large strategy. ".repeat(60);
    let mut text = format!(
        "name: \"Big document\"\ndescription: \"{}\"\ntrading_pair: \"ETH/USD\"\ntimeframe: \"4h\"\nindicators:\n",
        &description[..1000]
    );
    for i in 0..50 {
        text.push_str(&format!(
            "  # Average number {i}, one of a ladder of simple moving averages.\n  - type: sma\n    name: sma_{i}\n    parameters:\n      period: {}\n",
            5 + i * 3
        ));
    }
    text.push_str(
        "entry_conditions: \"crosses_above(sma_0, sma_49) AND sma_1 > sma_2\"\nexit_conditions: \"crosses_below(sma_0, sma_49)\"\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n",
    );
    let mut line = 0;
    while text.len() < 200 * 1024 {
        line += 1;
        text.push_str(&format!(
            "# Research log line {line:05}: tried the ladder on another market and kept the notes here\n"
        ));
    }
    text
}
