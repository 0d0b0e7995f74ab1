//! Who may open which page, checked on the server for every page load before anything
//! renders: pages for signed-in users send a guest to the login page (and back afterwards);
//! pages for guests send a signed-in user to `/strategies`. The rules come from every feature
//! (`web::PageRule`); accounts declares its own in [`PAGE_RULES`].

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

use super::sessions;
use crate::{
    accounts::HOME_OF_SIGNED_IN,
    state::AppState,
    web::{page_access, PageAccess, PageRule},
};

pub const PAGE_RULES: &[PageRule] = &[
    PageRule::new("/users/settings", PageAccess::SignedIn),
    // The link in the mail works from any browser, signed in or not.
    PageRule::new("/users/settings/confirm-email", PageAccess::Anyone),
    PageRule::new("/users/register", PageAccess::Guests),
    PageRule::new("/users/log-in", PageAccess::Guests),
    PageRule::new("/users/reset-password", PageAccess::Guests),
];

/// The state of the page guard: the app and every feature's rules.
#[derive(Clone)]
pub struct PageGuard {
    pub state: AppState,
    pub rules: Arc<[PageRule]>,
}

pub fn log_in_path(return_to: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    format!("/users/log-in?return_to={encoded}")
}

pub async fn guard_pages(
    State(guard): State<PageGuard>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let access = page_access(&guard.rules, path);
    if request.method() != Method::GET || access == PageAccess::Anyone {
        return next.run(request).await;
    }
    let signed_in = match sessions::current_user(&session, &guard.state.pool).await {
        Ok(user) => user.is_some(),
        Err(error) => return error.into_response(),
    };
    match access {
        PageAccess::SignedIn if !signed_in => {
            let wanted = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| path.to_string());
            Redirect::to(&log_in_path(&wanted)).into_response()
        }
        PageAccess::Guests if signed_in => Redirect::to(HOME_OF_SIGNED_IN).into_response(),
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRATEGIES: PageRule = PageRule::new("/strategies", PageAccess::SignedIn);

    #[test]
    fn pages_are_sorted_by_who_may_see_them() {
        let rules = [PAGE_RULES, &[STRATEGIES]].concat();
        let access = |path| page_access(&rules, path);
        assert_eq!(access("/users/settings"), PageAccess::SignedIn);
        assert_eq!(access("/strategies"), PageAccess::SignedIn);
        assert_eq!(access("/strategies/42/edit"), PageAccess::SignedIn);
        assert_eq!(access("/strategiesx"), PageAccess::Anyone);
        assert_eq!(
            access("/users/settings/confirm-email/abc"),
            PageAccess::Anyone
        );
        assert_eq!(access("/users/log-in"), PageAccess::Guests);
        assert_eq!(access("/users/reset-password/abc"), PageAccess::Guests);
        assert_eq!(access("/users/confirm/abc"), PageAccess::Anyone);
        assert_eq!(access("/"), PageAccess::Anyone);
    }

    #[test]
    fn the_login_link_carries_the_page_to_come_back_to() {
        assert_eq!(
            log_in_path("/strategies?page=2"),
            "/users/log-in?return_to=%2Fstrategies%3Fpage%3D2"
        );
    }
}
