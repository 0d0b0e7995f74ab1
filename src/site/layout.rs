//! The frame around every page: header with navigation, footer.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                " Trading Strategy Platform"
            </A>
            <nav class="site-nav" aria-label="Main">
                <A href="/">"Home"</A>
            </nav>
        </header>
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
