//! The attacks themselves, each a method of the attacker's `Target`: hostile documents, floods,
//! uploads, sockets and made-up methods, eight at a time.

use crate::load::{call, editor_client, resident_kb};
use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use reqwest::{cookie::CookieStore, Client};
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

use super::payloads::{start_backtest, status_of};
use super::watch::{probe, Watched};
use super::{Outcome, Target};

impl Target {
    /// Runs `request` `total` times, `at_once` at a time, from clients of the attacker's
    /// session, while watching `/health` and the server's memory.
    pub(super) async fn attack<F, Fut>(
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
        let work = crate::load::futures_join_all((0..self.at_once).map(|_| async {
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
    pub(super) async fn watching(
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

    pub(super) async fn far_apart_versions(&self) -> Result<Outcome> {
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

    pub(super) async fn start_and_cancel(&self) -> Result<Outcome> {
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
    pub(super) async fn queue_flood(&self) -> Result<Outcome> {
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
        let outcome = self
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
            .await;
        // The runs still waiting or running are cancelled, so that the next attack is
        // measured on its own.
        let waiting: Vec<(uuid::Uuid,)> = sqlx::query_as(
            "SELECT id FROM backtest_runs WHERE strategy_id = $1::uuid AND status IN ('queued', 'running')",
        )
        .bind(&heavy)
        .fetch_all(&self.pool)
        .await?;
        for (run,) in waiting {
            call(
                &client,
                &self.base,
                "/api/strategies/cancel-backtest",
                &[("id", &heavy), ("run", &run.to_string())],
            )
            .await?;
        }
        Ok(outcome)
    }

    pub(super) async fn made_up_methods(&self) -> Outcome {
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
    pub(super) async fn socket_floods(&self) -> Result<Outcome> {
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

    pub(super) async fn upload(&self, name: &str, file: Vec<u8>) -> Result<Outcome> {
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
