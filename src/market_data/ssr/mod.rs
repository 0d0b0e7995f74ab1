//! The server side of market data, and what the composition root needs from it: the upload
//! route, its body limit and the page rule; the `candles` table (`candle_store`) every
//! backtest and preview reads, and the sample data a fresh install starts with.

pub mod candle_store;
pub mod flows;
pub mod reports;
pub mod sample_data;
pub mod upload;

pub use candle_store::{insert_candles, CandleOwner, Series};
pub use sample_data::load_sample_data_if_empty;

use axum::{extract::DefaultBodyLimit, routing::post, Router};

use super::{IMPORT_PATH, MARKET_DATA_PATH, MAX_UPLOAD_BYTES};
use crate::{
    state::AppState,
    web::{PageAccess, PageRule},
};

/// The page needs a signed-in user.
pub const PAGE_RULES: &[PageRule] = &[PageRule::new(MARKET_DATA_PATH, PageAccess::SignedIn)];

/// Paths whose bodies may exceed the server's usual limit, with their own limit: the upload.
pub const BODY_LIMITS: &[(&str, usize)] = &[(IMPORT_PATH, MAX_UPLOAD_BYTES)];

/// Gives up, every minute, the imports whose server stopped mid-way.
pub fn spawn_background(state: &AppState) {
    let pool = state.pool.clone();
    crate::background::every(
        std::time::Duration::from_secs(60),
        "gave up imports whose server stopped",
        move || {
            let pool = pool.clone();
            async move { reports::give_up_stalled(&pool).await }
        },
    );
}

/// The upload's plain form post. The HTTP stack caps its body at `MAX_UPLOAD_BYTES`, so the
/// multipart extractor's own (smaller) default limit is lifted here.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        IMPORT_PATH,
        post(upload::import).layer(DefaultBodyLimit::disable()),
    )
}
