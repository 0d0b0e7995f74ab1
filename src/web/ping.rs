//! `/api/ping`, a server function that does nothing: it exists as the floor of the workbench
//! benchmark (`benches/workbench_load.rs` times it beside the real calls, so that their cost
//! above the HTTP stack, the layers and the server-function plumbing shows) and for uptime
//! probes (a POST with the `Origin` header, like every server function). It reads no session
//! and touches no database, so a probe needs no account and creates no session.

use leptos::prelude::*;

use crate::error::AppError;

/// Answers `null` (200) and does nothing else.
#[server(prefix = "/api", endpoint = "ping")]
pub async fn ping() -> Result<(), AppError> {
    Ok(())
}
