//! `GET /metrics` in Prometheus text: the recorder behind `web::instruments`, what is sampled when
//! the metrics are read (the pool, the backtest queue), and who may read them. On the public
//! address only with `Authorization: Bearer $METRICS_TOKEN` (compared in constant time; 404
//! when no token is set); on `METRICS_ADDR`, a listener of its own, with the token if one is
//! set.

use std::{net::SocketAddr, sync::OnceLock, time::Duration};

use anyhow::Context;
use axum::{
    extract::State,
    http::{
        header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE},
        HeaderMap, StatusCode,
    },
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{error::AppError, state::AppState, web::instruments as names};

/// The process's recorder, installed on first use. The `metrics` facade keeps one recorder
/// per process (as tracing keeps one subscriber), so every router of this process (the
/// tests start many) reads the same one.
pub fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(names::HTTP_REQUEST_DURATION.to_string()),
                    names::LATENCY_BUCKETS,
                )
                .expect("the latency buckets are not empty")
                .set_buckets_for_metric(
                    Matcher::Full(names::LIVE_PUSH_DURATION.to_string()),
                    names::LATENCY_BUCKETS,
                )
                .expect("the latency buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "another metrics recorder was installed first; /metrics stays empty"
                );
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        names::HTTP_REQUESTS,
        "Requests answered, by route pattern, method and status."
    );
    describe_histogram!(
        names::HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer a request, by route pattern."
    );
    describe_gauge!(
        names::POOL_CONNECTIONS,
        "Database connections open in this process's pool."
    );
    describe_gauge!(
        names::POOL_CONNECTIONS_IN_USE,
        "Database connections lent out to requests and tasks."
    );
    describe_gauge!(names::POOL_MAX_CONNECTIONS, "The pool's limit (POOL_SIZE).");
    describe_counter!(names::VALIDATIONS, "Keystroke validations run.");
    describe_counter!(names::AUTOSAVES, "Working copies stored by autosave.");
    describe_counter!(names::SAVES, "Strategy versions committed.");
    describe_counter!(
        names::CONFLICTS,
        "Saves refused because the strategy changed elsewhere first."
    );
    describe_counter!(
        names::NOTICES_SENT,
        "Live messages (changes, presence counts) sent to open pages."
    );
    describe_gauge!(names::OPEN_WEBSOCKETS, "Websockets open on this process.");
    describe_counter!(
        names::LIVE_PUSHES,
        "Typed changes pushed into live documents, by outcome (accepted, behind, refused)."
    );
    describe_histogram!(
        names::LIVE_PUSH_DURATION,
        Unit::Seconds,
        "Time of a live push's transaction."
    );
    describe_gauge!(
        names::BACKTESTS_QUEUED,
        "Backtests waiting to run, across every server."
    );
    describe_gauge!(
        names::BACKTESTS_RUNNING,
        "Backtests running, across every server."
    );
    describe_counter!(names::MAIL_SENT, "Mail handed to the SMTP server.");
    describe_counter!(
        names::MAIL_FAILED,
        "Mail attempts that failed (retried later, or given up)."
    );
}

/// Drains the histograms' buffers now and then, so that their memory stays bounded between
/// scrapes.
pub fn spawn_upkeep() {
    let handle = recorder();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    });
}

/// `/metrics` on the public address (needs the token; absent without one).
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(public_metrics))
}

async fn public_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.settings.metrics_token {
        None => AppError::NotFound.into_response(),
        Some(token) if !bearer_matches(&headers, token.expose()) => refusal(),
        Some(_) => exposition(&state).await,
    }
}

async fn private_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.settings.metrics_token {
        Some(token) if !bearer_matches(&headers, token.expose()) => refusal(),
        _ => exposition(&state).await,
    }
}

fn refusal() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, "Bearer")],
        "The metrics need the token: send Authorization: Bearer <METRICS_TOKEN>.\n",
    )
        .into_response()
}

/// Compares digests of the two values in constant time, so neither the content nor the
/// length of the token leaks through timing.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let given = Sha256::digest(given.trim().as_bytes());
    let expected = Sha256::digest(token.as_bytes());
    given.ct_eq(&expected).into()
}

async fn exposition(state: &AppState) -> Response {
    sample(state).await;
    let handle = recorder();
    handle.run_upkeep();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}

/// What is read when the metrics are: the pool now, and the backtest queue.
async fn sample(state: &AppState) {
    let open = state.pool.size();
    let idle = u32::try_from(state.pool.num_idle()).unwrap_or(u32::MAX);
    metrics::gauge!(names::POOL_CONNECTIONS).set(f64::from(open));
    metrics::gauge!(names::POOL_CONNECTIONS_IN_USE).set(f64::from(open.saturating_sub(idle)));
    metrics::gauge!(names::POOL_MAX_CONNECTIONS).set(f64::from(state.settings.pool_size));
    match crate::strategies::ssr::queue_depth(&state.pool).await {
        Ok((queued, running)) => crate::web::instruments::backtest_queue(queued, running),
        Err(error) => tracing::warn!(%error, "could not count the backtest queue"),
    }
}

/// Serves only `/metrics` on `address` until the process ends.
pub async fn serve_separately(state: AppState, address: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on METRICS_ADDR {address}"))?;
    tracing::info!(%address, "serving /metrics");
    let app = Router::new()
        .route("/metrics", get(private_metrics))
        .with_state(state);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let token = "t".repeat(32);
        assert!(bearer_matches(
            &with_authorization(&format!("Bearer {token}")),
            &token
        ));
        assert!(!bearer_matches(
            &with_authorization(&format!("Bearer {token}x")),
            &token
        ));
        assert!(!bearer_matches(
            &with_authorization(&format!("Basic {token}")),
            &token
        ));
        assert!(!bearer_matches(&HeaderMap::new(), &token));
    }
}
