//! The server side of every strategy action. Each flow takes the app state and the signed-in
//! user explicitly, so the server functions, the plain form posts and the tests share them.
//! Every document goes through the one validator, `language::validate`.

use crate::strategies::StrategyId;
use chrono::Utc;
use uuid::Uuid;

use super::{
    document_text::{syntax_tested, validated, DocumentText},
    drafts,
    events::StrategyChanged,
    live_doc, quotas,
    repository::{self, MirroredFields},
};
use crate::accounts::UserId;
use crate::{
    backtests::signals::{signal_bars, SHOWN_BARS},
    error::AppError,
    language::{
        self, describe_changes, span::Positions, Diagnostic, Edit, EditValue, Format, Severity,
        Validation,
    },
    realtime,
    state::AppState,
    stored_text::storable,
    strategies::backtests::ssr::queue as backtest_queue,
    strategies::{
        merge::diff_rows_until, AutosaveAck, ChangeKind, CheckReply, FormConflict, ListQuery,
        PreviewedSignals, Saved, StrategyChange, StrategyDocument, StrategyList, StrategyOverview,
        StrategyStatus, Transition, VersionComparison, VersionText, WorkingCopy,
    },
};

/// The longest name, pair or timeframe the `strategies` columns take (the language allows
/// names of 100 characters and far shorter pairs; a draft may hold what the language refuses).
const NAME_COLUMN_LIMIT: usize = 255;

/// Tells every server (and so every open page of this user) about a change, on commit.
async fn announce(
    transaction: &mut sqlx::PgConnection,
    user_id: UserId,
    change: StrategyChange,
) -> Result<(), AppError> {
    realtime::publish(&mut *transaction, &StrategyChanged { user_id, change }).await?;
    Ok(())
}

pub async fn list(
    state: &AppState,
    user_id: UserId,
    mut query: ListQuery,
) -> Result<StrategyList, AppError> {
    query.search = storable(&query.search).into_owned();
    let (items, total) = repository::list(&state.pool, user_id, &query).await?;
    let has_any = total > 0 || repository::has_any(&state.pool, user_id).await?;
    Ok(StrategyList {
        items,
        total,
        has_any,
    })
}

pub async fn document(
    state: &AppState,
    user_id: UserId,
    id: StrategyId,
) -> Result<StrategyDocument, AppError> {
    let mut connection = state.pool.acquire().await?;
    Ok(repository::find(&mut connection, user_id, id)
        .await?
        .document)
}

pub async fn check(
    state: &AppState,
    user_id: UserId,
    sequence: u64,
    id: Option<StrategyId>,
    content: String,
    format: Format,
    known: Option<(String, bool)>,
) -> Result<CheckReply, AppError> {
    crate::web::instruments::validation_run();
    let validation = validated(state, user_id, &content, format).await?;
    let name = validation
        .strategy
        .as_ref()
        .map(|strategy| strategy.name.trim())
        .unwrap_or_default();
    let name_taken = match known {
        Some((known, taken)) if known.trim() == name => taken,
        _ => !name.is_empty() && repository::name_is_taken(&state.pool, user_id, name, id).await?,
    };
    let mut diagnostics = validation.diagnostics;
    if name_taken {
        diagnostics.insert(0, name_clash(&content, name));
    }
    Ok(CheckReply {
        sequence,
        diagnostics,
        name_taken,
    })
}

/// E050: the document's name is another strategy's of this trader, underlined on the line
/// where the top-level `name` field is written (unindented, unlike an indicator's name; the
/// first line when none is found).
fn name_clash(text: &str, name: &str) -> Diagnostic {
    let mut line_start = 0;
    let mut found = (0, 0);
    for line in text.split_inclusive('\n') {
        if ["name:", "name =", "name="]
            .iter()
            .any(|field| line.starts_with(field))
        {
            found = (line_start, line_start + line.trim_end().len());
            break;
        }
        line_start += line.len();
    }
    Diagnostic::new(
        crate::strategies::NAME_CLASH,
        Severity::Error,
        repository::name_taken_message(name),
        "name".to_string(),
        Positions::new(text).span(found.0, found.1),
    )
}

/// The signal preview of `content`: the last bars of its pair and timeframe (the trader's own
/// upload, else the shared data) and where its conditions hold on the shown ones; `None` for a
/// document that is not valid or names no timeframe.
pub async fn preview_signals(
    state: &AppState,
    user_id: UserId,
    content: &str,
    format: Format,
) -> Result<Option<PreviewedSignals>, AppError> {
    let Ok(strategy) = validated(state, user_id, content, format)
        .await?
        .into_valid()
    else {
        return Ok(None);
    };
    let Some(timeframe) = strategy.timeframe else {
        return Ok(None);
    };
    let mut fetched = crate::market_data::ssr::flows::recent_candles(
        state,
        user_id,
        &strategy.trading_pair,
        timeframe.name(),
    )
    .await?;
    let signals = match signal_bars(&strategy, &fetched.candles, SHOWN_BARS) {
        Ok(mut bars) => {
            fetched.candles = fetched.candles.from_bar(bars.first_bar);
            bars.first_bar = 0;
            Ok(bars)
        }
        Err(error) => Err(error.to_string()),
    };
    Ok(Some(PreviewedSignals {
        candles: fetched,
        signals,
    }))
}

/// What a save asks for: the text, its notation, the lock version the editor started from
/// (none for a new strategy), and whether errors may be kept (a draft).
#[derive(Debug, Clone)]
pub struct SaveRequest {
    pub id: Option<StrategyId>,
    /// The editor tab whose working copy this save commits (forgotten in the same transaction).
    pub tab_id: Option<Uuid>,
    pub content: String,
    pub format: Format,
    pub lock_version: Option<i32>,
    pub draft: bool,
    /// The live document's version this text was taken at (a save from the live editor): the
    /// live document then keeps its newer text. Any other save replaces the live text.
    pub live_version: Option<u64>,
}

/// The columns a document fills, or why it cannot be stored at all.
fn mirrored_fields(
    request: &SaveRequest,
    validation: Validation,
) -> Result<MirroredFields, AppError> {
    if !request.draft && validation.has_errors() {
        let count = validation.errors().count();
        return Err(AppError::Validation {
            message: format!(
                "The document has {count} error{}: fix {} or use Save as draft.",
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "them" }
            ),
            fields: vec![],
        });
    }
    let strategy = validation.strategy.unwrap_or_default();
    let name = strategy.name.trim().to_string();
    if name.is_empty() {
        return Err(AppError::field(
            "name",
            "Give the strategy a name (the `name` field) before saving, even as a draft.",
        ));
    }
    if name.chars().count() > NAME_COLUMN_LIMIT {
        return Err(AppError::field(
            "name",
            format!("A name can be at most {NAME_COLUMN_LIMIT} characters long."),
        ));
    }
    // A draft may keep an invalid pair, but never one its column cannot hold (a timeframe is
    // mirrored only when it is one the language knows).
    let pair_length = strategy.trading_pair.chars().count();
    if pair_length > NAME_COLUMN_LIMIT {
        crate::web::instruments::limit_hit("field_length");
        return Err(AppError::field(
            "trading_pair",
            format!(
                "`trading_pair` is {pair_length} characters long; at most {NAME_COLUMN_LIMIT} can be stored, even in a draft."
            ),
        ));
    }
    Ok(MirroredFields {
        name,
        description: strategy.description,
        trading_pair: strategy.trading_pair,
        timeframe: strategy
            .timeframe
            .map(|timeframe| timeframe.name().to_string())
            .unwrap_or_default(),
        format: request.format,
        content: request.content.clone(),
    })
}

/// Commits a document: a new strategy, or a new version of one whose lock version still
/// matches. The row and its version record change in one transaction.
pub async fn save(
    state: &AppState,
    user_id: UserId,
    mut request: SaveRequest,
) -> Result<Saved, AppError> {
    request.content = DocumentText::parse(&request.content)?.into_string();
    let validation = validated(state, user_id, &request.content, request.format).await?;
    let fields = mirrored_fields(&request, validation)?;
    let mut transaction = state.pool.begin().await?;
    let quotas = &state.settings.bounds.quotas;
    if request.id.is_none() {
        quotas::room_for_a_strategy(&mut transaction, user_id, quotas).await?;
    }
    quotas::room_for_text(
        &mut transaction,
        user_id,
        fields.content.len(),
        None,
        quotas,
    )
    .await?;
    let (id, version, lock_version, status, saved_at) = match request.id {
        None => {
            let id = repository::insert(&mut transaction, user_id, &fields).await?;
            (id, 1, 1, StrategyStatus::Draft, Utc::now())
        }
        Some(id) => {
            let lock_version = request.lock_version.ok_or_else(|| {
                AppError::field(
                    "lock_version",
                    "The save does not say which version it edits.",
                )
            })?;
            let updated =
                repository::update_document(&mut transaction, user_id, id, lock_version, &fields)
                    .await?;
            let Some(updated) = updated else {
                // Nothing matched: say why, from the row as it is now.
                let current = repository::find(&mut transaction, user_id, id).await?;
                if current.document.status.edit_refusal().is_none() {
                    crate::web::instruments::conflict_refused();
                }
                return Err(match current.document.status.edit_refusal() {
                    Some(refusal) => AppError::Forbidden {
                        message: refusal.to_string(),
                    },
                    None => AppError::Conflict {
                        message: format!(
                            "This strategy was changed in another window (it is now at version {}).",
                            current.document.version
                        ),
                        current_version: Some(current.document.version),
                    },
                });
            };
            (
                id,
                updated.version,
                updated.lock_version,
                updated.status,
                updated.updated_at,
            )
        }
    };
    repository::insert_version(
        &mut transaction,
        id,
        version,
        fields.format,
        &fields.content,
        user_id,
    )
    .await?;
    match request.live_version {
        Some(live) => live_doc::authority::saved_from(&mut transaction, id, version, live).await?,
        None => {
            live_doc::authority::follow_save(
                &mut transaction,
                user_id,
                id,
                &fields.content,
                fields.format,
                version,
            )
            .await?;
        }
    }
    let change = StrategyChange {
        strategy_id: id,
        kind: ChangeKind::Saved,
        version,
        lock_version,
        status,
        name: fields.name.clone(),
        at: saved_at,
    };
    announce(&mut transaction, user_id, change).await?;
    if let Some(tab_id) = request.tab_id {
        drafts::forget(&mut transaction, user_id, tab_id).await?;
    }
    let saved = Saved {
        id,
        version,
        lock_version,
        saved_at,
    };
    transaction.commit().await?;
    crate::web::instruments::version_saved();
    tracing::info!(strategy_id = %saved.id, version = saved.version, "strategy saved");
    Ok(saved)
}

pub async fn overview(
    state: &AppState,
    user_id: UserId,
    id: StrategyId,
) -> Result<StrategyOverview, AppError> {
    let mut connection = state.pool.acquire().await?;
    let stored = repository::find(&mut connection, user_id, id).await?;
    drop(connection);
    let report = syntax_tested(
        state,
        user_id,
        &stored.document.content,
        stored.document.format,
    )
    .await?;
    let versions = repository::versions(&state.pool, user_id, id).await?;
    Ok(StrategyOverview {
        transitions: Transition::offered_from(stored.document.status),
        document: stored.document,
        description: stored.description,
        report,
        versions,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    })
}

/// Changes the status inside one transaction that holds the row, so that the checks and the
/// change see the same strategy.
pub async fn change_status(
    state: &AppState,
    user_id: UserId,
    id: StrategyId,
    transition: Transition,
) -> Result<StrategyStatus, AppError> {
    let mut transaction = state.pool.begin().await?;
    repository::lock(&mut transaction, user_id, id).await?;
    let stored = repository::find(&mut transaction, user_id, id).await?;
    let document = &stored.document;
    let refuse = |message: String| AppError::Conflict {
        message,
        current_version: Some(document.version),
    };
    if let Some(refusal) = transition.refusal_from(document.status) {
        return Err(refuse(refusal.to_string()));
    }
    if transition == Transition::Activate {
        let validation = validated(state, user_id, &document.content, document.format).await?;
        if validation.has_errors() {
            return Err(refuse(format!(
                "Version {} has errors; fix them and run a backtest before activating.",
                document.version
            )));
        }
        // In the transaction that holds the row: a save cannot slip in between.
        if !backtest_queue::has_finished_run(&mut transaction, user_id, id, document.version)
            .await?
        {
            return Err(refuse(format!(
                "Run a backtest of version {} first.",
                document.version
            )));
        }
    }
    let target = transition.target();
    let lock_version = repository::set_status(&mut transaction, user_id, id, target).await?;
    let change = StrategyChange {
        strategy_id: id,
        kind: ChangeKind::StatusChanged,
        version: document.version,
        lock_version,
        status: target,
        name: document.name.clone(),
        at: Utc::now(),
    };
    announce(&mut transaction, user_id, change).await?;
    transaction.commit().await?;
    tracing::info!(strategy_id = %id, status = target.as_str(), "strategy status changed");
    Ok(target)
}

/// "<name> - Copy", then "- Copy 2", "- Copy 3": the first that this user does not have.
fn copy_name(name: &str, taken: &[String]) -> String {
    let base = format!("{name} - Copy");
    (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base} {n}")
            }
        })
        .find(|candidate| !taken.contains(&candidate.to_lowercase()))
        .expect("some copy name is free")
}

/// An independent draft with the same document under a new name (written into the document
/// too, which stays the single source of truth).
pub async fn duplicate(
    state: &AppState,
    user_id: UserId,
    id: StrategyId,
) -> Result<Saved, AppError> {
    let mut connection = state.pool.acquire().await?;
    let original = repository::find(&mut connection, user_id, id)
        .await?
        .document;
    drop(connection);
    let taken = repository::names_starting_with(&state.pool, user_id, &original.name).await?;
    let name = copy_name(&original.name, &taken);
    let (content, format, new_name) = (
        DocumentText::parse(&original.content)?.into_string(),
        original.format,
        name.clone(),
    );
    let renamed = state
        .work
        .run(Some(user_id.0), "copying the document", move |_| {
            language::apply_edit(
                &content,
                format,
                &Edit::SetField {
                    path: "name".into(),
                    value: EditValue::Text(new_name),
                },
            )
        })
        .await?;
    let content = renamed.map_err(|error| {
        AppError::field(
            "name",
            format!("The copy could not be renamed to \u{201c}{name}\u{201d}: {error}."),
        )
    })?;
    save(
        state,
        user_id,
        SaveRequest {
            id: None,
            tab_id: None,
            content,
            format: original.format,
            lock_version: None,
            draft: true,
            live_version: None,
        },
    )
    .await
}

pub async fn delete(state: &AppState, user_id: UserId, id: StrategyId) -> Result<(), AppError> {
    let document = document(state, user_id, id).await?;
    let mut transaction = state.pool.begin().await?;
    if repository::delete(&mut transaction, user_id, id).await? {
        let change = StrategyChange {
            strategy_id: id,
            kind: ChangeKind::Deleted,
            version: document.version,
            lock_version: document.lock_version,
            status: document.status,
            name: document.name.clone(),
            at: Utc::now(),
        };
        announce(&mut transaction, user_id, change).await?;
        transaction.commit().await?;
        tracing::info!(strategy_id = %id, "strategy deleted");
        return Ok(());
    }
    Err(AppError::Conflict {
        message: document
            .status
            .delete_refusal()
            .unwrap_or("This strategy could not be deleted.")
            .to_string(),
        current_version: Some(document.version),
    })
}

pub async fn version_text(
    state: &AppState,
    user_id: UserId,
    id: StrategyId,
    number: i32,
) -> Result<VersionText, AppError> {
    let (info, content) = repository::version(&state.pool, user_id, id, number).await?;
    Ok(VersionText { info, content })
}

pub async fn compare(
    state: &AppState,
    user_id: UserId,
    id: StrategyId,
    from: i32,
    to: i32,
) -> Result<VersionComparison, AppError> {
    let (from_info, before) = repository::version(&state.pool, user_id, id, from).await?;
    let (to_info, after) = repository::version(&state.pool, user_id, id, to).await?;
    let formats = (from_info.format, to_info.format);
    let (rows, changes) = state
        .work
        .run(Some(user_id.0), "comparing the versions", move |deadline| {
            // The diff stops early enough for the rest of the comparison to be answered.
            let rows = diff_rows_until(&before, &after, diff_deadline(deadline));
            let strategy = |text: &str, format| language::validate(text, format).into_valid().ok();
            let changes = match (strategy(&before, formats.0), strategy(&after, formats.1)) {
                (Some(before), Some(after)) => Some(describe_changes(&before, &after)),
                _ => None,
            };
            (rows, changes)
        })
        .await?;
    Ok(VersionComparison {
        from: from_info,
        to: to_info,
        too_different: rows.is_none(),
        rows: rows.unwrap_or_default(),
        changes,
    })
}

/// Saves an old version's text as the newest version.
pub async fn restore_version(
    state: &AppState,
    user_id: UserId,
    id: StrategyId,
    number: i32,
    lock_version: i32,
) -> Result<Saved, AppError> {
    let (info, content) = repository::version(&state.pool, user_id, id, number).await?;
    save(
        state,
        user_id,
        SaveRequest {
            id: Some(id),
            tab_id: None,
            content,
            format: info.format,
            lock_version: Some(lock_version),
            draft: true,
            live_version: None,
        },
    )
    .await
}

/// Stores a tab's working copy (valid or not); acknowledged only once Postgres committed it.
#[allow(clippy::too_many_arguments)]
/// One autosave of an editor tab's working copy: numbered by the tab (a stale number never
/// overwrites a newer copy), of a strategy (none for a new one), on the lock version it started
/// from.
#[derive(Debug, Clone)]
pub struct AutosaveRequest {
    pub tab_id: Uuid,
    pub sequence: u64,
    pub strategy_id: Option<StrategyId>,
    pub content: String,
    pub format: Format,
    pub base_lock_version: Option<i32>,
}

pub async fn autosave(
    state: &AppState,
    user_id: UserId,
    request: AutosaveRequest,
) -> Result<AutosaveAck, AppError> {
    let AutosaveRequest {
        tab_id,
        sequence,
        strategy_id,
        content,
        format,
        base_lock_version,
    } = request;
    let content = DocumentText::parse(&content)?;
    if let Some(id) = strategy_id {
        // Another user's strategy is not found, exactly like a missing one.
        document(state, user_id, id).await?;
    }
    let sequence = i64::try_from(sequence)
        .map_err(|_| AppError::field("sequence", "The autosave's number is out of range."))?;
    {
        let mut connection = state.pool.acquire().await?;
        let quotas = &state.settings.bounds.quotas;
        quotas::room_for_text(
            &mut connection,
            user_id,
            content.as_str().len(),
            Some(tab_id),
            quotas,
        )
        .await?;
    }
    let stored = drafts::store(
        &state.pool,
        user_id,
        tab_id,
        strategy_id,
        sequence,
        format,
        content.as_str(),
        base_lock_version,
    )
    .await?;
    crate::web::instruments::autosave_stored();
    Ok(AutosaveAck {
        stored,
        saved_at: Utc::now(),
    })
}

/// The newest working copy of a strategy (or of a new one) when it differs from what is
/// committed, with its changes line by line.
pub async fn working_copy(
    state: &AppState,
    user_id: UserId,
    committed: Option<&StrategyDocument>,
) -> Result<Option<WorkingCopy>, AppError> {
    let base = committed.map_or("", |document| document.content.as_str());
    let strategy_id = committed.map(|document| document.id);
    let Some(mut copy) = drafts::newest(&state.pool, user_id, strategy_id, base).await? else {
        return Ok(None);
    };
    copy.changes = line_diff(state, user_id, base, &copy.content).await?;
    Ok(Some(copy))
}

/// What a plain form post that lost the race is offered: the version saved elsewhere, and
/// how `mine` differs from it.
pub async fn form_conflict(
    state: &AppState,
    user_id: UserId,
    id: StrategyId,
    mine: &str,
    draft: bool,
) -> Result<FormConflict, AppError> {
    let current = document(state, user_id, id).await?;
    Ok(FormConflict {
        changes: line_diff(state, user_id, &current.content, mine).await?,
        change: StrategyChange {
            strategy_id: id,
            kind: ChangeKind::Saved,
            version: current.version,
            lock_version: current.lock_version,
            status: current.status,
            name: current.name,
            at: Utc::now(),
        },
        draft,
    })
}

/// How long a line diff may run: two texts not compared within two seconds are too different
/// for a trader to read line by line anyway, and the rest of the job must still be answered
/// before the pool's deadline.
fn diff_deadline(deadline: crate::work_pool::Deadline) -> std::time::Instant {
    deadline
        .after_share(0.7)
        .min(std::time::Instant::now() + std::time::Duration::from_secs(2))
}

/// `after` against `before` line by line, on the work pool; two texts too different to compare
/// within its deadline show as one removed and one added whole.
async fn line_diff(
    state: &AppState,
    user_id: UserId,
    before: &str,
    after: &str,
) -> Result<Vec<crate::strategies::DiffRow>, AppError> {
    let (before, after) = (before.to_string(), after.to_string());
    state
        .work
        .run(Some(user_id.0), "comparing the texts", move |deadline| {
            diff_rows_until(&before, &after, diff_deadline(deadline))
                .unwrap_or_else(|| crate::strategies::merge::whole_replacement(&before, &after))
        })
        .await
}

pub async fn discard_working_copy(
    state: &AppState,
    user_id: UserId,
    tab_id: Uuid,
) -> Result<(), AppError> {
    let mut connection = state.pool.acquire().await?;
    drafts::forget(&mut connection, user_id, tab_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_takes_the_first_free_copy_name() {
        assert_eq!(copy_name("RSI", &[]), "RSI - Copy");
        let taken = vec!["rsi - copy".to_string(), "rsi - copy 2".to_string()];
        assert_eq!(copy_name("RSI", &taken), "RSI - Copy 3");
    }
}
