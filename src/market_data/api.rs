//! The market data server functions, each one line over an `ssr` flow with the signed-in user.
//! Their endpoints live under `/api/market-data/`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ImportReport, StoredSeries};
use crate::{backtests::Candles, error::AppError};

#[cfg(feature = "ssr")]
use super::ssr::flows;
#[cfg(feature = "ssr")]
use crate::accounts::ssr::sessions::signed_in;

/// What the market data page shows.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MarketDataOverview {
    pub series: Vec<StoredSeries>,
    /// The report of the upload named in the address (`?import=<id>`), if it is the trader's.
    pub report: Option<ImportReport>,
}

/// The candles the editor's signal preview evaluates: the last bars of the series the trader
/// reads (the trader's own upload, else the shared data), with enough bars before the shown
/// ones for indicators to warm up.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PreviewCandles {
    pub pair: String,
    pub timeframe: String,
    pub candles: Candles,
    /// Whether the bars are the trader's own upload.
    pub own: bool,
}

#[server(prefix = "/api/market-data", endpoint = "overview")]
pub async fn market_data(import: Option<Uuid>) -> Result<MarketDataOverview, AppError> {
    signed_in(|state, user| async move { flows::overview(&state, user, import).await }).await
}

/// One import's report, as its page follows it while it runs.
#[server(prefix = "/api/market-data", endpoint = "import-report")]
pub async fn follow_import(id: Uuid) -> Result<ImportReport, AppError> {
    signed_in(|state, user| async move {
        super::ssr::reports::find(&state.pool, user, id)
            .await?
            .ok_or(AppError::NotFound)
    })
    .await
}

#[server(prefix = "/api/market-data", endpoint = "recent")]
pub async fn recent_candles(pair: String, timeframe: String) -> Result<PreviewCandles, AppError> {
    signed_in(
        |state, user| async move { flows::recent_candles(&state, user, &pair, &timeframe).await },
    )
    .await
}
