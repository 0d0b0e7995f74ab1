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
use crate::{config::IpRange, error::AppError};

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|error| AppError::internal(format!("no session layer: {error}")))
}

/// The client's address, for rate limits and logs: the TCP peer, or, when the peer is one of
/// the `TRUSTED_PROXIES`, the address that the proxies appended to `X-Forwarded-For` (see
/// [`client_address`]). Without trusted proxies no client can choose its address this way.
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
    let trusted = leptos::prelude::use_context::<crate::state::AppState>()
        .map(|state| state.settings.trusted_proxies.clone())
        .unwrap_or_default();
    Some(client_address(peer, forwarded_for.as_deref(), &trusted))
}

/// The client behind `peer`: walking `X-Forwarded-For` from its end (each proxy appends the
/// address it heard from), the first address that is not a trusted proxy. A peer that is not
/// trusted is the client itself, whatever the header says.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded_for.unwrap_or_default().rsplit(',') {
        match entry.trim().parse::<IpAddr>() {
            Ok(address) => {
                client = address;
                if !is_trusted(address) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// The browser's `User-Agent`, as it sent it (for the list of active sessions).
pub fn user_agent() -> Option<String> {
    leptos::prelude::use_context::<axum::http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|agent| agent.chars().take(512).collect())
    })
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
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .map_or(Requester::OtherClient, |parts| {
            Requester::of(&parts.headers)
        })
}

impl Requester {
    /// Who sent a request with these headers; for handlers outside a server function too
    /// (the market data upload).
    pub fn of(headers: &axum::http::HeaderMap) -> Self {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .unwrap_or_default();
        if accept.contains("application/json") {
            Requester::HydratedPage
        } else if accept.contains("text/html") {
            Requester::BrowserForm
        } else {
            Requester::OtherClient
        }
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
/// back to the form (which carries the error), so its status stays; except when it hit a rate
/// limit: then it gets the 429 and `Retry-After` that the hydrated page gets (the HTTP stack
/// turns that answer into a page for the browser).
pub fn respond<T>(outcome: Result<T, AppError>) -> Result<T, AppError> {
    outcome.inspect_err(|error| {
        let rate_limited = matches!(error, AppError::RateLimited { .. });
        if requester() == Requester::BrowserForm && !rate_limited {
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

/// `scheme://host[:port]` of a URL, lower-cased, for comparing a request's origin with ours
/// (the same-origin check of every state-changing request, the live socket's handshake).
pub fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use crate::config::IpRange;

    fn ip(text: &str) -> std::net::IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_behind_a_trusted_proxy_is_the_last_untrusted_address_it_reports() {
        let trusted = [
            IpRange::parse("127.0.0.1").unwrap(),
            IpRange::parse("10.0.0.0/8").unwrap(),
        ];
        let proxy = ip("127.0.0.1");
        assert_eq!(
            client_address(proxy, Some("203.0.113.9"), &trusted),
            ip("203.0.113.9")
        );
        // Whatever the client sent itself comes first; our proxies' entries are the last ones.
        assert_eq!(
            client_address(proxy, Some("6.6.6.6, 203.0.113.9, 10.1.2.3"), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client_address(proxy, Some("garbage"), &trusted), proxy);
        assert_eq!(client_address(proxy, None, &trusted), proxy);
    }

    #[test]
    fn without_trusted_proxies_no_peer_can_choose_its_address() {
        for peer in ["127.0.0.1", "10.0.0.5", "198.51.100.7"] {
            assert_eq!(client_address(ip(peer), Some("203.0.113.9"), &[]), ip(peer));
        }
        let trusted = [IpRange::parse("127.0.0.1").unwrap()];
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("203.0.113.9"), &trusted),
            ip("10.0.0.5")
        );
    }
}
