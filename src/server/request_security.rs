//! What every request passes through before the app sees it: the same-origin check for
//! state-changing methods, and the security headers of every response (a Content-Security-
//! Policy whose nonce the hydration scripts carry, nosniff, no framing, Referrer-Policy, HSTS
//! over TLS).

use crate::{
    accounts, error::AppError, secrets::random_url_safe, state::AppState,
    web::server_context::origin_of,
};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a state-changing request comes from a page of ours. Browsers send `Sec-Fetch-Site`
/// and `Origin` on every POST; a request with none of `Sec-Fetch-Site`, `Origin` and
/// `Referer` is not from a browser (curl, the runbook's smoke test), and passes only without
/// a session cookie: a request that carries one and no sign of where it came from is refused
/// (an old browser or a plug-in that strips them could otherwise be led to post for a
/// signed-in victim).
pub fn is_same_origin(headers: &HeaderMap, public_url: &str, session_cookie: &str) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    let ours = origin_of(public_url);
    if let Some(origin) = text("origin") {
        return origin_of(origin).is_some() && origin_of(origin) == ours;
    }
    if let Some(referer) = text("referer") {
        return origin_of(referer).is_some() && origin_of(referer) == ours;
    }
    headers.contains_key("sec-fetch-site") || !carries_cookie(headers, session_cookie)
}

fn carries_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .any(|pair| pair.trim().split('=').next() == Some(name))
}

pub async fn require_same_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if changes_state(request.method())
        && !is_same_origin(
            request.headers(),
            &state.settings.public_url,
            accounts::ssr::session_cookie_name(&state.settings),
        )
    {
        tracing::warn!(method = %request.method(), "refused a cross-origin request");
        return AppError::Forbidden {
            message: "This request came from another site, so it was refused. Please use the form on this site."
                .into(),
        }
        .into_response();
    }
    next.run(request).await
}

/// The nonce of this response's Content-Security-Policy, for the scripts the page renders.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// This origin's websocket origin (`ws://` for `http://`, `wss://` for `https://`): the only
/// socket a page may open besides `'self'`.
fn websocket_origin(public_url: &str) -> String {
    let origin = origin_of(public_url).unwrap_or_default();
    match origin.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some((_, rest)) => format!("ws://{rest}"),
        None => String::new(),
    }
}

pub fn content_security_policy(nonce: &str, public_url: &str) -> String {
    // `wasm-unsafe-eval` lets the page compile its own WASM; nothing else runs unless it
    // carries the nonce. Styles come from our stylesheet, and the code editor's own `<style>`
    // elements carry the nonce (`EditorView.cspNonce`); no inline style is allowed.
    let websocket = websocket_origin(public_url);
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self' {websocket}; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
}

pub async fn add_security_headers(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = random_url_safe::<16>();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(value) =
        HeaderValue::from_str(&content_security_policy(&nonce, &state.settings.public_url))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if state.settings.is_production() || state.settings.public_url.starts_with("https://") {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Gives the page being rendered the nonce of its response's policy (called in the Leptos
/// context of every page).
pub fn provide_csp_nonce() {
    use leptos::prelude::use_context;
    if let Some(parts) = use_context::<axum::http::request::Parts>() {
        if let Some(CspNonce(nonce)) = parts.extensions.get::<CspNonce>() {
            leptos::prelude::provide_context(leptos::nonce::Nonce::from_value(nonce.as_str()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    const OURS: &str = "https://trade.example.com";

    #[test]
    fn a_request_from_our_pages_passes() {
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin"), ("origin", OURS)]),
            OURS,
            "session"
        ));
        assert!(is_same_origin(
            &headers(&[("referer", "https://trade.example.com/users/log-in")]),
            OURS,
            "session"
        ));
        assert!(
            is_same_origin(&headers(&[]), OURS, "session"),
            "a client that is not a browser"
        );
        assert!(
            !is_same_origin(
                &headers(&[("cookie", "theme=dark; session=abc")]),
                OURS,
                "session"
            ),
            "a session cookie with no sign of where the request came from"
        );
        assert!(is_same_origin(
            &headers(&[("cookie", "sessionx=abc")]),
            OURS,
            "session"
        ));
    }

    #[test]
    fn a_request_from_another_site_is_refused() {
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            OURS,
            "session"
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            OURS,
            "session"
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "https://evil.example")]),
            OURS,
            "session"
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "null")]),
            OURS,
            "session"
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "http://trade.example.com")]),
            OURS,
            "session"
        ));
        assert!(!is_same_origin(
            &headers(&[("referer", "https://trade.example.com.evil.example/")]),
            OURS,
            "session"
        ));
    }
}
