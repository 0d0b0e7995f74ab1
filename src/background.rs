//! Work that repeats beside the requests: one way for every feature's periodic task to run,
//! to log what it did, and to carry on after a failure.

use std::{future::Future, time::Duration};

use crate::error::AppError;

/// Runs `work` now and every `period` until the process ends; `work` answers how many rows
/// (or things) it dealt with, logged under `what` when there were any.
pub fn every<F, Fut>(period: Duration, what: &'static str, mut work: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<u64, AppError>> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        loop {
            ticks.tick().await;
            match work().await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, what, "periodic task done"),
                Err(error) => tracing::warn!(%error, what, "periodic task failed; will retry"),
            }
        }
    });
}
