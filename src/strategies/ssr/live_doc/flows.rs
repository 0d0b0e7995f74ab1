//! What the editor asks of the live document through server functions: where to start (the
//! text at a version, rendered into the page) and saving the text at an exact live version.

use super::authority;
use crate::accounts::UserId;
use crate::{
    error::AppError,
    language::Format,
    state::AppState,
    strategies::{
        ssr::{flows, repository},
        LiveStart, Saved, StrategyId,
    },
};

fn format_of(notation: live_document::Notation) -> Format {
    match notation {
        live_document::Notation::Yaml => Format::Yaml,
        live_document::Notation::Toml => Format::Toml,
    }
}

/// Joins (seeding it the first time) the live document of `user`'s strategy `id`.
pub async fn start(state: &AppState, user: UserId, id: StrategyId) -> Result<LiveStart, AppError> {
    let joined = authority::join(&state.pool, user, id).await?;
    Ok(LiveStart {
        version: joined.version,
        format: format_of(joined.notation),
        unsaved: joined.version != joined.saved_live_version,
        saved_version: joined.saved_version,
        text: joined.text,
    })
}

/// Saves the live text at version `live` as a new strategy version ("what I saw is what I
/// saved", whatever was typed since). Text equal to the current version's is not saved twice:
/// the answer is that version.
pub async fn save(
    state: &AppState,
    user: UserId,
    id: StrategyId,
    live: u64,
    draft: bool,
) -> Result<Saved, AppError> {
    let (text, notation) = authority::text_at(&state.pool, user, id, live)
        .await?
        .ok_or_else(|| AppError::Conflict {
            message: format!(
                "The shared document is no longer at version {live}; save again to save what it is now."
            ),
            current_version: None,
        })?;
    let mut connection = state.pool.acquire().await?;
    let current = repository::find(&mut connection, user, id).await?;
    drop(connection);
    let format = format_of(notation);
    if current.document.content == text && current.document.format == format {
        return Ok(Saved {
            id,
            version: current.document.version,
            lock_version: current.document.lock_version,
            saved_at: current.updated_at,
        });
    }
    let request = flows::SaveRequest {
        id: Some(id),
        tab_id: None,
        content: text,
        format,
        lock_version: Some(current.document.lock_version),
        draft,
        live_version: Some(live),
    };
    flows::save(state, user, request).await
}
