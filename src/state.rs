//! `AppState`: what every request may need, built once at start-up by `server` and passed
//! through axum state and Leptos context (never through a global). It holds only the shared
//! kernel: options, pool, settings and the realtime hub; a feature keeps its own state to
//! itself (in the database, or behind its own events).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use crate::{config::Settings, error::AppError, realtime::RealtimeHub};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    /// Events announced by any server process (sign-outs, queued mail, strategy changes).
    pub realtime: RealtimeHub,
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        pool: PgPool,
        settings: Settings,
        realtime: RealtimeHub,
    ) -> Self {
        AppState {
            leptos_options,
            pool,
            settings: Arc::new(settings),
            realtime,
        }
    }

    /// The state of the current server function or page render.
    pub fn from_context() -> Result<Self, AppError> {
        leptos::prelude::use_context::<AppState>()
            .ok_or_else(|| AppError::internal("AppState missing from the Leptos context"))
    }
}
