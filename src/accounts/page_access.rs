//! Who may open which page: pages that need a user send a guest to the login page (and back
//! afterwards); pages for guests send a signed-in user to `/strategies`. Checked on the server
//! for every page load, before anything renders.

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

use super::{sessions, HOME_OF_SIGNED_IN};
use crate::server::AppState;

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

pub fn needs_user(path: &str) -> bool {
    (under(path, "/users/settings") && !under(path, "/users/settings/confirm-email"))
        || under(path, "/strategies")
}

pub fn for_guests(path: &str) -> bool {
    under(path, "/users/register")
        || under(path, "/users/log-in")
        || under(path, "/users/reset-password")
}

pub fn log_in_path(return_to: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    format!("/users/log-in?return_to={encoded}")
}

pub async fn guard_pages(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if request.method() != Method::GET || !(needs_user(path) || for_guests(path)) {
        return next.run(request).await;
    }
    let signed_in = match sessions::current_user(&session, &state.pool).await {
        Ok(user) => user.is_some(),
        Err(error) => return error.into_response(),
    };
    if needs_user(path) && !signed_in {
        let wanted = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| path.to_string());
        return Redirect::to(&log_in_path(&wanted)).into_response();
    }
    if for_guests(path) && signed_in {
        return Redirect::to(HOME_OF_SIGNED_IN).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_sorted_by_who_may_see_them() {
        assert!(needs_user("/users/settings"));
        assert!(needs_user("/strategies"));
        assert!(needs_user("/strategies/42/edit"));
        assert!(!needs_user("/strategiesx"));
        assert!(!needs_user("/users/settings/confirm-email/abc"));
        assert!(for_guests("/users/log-in"));
        assert!(for_guests("/users/reset-password/abc"));
        assert!(!for_guests("/users/confirm/abc"));
        assert!(!for_guests("/"));
    }

    #[test]
    fn the_login_link_carries_the_page_to_come_back_to() {
        assert_eq!(
            log_in_path("/strategies?page=2"),
            "/users/log-in?return_to=%2Fstrategies%3Fpage%3D2"
        );
    }
}
