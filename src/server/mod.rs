//! The composition root, compiled only with `ssr`: it builds the state, the router and the
//! background tasks from what each feature exposes, and it owns the HTTP stack, the command
//! line, logging and the database connection. Nothing below imports it.

pub mod cli;
pub mod commands;
pub mod connections;
pub mod database;
pub mod http;
pub mod prometheus;
pub mod request_security;
pub mod request_tracking;
pub mod static_files;
pub mod telemetry;

use leptos::config::LeptosOptions;
use sqlx::PgPool;

use crate::{
    accounts, config::Settings, market_data, realtime::RealtimeHub, state::AppState, strategies,
    web::PageRule,
};

/// The state of one server process, with a realtime hub for every feature's channels.
pub fn app_state(leptos_options: LeptosOptions, pool: PgPool, settings: Settings) -> AppState {
    let channels = [
        accounts::ssr::REALTIME_CHANNELS,
        strategies::ssr::REALTIME_CHANNELS,
    ]
    .concat();
    AppState::new(leptos_options, pool, settings, RealtimeHub::new(&channels))
}

/// Every feature's page rules, for the page guard.
pub fn page_rules() -> Vec<PageRule> {
    [
        accounts::ssr::PAGE_RULES,
        strategies::ssr::PAGE_RULES,
        market_data::ssr::PAGE_RULES,
    ]
    .concat()
}

/// How often the features' background tasks run (tests shorten them).
#[derive(Debug, Clone, Copy, Default)]
pub struct BackgroundIntervals {
    pub accounts: accounts::ssr::UpkeepIntervals,
    pub strategies: strategies::ssr::WorkerIntervals,
}

/// Starts listening for realtime events (returns once listening, so nothing announced
/// afterwards is missed), then every feature's background tasks.
pub async fn start_background(state: &AppState, intervals: BackgroundIntervals) {
    state.realtime.listen(state.pool.clone()).await;
    accounts::ssr::spawn_background(state, intervals.accounts);
    strategies::ssr::spawn_background(state, intervals.strategies);
    market_data::ssr::spawn_background(state);
    prometheus::spawn_upkeep();
}
