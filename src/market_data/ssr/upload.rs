//! `POST /market-data/import`: the upload form's plain multipart post (fields `pair`,
//! `timeframe`, `file`). The file is written to a temporary file as it arrives (never held in
//! memory), its import starts as a background job (`flows::start_import`), and the answer is
//! a 303 to the market data page with the report (`?import=<id>`), which follows the job's
//! progress. The hydrated page sends the same form itself, to show the upload's progress, and
//! asks for JSON: it gets where to go (`Navigation`) instead of the redirect, and an error as
//! the error.

use axum::{
    extract::{multipart::MultipartRejection, Multipart, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Json,
};
use tokio::io::AsyncWriteExt;
use tower_sessions::Session;

use super::flows::{self, SpooledFile, Upload};
use crate::{
    error::AppError,
    market_data::{too_large_sentence, MARKET_DATA_PATH},
    state::AppState,
    web::{server_context::Requester, Navigation},
};

/// The longest `pair` or `timeframe` field read; a longer one is refused unread.
const MAX_LABEL_BYTES: usize = 100;

pub async fn import(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let user = match crate::accounts::ssr::sessions::current_user(&session, &state.pool).await {
        Ok(Some(user)) if user.confirmed_at.is_some() => user.id,
        Ok(Some(_)) => {
            return AppError::Forbidden {
                message: crate::accounts::confirm_email_first("upload market data"),
            }
            .into_response()
        }
        Ok(None) => return AppError::Unauthenticated.into_response(),
        Err(error) => return error.into_response(),
    };
    let upload = match multipart {
        Ok(multipart) => read_upload(multipart).await,
        Err(rejection) => Err(AppError::field("file", rejection.body_text())),
    };
    let outcome = match upload {
        Ok(upload) => flows::start_import(&state, user, upload).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(id) => {
            let to = format!("{MARKET_DATA_PATH}?import={id}");
            if Requester::of(&headers) == Requester::HydratedPage {
                Json(Navigation { to }).into_response()
            } else {
                Redirect::to(&to).into_response()
            }
        }
        Err(error) => error.into_response(),
    }
}

/// The form's fields, the file written to disk as it arrives; a body over the limit (cut off
/// by the HTTP stack) is a 413 with the upload's own sentence.
async fn read_upload(mut multipart: Multipart) -> Result<Upload, AppError> {
    let mut upload = Upload::default();
    let failed = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            crate::web::instruments::limit_hit("upload_size");
            AppError::PayloadTooLarge {
                message: too_large_sentence(),
            }
        } else {
            AppError::field("file", error.body_text())
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        match field.name() {
            Some(name @ ("pair" | "timeframe")) => {
                let name = name.to_string();
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(failed)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_LABEL_BYTES {
                        return Err(AppError::field(
                            &name,
                            format!("The {name} is longer than {MAX_LABEL_BYTES} characters."),
                        ));
                    }
                }
                let text = String::from_utf8_lossy(&text).into_owned();
                if name == "pair" {
                    upload.pair = text;
                } else {
                    upload.timeframe = text;
                }
            }
            Some("file") => {
                upload.file_name = field.file_name().unwrap_or("upload.csv").to_string();
                let path = std::env::temp_dir().join(format!(
                    "trading_strategy-upload-{}.csv",
                    uuid::Uuid::new_v4()
                ));
                let mut spooled = SpooledFile { path, bytes: 0 };
                let mut file = tokio::fs::File::create(&spooled.path)
                    .await
                    .map_err(AppError::internal)?;
                while let Some(chunk) = field.chunk().await.map_err(failed)? {
                    file.write_all(&chunk).await.map_err(AppError::internal)?;
                    spooled.bytes += chunk.len() as u64;
                }
                file.flush().await.map_err(AppError::internal)?;
                upload.file = Some(spooled);
            }
            _ => {}
        }
    }
    Ok(upload)
}
