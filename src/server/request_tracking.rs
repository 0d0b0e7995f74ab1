//! A request id on every request: taken from `x-request-id` only when the peer is one of the
//! `TRUSTED_PROXIES` and the id is short and printable, otherwise generated (a client cannot
//! choose the id its log lines carry); echoed in the response, carried by the request's tracing
//! span (so every log line of the request has it) and readable by the code that handles it
//! (`request_id::current`). The same middleware counts and times each request under its route
//! pattern for `/metrics`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use crate::request_id::{self, HEADER};

fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// How much of a method a log line shows: every real method is shorter.
const LOGGED_METHOD_LENGTH: usize = 16;

pub async fn track(
    State(trusted): State<std::sync::Arc<[crate::config::IpRange]>>,
    mut request: Request,
    next: Next,
) -> Response {
    let from_trusted_proxy = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| trusted.iter().any(|range| range.contains(peer.ip())));
    let id = request
        .headers()
        .get(HEADER)
        .filter(|_| from_trusted_proxy)
        .and_then(|v| v.to_str().ok())
        .filter(|id| acceptable(id))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(HEADER, value);
    }
    // The route pattern, never the raw path: paths can carry tokens (`/users/confirm/:token`).
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().clone();
    let logged_method: String = method.as_str().chars().take(LOGGED_METHOD_LENGTH).collect();
    let span = tracing::info_span!("request", request_id = %id, method = %logged_method, %route);
    let started = Instant::now();
    let mut response =
        request_id::within(id.clone(), next.run(request).instrument(span.clone())).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    crate::web::instruments::request_answered(&route, method.as_str(), status, elapsed);
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request finished");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
