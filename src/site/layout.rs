//! The frame around every page: header with navigation and the account links, the account
//! notices, footer.

use leptos::prelude::*;
use leptos_router::components::A;

use leptos_router::hooks::use_query_map;

use crate::{
    accounts::{
        self,
        views::{account_resource, AccountNav, AccountNotices},
    },
    strategies,
};

/// The notice a redirect named by code (`?notice=saved`), in words; each feature has its own.
fn notice_text(code: &str) -> Option<&'static str> {
    accounts::notice_text(code).or_else(|| strategies::views::notice_text(code))
}

#[component]
pub fn SiteHeader() -> impl IntoView {
    let account = account_resource();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                " Trading Strategy Platform"
            </A>
            <nav class="site-nav" aria-label="Main">
                <A href="/">"Home"</A>
                <AccountNav account />
            </nav>
        </header>
        <SiteNotice />
        <AccountNotices account />
    }
}

#[component]
fn SiteNotice() -> impl IntoView {
    let query = use_query_map();
    let notice = move || {
        query
            .read()
            .get("notice")
            .and_then(|code| notice_text(&code))
    };
    move || notice().map(|text| view! { <p class="notice" role="status">{text}</p> })
}

#[component]
pub fn SiteFooter() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>"Strategies are validated as you type, versioned on every save, and backtested before they go live."</p>
        </footer>
    }
}
