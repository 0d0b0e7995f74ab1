//! The app's root: the HTML shell, the router and its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use crate::{
    accounts::views::{
        ConfirmAccountPage, ConfirmEmailChangePage, LogInPage, RegisterPage,
        RequestPasswordResetPage, ResendConfirmationPage, ResetPasswordPage, SettingsPage,
    },
    site::{
        home::HomePage,
        layout::{SiteFooter, SiteHeader},
        not_found::NotFound,
        problem::ErrorPanel,
        strategies_placeholder::StrategiesPlaceholderPage,
    },
};

/// The document around the app; rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/trading_strategy.css" />
        <Title formatter=|page: String| {
            if page.is_empty() {
                "Trading Strategy Platform".to_string()
            } else {
                format!("{page} · Trading Strategy Platform")
            }
        } />
        <Router>
            <SiteHeader />
            <main class="page" id="main">
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=HomePage />
                        <Route path=path!("/users/register") view=RegisterPage />
                        <Route path=path!("/users/log-in") view=LogInPage />
                        <Route path=path!("/users/confirm") view=ResendConfirmationPage />
                        <Route path=path!("/users/confirm/:token") view=ConfirmAccountPage />
                        <Route path=path!("/users/reset-password") view=RequestPasswordResetPage />
                        <Route path=path!("/users/reset-password/:token") view=ResetPasswordPage />
                        <Route path=path!("/users/settings") view=SettingsPage />
                        <Route path=path!("/users/settings/confirm-email/:token") view=ConfirmEmailChangePage />
                        <Route path=path!("/strategies") view=StrategiesPlaceholderPage />
                    </Routes>
                </ErrorBoundary>
            </main>
            <SiteFooter />
        </Router>
    }
}
