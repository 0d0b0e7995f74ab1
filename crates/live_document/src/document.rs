//! The live document as the authority holds it: its text, the collab version that text is at,
//! and its notation; and the all-or-nothing application of a push's updates to it.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::changes::ChangeSet;
use crate::error::ChangeError;
use crate::frames::ServedUpdate;
use crate::limits::check_text;

/// The notation a strategy document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Notation {
    Yaml,
    Toml,
}

impl Notation {
    /// The name on the wire and in the database (`yaml`, `toml`).
    pub fn as_str(self) -> &'static str {
        match self {
            Notation::Yaml => "yaml",
            Notation::Toml => "toml",
        }
    }

    /// The notation of that name, if it is one.
    pub fn from_name(name: &str) -> Option<Notation> {
        match name {
            "yaml" => Some(Notation::Yaml),
            "toml" => Some(Notation::Toml),
            _ => None,
        }
    }
}

/// The text of a live document at a collab version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// `\n` line breaks only, no U+0000 (see `normalize_seed`).
    pub text: String,
    /// How many updates have been applied since the document was seeded.
    pub version: u64,
    pub notation: Notation,
}

impl Document {
    /// Applies a push's updates in order, each one version, every intermediate text within
    /// `max_bytes` and free of U+0000 (a peer may stop at any version). All or nothing: if one
    /// update is refused, the document is left as it was and the error says why.
    ///
    /// The notation is not a change set's: the caller sets it from the updates' `f`.
    pub fn apply_updates(
        &mut self,
        updates: &[ChangeSet],
        max_bytes: usize,
    ) -> Result<(), ChangeError> {
        let mut text = Cow::Borrowed(self.text.as_str());
        for changes in updates {
            let next = changes.apply(&text)?;
            check_text(&next, max_bytes)?;
            text = Cow::Owned(next);
        }
        if let Cow::Owned(text) = text {
            self.text = text;
        }
        self.version += updates.len() as u64;
        Ok(())
    }

    /// Follows updates the authority committed from version `from` on (their changes, and the
    /// notation the last switch chose), as a server copy that relays them keeps its own copy of
    /// the document: `false`, and the document as it was, when they start at another version
    /// or one of them does not apply.
    pub fn follow(&mut self, from: u64, updates: &[ServedUpdate]) -> bool {
        if from != self.version {
            return false;
        }
        let Ok(changes) = updates
            .iter()
            .map(ServedUpdate::changes)
            .collect::<Result<Vec<_>, _>>()
        else {
            return false;
        };
        // Committed updates kept the limits when they were pushed; a server-made one (a save
        // from outside) is as long as the saved text.
        if self.apply_updates(&changes, usize::MAX).is_err() {
            return false;
        }
        self.notation = updates
            .iter()
            .rev()
            .find_map(|update| update.f)
            .unwrap_or(self.notation);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document(text: &str) -> Document {
        Document {
            text: text.to_string(),
            version: 41,
            notation: Notation::Yaml,
        }
    }

    fn change(json: serde_json::Value) -> ChangeSet {
        ChangeSet::from_json(&json).unwrap()
    }

    #[test]
    fn updates_apply_in_order_and_each_is_a_version() {
        let mut doc = document("a: 1\n");
        let updates = [
            change(json!([4, [0, "0"], 1])),
            change(json!([[1, "b"], 5])),
        ];
        assert_eq!(doc.apply_updates(&updates, 1024), Ok(()));
        assert_eq!(doc.text, "b: 10\n");
        assert_eq!(doc.version, 43);
    }

    #[test]
    fn a_refused_update_leaves_the_document_unchanged() {
        let mut doc = document("a: 1\n");
        let before = doc.clone();
        // The first fits, the second was made on a document of another length.
        let updates = [change(json!([5, [0, "b: 2"]])), change(json!([5]))];
        assert!(matches!(
            doc.apply_updates(&updates, 1024),
            Err(ChangeError::WrongLength { .. })
        ));
        assert_eq!(doc, before);
    }

    #[test]
    fn an_update_past_the_limit_leaves_the_document_unchanged() {
        let mut doc = document("a: 1\n");
        let before = doc.clone();
        let updates = [change(json!([5, [0, "x".repeat(100)]]))];
        assert_eq!(
            doc.apply_updates(&updates, 64),
            Err(ChangeError::TooLarge {
                bytes: 105,
                limit: 64
            })
        );
        assert_eq!(doc, before);
    }

    #[test]
    fn a_document_may_pass_through_the_limit_at_no_version() {
        // The last update shrinks it back, but the first version in between was too large.
        let mut doc = document("");
        let updates = [change(json!([[0, "x".repeat(80)]])), change(json!([[80]]))];
        assert!(doc.apply_updates(&updates, 64).is_err());
        assert_eq!(doc.version, 41);
    }

    #[test]
    fn no_updates_change_nothing() {
        let mut doc = document("a");
        assert_eq!(doc.apply_updates(&[], 1024), Ok(()));
        assert_eq!(doc, document("a"));
    }

    fn served(changes: serde_json::Value) -> ServedUpdate {
        ServedUpdate {
            c: changes,
            client: "a".into(),
            f: None,
        }
    }

    #[test]
    fn a_relayed_copy_follows_updates_from_its_own_version_and_no_other() {
        let mut doc = document("name: a");
        // "name: a" + "b" at the end, then a TOML switch that keeps the text.
        let appended = served(json!([7, [0, "b"]]));
        let mut switched = served(json!([8]));
        switched.f = Some(Notation::Toml);
        assert!(!doc.follow(40, std::slice::from_ref(&appended)));
        assert_eq!(doc, document("name: a"));
        assert!(doc.follow(41, &[appended, switched]));
        assert_eq!(doc.version, 43);
        assert_eq!(doc.text, "name: ab");
        assert_eq!(doc.notation, Notation::Toml);
    }

    #[test]
    fn an_update_that_does_not_fit_the_followed_text_leaves_it_as_it_was() {
        let mut doc = document("ab");
        let fits = served(json!([2, [0, "c"]]));
        let too_long = served(json!([9, [0, "x"]]));
        assert!(!doc.follow(41, &[fits, too_long]));
        assert_eq!(doc, document("ab"));
    }

    #[test]
    fn a_notation_is_named_in_lowercase() {
        assert_eq!(serde_json::to_value(Notation::Toml).unwrap(), json!("toml"));
        assert_eq!(Notation::from_name("yaml"), Some(Notation::Yaml));
        assert_eq!(Notation::from_name("json"), None);
        assert_eq!(Notation::Toml.as_str(), "toml");
    }
}
