//! The strategy pages: the list, the editor, the strategy page, its versions and its
//! backtests, and the small pieces they share (status badge, times, error message, notices).

mod builder;
mod code_editor;
mod details;
mod editor;
mod list;
pub(super) mod live;
mod merge_view;
mod signal_preview;
mod usage;
mod versions;

pub use super::backtests::views::BacktestPage;
pub use details::StrategyPage;
pub use editor::{EditStrategyPage, NewStrategyPage};
pub use list::StrategiesPage;
pub use usage::StorageUsagePanel;
pub use versions::{VersionPage, VersionsPage};

use crate::strategies::StrategyId;
use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::StrategyStatus;
use crate::{error::AppError, web::islands::route_param};

/// The short notices a redirect names by code (`?notice=saved`).
pub fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "saved" => "Saved.",
        "duplicated" => "Duplicated: this is the new copy, a draft.",
        "deleted" => "Strategy deleted.",
        "restored" => "The old version is restored as the newest version.",
        "archived" => "Archived. It is read-only until you restore it to draft.",
        "draft" => "Restored to draft: you can edit it again.",
        "inactive" => "Deactivated: you can edit it again.",
        "active" => "Activated.",
        "backtest_queued" => "Backtest queued: this page follows it to its results.",
        "backtest_cancelled" => "Backtest cancelled.",
        _ => return None,
    })
}

#[component]
pub fn StatusBadge(status: StrategyStatus) -> impl IntoView {
    view! {
        <span class=format!("status-badge status-{}", status.as_str())>{status.label()}</span>
    }
}

/// A time as the server and the browser both print it (UTC, so hydration agrees).
pub fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[component]
pub fn ErrorMessage(error: AppError) -> impl IntoView {
    let heading = match error {
        AppError::NotFound => "Strategy not found",
        AppError::Unauthenticated => "Please log in",
        _ => "Something went wrong",
    };
    let detail = match error {
        AppError::NotFound => {
            "There is no strategy at this address, or it is not yours.".to_string()
        }
        other => other.to_string(),
    };
    view! {
        <section class="panel narrow error-panel" role="alert">
            <h1>{heading}</h1>
            <p>{detail}</p>
            <p><a href="/strategies">"Back to your strategies"</a></p>
        </section>
    }
}

/// The `:id` of the current route, if it is a strategy id.
pub fn strategy_id_param() -> Option<StrategyId> {
    route_param("id")
}

/// A resource loaded for the strategy `id` (the route's); an unreadable id is simply not found.
pub fn strategy_resource<T, F, Fut>(
    id: Option<StrategyId>,
    fetch: F,
) -> Resource<Result<T, AppError>>
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(StrategyId) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
{
    Resource::new(
        move || id,
        move |id| async move {
            match id {
                Some(id) => fetch(id).await,
                None => Err(AppError::NotFound),
            }
        },
    )
}

/// Gives a page's response the status of its error (a 404 stays a 404 for curl and crawlers).
pub fn set_error_status(error: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(error.http_status());
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}
