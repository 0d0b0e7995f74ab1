//! A strategy document's text as it arrives from a trader, and the checks made of it off the
//! async threads. Every server path that takes a document (autosave, save, duplicate, restore,
//! the plain form posts) builds a [`DocumentText`] first, so none of them reads, stores or
//! compares a text over the language's limit (`language::size`); the keystroke check answers a
//! larger one with the language's own diagnostic instead. A document of more than a few
//! kilobytes is validated on the work pool, never on an async thread.

use crate::accounts::UserId;
use crate::{
    error::AppError,
    language::{self, size, syntax_test::SyntaxReport, Format, Validation},
    state::AppState,
    stored_text::storable,
};

/// Below this size a document is checked where the request is served: the check takes well
/// under a millisecond, less than handing it to another thread.
pub const CHECKED_IN_PLACE_BYTES: usize = 16 * 1024;

/// A document's text within the language's size limit, with what Postgres cannot store
/// replaced (`stored_text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentText(String);

impl DocumentText {
    /// The text, or 413 with "The document is 300 KB; the limit is 256 KB."
    pub fn parse(text: &str) -> Result<Self, AppError> {
        size::within_limit(text).map_err(|too_large| {
            crate::web::instruments::limit_hit("document_size");
            AppError::PayloadTooLarge {
                message: too_large.to_string(),
            }
        })?;
        Ok(DocumentText(storable(text).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The validation of `text`: in place when it is small, else on the work pool (in `user`'s
/// share). A text over the limit is answered with the language's diagnostic, unread.
pub async fn validated(
    state: &AppState,
    user: UserId,
    text: &str,
    format: Format,
) -> Result<Validation, AppError> {
    checked(
        state,
        user,
        text,
        format,
        "checking the document",
        language::validate,
    )
    .await
}

/// The syntax test of `text` (validation included), on the work pool unless it is small.
pub async fn syntax_tested(
    state: &AppState,
    user: UserId,
    text: &str,
    format: Format,
) -> Result<SyntaxReport, AppError> {
    checked(
        state,
        user,
        text,
        format,
        "testing the document",
        language::syntax_test,
    )
    .await
}

/// `check` of `text`, where it is cheap (a small text, or one over the limit, which the
/// language refuses unread) or else on the work pool; `what` names it in the pool's sentences.
async fn checked<T: Send + 'static>(
    state: &AppState,
    user: UserId,
    text: &str,
    format: Format,
    what: &'static str,
    check: fn(&str, Format) -> T,
) -> Result<T, AppError> {
    if text.len() <= CHECKED_IN_PLACE_BYTES || size::within_limit(text).is_err() {
        return Ok(check(&storable(text), format));
    }
    let text = storable(text).into_owned();
    state
        .work
        .run(Some(user.0), what, move |_| check(&text, format))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_over_the_limit_is_refused_with_its_size() {
        let error = DocumentText::parse(&"#".repeat(300 * 1024)).unwrap_err();
        assert_eq!(error.status(), 413);
        assert_eq!(
            error.to_string(),
            "The document is 300 KB; the limit is 256 KB."
        );
        assert_eq!(
            DocumentText::parse("name: a\0b").unwrap().as_str(),
            "name: a\u{FFFD}b"
        );
    }
}
