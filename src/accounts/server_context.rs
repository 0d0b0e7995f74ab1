//! What the account server functions read from the request they serve: the session, the
//! client's address, and how to answer (a redirect for plain form posts).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::ConnectInfo,
    http::{header, HeaderValue, StatusCode},
};
use tower_sessions::Session;

use super::Navigation;
use crate::error::AppError;

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|error| AppError::internal(format!("no session layer: {error}")))
}

pub async fn client_ip() -> Option<IpAddr> {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(address)| address.ip())
}

/// Whether the request came from the hydrated page (which asks for JSON), not a plain form.
fn from_hydrated_page() -> bool {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.headers.get(header::ACCEPT).cloned())
        .and_then(|accept| accept.to_str().ok().map(|v| v.contains("application/json")))
        .unwrap_or(false)
}

/// Answers with `to`: a `303 See Other` for a plain form post (or curl), the value itself for
/// the hydrated page, which then loads it.
pub fn navigate(to: impl Into<String>) -> Navigation {
    let to = to.into();
    if !from_hydrated_page() {
        if let (Some(options), Ok(location)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            HeaderValue::from_str(&to),
        ) {
            options.insert_header(header::LOCATION, location);
            options.set_status(StatusCode::SEE_OTHER);
        }
    }
    Navigation { to }
}

/// Gives a failed server function's response the error's status.
pub fn respond<T>(outcome: Result<T, AppError>) -> Result<T, AppError> {
    outcome.map_err(AppError::respond)
}

pub fn display_ip(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
}
