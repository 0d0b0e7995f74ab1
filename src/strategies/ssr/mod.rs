//! The server side of strategies, and what the composition root needs from it: its plain
//! form routes and downloads, its page rules, its realtime channels and its background work
//! (the working-copy cleanup and the backtest worker).

pub mod document_text;
pub mod drafts;
pub mod events;
pub mod flows;
pub mod form_posts;
pub mod live;
pub mod live_connections;
pub mod live_doc;
pub mod presence;
pub mod quotas;
pub mod repository;

pub use super::backtests::ssr::queue::queue_depth;

use axum::{
    routing::{get, post},
    Router,
};

use crate::{
    realtime::RealtimeEvent,
    state::AppState,
    strategies::LIVE_PATH,
    web::{PageAccess, PageRule},
};

/// The `NOTIFY` channels strategies publishes on.
pub const REALTIME_CHANNELS: &[&str] = &[
    events::StrategyChanged::CHANNEL,
    events::PresenceChanged::CHANNEL,
    events::BacktestChanged::CHANNEL,
    live_doc::events::LiveDocAdvanced::CHANNEL,
    live_doc::events::CursorMoved::CHANNEL,
];

/// Every strategy page needs a signed-in user.
pub const PAGE_RULES: &[PageRule] = &[PageRule::new("/strategies", PageAccess::SignedIn)];

/// The editor's plain form posts (GET on the same paths are the Leptos pages) and the
/// document download.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/strategies", post(form_posts::create))
        .route("/strategies/{id}", post(form_posts::update))
        .route("/strategies/{id}/download", get(form_posts::download))
        .route(
            "/strategies/{id}/backtests/{run}/trades.csv",
            get(crate::strategies::backtests::ssr::flows::trades_download),
        )
        .route(LIVE_PATH, get(live::upgrade))
        .route(live_doc::LIVE_DOC_ROUTE, get(live_doc::socket::upgrade))
}

/// How often strategies' periodic work runs (tests shorten it).
#[derive(Debug, Clone, Copy)]
pub struct WorkerIntervals {
    /// The backtest worker looks for runs whose lease expired (a server died) this often;
    /// new runs wake it at once.
    pub backtest_poll: std::time::Duration,
}

impl Default for WorkerIntervals {
    fn default() -> Self {
        WorkerIntervals {
            backtest_poll: std::time::Duration::from_secs(5),
        }
    }
}

/// Starts this process's backtest worker, and gives up working copies untouched for 30 days,
/// hourly.
pub fn spawn_background(state: &AppState, intervals: WorkerIntervals) {
    super::backtests::ssr::worker::spawn(state, intervals.backtest_poll);
    let pool = state.pool.clone();
    crate::background::every(
        std::time::Duration::from_secs(60 * 60),
        "gave up working copies older than 30 days",
        move || {
            let pool = pool.clone();
            async move { drafts::delete_expired(&pool).await }
        },
    );
    let pool = state.pool.clone();
    crate::background::every(
        std::time::Duration::from_secs(60 * 60),
        "pruned live document updates past their retention",
        move || {
            let pool = pool.clone();
            async move { live_doc::authority::prune(&pool).await }
        },
    );
    let pool = state.pool.clone();
    crate::background::every(
        std::time::Duration::from_secs(60 * 60),
        "forgot live connections of servers that stopped",
        move || {
            let pool = pool.clone();
            async move { live_connections::delete_abandoned(&pool).await }
        },
    );
}
