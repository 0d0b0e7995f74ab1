//! The strategy server functions, each one line over an `ssr` flow with the signed-in user.
//! Their endpoints live under `/api/strategies/` so that they never meet a page's path.

use leptos::prelude::*;
use uuid::Uuid;

use super::{
    backtests::{BacktestPanel, RunResults},
    AutosaveAck, CheckReply, ListQuery, LiveStart, PreviewedSignals, ReturnedDraft, Saved,
    StrategyDocument, StrategyId, StrategyList, StrategyOverview, Transition, VersionComparison,
    VersionText, WorkingCopy,
};
use crate::{
    error::AppError,
    language::{syntax_test::SyntaxReport, Format},
    web::Navigation,
};

#[cfg(feature = "ssr")]
use super::{
    backtests::ssr::flows as backtest_flows,
    ssr::{document_text::syntax_tested, flows, live_doc},
};
#[cfg(feature = "ssr")]
use crate::{accounts::ssr::sessions::signed_in, web::server_context::navigate};

/// What the account stores against its quotas (the settings page's "Storage").
#[server(prefix = "/api/strategies", endpoint = "storage-usage")]
pub async fn storage_usage() -> Result<super::usage::StorageUsage, AppError> {
    signed_in(|s, u| async move { super::ssr::quotas::usage(&s, u).await }).await
}

#[server(prefix = "/api/strategies", endpoint = "list")]
pub async fn list_strategies(query: ListQuery) -> Result<StrategyList, AppError> {
    signed_in(|s, u| async move { flows::list(&s, u, query).await }).await
}

/// What the editor opens with: the stored document (none for a new strategy) and, after a
/// plain form post was refused, the text that came back with the reason.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct EditorStart {
    pub document: Option<StrategyDocument>,
    pub returned: Option<ReturnedDraft>,
    /// Text kept by an earlier autosave that was never saved: offered to restore.
    pub working_copy: Option<WorkingCopy>,
    /// At most this long between autosaves while there are unsaved edits.
    pub autosave_interval_ms: u64,
    /// The syntax test of the returned text, when a plain form post asked for it. Made here,
    /// so that the browser fetches the syntax test's code only when its button is pressed.
    #[serde(default)]
    pub syntax_report: Option<SyntaxReport>,
    /// The live document a saved strategy's editor joins.
    #[serde(default)]
    pub live: Option<LiveStart>,
}

#[server(prefix = "/api/strategies", endpoint = "open")]
pub async fn open_editor(id: Option<StrategyId>) -> Result<EditorStart, AppError> {
    signed_in(|s, u| async move {
        let document = match id {
            Some(id) => Some(flows::document(&s, u, id).await?),
            None => None,
        };
        let session = crate::web::server_context::session().await?;
        let returned = session
            .remove::<ReturnedDraft>(super::RETURNED_DRAFT_KEY)
            .await
            .map_err(AppError::internal)?;
        let working_copy = flows::working_copy(&s, u, document.as_ref()).await?;
        let live = match id {
            Some(id) => Some(live_doc::flows::start(&s, u, id).await?),
            None => None,
        };
        let syntax_report = match returned
            .as_ref()
            .filter(|returned| returned.message.is_empty())
        {
            Some(returned) => Some(syntax_tested(&s, u, &returned.content, returned.format).await?),
            None => None,
        };
        Ok(EditorStart {
            document,
            returned,
            working_copy,
            autosave_interval_ms: s.settings.autosave_interval_ms,
            syntax_report,
            live,
        })
    })
    .await
}

/// The editor's signal preview of a document, run by the engine here so that the browser does
/// not carry it; `None` when the document is not valid (the editor asked before its own check
/// of the newest text came back).
#[server(prefix = "/api/strategies", endpoint = "preview")]
pub async fn preview_signals(
    content: String,
    format: Format,
) -> Result<Option<PreviewedSignals>, AppError> {
    signed_in(|s, u| async move { flows::preview_signals(&s, u, &content, format).await }).await
}

/// The keystroke check. `checked_name` and `checked_name_taken` are the name and its answer
/// from this editor's previous check: while the name stays the same, the answer does too and
/// the database is not asked again (saving still enforces the rule).
#[server(prefix = "/api/strategies", endpoint = "check")]
pub async fn check_strategy(
    sequence: u64,
    id: Option<StrategyId>,
    content: String,
    format: Format,
    checked_name: Option<String>,
    #[server(default)] checked_name_taken: bool,
) -> Result<CheckReply, AppError> {
    signed_in(|s, u| async move {
        let known = checked_name.map(|name| (name, checked_name_taken));
        flows::check(&s, u, sequence, id, content, format, known).await
    })
    .await
}

/// Saves the shared document's text at live version `live` as a new version of strategy `id`.
#[server(prefix = "/api/strategies", endpoint = "save_live")]
pub async fn save_live(id: StrategyId, live: u64, draft: bool) -> Result<Saved, AppError> {
    signed_in(|s, u| async move { live_doc::flows::save(&s, u, id, live, draft).await }).await
}

#[server(prefix = "/api/strategies", endpoint = "save")]
pub async fn save_strategy(
    id: Option<StrategyId>,
    content: String,
    format: Format,
    lock_version: Option<i32>,
    draft: bool,
    tab_id: Option<Uuid>,
) -> Result<Saved, AppError> {
    signed_in(|s, u| async move {
        let request = flows::SaveRequest {
            id,
            tab_id,
            content,
            format,
            lock_version,
            draft,
            live_version: None,
        };
        flows::save(&s, u, request).await
    })
    .await
}

#[server(prefix = "/api/strategies", endpoint = "overview")]
pub async fn load_overview(id: StrategyId) -> Result<StrategyOverview, AppError> {
    signed_in(|s, u| async move { flows::overview(&s, u, id).await }).await
}

/// A lifecycle button; without JavaScript a plain form post that lands back on the page.
#[server(prefix = "/api/strategies", endpoint = "status")]
pub async fn change_status(id: StrategyId, transition: Transition) -> Result<Navigation, AppError> {
    signed_in(|s, u| async move {
        let status = flows::change_status(&s, u, id, transition).await?;
        Ok(navigate(format!(
            "/strategies/{id}?notice={}",
            status.as_str()
        )))
    })
    .await
}

#[server(prefix = "/api/strategies", endpoint = "duplicate")]
pub async fn duplicate_strategy(id: StrategyId) -> Result<Navigation, AppError> {
    signed_in(|s, u| async move {
        let copy = flows::duplicate(&s, u, id).await?;
        Ok(navigate(format!(
            "/strategies/{}?notice=duplicated",
            copy.id
        )))
    })
    .await
}

#[server(prefix = "/api/strategies", endpoint = "delete")]
pub async fn delete_strategy(id: StrategyId) -> Result<Navigation, AppError> {
    signed_in(|s, u| async move {
        flows::delete(&s, u, id).await?;
        Ok(navigate("/strategies?notice=deleted"))
    })
    .await
}

#[server(prefix = "/api/strategies", endpoint = "version")]
pub async fn strategy_version(id: StrategyId, number: i32) -> Result<VersionText, AppError> {
    signed_in(|s, u| async move { flows::version_text(&s, u, id, number).await }).await
}

#[server(prefix = "/api/strategies", endpoint = "compare")]
pub async fn compare_versions(
    id: StrategyId,
    from: i32,
    to: i32,
) -> Result<VersionComparison, AppError> {
    signed_in(|s, u| async move { flows::compare(&s, u, id, from, to).await }).await
}

#[server(prefix = "/api/strategies", endpoint = "restore")]
pub async fn restore_version(
    id: StrategyId,
    number: i32,
    lock_version: i32,
) -> Result<Navigation, AppError> {
    signed_in(|s, u| async move {
        let saved = flows::restore_version(&s, u, id, number, lock_version).await?;
        Ok(navigate(format!(
            "/strategies/{id}/versions?notice=restored&version={}",
            saved.version
        )))
    })
    .await
}

/// Keeps an editor tab's working copy on the server (valid or not).
#[server(prefix = "/api/strategies", endpoint = "autosave")]
pub async fn autosave_strategy(
    tab_id: Uuid,
    sequence: u64,
    strategy_id: Option<StrategyId>,
    content: String,
    format: Format,
    base_lock_version: Option<i32>,
) -> Result<AutosaveAck, AppError> {
    signed_in(|s, u| async move {
        let request = flows::AutosaveRequest {
            tab_id,
            sequence,
            strategy_id,
            content,
            format,
            base_lock_version,
        };
        flows::autosave(&s, u, request).await
    })
    .await
}

#[server(prefix = "/api/strategies", endpoint = "discard-working-copy")]
pub async fn discard_working_copy(tab_id: Uuid) -> Result<(), AppError> {
    signed_in(|s, u| async move { flows::discard_working_copy(&s, u, tab_id).await }).await
}

/// The strategy page's backtest panel: the start form's defaults and the runs so far.
#[server(prefix = "/api/strategies", endpoint = "backtests")]
pub async fn load_backtests(id: StrategyId) -> Result<BacktestPanel, AppError> {
    signed_in(|s, u| async move { backtest_flows::panel(&s, u, id).await }).await
}

/// Queues a backtest of the current version; without JavaScript a plain form post that
/// lands back on the strategy page.
#[server(prefix = "/api/strategies", endpoint = "start-backtest")]
pub async fn start_backtest(
    id: StrategyId,
    from: String,
    to: String,
    cash: String,
    commission: String,
    slippage: String,
) -> Result<Navigation, AppError> {
    signed_in(|s, u| async move {
        let form = super::backtests::RunForm {
            from,
            to,
            cash,
            commission,
            slippage,
        };
        let run = backtest_flows::start(&s, u, id, form).await?;
        Ok(navigate(format!(
            "/strategies/{id}/backtests/{run}?notice=backtest_queued"
        )))
    })
    .await
}

#[server(prefix = "/api/strategies", endpoint = "cancel-backtest")]
pub async fn cancel_backtest(id: StrategyId, run: Uuid) -> Result<Navigation, AppError> {
    signed_in(|s, u| async move {
        backtest_flows::cancel(&s, u, id, run).await?;
        Ok(navigate(format!(
            "/strategies/{id}/backtests/{run}?notice=backtest_cancelled"
        )))
    })
    .await
}

/// A run's results with page `trades_page` (1-based, the first when none) of its trades.
#[server(prefix = "/api/strategies", endpoint = "backtest-results")]
pub async fn load_backtest_results(
    id: StrategyId,
    run: Uuid,
    #[server(default)] trades_page: Option<u32>,
) -> Result<RunResults, AppError> {
    signed_in(|s, u| async move {
        backtest_flows::results(&s, u, id, run, trades_page.unwrap_or(1)).await
    })
    .await
}
