//! `AppState`: everything a request may need, built once at start-up and passed through axum
//! state and Leptos context (never through a global).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use tokio::sync::{broadcast, Notify};

use super::config::Settings;
use crate::accounts::signed_out::{self, SignedOutEverywhere};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    /// Users signed out everywhere (password changed or reset), relayed from Postgres
    /// `NOTIFY` on every server: the realtime feature closes their websockets on it.
    pub signed_out: broadcast::Sender<SignedOutEverywhere>,
    /// Wakes the mail sender when a request queued mail.
    pub mail_wakeup: Arc<Notify>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, pool: PgPool, settings: Settings) -> Self {
        AppState {
            leptos_options,
            pool,
            settings: Arc::new(settings),
            signed_out: signed_out::channel(),
            mail_wakeup: Arc::new(Notify::new()),
        }
    }

    /// The state of the current server function or page render.
    pub fn from_context() -> Result<Self, crate::error::AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            crate::error::AppError::internal("AppState missing from the Leptos context")
        })
    }
}
