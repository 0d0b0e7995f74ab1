//! What the load generators in `benches/` share (each is its own binary and includes this
//! with `#[path]`): signing up, a server function call as the hydrated page makes it, running
//! requests one after another or many at once on one thread, turning latencies into a
//! scenario's figures, and inserting a user's strategies straight into the database.
#![allow(dead_code)] // each generator uses its own share of these

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use reqwest::{cookie::Jar, Client};
use serde::Serialize;
use sqlx::PgPool;

pub const PASSWORD: &str = "correct horse battery staple";

/// Signs up a new user and logs in with `client` (whose cookie jar then holds the session);
/// returns the email.
pub async fn sign_up(client: &Client, base: &str) -> Result<String> {
    let email = format!(
        "bench-{}@example.com",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos()
    );
    for path in ["/users/register", "/users/log-in"] {
        let response = call(
            client,
            base,
            path,
            &[
                ("user[email]", email.as_str()),
                ("user[password]", PASSWORD),
            ],
        )
        .await?;
        ensure!(
            response.status() == 200,
            "{path} answered {}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    eprintln!("signed up {email}");
    Ok(email)
}

/// Refuses any server but one on this machine: the generators are for 127.0.0.1 only.
pub fn ensure_local(url: &str) -> Result<()> {
    let host = reqwest::Url::parse(url)
        .context("--url")?
        .host_str()
        .unwrap_or_default()
        .to_string();
    ensure!(
        host == "127.0.0.1" || host == "localhost",
        "the server must be on 127.0.0.1, not {host}"
    );
    Ok(())
}

/// Runs a whole load on one thread (so that the server keeps the machine's other core),
/// stopped after `limit` whatever it has done by then.
pub fn run_bounded<T>(
    limit: Duration,
    load: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        tokio::time::timeout(limit, load)
            .await
            .context("the run took too long")?
    })
}

/// The figures of scenarios as a Markdown table.
pub fn print_scenarios(scenarios: &[Scenario]) {
    println!(
        "| {:<44} | {:>7} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} |",
        "scenario", "clients", "requests", "failures", "req/s", "p50 ms", "p99 ms", "max ms"
    );
    println!(
        "|{:-<46}|{:->9}|{:->10}|{:->10}|{:->10}|{:->10}|{:->10}|{:->10}|",
        "", "", "", "", "", "", "", ""
    );
    for s in scenarios {
        println!(
            "| {:<44} | {:>7} | {:>8} | {:>8} | {:>8.0} | {:>8.2} | {:>8.2} | {:>8.2} |",
            s.name,
            s.concurrency,
            s.requests,
            s.failures,
            s.requests_per_second,
            s.p50_ms,
            s.p99_ms,
            s.max_ms
        );
    }
}

#[derive(Debug, Serialize)]
pub struct Scenario {
    pub name: String,
    pub concurrency: usize,
    pub requests: usize,
    pub failures: usize,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// A process's resident memory, in kB (`VmRSS`).
pub fn resident_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

pub fn editor_client(jar: &Arc<Jar>) -> Result<Client> {
    Ok(Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// A server function call as the hydrated page makes it.
pub async fn call(
    client: &Client,
    base: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> Result<reqwest::Response> {
    Ok(client
        .post(format!("{base}{path}"))
        .header("accept", "application/json")
        .header("origin", base)
        .header("sec-fetch-site", "same-origin")
        .form(fields)
        .send()
        .await?)
}

/// Runs the futures together on this thread (the runtime has one) and collects their outputs.
pub async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, output) in set.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

/// One request after another, `total` of them (or until `deadline`).
pub async fn sequential<F, Fut>(
    total: usize,
    deadline: Duration,
    request: F,
) -> Result<(Vec<Duration>, usize, f64)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let started = Instant::now();
    let mut samples = Vec::with_capacity(total);
    let mut failures = 0;
    for _ in 0..total {
        if started.elapsed() > deadline {
            break;
        }
        let sent = Instant::now();
        match request().await {
            Ok(true) => samples.push(sent.elapsed()),
            Ok(false) | Err(_) => failures += 1,
        }
    }
    Ok((samples, failures, started.elapsed().as_secs_f64()))
}

pub fn scenario(
    name: &str,
    concurrency: usize,
    mut samples: Vec<Duration>,
    failures: usize,
    seconds: f64,
) -> Scenario {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    // Nearest rank.
    let percentile = |p: f64| {
        if samples.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
        ms(samples[rank.clamp(1, samples.len()) - 1])
    };
    Scenario {
        name: name.to_string(),
        concurrency,
        requests: samples.len(),
        failures,
        seconds,
        requests_per_second: samples.len() as f64 / seconds,
        p50_ms: percentile(50.0),
        p99_ms: percentile(99.0),
        max_ms: samples.last().map_or(f64::NAN, |d| ms(*d)),
    }
}

/// The list's user's strategies, straight into the tables: valid documents whose mirrored
/// columns agree with them, a mix of statuses, one change a minute into the past, and each
/// one's version 1. Then `ANALYZE`, as autovacuum would do soon after such an insert.
pub async fn insert_strategies(pool: &PgPool, email: &str, count: i64) -> Result<()> {
    let user_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .context("the signed-up user")?;
    let mut transaction = pool.begin().await?;
    sqlx::query(
        r#"INSERT INTO strategies (user_id, name, description, format, content, trading_pair,
                                   timeframe, status, version, lock_version, inserted_at, updated_at)
           SELECT $1, 'Bench ' || lpad(i::text, 5, '0'), 'An RSI reversion, number ' || i, 'yaml',
                  format(E'name: "Bench %s"\ndescription: "An RSI reversion, number %s"\ntrading_pair: "BTC/USD"\ntimeframe: "1h"\nindicators:\n  - type: rsi\n    name: rsi_14\n    parameters:\n      period: 14\nentry_conditions: "rsi_14 < 30"\nexit_conditions: "rsi_14 > 70"\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n', lpad(i::text, 5, '0'), i),
                  'BTC/USD', '1h',
                  (ARRAY['draft', 'draft', 'inactive', 'archived'])[1 + i % 4], 1, 1,
                  (now() AT TIME ZONE 'utc') - make_interval(mins => $2::int - i) - interval '1 day',
                  (now() AT TIME ZONE 'utc') - make_interval(mins => $2::int - i)
           FROM generate_series(1, $2::int) AS i"#,
    )
    .bind(user_id)
    .bind(i32::try_from(count)?)
    .execute(&mut *transaction)
    .await
    .context("inserting the strategies")?;
    sqlx::query(
        "INSERT INTO strategy_versions (strategy_id, number, format, content, author_id, inserted_at)
         SELECT id, 1, format, content, user_id, inserted_at FROM strategies WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(&mut *transaction)
    .await
    .context("inserting their versions")?;
    transaction.commit().await?;
    sqlx::query("ANALYZE strategies").execute(pool).await?;
    sqlx::query("ANALYZE strategy_versions")
        .execute(pool)
        .await?;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM strategies WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await?;
    if stored != count {
        bail!("{stored} strategies stored, {count} wanted");
    }
    Ok(())
}
