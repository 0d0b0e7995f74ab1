//! The process's one Postgres listener: it `LISTEN`s to every declared channel, reconnects by
//! itself after a lost connection, and re-broadcasts each payload to the subscribers of its
//! channel inside this process.

use std::{collections::HashMap, marker::PhantomData, sync::Arc, time::Duration};

use sqlx::{postgres::PgListener, PgExecutor, PgPool};
use tokio::sync::broadcast;

use super::RealtimeEvent;

/// Payloads kept for a slow subscriber before it starts missing them (it is told how many).
const BACKLOG: usize = 1024;
const RECONNECT_DELAY: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct RealtimeHub {
    channels: Arc<HashMap<&'static str, broadcast::Sender<Arc<str>>>>,
}

impl RealtimeHub {
    /// A hub for these channels; nothing is heard until [`RealtimeHub::listen`] runs.
    pub fn new(channels: &[&'static str]) -> Self {
        let channels = channels
            .iter()
            .map(|name| (*name, broadcast::channel(BACKLOG).0))
            .collect();
        RealtimeHub {
            channels: Arc::new(channels),
        }
    }

    /// Everything published as `E` from now on, by any process.
    ///
    /// # Panics
    /// When `E`'s channel was not declared to [`RealtimeHub::new`]: a wiring mistake that
    /// every test of the feature would show at once.
    pub fn subscribe<E: RealtimeEvent>(&self) -> Subscription<E> {
        let sender = self.channels.get(E::CHANNEL).unwrap_or_else(|| {
            panic!(
                "the realtime channel `{}` is not declared by the server",
                E::CHANNEL
            )
        });
        Subscription {
            receiver: sender.subscribe(),
            event: PhantomData,
        }
    }

    /// Starts the listener task and returns once it listens, so that nothing published
    /// afterwards is missed (or after 10 seconds without a database, still retrying).
    pub async fn listen(&self, pool: PgPool) {
        let (ready, listening) = tokio::sync::oneshot::channel();
        tokio::spawn(relay(pool, self.channels.clone(), ready));
        let _ = tokio::time::timeout(Duration::from_secs(10), listening).await;
    }
}

/// Announces `event` to every process; inside a transaction it is delivered on commit.
pub async fn publish<'e, E: RealtimeEvent>(
    executor: impl PgExecutor<'e>,
    event: &E,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT pg_notify($1, $2::text)",
        E::CHANNEL,
        event.to_payload()
    )
    .execute(executor)
    .await?;
    Ok(())
}

pub struct Subscription<E> {
    receiver: broadcast::Receiver<Arc<str>>,
    event: PhantomData<fn() -> E>,
}

impl<E: RealtimeEvent> Subscription<E> {
    /// The next event, or `None` once the hub is gone. Unreadable payloads are skipped.
    pub async fn recv(&mut self) -> Option<E> {
        self.recv_where(|_| true).await
    }

    /// The next event whose payload `wanted` accepts, or `None` once the hub is gone. Payloads
    /// it refuses are never read: a subscriber that wants one key of a busy channel (an editor,
    /// its strategy's live document) skips the others without parsing each one.
    pub async fn recv_where(&mut self, wanted: impl Fn(&str) -> bool) -> Option<E> {
        loop {
            match self.receiver.recv().await {
                Ok(payload) if !wanted(&payload) => {}
                Ok(payload) => match E::from_payload(&payload) {
                    Some(event) => return Some(event),
                    None => tracing::warn!(channel = E::CHANNEL, "an unreadable realtime payload"),
                },
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(channel = E::CHANNEL, missed, "a subscriber fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

async fn relay(
    pool: PgPool,
    channels: Arc<HashMap<&'static str, broadcast::Sender<Arc<str>>>>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let names: Vec<&str> = channels.keys().copied().collect();
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen_all(names.iter().copied()).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match listening.await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for realtime events; retrying");
                tokio::time::sleep(RECONNECT_DELAY).await;
                continue;
            }
        };
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    if let Some(sender) = channels.get(notification.channel()) {
                        // No subscriber is fine.
                        let _ = sender.send(Arc::from(notification.payload()));
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "lost the realtime listener; reconnecting");
                    break;
                }
            }
        }
    }
}
