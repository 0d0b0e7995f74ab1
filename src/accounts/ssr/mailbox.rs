//! `/dev/mailbox`: the mail the app queued, for development without an SMTP server. The route
//! exists only outside production.

use axum::{
    extract::State,
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};

use super::{mail::escape_html, repository};
use crate::state::AppState;

pub async fn show_mailbox(State(state): State<AppState>) -> Response {
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

/// The routes of accounts that are not Leptos pages: the development mailbox, outside
/// production only.
pub fn routes(state: &AppState) -> Router<AppState> {
    let router = Router::new();
    if state.settings.is_production() {
        router
    } else {
        router.route("/dev/mailbox", get(show_mailbox))
    }
}
