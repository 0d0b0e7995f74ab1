//! A trader's text on its way into Postgres, whose `text` values cannot hold U+0000 (a paste
//! from a binary file, or a scanner's payload, can carry it; Postgres answers with an error,
//! which would be a 500 and, for a draft, a lost keystroke). Text the app keeps as sent
//! (working copies, drafts, the labels and reasons of an upload's report) or looks up (a
//! name, a search) has each U+0000 replaced by U+FFFD, the character a decoder puts where it
//! could not read: nothing else changes, positions stay where they were, and the strategy
//! language then reports the character where it stands.

use std::borrow::Cow;

/// `text` with every U+0000 replaced by U+FFFD; borrowed, without a copy, when it has none.
pub fn storable(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_character_becomes_the_replacement_character_and_nothing_else_changes() {
        assert_eq!(storable("ab\0c\0"), "ab\u{FFFD}c\u{FFFD}");
        assert_eq!(storable("ab\0c").chars().count(), 4);
        assert!(matches!(
            storable("plain text é"),
            Cow::Borrowed("plain text é")
        ));
    }
}
