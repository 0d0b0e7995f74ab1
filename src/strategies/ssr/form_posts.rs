//! The editor without JavaScript: `POST /strategies` creates a strategy and
//! `POST /strategies/:id` saves one, from the plain form the server renders (fields
//! `strategy[content]`, `strategy[format]`, `strategy[lock_version]`, and the button pressed,
//! `strategy[action]` = `save` or `draft`). Success answers 303 to the strategy's page. A
//! refusal keeps the text: it goes back to the editor through the session (post, redirect,
//! get), where the page shows it with the reason and every diagnostic at its line. A save
//! that lost the race to another window comes back with the choice: `keep_mine` saves the
//! text on top of their version (`strategy[theirs_lock_version]`), `take_theirs` keeps the
//! text as a working copy and opens their version. The working copy the editor offers comes
//! back into the form with `restore_working_copy`, or goes with `discard_working_copy`.

use crate::strategies::StrategyId;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    document_text::DocumentText,
    flows::{self, SaveRequest},
};
use crate::accounts::UserId;
use crate::{
    error::AppError,
    language::Format,
    state::AppState,
    strategies::{FormConflict, ReturnedDraft, RETURNED_DRAFT_KEY},
};

#[derive(Debug, Deserialize)]
pub struct StrategyForm {
    #[serde(rename = "strategy[content]")]
    content: String,
    #[serde(rename = "strategy[format]", default)]
    format: Option<String>,
    #[serde(rename = "strategy[lock_version]", default)]
    lock_version: Option<String>,
    #[serde(rename = "strategy[action]", default)]
    action: Option<String>,
    /// After a conflict: the lock version of the version saved elsewhere, for Keep mine.
    #[serde(rename = "strategy[theirs_lock_version]", default)]
    theirs_lock_version: Option<String>,
    /// After a conflict: the refused save was Save as draft.
    #[serde(rename = "strategy[keep_as_draft]", default)]
    keep_as_draft: Option<String>,
    /// The working copy the editor offers, for `discard_working_copy`.
    #[serde(rename = "strategy[working_copy_tab]", default)]
    working_copy_tab: Option<String>,
}

fn read_lock_version(value: Option<&str>) -> Result<Option<i32>, AppError> {
    match value.filter(|v| !v.is_empty()) {
        Some(value) => Ok(Some(value.parse().map_err(|_| {
            AppError::field("lock_version", "The form's version number is unreadable.")
        })?)),
        None => Ok(None),
    }
}

impl StrategyForm {
    /// The notation the form names: YAML when it names none, a field error for another.
    fn notation(&self) -> Result<Format, AppError> {
        Format::from_name(self.format.as_deref().unwrap_or("yaml"))
            .ok_or_else(|| AppError::field("format", "The format is YAML or TOML."))
    }

    fn request(&self, id: Option<StrategyId>) -> Result<SaveRequest, AppError> {
        let format = self.notation()?;
        // Keep mine overwrites: the save goes on top of the version saved elsewhere.
        let keep_mine = self.action.as_deref() == Some("keep_mine");
        let lock_version = if keep_mine {
            read_lock_version(self.theirs_lock_version.as_deref())?
        } else {
            read_lock_version(self.lock_version.as_deref())?
        };
        let draft = match self.action.as_deref() {
            Some("draft") => true,
            Some("keep_mine") => self.keep_as_draft.as_deref() == Some("true"),
            _ => false,
        };
        Ok(SaveRequest {
            id,
            tab_id: None,
            content: self.content.clone(),
            format,
            lock_version,
            draft,
            live_version: None,
        })
    }
}

/// The document as a file named after the strategy (`RSI reversion.yaml`).
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<StrategyId>,
) -> Response {
    let user = match crate::accounts::ssr::sessions::current_user(&session, &state.pool).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return AppError::NotFound.into_response(),
        Err(error) => return error.into_response(),
    };
    let document = match flows::document(&state, user, id).await {
        Ok(document) => document,
        Err(error) => return error.into_response(),
    };
    let (extension, media_type) = match document.format {
        Format::Yaml => ("yaml", "application/yaml; charset=utf-8"),
        Format::Toml => ("toml", "application/toml; charset=utf-8"),
    };
    let file_name: String = document
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " -_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (axum::http::header::CONTENT_TYPE, media_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.{extension}\"", file_name.trim()),
            ),
        ],
        document.content,
    )
        .into_response()
}

pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<StrategyForm>,
) -> Response {
    save(state, session, None, form).await
}

pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<StrategyId>,
    Form(form): Form<StrategyForm>,
) -> Response {
    save(state, session, Some(id), form).await
}

async fn save(
    state: AppState,
    session: Session,
    id: Option<StrategyId>,
    form: StrategyForm,
) -> Response {
    let user = match crate::accounts::ssr::sessions::current_user(&session, &state.pool).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return Redirect::to("/users/log-in").into_response(),
        Err(error) => return error.into_response(),
    };
    let editor = match id {
        Some(id) => format!("/strategies/{id}/edit"),
        None => "/strategies/new".to_string(),
    };
    // Nothing over the limit is tested, kept in the session or saved.
    if let Err(error) = DocumentText::parse(&form.content) {
        return error.into_response();
    }
    match form.action.as_deref() {
        Some("test") => {
            // Test syntax without JavaScript: nothing is saved; the editor shows the report.
            let format = match form.notation() {
                Ok(format) => format,
                Err(error) => return error.into_response(),
            };
            let tested = ReturnedDraft {
                content: form.content,
                format,
                lock_version: form.lock_version.and_then(|v| v.parse().ok()),
                message: String::new(),
                conflict: None,
            };
            return back_to_editor(&session, &editor, tested).await;
        }
        Some("restore_working_copy") => {
            return match restore_working_copy(&state, user, id).await {
                Ok(Some(restored)) => back_to_editor(&session, &editor, restored).await,
                Ok(None) => Redirect::to(&editor).into_response(),
                Err(error) => error.into_response(),
            };
        }
        Some("discard_working_copy") => {
            let Some(tab) = form
                .working_copy_tab
                .as_deref()
                .and_then(|t| t.parse().ok())
            else {
                return AppError::field("working_copy_tab", "Which working copy is unreadable.")
                    .into_response();
            };
            return match flows::discard_working_copy(&state, user, tab).await {
                Ok(()) => Redirect::to(&editor).into_response(),
                Err(error) => error.into_response(),
            };
        }
        _ => {}
    }
    let request = match form.request(id) {
        Ok(request) => request,
        Err(error) => return refused(&session, &editor, &form, None, error, None).await,
    };
    if let (Some("take_theirs"), Some(id)) = (form.action.as_deref(), id) {
        // The text stays on the server as a working copy; the editor opens their version
        // and offers it.
        let kept = flows::autosave(
            &state,
            user,
            flows::AutosaveRequest {
                tab_id: Uuid::new_v4(),
                sequence: 1,
                strategy_id: Some(id),
                content: request.content,
                format: request.format,
                base_lock_version: request.lock_version,
            },
        )
        .await;
        return match kept {
            Ok(_) => Redirect::to(&editor).into_response(),
            Err(error) => error.into_response(),
        };
    }
    let (lock_version, draft) = (request.lock_version, request.draft);
    match flows::save(&state, user, request).await {
        Ok(saved) => {
            Redirect::to(&format!("/strategies/{}?notice=saved", saved.id)).into_response()
        }
        // Another user's strategy, or one that is gone: the same 404 as everywhere.
        Err(error @ (AppError::NotFound | AppError::Internal { .. })) => error.into_response(),
        Err(error @ AppError::Conflict { .. }) => {
            let conflict = match id {
                Some(id) => {
                    match flows::form_conflict(&state, user, id, &form.content, draft).await {
                        Ok(conflict) => Some(conflict),
                        Err(error) => return error.into_response(),
                    }
                }
                None => None,
            };
            refused(&session, &editor, &form, lock_version, error, conflict).await
        }
        Err(error) => refused(&session, &editor, &form, lock_version, error, None).await,
    }
}

/// Back to the editor with the text, the reason, and after a conflict the choice.
async fn refused(
    session: &Session,
    editor: &str,
    form: &StrategyForm,
    lock_version: Option<i32>,
    error: AppError,
    conflict: Option<FormConflict>,
) -> Response {
    let returned = ReturnedDraft {
        content: form.content.clone(),
        // An unreadable notation is itself the error going back, which says so.
        format: form.notation().unwrap_or(Format::Yaml),
        lock_version: lock_version.or_else(|| form.lock_version.as_ref()?.parse().ok()),
        message: error.to_string(),
        conflict,
    };
    back_to_editor(session, editor, returned).await
}

/// The working copy the editor offers, back in the form (without JavaScript). It keeps the
/// lock version it was based on, so that saving it over a newer version is a conflict with
/// the choice, not a silent overwrite; the copy itself stays until a save or a discard.
async fn restore_working_copy(
    state: &AppState,
    user: UserId,
    id: Option<StrategyId>,
) -> Result<Option<ReturnedDraft>, AppError> {
    let document = match id {
        Some(id) => Some(flows::document(state, user, id).await?),
        None => None,
    };
    let Some(copy) = flows::working_copy(state, user, document.as_ref()).await? else {
        return Ok(None);
    };
    Ok(Some(ReturnedDraft {
        content: copy.content,
        format: copy.format,
        lock_version: copy
            .base_lock_version
            .or(document.map(|document| document.lock_version)),
        message: "Your unsaved changes are back in the form: save to keep them.".into(),
        conflict: None,
    }))
}

/// The editor shows `returned` once (post, redirect, get).
async fn back_to_editor(session: &Session, editor: &str, returned: ReturnedDraft) -> Response {
    if let Err(error) = session.insert(RETURNED_DRAFT_KEY, returned).await {
        return AppError::internal(format!("cannot keep the returned draft: {error}"))
            .into_response();
    }
    Redirect::to(editor).into_response()
}
