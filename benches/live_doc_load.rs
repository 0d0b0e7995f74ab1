//! Load generator for co-editing (scripts/bench/live-doc): `documents` live documents, each
//! with `editors` editors that type at `keys_per_second`, the editors of one document spread
//! over two server copies. Each editor types its own character at the document's start (so a
//! rebase after `behind` is only a new length, and no OT is needed here), one push in flight,
//! what it typed meanwhile batched into the next push, as `editor/collab.mjs` does.
//!
//! Measured: push to every peer's `updates` frame (from when the characters were first sent,
//! so a `behind` and its re-push count), push to its own confirmation, the share of pushes
//! told `behind`; at the end, every document's stored text holds each editor's characters
//! exactly as many times as they were typed, and every editor's length agrees with it.

use std::{
    cell::RefCell,
    collections::HashMap,
    rc::Rc,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use uuid::Uuid;

#[path = "load/mod.rs"]
mod load;
use load::{editor_client, ensure_local, insert_strategies, resident_kb, scenario, sign_up};

#[derive(Debug, Parser)]
#[command(about = "Load generator for live co-editing (see BENCHMARKS.md)")]
struct Args {
    #[arg(long)]
    url: String,
    /// A second copy on the same database: every other editor of a document connects there.
    #[arg(long)]
    second_url: Option<String>,
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long, default_value_t = 50)]
    documents: usize,
    #[arg(long, default_value_t = 3)]
    editors: usize,
    #[arg(long, default_value_t = 5.0)]
    keys_per_second: f64,
    /// How long the editors type.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    #[arg(long)]
    json: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the editors of the run measured, shared on the one thread.
#[derive(Default)]
struct Tally {
    to_peer: Vec<Duration>,
    to_self: Vec<Duration>,
    pushes: usize,
    behind: usize,
    refused: usize,
}

/// When each editor's n-th update was first sent: (document, client, n).
type SentAt = HashMap<(usize, String, usize), Instant>;

fn main() -> Result<()> {
    let args = Args::parse();
    ensure_local(&args.url)?;
    let limit = Duration::from_secs(args.seconds + 120);
    let (scenarios, memory) = load::run_bounded(limit, run(&args))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&scenarios)?);
    } else {
        load::print_scenarios(&scenarios);
    }
    if let Some(kb) = memory {
        println!("resident memory of the first server with every editor typing: {kb} kB");
    }
    Ok(())
}

async fn run(args: &Args) -> Result<(Vec<load::Scenario>, Option<u64>)> {
    let base = args.url.trim_end_matches('/').to_string();
    let jar = Arc::new(Jar::default());
    let client = editor_client(&jar)?;
    let email = sign_up(&client, &base).await?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&args.database_url)
        .await?;
    // A quarter of the inserted strategies are archived (read-only): only editable ones are typed in.
    insert_strategies(&pool, &email, 2 * args.documents as i64).await?;
    let documents: Vec<Uuid> = sqlx::query_scalar(
        "SELECT s.id FROM strategies s JOIN users u ON u.id = s.user_id
         WHERE u.email = $1 AND s.status <> 'archived' ORDER BY s.name LIMIT $2",
    )
    .bind(&email)
    .bind(args.documents as i64)
    .fetch_all(&pool)
    .await?;
    let cookie = jar
        .cookies(&reqwest::Url::parse(&base)?)
        .context("no session cookie")?
        .to_str()?
        .to_string();
    let second = args
        .second_url
        .as_deref()
        .unwrap_or(&base)
        .trim_end_matches('/')
        .to_string();

    let tally = Rc::new(RefCell::new(Tally::default()));
    let sent_at = Rc::new(RefCell::new(SentAt::new()));
    let local = tokio::task::LocalSet::new();
    let mut editors = Vec::new();
    let mut index = 0u32;
    for (document, id) in documents.iter().enumerate() {
        for editor in 0..args.editors {
            let on = if editor % 2 == 0 { &base } else { &second };
            let socket = open(on, &base, &cookie, *id).await?;
            let client = format!("d{document}e{editor}");
            // One character of its own per editor, one UTF-16 unit (CJK ideographs).
            let mark = char::from_u32(0x4E00 + index).context("too many editors")?;
            index += 1;
            editors.push((document, client, mark, socket));
        }
    }
    let typing = Duration::from_secs(args.seconds);
    let interval = Duration::from_secs_f64(1.0 / args.keys_per_second);
    let started = Instant::now();
    let mut handles = Vec::new();
    for (document, client, mark, socket) in editors {
        let (tally, sent_at) = (tally.clone(), sent_at.clone());
        handles.push(local.spawn_local(async move {
            type_into(
                socket, document, client, mark, typing, interval, tally, sent_at,
            )
            .await
        }));
    }
    let memory = Rc::new(RefCell::new(None));
    let (pid, sample) = (args.server_pid, memory.clone());
    local.spawn_local(async move {
        tokio::time::sleep(typing / 2).await;
        *sample.borrow_mut() = pid.and_then(resident_kb);
    });
    let mut typed: HashMap<(usize, char), usize> = HashMap::new();
    let mut lengths: HashMap<usize, Vec<usize>> = HashMap::new();
    local
        .run_until(async {
            for handle in handles {
                let (document, mark, count, length) = handle.await??;
                typed.insert((document, mark), count);
                lengths.entry(document).or_default().push(length);
            }
            Ok::<_, anyhow::Error>(())
        })
        .await?;
    let seconds = started.elapsed().as_secs_f64();

    // Every document's stored text holds each editor's characters exactly as often as typed.
    for (document, id) in documents.iter().enumerate() {
        let text: String =
            sqlx::query_scalar("SELECT text FROM strategy_live_docs WHERE strategy_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await?;
        for ((typed_in, mark), count) in &typed {
            if *typed_in == document {
                let stored = text.chars().filter(|c| c == mark).count();
                ensure!(
                    stored == *count,
                    "document {document}: {mark} typed {count} times, stored {stored}"
                );
            }
        }
        let units = text.encode_utf16().count();
        for length in &lengths[&document] {
            ensure!(
                *length == units,
                "document {document}: an editor ends at {length}, the text has {units}"
            );
        }
    }
    let tally = tally.borrow();
    let editors = args.documents * args.editors;
    eprintln!(
        "{} pushes, {} told behind ({:.1}%), {} refused",
        tally.pushes,
        tally.behind,
        100.0 * tally.behind as f64 / tally.pushes.max(1) as f64,
        tally.refused
    );
    let scenarios = vec![
        scenario(
            "push to every peer's screen (updates frame)",
            editors,
            tally.to_peer.clone(),
            0,
            seconds,
        ),
        scenario(
            "push to its own confirmation",
            editors,
            tally.to_self.clone(),
            tally.refused,
            seconds,
        ),
    ];
    let memory = *memory.borrow();
    Ok((scenarios, memory))
}

async fn open(on: &str, origin: &str, cookie: &str, id: Uuid) -> Result<Socket> {
    let url = format!("{}/strategies/live/{id}", on.replacen("http", "ws", 1));
    let mut request = url.as_str().into_client_request()?;
    request.headers_mut().insert("origin", origin.parse()?);
    request.headers_mut().insert("cookie", cookie.parse()?);
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .with_context(|| format!("opening {url}"))?;
    Ok(socket)
}

/// The length, in UTF-16 units, of the text a change set (its JSON) makes.
fn output_length(changes: &Value) -> usize {
    changes
        .as_array()
        .into_iter()
        .flatten()
        .map(|part| match part {
            Value::Number(kept) => kept.as_u64().unwrap_or_default() as usize,
            Value::Array(replace) => {
                let lines = &replace[1..];
                lines
                    .iter()
                    .map(|line| line.as_str().unwrap_or_default().encode_utf16().count())
                    .sum::<usize>()
                    + lines.len().saturating_sub(1)
            }
            _ => 0,
        })
        .sum()
}

async fn send(socket: &mut Socket, frame: Value) -> Result<()> {
    socket.send(Message::text(frame.to_string())).await?;
    Ok(())
}

/// One editor: joins, types `mark` every `interval` for `typing`, then waits until everything
/// it typed is confirmed. Answers its document, mark, how many it typed and its final length.
#[allow(clippy::too_many_arguments)]
async fn type_into(
    mut socket: Socket,
    document: usize,
    client: String,
    mark: char,
    typing: Duration,
    interval: Duration,
    tally: Rc<RefCell<Tally>>,
    sent_at: Rc<RefCell<SentAt>>,
) -> Result<(usize, char, usize, usize)> {
    send(&mut socket, json!({"t": "hello", "client": client})).await?;
    let (mut version, mut length) = loop {
        let frame = next_frame(&mut socket).await?;
        if frame["t"] == "doc" {
            let text = frame["text"].as_str().unwrap_or_default();
            break (
                frame["v"].as_u64().unwrap_or_default(),
                text.encode_utf16().count(),
            );
        }
    };
    let stop_typing = tokio::time::Instant::now() + typing;
    let mut keys = tokio::time::interval(interval);
    let (mut typed, mut waiting) = (0usize, 0usize);
    // The push in flight: how many characters, which of this editor's updates, when sent.
    let mut in_flight: Option<(usize, usize, Instant)> = None;
    let mut behind_at: Option<u64> = None;
    let mut own_updates = 0usize;
    let mut heard_from: HashMap<String, usize> = HashMap::new();
    loop {
        let typing_now = tokio::time::Instant::now() < stop_typing;
        if !typing_now && waiting == 0 && in_flight.is_none() {
            break;
        }
        if in_flight.is_none() && waiting > 0 && behind_at.is_none_or(|at| version >= at) {
            behind_at = None;
            let count = waiting;
            waiting = 0;
            let text: String = std::iter::repeat_n(mark, count).collect();
            let mut changes = vec![json!([0, text])];
            if length > 0 {
                changes.push(json!(length));
            }
            let n = own_updates;
            let first = *sent_at
                .borrow_mut()
                .entry((document, client.clone(), n))
                .or_insert_with(Instant::now);
            in_flight = Some((count, n, first));
            tally.borrow_mut().pushes += 1;
            send(
                &mut socket,
                json!({"t": "push", "v": version, "u": [{"c": changes}]}),
            )
            .await?;
        }
        tokio::select! {
            _ = keys.tick(), if typing_now => {
                waiting += 1;
                typed += 1;
            }
            frame = next_frame(&mut socket) => {
                let frame = frame?;
                match frame["t"].as_str() {
                    Some("updates") => {
                        let from = frame["from"].as_u64().unwrap_or_default();
                        for (offset, update) in frame["u"].as_array().into_iter().flatten().enumerate() {
                            if (from + offset as u64) < version {
                                continue;
                            }
                            version += 1;
                            length = output_length(&update["c"]);
                            let author = update["client"].as_str().unwrap_or_default().to_string();
                            if author == client {
                                if let Some((_, n, first)) = in_flight.take() {
                                    tally.borrow_mut().to_self.push(first.elapsed());
                                    own_updates = n + 1;
                                }
                            } else {
                                let n = heard_from.entry(author.clone()).or_default();
                                if let Some(first) = sent_at.borrow().get(&(document, author, *n)) {
                                    tally.borrow_mut().to_peer.push(first.elapsed());
                                }
                                *n += 1;
                            }
                        }
                    }
                    Some("behind") => {
                        tally.borrow_mut().behind += 1;
                        behind_at = frame["v"].as_u64();
                        if let Some((count, _, _)) = in_flight.take() {
                            waiting += count;
                        }
                    }
                    Some("refused") => {
                        tally.borrow_mut().refused += 1;
                        anyhow::bail!("a push was refused: {frame}");
                    }
                    Some("closed") => anyhow::bail!("the socket was closed: {frame}"),
                    _ => {}
                }
            }
        }
    }
    // Let the peers' last updates arrive before the lengths are compared.
    let settle = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(frame) = tokio::time::timeout_at(settle, next_frame(&mut socket)).await {
        let frame = frame?;
        if frame["t"] == "updates" {
            let from = frame["from"].as_u64().unwrap_or_default();
            for (offset, update) in frame["u"].as_array().into_iter().flatten().enumerate() {
                if from + offset as u64 + 1 > version {
                    version += 1;
                    length = output_length(&update["c"]);
                }
            }
        }
    }
    let _ = socket.close(None).await;
    Ok((document, mark, typed, length))
}

async fn next_frame(socket: &mut Socket) -> Result<Value> {
    loop {
        match socket.next().await.context("the socket ended")?? {
            Message::Text(text) => return Ok(serde_json::from_str(&text)?),
            Message::Close(frame) => anyhow::bail!("the server closed the socket: {frame:?}"),
            _ => {}
        }
    }
}
