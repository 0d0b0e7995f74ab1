//! The editor without JavaScript: `POST /strategies` creates a strategy and
//! `POST /strategies/:id` saves one, from the plain form the server renders (fields
//! `strategy[content]`, `strategy[format]`, `strategy[lock_version]`, and the button pressed,
//! `strategy[action]` = `save` or `draft`). Success answers 303 to the strategy's page. A
//! refusal keeps the text: it goes back to the editor through the session (post, redirect,
//! get), where the page shows it with the reason and every diagnostic at its line.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::flows::{self, SaveRequest};
use crate::{
    error::AppError,
    language::Format,
    state::AppState,
    strategies::{ReturnedDraft, RETURNED_DRAFT_KEY},
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
}

impl StrategyForm {
    fn request(&self, id: Option<Uuid>) -> Result<SaveRequest, AppError> {
        let format = match self.format.as_deref().unwrap_or("yaml") {
            "yaml" => Format::Yaml,
            "toml" => Format::Toml,
            _ => return Err(AppError::field("format", "The format is YAML or TOML.")),
        };
        let lock_version = match self.lock_version.as_deref().filter(|v| !v.is_empty()) {
            Some(value) => Some(value.parse().map_err(|_| {
                AppError::field("lock_version", "The form's version number is unreadable.")
            })?),
            None => None,
        };
        Ok(SaveRequest {
            id,
            tab_id: None,
            content: self.content.clone(),
            format,
            lock_version,
            draft: self.action.as_deref() == Some("draft"),
        })
    }
}

/// The document as a file named after the strategy (`RSI reversion.yaml`).
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<Uuid>,
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
    Path(id): Path<Uuid>,
    Form(form): Form<StrategyForm>,
) -> Response {
    save(state, session, Some(id), form).await
}

async fn save(state: AppState, session: Session, id: Option<Uuid>, form: StrategyForm) -> Response {
    let user = match crate::accounts::ssr::sessions::current_user(&session, &state.pool).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return Redirect::to("/users/log-in").into_response(),
        Err(error) => return error.into_response(),
    };
    let editor = match id {
        Some(id) => format!("/strategies/{id}/edit"),
        None => "/strategies/new".to_string(),
    };
    if form.action.as_deref() == Some("test") {
        // Test syntax without JavaScript: nothing is saved; the editor shows the report.
        let tested = ReturnedDraft {
            content: form.content,
            format: form.format.unwrap_or_else(|| "yaml".into()),
            lock_version: form.lock_version.and_then(|v| v.parse().ok()),
            message: String::new(),
        };
        return match session.insert(RETURNED_DRAFT_KEY, tested).await {
            Ok(()) => Redirect::to(&editor).into_response(),
            Err(error) => {
                AppError::internal(format!("cannot keep the tested draft: {error}")).into_response()
            }
        };
    }
    let outcome = match form.request(id) {
        Ok(request) => flows::save(&state, user, request).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(saved) => {
            Redirect::to(&format!("/strategies/{}?notice=saved", saved.id)).into_response()
        }
        // Another user's strategy, or one that is gone: the same 404 as everywhere.
        Err(error @ (AppError::NotFound | AppError::Internal { .. })) => error.into_response(),
        Err(error) => {
            let returned = ReturnedDraft {
                content: form.content,
                format: form.format.unwrap_or_else(|| "yaml".into()),
                lock_version: form.lock_version.and_then(|v| v.parse().ok()),
                message: error.to_string(),
            };
            if let Err(error) = session.insert(RETURNED_DRAFT_KEY, returned).await {
                return AppError::internal(format!("cannot keep the returned draft: {error}"))
                    .into_response();
            }
            Redirect::to(&editor).into_response()
        }
    }
}
