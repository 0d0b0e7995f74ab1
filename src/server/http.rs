//! The HTTP stack: routes (Leptos pages and server functions, `/health`, static files), the
//! layers every request passes through, and serving with graceful shutdown.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    extract::{Request, State},
    handler::Handler,
    http::{header::CONTENT_LENGTH, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use http_body_util::Limited;
use leptos::{config::LeptosOptions, prelude::provide_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use serde_json::json;
use sqlx::PgPool;

use super::{database, request_security, request_tracking, static_files};
use crate::{
    accounts,
    app::{shell, App},
    config::Settings,
    market_data,
    state::AppState,
    strategies,
};

/// Every request body is capped; a strategy document is at most 256 KiB, and form encoding
/// can roughly triple it.
pub const MAX_REQUEST_BODY_BYTES: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    super::prometheus::recorder();
    Router::new()
        .route(
            "/health",
            get(health).with_state(health_connection(&state.pool)),
        )
        .merge(super::prometheus::routes())
        .merge(accounts::ssr::routes(&state))
        .merge(strategies::ssr::routes())
        .merge(market_data::ssr::routes())
        .leptos_routes_with_context(&state, routes, provide_state(state.clone()), move || {
            shell(options.clone())
        })
        .fallback_service(static_files::service(
            static_files::Site::of(&state.leptos_options),
            leptos_axum::file_and_error_handler_with_context::<AppState, _>(
                provide_state(state.clone()),
                shell,
            )
            .with_state(state.clone()),
        ))
        // Innermost first: pages check who may see them with the session, which the session
        // layer loads; the origin check refuses before any session is touched; every answer,
        // refusals included, gets the security headers.
        .layer(middleware::from_fn_with_state(
            accounts::ssr::PageGuard {
                state: state.clone(),
                rules: super::page_rules().into(),
            },
            accounts::ssr::guard_pages,
        ))
        .layer(accounts::ssr::session_layer(
            state.pool.clone(),
            &state.settings,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_security::require_same_origin,
        ))
        .layer(middleware::from_fn(form_post_refusal_page))
        .layer(middleware::from_fn(limit_request_bodies))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_security::add_security_headers,
        ))
        .layer(middleware::from_fn(static_files::uncached_unless_said))
        .layer(middleware::from_fn_with_state(
            state.settings.limits.request,
            answer_within,
        ))
        .layer(middleware::from_fn_with_state(
            std::sync::Arc::<[crate::config::IpRange]>::from(
                state.settings.trusted_proxies.clone(),
            ),
            request_tracking::track,
        ))
        .with_state(state)
}

fn provide_state(state: AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        provide_context(state.clone());
        request_security::provide_csp_nonce();
    }
}

/// Gives up on a request that has not been answered within `REQUEST_TIMEOUT_SECS`, with a
/// 503 and a sentence (a websocket counts only until its upgrade is answered).
async fn answer_within(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_secs = limit.as_secs(), "request timed out");
            crate::error::AppError::Unavailable {
                message: format!(
                    "The server could not answer within {} seconds, so it stopped trying. Please try again.",
                    limit.as_secs()
                ),
            }
            .into_response()
        }
    }
}

/// The body limit of a path and the sentence for a body over it: `MAX_REQUEST_BODY_BYTES`,
/// or a feature's own limit for its upload routes.
fn body_limit(path: &str) -> (usize, String) {
    match market_data::ssr::BODY_LIMITS
        .iter()
        .find(|(limited, _)| *limited == path)
    {
        Some((_, limit)) => (*limit, market_data::too_large_sentence()),
        None => (
            MAX_REQUEST_BODY_BYTES,
            "This request is too large (the limit is 1 MiB; a strategy document may be up to 256 KiB)."
                .into(),
        ),
    }
}

/// Caps every request body at its path's limit: a body that says it is too large is answered
/// 413 with a sentence before it is read (an HTML page for a plain form post), and a body that
/// grows past the limit while it is read fails its reader with 413.
async fn limit_request_bodies(request: Request, next: Next) -> Response {
    let (limit, sentence) = body_limit(request.uri().path());
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        if wants_html(&request) {
            return problem_page(StatusCode::PAYLOAD_TOO_LARGE, "Too large", &sentence);
        }
        return crate::error::AppError::PayloadTooLarge { message: sentence }.into_response();
    }
    next.run(request.map(|body| axum::body::Body::new(Limited::new(body, limit))))
        .await
}

/// Whether a request is a browser's plain HTML form post.
fn wants_html(request: &Request) -> bool {
    request.method() == axum::http::Method::POST
        && request
            .headers()
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// A bare page with a sentence, for answers a plain form post gets before any page renders.
fn problem_page(status: StatusCode, title: &str, sentence: &str) -> Response {
    let sentence = sentence
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} · Trading Strategy Platform</title></head><body><main>\
         <h1>{title}</h1><p role=\"alert\">{sentence}</p>\
         <p>Go back to keep what you wrote, or <a href=\"/\">go home</a>.</p></main></body></html>"
    );
    (status, axum::response::Html(page)).into_response()
}

/// A plain HTML form post (no JavaScript) refused for its size, a rate limit or a busy server
/// gets a page with the same sentence, status (and for a rate limit `Retry-After`) as the
/// hydrated page gets, rather than the JSON error (or a redirect back to the form, which would
/// hide the reason). The browser's Back button returns to the form with its text.
async fn form_post_refusal_page(request: Request, next: Next) -> Response {
    let browser_form = wants_html(&request);
    let response = next.run(request).await;
    if !browser_form {
        return response;
    }
    let retry_after_secs: u64 = response
        .headers()
        .get(axum::http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // A server function's answer carries no `AppError` of its own; its status tells.
    let error = match response.extensions().get::<crate::error::AppError>() {
        Some(error) => error.clone(),
        None if response.status() == StatusCode::TOO_MANY_REQUESTS => {
            crate::error::AppError::RateLimited { retry_after_secs }
        }
        None => return response,
    };
    let title = match &error {
        crate::error::AppError::RateLimited { .. } => "Too many attempts",
        crate::error::AppError::LimitReached { .. } => "Limit reached",
        crate::error::AppError::PayloadTooLarge { .. } => "Too large",
        crate::error::AppError::Unavailable { .. } => "Busy",
        _ => return response,
    };
    let mut answer = problem_page(response.status(), title, &error.to_string());
    if let Some(retry_after) = response.headers().get(axum::http::header::RETRY_AFTER) {
        answer
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, retry_after.clone());
    }
    answer
}

/// `/health`'s own connection to the app's database, made on first use: a pool whose
/// connections are all busy (a burst of heavy requests) does not slow the health check, which
/// asks whether the server and its database are alive; how busy the pool is shows in
/// `/metrics` (`..._db_pool_connections_in_use`).
fn health_connection(pool: &PgPool) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with((*pool.connect_options()).clone())
}

/// `{"status":"ok"}` when a database round trip succeeds, 503 with the reason otherwise.
async fn health(State(pool): State<PgPool>) -> Response {
    let round_trip = tokio::time::timeout(
        Duration::from_secs(3),
        sqlx::query_scalar!(r#"SELECT 1 AS "alive!""#).fetch_one(&pool),
    )
    .await;
    let reason = match round_trip {
        Ok(Ok(_)) => return Json(json!({ "status": "ok" })).into_response(),
        Ok(Err(sqlx::Error::PoolTimedOut)) => {
            "no database connection could be had within 5 seconds"
        }
        Ok(Err(sqlx::Error::Io(_))) | Ok(Err(sqlx::Error::Tls(_))) => {
            "the database cannot be reached"
        }
        Ok(Err(_)) => "the database answered with an error",
        Err(_) => "the database did not answer within 3 seconds",
    };
    tracing::warn!(reason, "health check failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "error", "reason": reason })),
    )
        .into_response()
}

/// Reads `Leptos.toml` from the working directory, or else from beside the binary (where a
/// release ships it); `LEPTOS_*` variables override it and `PORT` overrides the port.
pub fn load_leptos_options(port: Option<u16>) -> anyhow::Result<LeptosOptions> {
    let path = leptos_toml_path()?;
    let mut options = leptos::config::get_configuration(Some(&path.to_string_lossy()))
        .with_context(|| format!("cannot read {}", path.display()))?
        .leptos_options;
    if let Some(port) = port {
        options.site_addr.set_port(port);
    }
    // Hashed file names only when cargo-leptos left its list of hashes beside the binary; a
    // page naming files that do not exist would arrive unstyled and never hydrate.
    if options.hash_files && static_files::hashed_file_names(&options).is_none() {
        options.hash_files = false;
    }
    let site_root = PathBuf::from(options.site_root.as_ref());
    if site_root.is_relative() && std::env::var_os("LEPTOS_SITE_ROOT").is_none() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            options.site_root = Arc::from(dir.join(site_root).to_string_lossy().as_ref());
        }
    }
    Ok(options)
}

fn leptos_toml_path() -> anyhow::Result<PathBuf> {
    let here = PathBuf::from("Leptos.toml");
    if here.exists() {
        return Ok(here);
    }
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("Leptos.toml")));
    match beside_binary {
        Some(path) if path.exists() => Ok(path),
        _ => anyhow::bail!(
            "configuration error: Leptos.toml: not found in the working directory nor beside the binary"
        ),
    }
}

/// Builds the state and serves until SIGTERM or Ctrl-C; requests in flight then finish.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let leptos_options = load_leptos_options(settings.port)?;
    let address = leptos_options.site_addr;
    let settings = settings.with_listen_address(address);
    let pool = database::connect(&settings).await?;
    let pending = database::pending_migrations(&pool).await?;
    if !pending.is_empty() {
        tracing::warn!(
            pending = pending.len(),
            "the database lacks migrations; run `trading_strategy migrate`"
        );
    }
    let state = super::app_state(leptos_options, pool, settings);
    super::start_background(&state, super::BackgroundIntervals::default()).await;
    if let Some(metrics_address) = state.settings.metrics_addr {
        super::prometheus::serve_separately(state.clone(), metrics_address).await?;
    }
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!(%address, public_url = %state.settings.public_url, "listening");
    let header_read_timeout = state.settings.limits.header_read;
    super::connections::serve(
        listener,
        router(state),
        header_read_timeout,
        shutdown_signal(),
    )
    .await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
