//! The frame around every page: header with navigation and the account links, the account
//! notices, footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::accounts::views::{account_resource, AccountNav, AccountNotices};

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
        <AccountNotices account />
    }
}

#[component]
pub fn SiteFooter() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>"Strategies are validated as you type, versioned on every save, and backtested before they go live."</p>
        </footer>
    }
}
