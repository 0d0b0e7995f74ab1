//! `GET /strategies/live/{id}`: one editor's socket into the strategy's live document. The
//! upgrade passes the live sockets' checks (Origin, session, the per-user bound) and the
//! strategy must be the user's. Then the editor says `hello` with the version it has, pushes
//! what it types (the authority commits or refuses it), and hears every committed update in
//! version order through this copy's realtime hub, whichever copy committed it, its own
//! updates included (that is their confirmation). A lost notice is caught up by the version
//! the socket has sent: a gap reads the log, and every ping interval the document's version is
//! asked for. Cursors travel as notices and are never stored.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use axum::{
    extract::{
        ws::{close_code, Message, WebSocket},
        Path, State, WebSocketUpgrade,
    },
    http::{header::USER_AGENT, HeaderMap},
    response::{IntoResponse, Response},
};
use live_document::{
    frames::{Peer, Refusal, SavedVersion, SelectionRange, ServedUpdate},
    ClientFrame, Document, ServerFrame,
};
use tower_sessions::Session;

use super::authority::{self, Pushed, MAX_UPDATES_PER_PUSH};
use super::events::{CursorMoved, LiveDocAdvanced};
use crate::accounts::UserId;
use crate::{
    accounts::ssr::{
        events::{SessionEnded, SignedOutEverywhere},
        sessions,
    },
    realtime::{self, Subscription},
    state::AppState,
    strategies::{
        ssr::{
            events::StrategyChanged,
            live::{admit, close_with, session_deadline, MessageBudget, Open},
            live_connections,
        },
        ChangeKind, StrategyId,
    },
};

/// The largest frame an editor may send: a paste up to the document limit, escaped as JSON.
pub const MAX_FRAME_BYTES: usize = 2 * 1024 * 1024;
/// A peer whose cursor was not heard of for this long has gone (its copy may have died).
const PEER_SILENCE: Duration = Duration::from_secs(30);

pub async fn upgrade(
    State(state): State<AppState>,
    Path(id): Path<StrategyId>,
    session: Session,
    headers: HeaderMap,
    socket: WebSocketUpgrade,
) -> Response {
    let open = match admit(&state, &session, &headers).await {
        Ok(open) => open,
        Err(refused) => return refused,
    };
    // A stranger's id is a 404 before anything is sent, and the socket is not counted.
    if let Err(error) = authority::join(&state.pool, open.user_id, id).await {
        let _ = live_connections::close(&state.pool, open.connection).await;
        return error.into_response();
    }
    let subscriptions = Subscriptions {
        advances: state.realtime.subscribe(),
        cursors: state.realtime.subscribe(),
        changes: state.realtime.subscribe(),
        sign_outs: state.realtime.subscribe(),
        sessions_ended: state.realtime.subscribe(),
    };
    let browser = sessions::describe_device(headers.get(USER_AGENT).and_then(|v| v.to_str().ok()));
    let label = format!(
        "You · {}",
        browser.split(" on ").next().unwrap_or("another tab")
    );
    socket
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let mut editor = Editor {
                socket,
                state: &state,
                id,
                user: open.user_id,
                label,
                client: None,
                have: 0,
                peers: HashMap::new(),
                last_selection: Vec::new(),
                known: None,
            };
            editor.relay(&open, subscriptions).await;
            editor.leave().await;
            if let Err(error) = live_connections::close(&state.pool, open.connection).await {
                tracing::warn!(%error, "could not forget a closed live connection");
            }
        })
}

struct Subscriptions {
    advances: Subscription<LiveDocAdvanced>,
    cursors: Subscription<CursorMoved>,
    changes: Subscription<StrategyChanged>,
    sign_outs: Subscription<SignedOutEverywhere>,
    sessions_ended: Subscription<SessionEnded>,
}

/// One editor's connection.
struct Editor<'a> {
    socket: WebSocket,
    state: &'a AppState,
    id: StrategyId,
    user: UserId,
    label: String,
    /// The editor's own id, once it said hello.
    client: Option<String>,
    /// The version this socket has sent the editor up to.
    have: u64,
    /// Other editors of the document and when they were last heard of.
    peers: HashMap<String, (Peer, Instant)>,
    last_selection: Vec<SelectionRange>,
    /// The document as this socket last knew it whole (from the document it sent, its own
    /// accepted pushes and the updates it relayed), so that its next push reads nothing first;
    /// `None` once an update could not be followed (a notice without its updates).
    known: Option<Document>,
}

/// Why the relay stops.
struct Stop;

/// A colour for an editor, the same on every screen.
fn hue_of(client: &str) -> u16 {
    let hash = client.bytes().fold(7u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u32::from(byte))
    });
    (hash % 360) as u16
}

impl Editor<'_> {
    async fn send(&mut self, frame: &ServerFrame) -> Result<(), Stop> {
        self.socket
            .send(Message::Text(frame.to_text().into()))
            .await
            .map_err(|_| Stop)
    }

    async fn close(&mut self, code: &str, message: &str) -> Stop {
        let _ = self
            .send(&ServerFrame::Closed {
                code: code.into(),
                message: message.into(),
            })
            .await;
        close_with(&mut self.socket, close_code::NORMAL, message).await;
        Stop
    }

    async fn relay(&mut self, open: &Open, subscriptions: Subscriptions) {
        let Subscriptions {
            mut advances,
            mut cursors,
            mut changes,
            mut sign_outs,
            mut sessions_ended,
        } = subscriptions;
        let bounds = self.state.settings.bounds;
        let _open = crate::web::instruments::OpenWebsocket::opened();
        let mut budget = MessageBudget::new(bounds.live_edit_messages_per_second);
        let mut pings = tokio::time::interval(bounds.live_ping_every.min(Duration::from_secs(10)));
        pings.tick().await;
        let mut last_heard = Instant::now();
        // Every copy hears every document's notices: only this document's are read.
        let ours = super::events::payload_prefix(self.id);
        let Some(mut session_ends) = session_deadline(self.state, open).await else {
            self.close("signed_out", "Your session has ended; log in again.")
                .await;
            return;
        };
        loop {
            let step = tokio::select! {
                incoming = self.socket.recv() => {
                    last_heard = Instant::now();
                    match incoming {
                        Some(Ok(Message::Text(text))) if !budget.take() => {
                            drop(text);
                            crate::web::instruments::limit_hit("socket_rate");
                            Err(self.close("too_many", &format!(
                                "Too many messages: at most {} a second.",
                                bounds.live_edit_messages_per_second
                            )).await)
                        }
                        Some(Ok(Message::Text(text))) => self.heard(open, &text).await,
                        Some(Ok(Message::Close(_))) | None => Err(Stop),
                        Some(Err(error)) => {
                            tracing::info!(%error, "a live document connection failed");
                            Err(Stop)
                        }
                        Some(Ok(_)) => Ok(()),
                    }
                },
                advanced = advances.recv_where(|payload| payload.starts_with(&ours)) => match advanced {
                    Some(advanced) if advanced.strategy_id == self.id => self.advanced(advanced).await,
                    Some(_) => Ok(()),
                    None => Err(Stop),
                },
                cursor = cursors.recv_where(|payload| payload.starts_with(&ours)) => match cursor {
                    Some(cursor) if cursor.strategy_id == self.id => self.cursor(cursor).await,
                    Some(_) => Ok(()),
                    None => Err(Stop),
                },
                change = changes.recv() => match change {
                    Some(StrategyChanged { user_id, change })
                        if user_id == open.user_id && change.strategy_id == self.id =>
                    {
                        match change.kind {
                            ChangeKind::Deleted => Err(self.close("deleted", "This strategy was deleted.").await),
                            ChangeKind::StatusChanged => {
                                let read_only = change.status.edit_refusal().map(str::to_string);
                                self.send(&ServerFrame::Mode { read_only }).await
                            }
                            ChangeKind::Saved => self.saved(change.version, change.at).await,
                        }
                    }
                    Some(_) => Ok(()),
                    None => Err(Stop),
                },
                signed_out = sign_outs.recv() => match signed_out {
                    Some(SignedOutEverywhere { user_id }) if user_id == open.user_id => {
                        Err(self.close("signed_out", "You signed out everywhere; log in again.").await)
                    }
                    Some(_) => Ok(()),
                    None => Err(Stop),
                },
                ended = sessions_ended.recv() => match ended {
                    Some(SessionEnded { user_id }) if user_id == open.user_id => {
                        match session_deadline(self.state, open).await {
                            Some(until) => { session_ends = until; Ok(()) }
                            None => Err(self.close("signed_out", "Your session has ended; log in again.").await),
                        }
                    }
                    Some(_) => Ok(()),
                    None => Err(Stop),
                },
                () = tokio::time::sleep_until(session_ends) => {
                    match session_deadline(self.state, open).await {
                        Some(until) if until > tokio::time::Instant::now() => { session_ends = until; Ok(()) }
                        _ => Err(self.close("signed_out", "Your session has ended; log in again.").await),
                    }
                },
                _ = pings.tick() => {
                    if last_heard.elapsed() > 2 * bounds.live_ping_every {
                        crate::web::instruments::limit_hit("socket_silent");
                        Err(Stop)
                    } else {
                        self.tick(open).await
                    }
                }
            };
            if step.is_err() {
                break;
            }
        }
    }

    async fn heard(&mut self, open: &Open, text: &str) -> Result<(), Stop> {
        let frame = match ClientFrame::parse(text).and_then(|frame| frame.check().map(|()| frame)) {
            Ok(frame) => frame,
            Err(error) => {
                crate::web::instruments::limit_hit("socket_frame");
                return Err(self.close(error.code(), &error.to_string()).await);
            }
        };
        match frame {
            ClientFrame::Hello { client, v } => self.hello(client, v).await,
            ClientFrame::Ping => self.send(&ServerFrame::Pong).await,
            _ if self.client.is_none() => Err(self
                .close("bad_frame", "The editor must say hello first.")
                .await),
            ClientFrame::Pull { v } => {
                self.have = v;
                self.catch_up().await
            }
            ClientFrame::Push { v, u } if u.len() > MAX_UPDATES_PER_PUSH => {
                let message = format!(
                    "At most {MAX_UPDATES_PER_PUSH} changes can be sent at once; this sent {}.",
                    u.len()
                );
                self.send(&ServerFrame::Refused {
                    code: Refusal::BadChanges,
                    message,
                    v,
                })
                .await
            }
            ClientFrame::Push { v, u } => {
                let client = self.client.clone().unwrap_or_default();
                let started = Instant::now();
                let pushed = authority::push(
                    &self.state.pool,
                    open.user_id,
                    self.id,
                    &client,
                    v,
                    &u,
                    self.known.as_ref(),
                )
                .await;
                let outcome = match &pushed {
                    Ok(Pushed::Accepted { .. }) => "accepted",
                    Ok(Pushed::Behind { .. }) => "behind",
                    Ok(_) => "refused",
                    Err(_) => "failed",
                };
                crate::web::instruments::live_push(outcome, started.elapsed());
                match pushed {
                    // The confirmation comes back as the updates themselves.
                    Ok(Pushed::Accepted { now, .. }) => {
                        self.known = Some(now);
                        Ok(())
                    }
                    Ok(Pushed::Behind { at }) => self.send(&ServerFrame::Behind { v: at }).await,
                    Ok(Pushed::Refused { error, at }) => {
                        self.send(&ServerFrame::refused(&error, at)).await
                    }
                    Ok(Pushed::ReadOnly { reason, at }) => {
                        self.send(&ServerFrame::Refused {
                            code: Refusal::ReadOnly,
                            message: reason.to_string(),
                            v: at,
                        })
                        .await
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a live push failed");
                        Err(self
                            .close(
                                "unavailable",
                                "The document could not be saved; reconnecting.",
                            )
                            .await)
                    }
                }
            }
            ClientFrame::Sel { v, r } => {
                self.last_selection = r.clone();
                self.announce_cursor(v, r, false, false).await;
                Ok(())
            }
        }
    }

    async fn hello(&mut self, client: String, v: Option<u64>) -> Result<(), Stop> {
        let first = self.client.is_none();
        self.client = Some(client);
        match v {
            Some(v) => {
                self.have = v;
                self.catch_up().await?;
                let joined = authority::join(&self.state.pool, self.user, self.id).await;
                if let Ok(joined) = joined {
                    let read_only = joined.read_only.map(str::to_string);
                    self.send(&ServerFrame::Mode { read_only }).await?;
                }
            }
            None => self.whole_document().await?,
        }
        let peers = self.peer_list();
        self.send(&ServerFrame::Peers {
            peers,
            you: Some(self.label.clone()),
        })
        .await?;
        if first {
            self.announce_cursor(self.have, Vec::new(), true, false)
                .await;
        }
        Ok(())
    }

    async fn whole_document(&mut self) -> Result<(), Stop> {
        match authority::join(&self.state.pool, self.user, self.id).await {
            Ok(joined) => {
                self.have = joined.version;
                self.known = Some(Document {
                    version: joined.version,
                    text: joined.text.clone(),
                    notation: joined.notation,
                });
                self.send(&ServerFrame::Doc {
                    v: joined.version,
                    text: joined.text,
                    format: joined.notation,
                    saved: SavedVersion {
                        version: u64::try_from(joined.saved_version).unwrap_or_default(),
                        live: Some(joined.saved_live_version),
                    },
                    read_only: joined.read_only.map(str::to_string),
                })
                .await
            }
            Err(crate::error::AppError::NotFound) => {
                Err(self.close("deleted", "This strategy was deleted.").await)
            }
            Err(error) => {
                tracing::warn!(%error, "could not read a live document");
                Err(self
                    .close(
                        "unavailable",
                        "The document could not be read; reconnecting.",
                    )
                    .await)
            }
        }
    }

    /// Sends every update after `have`, or the whole document when the log no longer reaches
    /// back that far.
    async fn catch_up(&mut self) -> Result<(), Stop> {
        loop {
            let from = self.have;
            match authority::updates_since(&self.state.pool, self.id, from).await {
                Ok(Some(updates)) if updates.is_empty() => return Ok(()),
                Ok(Some(updates)) => {
                    let more = updates.len() as i64 == authority::CATCH_UP_BATCH;
                    self.follow(from, &updates);
                    self.have = from + updates.len() as u64;
                    crate::web::instruments::notice_sent();
                    self.send(&ServerFrame::Updates { from, u: updates })
                        .await?;
                    if !more {
                        return Ok(());
                    }
                }
                Ok(None) => return self.whole_document().await,
                Err(error) => {
                    tracing::warn!(%error, "could not catch a live document up");
                    return Err(self
                        .close(
                            "unavailable",
                            "The document could not be read; reconnecting.",
                        )
                        .await);
                }
            }
        }
    }

    async fn advanced(&mut self, advanced: LiveDocAdvanced) -> Result<(), Stop> {
        if self.client.is_none() || advanced.to <= self.have {
            return Ok(());
        }
        match advanced.updates {
            Some(updates) if advanced.from == self.have => {
                self.follow(advanced.from, &updates);
                self.have = advanced.to;
                crate::web::instruments::notice_sent();
                self.send(&ServerFrame::Updates {
                    from: advanced.from,
                    u: updates,
                })
                .await
            }
            // Too large to travel in the notice, or a notice was missed: read the log.
            _ => self.catch_up().await,
        }
    }

    /// Keeps `known` up with updates relayed from version `from` on (already past them after
    /// this socket's own push).
    fn follow(&mut self, from: u64, updates: &[ServedUpdate]) {
        if let Some(known) = &mut self.known {
            let past = known.version >= from + updates.len() as u64;
            if !past && !known.follow(from, updates) {
                self.known = None;
            }
        }
    }

    async fn cursor(&mut self, cursor: CursorMoved) -> Result<(), Stop> {
        let own = self.client.as_deref();
        if own.is_none() || own == Some(cursor.client.as_str()) {
            return Ok(());
        }
        if cursor.gone {
            if self.peers.remove(&cursor.client).is_some() {
                self.send(&ServerFrame::Gone {
                    client: cursor.client,
                })
                .await?;
            }
            return Ok(());
        }
        let peer = Peer {
            client: cursor.client.clone(),
            label: cursor.label.clone(),
            hue: cursor.hue,
        };
        let new = self
            .peers
            .insert(cursor.client.clone(), (peer, Instant::now()))
            .is_none();
        if new {
            let peers = self.peer_list();
            self.send(&ServerFrame::Peers {
                peers,
                you: Some(self.label.clone()),
            })
            .await?;
        }
        if cursor.hello {
            // A newcomer: say where this editor is, so it sees every peer at once.
            let selection = self.last_selection.clone();
            self.announce_cursor(self.have, selection, false, false)
                .await;
        }
        if !cursor.r.is_empty() {
            self.send(&ServerFrame::Sel {
                client: cursor.client,
                label: cursor.label,
                hue: cursor.hue,
                v: cursor.v,
                r: cursor.r,
            })
            .await?;
        }
        Ok(())
    }

    async fn saved(&mut self, version: i32, at: chrono::DateTime<chrono::Utc>) -> Result<(), Stop> {
        if self.client.is_none() {
            return Ok(());
        }
        let live = authority::current_version(&self.state.pool, self.id)
            .await
            .ok()
            .flatten()
            .unwrap_or(self.have);
        self.send(&ServerFrame::Saved {
            version: u64::try_from(version).unwrap_or_default(),
            live,
            at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            by: "you".into(),
        })
        .await
    }

    /// Every ping interval: a ping, the connection still counted, silent peers gone, and the
    /// document's version asked for (a notice this copy missed is caught up here).
    async fn tick(&mut self, open: &Open) -> Result<(), Stop> {
        self.socket
            .send(Message::Ping(Vec::new().into()))
            .await
            .map_err(|_| Stop)?;
        if let Err(error) = live_connections::still_open(&self.state.pool, open.connection).await {
            tracing::warn!(%error, "could not refresh a live connection");
        }
        let silent: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, (_, heard))| heard.elapsed() > PEER_SILENCE)
            .map(|(client, _)| client.clone())
            .collect();
        for client in silent {
            self.peers.remove(&client);
            self.send(&ServerFrame::Gone { client }).await?;
        }
        if self.client.is_some() {
            if let Ok(Some(at)) = authority::current_version(&self.state.pool, self.id).await {
                if at > self.have {
                    self.catch_up().await?;
                }
            }
            // Peers keep this editor's cursor alive even while it does not move.
            let selection = self.last_selection.clone();
            self.announce_cursor(self.have, selection, false, false)
                .await;
        }
        Ok(())
    }

    fn peer_list(&self) -> Vec<Peer> {
        let mut peers: Vec<Peer> = self.peers.values().map(|(peer, _)| peer.clone()).collect();
        peers.sort_by(|a, b| a.client.cmp(&b.client));
        peers
    }

    async fn announce_cursor(&mut self, v: u64, r: Vec<SelectionRange>, hello: bool, gone: bool) {
        let Some(client) = self.client.clone() else {
            return;
        };
        let event = CursorMoved {
            strategy_id: self.id,
            hue: hue_of(&client),
            client,
            label: self.label.clone(),
            v,
            r,
            hello,
            gone,
        };
        if let Err(error) = realtime::publish(&self.state.pool, &event).await {
            tracing::warn!(%error, "could not announce a cursor");
        }
    }

    /// Tells the other editors this one left.
    async fn leave(&mut self) {
        self.announce_cursor(self.have, Vec::new(), false, true)
            .await;
    }
}
