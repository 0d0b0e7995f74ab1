//! The one error type of the app: it knows its HTTP status and crosses server functions
//! intact, so the UI can show a conflict, a validation failure or a 404 for what it is.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// A problem with one field of a form, shown next to that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    /// The request itself could not be read (a missing or malformed argument of a server
    /// function): a client's mistake or a tampered request, never the server's fault.
    #[error("{message}")]
    BadRequest { message: String },
    /// The input was understood but is not acceptable; `fields` say where.
    #[error("{message}")]
    Validation {
        message: String,
        fields: Vec<FieldError>,
    },
    /// Also the answer for another user's resources, so that ids cannot be probed.
    #[error("Not found")]
    NotFound,
    /// Someone else changed the thing first (optimistic locking); `current_version` is theirs.
    #[error("{message}")]
    Conflict {
        message: String,
        current_version: Option<i32>,
    },
    #[error("Please log in to continue")]
    Unauthenticated,
    #[error("{message}")]
    Forbidden { message: String },
    #[error("Too many attempts. Please try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    /// One of the bounds on what a user may hold at once (live connections, backtests
    /// waiting); the sentence says which and what to do.
    #[error("{message}")]
    LimitReached { message: String },
    #[error("{message}")]
    PayloadTooLarge { message: String },
    #[error("{message}")]
    Unavailable { message: String },
    /// The detail is in the log under `request_id`; the user sees only the id.
    #[error("Something went wrong on our side. The problem was logged as request {request_id}.")]
    Internal { request_id: String },
    /// The request never reached the server, or its answer could not be read.
    #[error("Could not reach the server: {message}")]
    Transport { message: String },
}

impl AppError {
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [only] => only.message.clone(),
            _ => "Please correct the highlighted fields.".to_string(),
        };
        AppError::Validation { message, fields }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest { .. } => 400,
            AppError::Validation { .. } => 422,
            AppError::NotFound => 404,
            AppError::Conflict { .. } => 409,
            AppError::Unauthenticated => 401,
            AppError::Forbidden { .. } => 403,
            AppError::RateLimited { .. } | AppError::LimitReached { .. } => 429,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::Unavailable { .. } => 503,
            AppError::Internal { .. } | AppError::Transport { .. } => 500,
        }
    }

    /// The message for one field of a form, if the error names it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation { fields, .. } => fields
                .iter()
                .find(|f| f.field == field)
                .map(|f| f.message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Raised on the server before the function runs, so `respond` never sees it: the
            // status is set here, else the answer would be a 500 for the client's mistake.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                #[cfg(feature = "ssr")]
                if let Some(options) =
                    leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
                {
                    options.set_status(axum::http::StatusCode::BAD_REQUEST);
                }
                AppError::BadRequest {
                    message: format!(
                        "This request could not be read ({value}). Reload the page and try again."
                    ),
                }
            }
            other => AppError::Transport {
                message: other.to_string(),
            },
        }
    }
}

#[cfg(feature = "ssr")]
pub use server_side::POOL_BUSY;

#[cfg(feature = "ssr")]
mod server_side {
    use super::AppError;
    use axum::{
        http::{header::RETRY_AFTER, HeaderValue, StatusCode},
        response::{IntoResponse, Response},
        Json,
    };

    impl AppError {
        /// Logs `detail` in the current request's span and returns the generic 500 the user sees.
        pub fn internal(detail: impl std::fmt::Display) -> Self {
            let request_id = crate::request_id::current();
            tracing::error!(%request_id, error = %detail, "internal error");
            AppError::Internal { request_id }
        }

        pub fn http_status(&self) -> StatusCode {
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }

    /// What a request says when no database connection came free in time.
    pub const POOL_BUSY: &str = "The server is busy right now: no database connection came free in time. Please try again in a moment.";

    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
            match error {
                sqlx::Error::RowNotFound => AppError::NotFound,
                sqlx::Error::PoolTimedOut => AppError::Unavailable {
                    message: POOL_BUSY.into(),
                },
                // query_canceled: the statement ran past DB_STATEMENT_TIMEOUT_MS.
                sqlx::Error::Database(database) if database.code().as_deref() == Some("57014") => {
                    tracing::warn!(error = %database, "a statement ran past its time limit");
                    AppError::Unavailable {
                        message: "The database took too long to answer, so the request was stopped. Please try again.".into(),
                    }
                }
                other => AppError::internal(other),
            }
        }
    }

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status = self.http_status();
            let mut response = (status, Json(&self)).into_response();
            if let AppError::RateLimited { retry_after_secs } = &self {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            // For the HTTP stack, which gives a browser's plain form post a page with the
            // sentence instead of this JSON.
            response.extensions_mut().insert(self);
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_survives_the_trip_through_a_server_function_encoding() {
        let conflict = AppError::Conflict {
            message: "Changed in another window".into(),
            current_version: Some(7),
        };
        let bytes = conflict.ser();
        assert_eq!(AppError::de(bytes), conflict);
    }

    #[test]
    fn every_kind_of_error_can_be_encoded() {
        // Internally tagged enums cannot encode newtype variants holding a string: every
        // variant carries named fields.
        for error in [
            AppError::Forbidden {
                message: "no".into(),
            },
            AppError::PayloadTooLarge {
                message: "big".into(),
            },
            AppError::Unavailable {
                message: "down".into(),
            },
            AppError::Transport {
                message: "offline".into(),
            },
            AppError::Unauthenticated,
        ] {
            assert_eq!(AppError::de(error.ser()), error);
        }
    }

    #[test]
    fn each_error_knows_its_http_status() {
        assert_eq!(AppError::NotFound.status(), 404);
        assert_eq!(AppError::field("email", "is taken").status(), 422);
        assert_eq!(
            AppError::RateLimited {
                retry_after_secs: 30
            }
            .status(),
            429
        );
        assert_eq!(
            AppError::Internal {
                request_id: "r".into()
            }
            .status(),
            500
        );
    }

    #[test]
    fn a_single_field_error_uses_its_own_message() {
        let error = AppError::field("email", "Email is already registered");
        assert_eq!(error.to_string(), "Email is already registered");
        assert_eq!(
            error.field_message("email").as_deref(),
            Some("Email is already registered")
        );
        assert_eq!(error.field_message("password"), None);
    }
}
