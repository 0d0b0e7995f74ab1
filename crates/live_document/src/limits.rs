//! The limits every version of a live document keeps, whoever wrote it: a size the editor, the
//! socket and Postgres's notifications handle, and no U+0000, which a Postgres TEXT column cannot
//! store.

use crate::error::ChangeError;

/// The size limit the app passes: 256 KiB of UTF-8, the same as a saved strategy's.
pub const DOCUMENT_LIMIT_BYTES: usize = 256 * 1024;

/// Refuses text over `max_bytes` bytes of UTF-8, or holding U+0000.
pub fn check_text(text: &str, max_bytes: usize) -> Result<(), ChangeError> {
    if text.len() > max_bytes {
        return Err(ChangeError::TooLarge {
            bytes: text.len(),
            limit: max_bytes,
        });
    }
    if text.contains('\0') {
        return Err(ChangeError::NullCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_at_the_limit_is_accepted() {
        let text = "a".repeat(DOCUMENT_LIMIT_BYTES);
        assert_eq!(check_text(&text, DOCUMENT_LIMIT_BYTES), Ok(()));
    }

    #[test]
    fn a_document_past_the_limit_is_refused() {
        let text = "a".repeat(300 * 1024);
        let error = check_text(&text, DOCUMENT_LIMIT_BYTES).unwrap_err();
        assert_eq!(
            error.to_string(),
            "The document would be 300 KB; the limit is 256 KB."
        );
        assert_eq!(error.code(), "too_large");
    }

    #[test]
    fn the_limit_counts_bytes_not_characters() {
        // 4 characters, 2 code units each, 4 bytes each: 16 bytes.
        assert!(check_text("😀😀😀😀", 15).is_err());
        assert!(check_text("😀😀😀😀", 16).is_ok());
    }

    #[test]
    fn a_null_character_is_refused() {
        assert_eq!(
            check_text("a: 1\n\0", DOCUMENT_LIMIT_BYTES),
            Err(ChangeError::NullCharacter)
        );
    }
}
