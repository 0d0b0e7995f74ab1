//! What can be wrong with a change or with the document it would make: a sentence a trader can
//! read (Display) and a short stable code the socket sends beside it (`code()`).

use std::fmt;

/// Why a change was refused. Every variant leaves the document as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeError {
    /// The JSON is not the shape `ChangeSet.toJSON()` produces; the text says which part.
    Malformed(&'static str),
    /// The change was made on a document of another length (both in UTF-16 code units).
    WrongLength { covers: usize, document: usize },
    /// A kept, deleted or replaced range starts or ends between the two halves of a character
    /// outside the Basic Multilingual Plane (an emoji is two UTF-16 code units).
    SplitsCharacter { at: usize },
    /// The text holds U+0000: Postgres cannot store it in a TEXT column.
    NullCharacter,
    /// The document would outgrow its limit (both in bytes of UTF-8).
    TooLarge { bytes: usize, limit: usize },
}

impl ChangeError {
    /// The code of the `refused` frame: `too_large` for a document past its limit, and
    /// `bad_changes` for a change that no retry can make acceptable.
    pub fn code(&self) -> &'static str {
        match self {
            ChangeError::TooLarge { .. } => "too_large",
            ChangeError::Malformed(_)
            | ChangeError::WrongLength { .. }
            | ChangeError::SplitsCharacter { .. }
            | ChangeError::NullCharacter => "bad_changes",
        }
    }
}

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeError::Malformed(what) => write!(f, "The change could not be read: {what}."),
            ChangeError::WrongLength { covers, document } => write!(
                f,
                "The change does not fit the document: it covers {covers} characters, \
                 the document has {document}."
            ),
            ChangeError::SplitsCharacter { .. } => {
                write!(f, "The change splits a character in two.")
            }
            ChangeError::NullCharacter => write!(
                f,
                "The text contains a null character (U+0000), which a strategy cannot hold."
            ),
            ChangeError::TooLarge { bytes, limit } => write!(
                f,
                "The document would be {}; the limit is {}.",
                Size(*bytes),
                Size(*limit)
            ),
        }
    }
}

impl std::error::Error for ChangeError {}

/// A size as a trader reads it: bytes below one kilobyte, else whole kilobytes rounded up, so a
/// document one byte past a 256 KB limit reads "257 KB", not "256 KB".
struct Size(usize);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => write!(f, "1 byte"),
            bytes if bytes < 1024 => write!(f, "{bytes} bytes"),
            bytes => write!(f, "{} KB", bytes.div_ceil(1024)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_length_reads_as_a_sentence_about_characters() {
        let error = ChangeError::WrongLength {
            covers: 120,
            document: 118,
        };
        assert_eq!(
            error.to_string(),
            "The change does not fit the document: it covers 120 characters, the document has 118."
        );
        assert_eq!(error.code(), "bad_changes");
    }

    #[test]
    fn a_document_too_large_reads_in_kilobytes_with_its_own_code() {
        let error = ChangeError::TooLarge {
            bytes: 300 * 1024,
            limit: 256 * 1024,
        };
        assert_eq!(
            error.to_string(),
            "The document would be 300 KB; the limit is 256 KB."
        );
        assert_eq!(error.code(), "too_large");
    }

    #[test]
    fn one_byte_past_the_limit_does_not_read_as_the_limit_itself() {
        let error = ChangeError::TooLarge {
            bytes: 256 * 1024 + 1,
            limit: 256 * 1024,
        };
        assert_eq!(
            error.to_string(),
            "The document would be 257 KB; the limit is 256 KB."
        );
    }

    #[test]
    fn small_sizes_read_in_bytes() {
        let error = ChangeError::TooLarge {
            bytes: 12,
            limit: 1,
        };
        assert_eq!(
            error.to_string(),
            "The document would be 12 bytes; the limit is 1 byte."
        );
    }

    #[test]
    fn every_refusal_of_the_change_itself_is_bad_changes() {
        for error in [
            ChangeError::Malformed("it is not a list"),
            ChangeError::SplitsCharacter { at: 3 },
            ChangeError::NullCharacter,
        ] {
            assert_eq!(error.code(), "bad_changes", "{error}");
            assert!(error.to_string().ends_with('.'), "{error}");
        }
        assert_eq!(
            ChangeError::SplitsCharacter { at: 3 }.to_string(),
            "The change splits a character in two."
        );
    }
}
