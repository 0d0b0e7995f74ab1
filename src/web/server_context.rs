//! What a server function reads from the request it serves (the session, the client's
//! address, who sent it) and how it answers: a redirect for a plain form post, the value for
//! the hydrated page, and the error's own status.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::ConnectInfo,
    http::{
        header::{self, RETRY_AFTER},
        HeaderValue, StatusCode,
    },
};
use tower_sessions::Session;

use super::Navigation;
use crate::error::AppError;

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|error| AppError::internal(format!("no session layer: {error}")))
}

/// The client's address, for rate limits and logs: the TCP peer, or, when the peer is a proxy
/// on this host or the private network (the deployment's reverse proxy), the address that
/// proxy appended to `X-Forwarded-For`. A public peer cannot choose its address this way.
pub async fn client_ip() -> Option<IpAddr> {
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(address)| address.ip())?;
    let forwarded_for =
        leptos::prelude::use_context::<axum::http::request::Parts>().and_then(|parts| {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
    Some(client_address(peer, forwarded_for.as_deref()))
}

pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
    let peer_is_our_proxy = match peer {
        IpAddr::V4(address) => address.is_loopback() || address.is_private(),
        IpAddr::V6(address) => address.is_loopback() || (address.segments()[0] & 0xfe00) == 0xfc00,
    };
    let appended_by_proxy = forwarded_for
        .and_then(|list| list.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok());
    match appended_by_proxy {
        Some(client) if peer_is_our_proxy => client,
        _ => peer,
    }
}

/// Who sent the request a server function serves, read from its `Accept` header: the one
/// answer every part of the answer (redirect, status) goes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// The hydrated page's own call, which asks for JSON and follows navigation itself.
    HydratedPage,
    /// A browser posting a plain HTML form (no JavaScript), which asks for HTML.
    BrowserForm,
    /// Anything else (curl, scripts): redirects and real statuses.
    OtherClient,
}

pub fn requester() -> Requester {
    let accept = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.headers.get(header::ACCEPT).cloned())
        .and_then(|accept| accept.to_str().ok().map(str::to_string))
        .unwrap_or_default();
    if accept.contains("application/json") {
        Requester::HydratedPage
    } else if accept.contains("text/html") {
        Requester::BrowserForm
    } else {
        Requester::OtherClient
    }
}

/// Answers with `to`: a `303 See Other` for a plain form post (or curl), the value itself for
/// the hydrated page, which then loads it.
pub fn navigate(to: impl Into<String>) -> Navigation {
    let to = to.into();
    if requester() != Requester::HydratedPage {
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

/// Gives a failed server function's response the error's status (server functions answer
/// 500 for every error unless told otherwise). A plain HTML form post keeps its redirect
/// back to the form (which carries the error), so its status stays.
pub fn respond<T>(outcome: Result<T, AppError>) -> Result<T, AppError> {
    outcome.inspect_err(|error| {
        if requester() == Requester::BrowserForm {
            return;
        }
        if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            options.set_status(error.http_status());
            if let AppError::RateLimited { retry_after_secs } = error {
                options.insert_header(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
        }
    })
}

pub fn display_ip(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::client_address;

    #[test]
    fn the_client_behind_our_proxy_is_the_address_the_proxy_appended() {
        let proxy = "127.0.0.1".parse().unwrap();
        assert_eq!(
            client_address(proxy, Some("203.0.113.9")).to_string(),
            "203.0.113.9"
        );
        // Whatever the client sent itself comes first; our proxy's entry is the last one.
        assert_eq!(
            client_address(proxy, Some("6.6.6.6, 203.0.113.9")).to_string(),
            "203.0.113.9"
        );
        assert_eq!(
            client_address("10.0.0.5".parse().unwrap(), Some("198.51.100.1")).to_string(),
            "198.51.100.1"
        );
        assert_eq!(client_address(proxy, Some("garbage")), proxy);
        assert_eq!(client_address(proxy, None), proxy);
    }

    #[test]
    fn a_public_peer_cannot_choose_its_address() {
        let public = "198.51.100.7".parse().unwrap();
        assert_eq!(client_address(public, Some("203.0.113.9")), public);
    }
}
