//! `/dev/mailbox`: the mail the app queued, for development without an SMTP server. The route
//! exists only when asked for (`DEV_MAILBOX=true`, which `scripts/run-app` sets; never in
//! production), and answers only clients on this machine.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};

use super::{mail::escape_html, repository};
use crate::{state::AppState, web::server_context::client_address};

pub async fn show_mailbox(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let forwarded_for = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = client_address(peer.ip(), forwarded_for, &state.settings.trusted_proxies);
    if !client.to_canonical().is_loopback() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mails = match repository::recent_mail(&state.pool).await {
        Ok(mails) => mails,
        Err(error) => return error.into_response(),
    };
    let mut page = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Mailbox</title></head>\
         <body><h1>Mailbox (development only)</h1>",
    );
    if mails.is_empty() {
        page.push_str("<p>No mail yet.</p>");
    }
    for mail in mails {
        page.push_str(&format!(
            "<article class=\"mail\" data-mail-id=\"{}\"><h2>{}</h2><p>To: {} · {}</p><pre>{}</pre></article>",
            mail.id,
            escape_html(&mail.subject),
            escape_html(&mail.to_address),
            mail.inserted_at.format("%Y-%m-%d %H:%M:%S UTC"),
            escape_html(&mail.text_body),
        ));
    }
    page.push_str("</body></html>");
    Html(page).into_response()
}

/// The routes of accounts that are not Leptos pages: the development mailbox, when
/// `DEV_MAILBOX=true` (which the settings refuse in production).
pub fn routes(state: &AppState) -> Router<AppState> {
    let router = Router::new();
    if state.settings.dev_mailbox && !state.settings.is_production() {
        router.route("/dev/mailbox", get(show_mailbox))
    } else {
        router
    }
}
