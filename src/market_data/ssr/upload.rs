//! `POST /market-data/import`: the upload form's plain multipart post (fields `pair`,
//! `timeframe`, `file`). It imports the file as the signed-in trader's own bars and answers 303
//! to the market data page with the report (`?import=<id>`). The hydrated page sends the same
//! form itself, to show the upload's progress, and asks for JSON: it gets where to go
//! (`Navigation`) instead of the redirect, and an error as the error.

use axum::{
    extract::{multipart::MultipartRejection, Multipart, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Json,
};
use tower_sessions::Session;

use super::flows::{self, Upload};
use crate::{
    error::AppError,
    market_data::{too_large_sentence, MARKET_DATA_PATH},
    state::AppState,
    web::{server_context::Requester, Navigation},
};

pub async fn import(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let user = match crate::accounts::ssr::sessions::current_user(&session, &state.pool).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return AppError::Unauthenticated.into_response(),
        Err(error) => return error.into_response(),
    };
    let upload = match multipart {
        Ok(multipart) => read_upload(multipart).await,
        Err(rejection) => Err(AppError::field("file", rejection.body_text())),
    };
    let outcome = match upload {
        Ok(upload) => flows::import_upload(&state, user, upload).await,
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

/// The form's fields; a body over the limit (cut off by the HTTP stack) is a 413 with the
/// upload's own sentence.
async fn read_upload(mut multipart: Multipart) -> Result<Upload, AppError> {
    let mut upload = Upload::default();
    let failed = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge {
                message: too_large_sentence(),
            }
        } else {
            AppError::field("file", error.body_text())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        match field.name() {
            Some("pair") => upload.pair = field.text().await.map_err(failed)?,
            Some("timeframe") => upload.timeframe = field.text().await.map_err(failed)?,
            Some("file") => {
                upload.file_name = field.file_name().unwrap_or("upload.csv").to_string();
                upload.bytes = field.bytes().await.map_err(failed)?.to_vec();
            }
            _ => {}
        }
    }
    Ok(upload)
}
