//! `GET /strategies/live`: the websocket that tells a signed-in user's open pages about
//! changes to their own strategies, committed through any copy of the server. The upgrade
//! checks the session and the Origin; each event is filtered to its owner; a sign-out
//! everywhere (password change or reset) closes the socket.

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

use super::events::StrategyChanged;
use crate::{
    accounts::ssr::{events::SignedOutEverywhere, sessions},
    error::AppError,
    realtime::Subscription,
    state::AppState,
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
    let changes = state.realtime.subscribe::<StrategyChanged>();
    let sign_outs = state.realtime.subscribe::<SignedOutEverywhere>();
    socket.on_upgrade(move |socket| relay(socket, user_id, changes, sign_outs))
}

async fn relay(
    mut socket: WebSocket,
    user_id: Uuid,
    mut changes: Subscription<StrategyChanged>,
    mut sign_outs: Subscription<SignedOutEverywhere>,
) {
    let mut pings = tokio::time::interval(PING_EVERY);
    pings.tick().await;
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                // The page sends nothing but pings and the close; pongs are automatic.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            change = changes.recv() => match change {
                Some(StrategyChanged { user_id: owner, change }) if owner == user_id => {
                    let text = serde_json::to_string(&change).unwrap_or_default();
                    if socket.send(Message::Text(text.into())).await.is_err() {
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
            }
        }
    }
}
