//! The app's root: the HTML shell, the router and its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    accounts::views::{
        CheckEmailPage, ConfirmAccountPage, ConfirmEmailChangePage, LogInPage, RegisterPage,
        RequestPasswordResetPage, ResendConfirmationPage, ResetPasswordPage, SettingsPage,
    },
    market_data::views::MarketDataPage,
    site::{
        home::HomePage,
        layout::{SiteFooter, SiteHeader},
        not_found::NotFound,
        problem::ErrorPanel,
    },
    strategies::views::{
        BacktestPage, EditStrategyPage, NewStrategyPage, StorageUsagePanel, StrategiesPage,
        StrategyPage, VersionPage, VersionsPage,
    },
};

/// The settings page: accounts' forms, and what the account stores against its quotas (which
/// accounts knows nothing of).
#[component]
fn AccountSettingsPage() -> impl IntoView {
    view! {
        <SettingsPage />
        <StorageUsagePanel />
    }
}

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
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options islands=true />
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
        <Router>
            <SiteHeader />
            // Every page is rendered whole before it is sent (`SsrMode::Async`): the header's
            // account is then in place without JavaScript, and a page can still redirect.
            <main class="page" id="main">
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors /> }>
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                        <Route path=path!("/users/register") view=RegisterPage ssr=SsrMode::Async />
                        <Route path=path!("/users/check-email") view=CheckEmailPage ssr=SsrMode::Async />
                        <Route path=path!("/users/log-in") view=LogInPage ssr=SsrMode::Async />
                        <Route path=path!("/users/confirm") view=ResendConfirmationPage ssr=SsrMode::Async />
                        <Route path=path!("/users/confirm/:token") view=ConfirmAccountPage ssr=SsrMode::Async />
                        <Route path=path!("/users/reset-password") view=RequestPasswordResetPage ssr=SsrMode::Async />
                        <Route path=path!("/users/reset-password/:token") view=ResetPasswordPage ssr=SsrMode::Async />
                        <Route path=path!("/users/settings") view=AccountSettingsPage ssr=SsrMode::Async />
                        <Route path=path!("/users/settings/confirm-email/:token") view=ConfirmEmailChangePage ssr=SsrMode::Async />
                        <Route path=path!("/market-data") view=MarketDataPage ssr=SsrMode::Async />
                        <Route path=path!("/strategies") view=StrategiesPage ssr=SsrMode::Async />
                        <Route path=path!("/strategies/new") view=NewStrategyPage ssr=SsrMode::Async />
                        <Route path=path!("/strategies/:id") view=StrategyPage ssr=SsrMode::Async />
                        <Route path=path!("/strategies/:id/edit") view=EditStrategyPage ssr=SsrMode::Async />
                        <Route path=path!("/strategies/:id/versions") view=VersionsPage ssr=SsrMode::Async />
                        <Route path=path!("/strategies/:id/versions/:number") view=VersionPage ssr=SsrMode::Async />
                        <Route path=path!("/strategies/:id/backtests/:run") view=BacktestPage ssr=SsrMode::Async />
                    </Routes>
                </ErrorBoundary>
            </main>
            <SiteFooter />
        </Router>
    }
}
