//! The id of the request being handled, readable by the code that handles it (an error's log
//! line, a 500 page's "quote this id") without passing it down. The HTTP stack sets it for each
//! request (`server::request_tracking`).

use std::future::Future;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being handled, or `"none"` outside a request.
pub fn current() -> String {
    CURRENT
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| "none".to_string())
}

/// Runs `work` as request `id`: inside it, `current()` answers `id`.
pub async fn within<F: Future>(id: String, work: F) -> F::Output {
    CURRENT.scope(id, work).await
}
