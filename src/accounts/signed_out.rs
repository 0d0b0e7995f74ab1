//! "User X was signed out everywhere": announced through Postgres `NOTIFY` when a password
//! changes or is reset, and re-broadcast inside each server, so that the realtime feature can
//! close that user's websockets on every copy of the server.

use std::time::Duration;

use sqlx::{postgres::PgListener, PgPool};
use tokio::sync::broadcast;
use uuid::Uuid;

/// The `NOTIFY` channel; the payload is the user id.
pub const CHANNEL: &str = "user_signed_out";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedOutEverywhere {
    pub user_id: Uuid,
}

pub fn channel() -> broadcast::Sender<SignedOutEverywhere> {
    broadcast::channel(256).0
}

/// Listens for `NOTIFY` on `CHANNEL` and re-broadcasts; reconnects after a lost connection.
pub async fn relay(
    pool: PgPool,
    sender: broadcast::Sender<SignedOutEverywhere>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for sign-outs; retrying");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "cannot listen for sign-outs; retrying");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        loop {
            match listener.recv().await {
                Ok(notification) => match notification.payload().parse::<Uuid>() {
                    Ok(user_id) => {
                        // No subscriber (no open websocket) is fine.
                        let _ = sender.send(SignedOutEverywhere { user_id });
                    }
                    Err(_) => tracing::warn!("a sign-out notice without a user id"),
                },
                Err(error) => {
                    tracing::warn!(%error, "lost the sign-out listener; reconnecting");
                    break;
                }
            }
        }
    }
}
