//! Structured logs through `tracing`: human-readable text by default, JSON with
//! `LOG_FORMAT=json`; `RUST_LOG` chooses what is logged.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use super::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init` so that tests which start several apps in one process do not panic.
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true),
            )
            .try_init(),
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
    };
}
