//! `GET /strategies/live`: the websocket that tells a signed-in user's open pages about
//! changes to their own strategies and their backtests, committed through any copy of the
//! server, and how many editors have the strategy a page shows open. The upgrade checks the
//! session and the Origin; each event is filtered to its owner; a sign-out everywhere
//! (password change or reset) closes the socket.

use std::time::Duration;

use axum::{
    extract::{
        ws::{Message, WebSocket},
        State, WebSocketUpgrade,
    },
    http::{header::ORIGIN, HeaderMap},
    response::{IntoResponse, Response},
};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    events::{BacktestChanged, PresenceChanged, StrategyChanged},
    presence,
};
use crate::{
    accounts::ssr::{events::SignedOutEverywhere, sessions},
    error::AppError,
    realtime::{self, Subscription},
    state::AppState,
    strategies::{LiveMessage, WatchRequest},
};

/// How often an idle socket is pinged, so that a dead peer is noticed and dropped.
const PING_EVERY: Duration = Duration::from_secs(30);

/// `scheme://host[:port]` of a URL, for comparing origins.
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

pub async fn upgrade(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    socket: WebSocketUpgrade,
) -> Response {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let ours = origin_of(&state.settings.public_url);
    if origin.and_then(origin_of).is_none() || origin.and_then(origin_of) != ours {
        return AppError::Forbidden {
            message: "This connection came from another site, so it was refused.".into(),
        }
        .into_response();
    }
    let user_id = match sessions::current_user(&session, &state.pool).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return AppError::Unauthenticated.into_response(),
        Err(error) => return error.into_response(),
    };
    // Subscribed before the upgrade answers, so nothing committed afterwards is missed.
    let subscriptions = Subscriptions {
        changes: state.realtime.subscribe(),
        presence: state.realtime.subscribe(),
        backtests: state.realtime.subscribe(),
        sign_outs: state.realtime.subscribe(),
    };
    socket.on_upgrade(move |socket| relay(socket, state, user_id, subscriptions))
}

struct Subscriptions {
    changes: Subscription<StrategyChanged>,
    presence: Subscription<PresenceChanged>,
    backtests: Subscription<BacktestChanged>,
    sign_outs: Subscription<SignedOutEverywhere>,
}

async fn send(socket: &mut WebSocket, message: &LiveMessage) -> bool {
    let text = serde_json::to_string(message).unwrap_or_default();
    crate::web::metrics::notice_sent();
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// Records what this connection shows and tells every server that the counts changed.
async fn watch(state: &AppState, connection: Uuid, user_id: Uuid, strategy: Option<Uuid>) {
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

async fn relay(
    mut socket: WebSocket,
    state: AppState,
    user_id: Uuid,
    subscriptions: Subscriptions,
) {
    let Subscriptions {
        mut changes,
        mut presence,
        mut backtests,
        mut sign_outs,
    } = subscriptions;
    let _open = crate::web::metrics::OpenWebsocket::opened();
    let connection = Uuid::new_v4();
    let mut watching: Option<Uuid> = None;
    let mut pings = tokio::time::interval(PING_EVERY);
    pings.tick().await;
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                // The page says which strategy its editor shows.
                Some(Ok(Message::Text(text))) => {
                    if let Ok(WatchRequest { watch: wanted }) = serde_json::from_str(&text) {
                        watching = wanted;
                        watch(&state, connection, user_id, wanted).await;
                    }
                }
                Some(Ok(_)) => {}
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
            _ = pings.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
                if let Err(error) = presence::still_here(&state.pool, connection).await {
                    tracing::warn!(%error, "could not refresh presence");
                }
            }
        }
    }
    if watching.is_some() {
        watch(&state, connection, user_id, None).await;
    }
}
