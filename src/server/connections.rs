//! Accepting connections: HTTP/1.1 with upgrades (the live websocket), the client's address
//! for each request (`ConnectInfo`), a limit on how long a request's headers may take to
//! arrive (a client that trickles them cannot hold a connection open), and a graceful stop
//! that lets the requests in flight finish.

use std::{future::Future, time::Duration};

use axum::{body::Body, extract::ConnectInfo, Router};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt;

/// Serves `app` on `listener` until `stop` completes, then waits for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    // Every connection holds a receiver; once all are dropped, the last one has finished.
    let (all_closed, connection_alive) = watch::channel(());
    let (stopping, _) = watch::channel(false);
    tokio::pin!(stop);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |request: axum::http::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(client));
                request
            });
        let mut stop_requested = stopping.subscribe();
        let alive = connection_alive.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades();
            tokio::pin!(connection);
            let mut stopped = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::debug!(%error, %client, "connection ended with an error");
                        }
                        break;
                    }
                    changed = stop_requested.changed(), if !stopped => {
                        stopped = true;
                        if changed.is_ok() {
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            drop(alive);
        });
    }
    drop(listener);
    drop(connection_alive);
    stopping.send_replace(true);
    all_closed.closed().await;
}
