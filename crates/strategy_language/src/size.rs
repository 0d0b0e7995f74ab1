//! How large a strategy document may be: the one limit that every path taking a document
//! enforces (the editor, the server's check, autosave, save, duplicate, restore, form posts,
//! the `check` command), and the sentence that says so. The largest real strategy is a few
//! kilobytes; the limit leaves room for long comments and keeps every check's work bounded.

use std::fmt;

/// The largest document the language reads, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// At most this many diagnostics are listed for one document; one more says how many were
/// left out. A hostile document can hold tens of thousands of mistakes, and the editor's list
/// is no use past the first screens of them.
pub const MAX_DIAGNOSTICS: usize = 200;

/// A document over [`MAX_DOCUMENT_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    pub bytes: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "The document is {} KB; the limit is {} KB.",
            self.bytes.div_ceil(1024),
            MAX_DOCUMENT_BYTES / 1024
        )
    }
}

impl std::error::Error for TooLarge {}

/// `Ok` for a document the language reads, else how large it is.
pub fn within_limit(text: &str) -> Result<(), TooLarge> {
    if text.len() > MAX_DOCUMENT_BYTES {
        Err(TooLarge { bytes: text.len() })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_over_the_limit_is_refused_with_its_size_and_the_limit() {
        assert!(within_limit(&"a".repeat(MAX_DOCUMENT_BYTES)).is_ok());
        let error = within_limit(&"a".repeat(300 * 1024)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "The document is 300 KB; the limit is 256 KB."
        );
    }
}
