//! `AppState`: what every request may need, built once at start-up by `server` and passed
//! through axum state and Leptos context (never through a global). It holds only the shared
//! kernel: options, pool, settings, the realtime hub and the work pool; a feature keeps its own
//! state to itself (in the database, or behind its own events).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use crate::{
    config::Settings,
    error::AppError,
    realtime::RealtimeHub,
    work_pool::{WorkPool, WorkPoolSize},
};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    /// Events announced by any server process (sign-outs, queued mail, strategy changes).
    pub realtime: RealtimeHub,
    /// Where CPU-heavy work runs, bounded, off the async threads.
    pub work: WorkPool,
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        pool: PgPool,
        settings: Settings,
        realtime: RealtimeHub,
    ) -> Self {
        let bounds = settings.bounds;
        AppState {
            leptos_options,
            pool,
            work: WorkPool::new(WorkPoolSize {
                threads: bounds.work_threads,
                waiting: bounds.work_waiting,
                deadline: bounds.work_deadline,
            }),
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
