//! `GET /strategies/live`: the websocket that tells a signed-in user's open pages about
//! changes to their own strategies and their backtests, committed through any copy of the
//! server, and how many editors have the strategy a page shows open. The upgrade checks the
//! session and the Origin; each event is filtered to its owner.
//!
//! Every socket is bounded: a user holds at most `LIVE_SOCKETS_PER_USER` across every server
//! (the next upgrade is refused with 429 and a sentence); a message over 64 KiB, or more
//! messages than `LIVE_MESSAGES_PER_SECOND` allows, closes it (1009, 1008, with the reason);
//! a peer that answered no ping for two intervals is dropped; and the socket closes as soon as
//! its session ends for any reason (log-out, revoked, a password change, expiry): on the
//! database's `SessionEnded` notice, on every server, and at the session's own expiry.

use crate::strategies::StrategyId;
use std::time::{Duration, Instant};

use axum::{
    extract::{
        ws::{close_code, CloseFrame, Message, WebSocket},
        State, WebSocketUpgrade,
    },
    http::{header::ORIGIN, HeaderMap},
    response::{IntoResponse, Response},
};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    events::{BacktestChanged, PresenceChanged, StrategyChanged},
    live_connections, presence,
};
use crate::accounts::UserId;
use crate::{
    accounts::ssr::{
        events::{SessionEnded, SignedOutEverywhere},
        sessions::{self, HeldSession},
    },
    error::AppError,
    realtime::{self, Subscription},
    state::AppState,
    strategies::{LiveMessage, WatchRequest},
    web::server_context::origin_of,
};

/// The largest message a page may send (it sends only which strategy it shows).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

pub async fn upgrade(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    socket: WebSocketUpgrade,
) -> Response {
    let open = match admit(&state, &session, &headers).await {
        Ok(open) => open,
        Err(refused) => return refused,
    };
    // Subscribed before the upgrade answers, so nothing committed afterwards is missed.
    let subscriptions = Subscriptions {
        changes: state.realtime.subscribe(),
        presence: state.realtime.subscribe(),
        backtests: state.realtime.subscribe(),
        sign_outs: state.realtime.subscribe(),
        sessions_ended: state.realtime.subscribe(),
    };
    socket
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            relay(socket, &state, &open, subscriptions).await;
            if let Err(error) = live_connections::close(&state.pool, open.connection).await {
                tracing::warn!(%error, "could not forget a closed live connection");
            }
        })
}

/// Who a socket serves.
pub(super) struct Open {
    pub connection: Uuid,
    pub user_id: UserId,
    pub session: HeldSession,
}

/// The checks every live socket passes before its upgrade: the page's Origin is ours, the
/// session is signed in, and the user holds fewer live sockets (on every server) than the
/// bound allows; the socket is then counted as open (`live_connections::close` forgets it).
pub(super) async fn admit(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
) -> Result<Open, Response> {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let ours = origin_of(&state.settings.public_url);
    if origin.and_then(origin_of).is_none() || origin.and_then(origin_of) != ours {
        return Err(AppError::Forbidden {
            message: "This connection came from another site, so it was refused.".into(),
        }
        .into_response());
    }
    let user_id = match sessions::current_user(session, &state.pool).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return Err(AppError::Unauthenticated.into_response()),
        Err(error) => return Err(error.into_response()),
    };
    let Some(held) = sessions::held(session).await else {
        return Err(AppError::Unauthenticated.into_response());
    };
    let bounds = state.settings.bounds;
    let connection = Uuid::new_v4();
    match live_connections::open(
        &state.pool,
        connection,
        user_id,
        bounds.live_sockets_per_user,
    )
    .await
    {
        Ok(true) => Ok(Open {
            connection,
            user_id,
            session: held,
        }),
        Ok(false) => {
            crate::web::instruments::limit_hit("sockets_per_user");
            Err(AppError::LimitReached {
                message: format!(
                    "{} pages of yours already get live updates, the most one account may \
                     have; close some of them to get live updates here.",
                    bounds.live_sockets_per_user
                ),
            }
            .into_response())
        }
        Err(error) => Err(error.into_response()),
    }
}

struct Subscriptions {
    changes: Subscription<StrategyChanged>,
    presence: Subscription<PresenceChanged>,
    backtests: Subscription<BacktestChanged>,
    sign_outs: Subscription<SignedOutEverywhere>,
    sessions_ended: Subscription<SessionEnded>,
}

async fn send(socket: &mut WebSocket, message: &LiveMessage) -> bool {
    let text = serde_json::to_string(message).unwrap_or_default();
    crate::web::instruments::notice_sent();
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// Records what this connection shows and tells every server that the counts changed.
async fn watch(state: &AppState, connection: Uuid, user_id: UserId, strategy: Option<StrategyId>) {
    match presence::watch(&state.pool, connection, user_id, strategy).await {
        Ok(before) => {
            for strategy_id in [before, strategy].into_iter().flatten() {
                let event = PresenceChanged {
                    user_id,
                    strategy_id,
                };
                if let Err(error) = realtime::publish(&state.pool, &event).await {
                    tracing::warn!(%error, "could not announce a presence change");
                }
            }
        }
        Err(error) => tracing::warn!(%error, "could not record presence"),
    }
}

/// Messages a page may send: `rate` a second on average, in bursts of up to four times that.
pub(super) struct MessageBudget {
    tokens: f64,
    rate: f64,
    last: Instant,
}

impl MessageBudget {
    pub(super) fn new(rate: u32) -> Self {
        let rate = f64::from(rate);
        MessageBudget {
            tokens: 4.0 * rate,
            rate,
            last: Instant::now(),
        }
    }

    /// Takes one message from the budget; false when it is spent.
    pub(super) fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(4.0 * self.rate);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Closes the socket with a code and a reason the page can read.
pub(super) async fn close_with(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Until when the socket's session lives, or `None` once it has ended (or cannot be asked).
pub(super) async fn session_deadline(
    state: &AppState,
    open: &Open,
) -> Option<tokio::time::Instant> {
    match sessions::alive_until(&state.pool, &open.session).await {
        Ok(Some(until)) => {
            let left = (until - chrono::Utc::now()).to_std().unwrap_or_default();
            Some(tokio::time::Instant::now() + left)
        }
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%error, "could not ask whether a live connection's session lives");
            // Asked again at the next ping rather than dropped for a database hiccup.
            Some(tokio::time::Instant::now() + Duration::from_secs(5))
        }
    }
}

async fn relay(mut socket: WebSocket, state: &AppState, open: &Open, subscriptions: Subscriptions) {
    let Subscriptions {
        mut changes,
        mut presence,
        mut backtests,
        mut sign_outs,
        mut sessions_ended,
    } = subscriptions;
    let user_id = open.user_id;
    let bounds = state.settings.bounds;
    let _open = crate::web::instruments::OpenWebsocket::opened();
    let connection = open.connection;
    let mut watching: Option<StrategyId> = None;
    let mut budget = MessageBudget::new(bounds.live_messages_per_second);
    let mut pings = tokio::time::interval(bounds.live_ping_every);
    pings.tick().await;
    let mut last_heard = Instant::now();
    let Some(mut session_ends) = session_deadline(state, open).await else {
        close_with(
            &mut socket,
            close_code::POLICY,
            "Your session has ended; log in again.",
        )
        .await;
        return;
    };
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(error)) => {
                        // The one error a page can cause on purpose: a message over the limit.
                        if error.to_string().contains("too long") || error.to_string().contains("Space limit") {
                            crate::web::instruments::limit_hit("socket_frame");
                        }
                        tracing::info!(%error, "a live connection failed");
                        break;
                    }
                    Some(Ok(message)) if !budget.take() => {
                        drop(message);
                        crate::web::instruments::limit_hit("socket_rate");
                        close_with(
                            &mut socket,
                            close_code::POLICY,
                            &format!(
                                "Too many messages: at most {} a second.",
                                bounds.live_messages_per_second
                            ),
                        )
                        .await;
                        break;
                    }
                    // The page says which strategy its editor shows.
                    Some(Ok(Message::Text(text))) => {
                        if let Ok(WatchRequest { watch: wanted }) = serde_json::from_str(&text) {
                            if wanted != watching {
                                watching = wanted;
                                watch(state, connection, user_id, wanted).await;
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                }
            },
            change = changes.recv() => match change {
                Some(StrategyChanged { user_id: owner, change }) if owner == user_id => {
                    if !send(&mut socket, &LiveMessage::Changed(change)).await {
                        break;
                    }
                }
                Some(_) => {}
                None => break,
            },
            run = backtests.recv() => match run {
                Some(BacktestChanged { user_id: owner, change }) if owner == user_id => {
                    if !send(&mut socket, &LiveMessage::Backtest(change)).await {
                        break;
                    }
                }
                Some(_) => {}
                None => break,
            },
            moved = presence.recv() => match moved {
                Some(PresenceChanged { user_id: owner, strategy_id })
                    if owner == user_id && watching == Some(strategy_id) =>
                {
                    let open = presence::open_count(&state.pool, user_id, strategy_id)
                        .await
                        .unwrap_or(1);
                    if !send(&mut socket, &LiveMessage::Presence { strategy_id, open }).await {
                        break;
                    }
                }
                Some(_) => {}
                None => break,
            },
            signed_out = sign_outs.recv() => match signed_out {
                Some(SignedOutEverywhere { user_id: gone }) if gone == user_id => {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
                Some(_) => {}
                None => break,
            },
            ended = sessions_ended.recv() => match ended {
                Some(SessionEnded { user_id: owner }) if owner == user_id => {
                    match session_deadline(state, open).await {
                        Some(until) => session_ends = until,
                        None => {
                            close_with(&mut socket, close_code::POLICY, "Your session has ended; log in again.").await;
                            break;
                        }
                    }
                }
                Some(_) => {}
                None => break,
            },
            () = tokio::time::sleep_until(session_ends) => {
                // Its expiry may have moved on since (another page of the session was used).
                match session_deadline(state, open).await {
                    Some(until) if until > tokio::time::Instant::now() => session_ends = until,
                    _ => {
                        close_with(&mut socket, close_code::POLICY, "Your session has ended; log in again.").await;
                        break;
                    }
                }
            },
            _ = pings.tick() => {
                if last_heard.elapsed() > 2 * bounds.live_ping_every {
                    crate::web::instruments::limit_hit("socket_silent");
                    tracing::info!("a live connection answered no ping; dropped");
                    break;
                }
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
                for refreshed in [
                    presence::still_here(&state.pool, connection).await,
                    live_connections::still_open(&state.pool, connection).await,
                ] {
                    if let Err(error) = refreshed {
                        tracing::warn!(%error, "could not refresh a live connection");
                    }
                }
            }
        }
    }
    if watching.is_some() {
        watch(state, connection, user_id, None).await;
    }
}
