//! CodeMirror's `ChangeSet` in its JSON form (`ChangeSet.toJSON()`), read strictly and applied to
//! a `String` in UTF-16 code units, as the editor that made it counts them.
//!
//! The JSON is a list of parts, each covering a range of the old document in order: a number
//! `n` keeps `n` code units, `[n]` deletes them, and `[n, "line", …]` replaces them with the
//! lines joined by `\n` (`n` is 0 for a pure insert). The authority never transforms a change,
//! so reading, measuring and applying is all it needs.

use serde_json::Value;

use crate::error::ChangeError;
use crate::text::{utf16_len, Cursor, Stop};

/// The largest length a single part or a whole change may cover, in code units. Far above any
/// document the app allows (its limit is checked on the result), low enough that no sum of
/// lengths overflows, even in a 32-bit `usize` on WASM.
const MAX_UNITS: u64 = 1 << 30;

/// The most parts a change may have: a change touching every character of the largest allowed
/// document stays below it, and a frame past it is an attack, not an edit.
const MAX_PARTS: usize = 1 << 20;

/// A change to a document of exactly `input_len()` code units, as CodeMirror sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    parts: Vec<Part>,
    input_len: usize,
    output_len: usize,
    inserted_bytes: usize,
}

/// One part of a change, over the next `len` code units of the old document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Keep(usize),
    /// A delete is a replace by nothing, as in CodeMirror (`[n]` and `[n, ""]` are the same).
    Replace {
        len: usize,
        text: String,
    },
}

impl ChangeSet {
    /// Reads `ChangeSet.toJSON()`. Refuses any other shape, a length that is not a whole number
    /// or is absurdly large, an inserted line that is not a string or holds a line break (the
    /// editor splits lines itself, so a break inside one would make the server's length and the
    /// editor's differ), and U+0000 in inserted text.
    pub fn from_json(json: &Value) -> Result<ChangeSet, ChangeError> {
        let items = json
            .as_array()
            .ok_or(ChangeError::Malformed("it is not a list"))?;
        if items.len() > MAX_PARTS {
            return Err(ChangeError::Malformed("it has too many parts"));
        }
        let mut parts = Vec::with_capacity(items.len());
        let (mut input, mut output, mut inserted_bytes) = (0u64, 0u64, 0usize);
        for item in items {
            let part = match item {
                Value::Number(_) => Part::Keep(length(item)?),
                Value::Array(replace) => {
                    let (len, lines) = replace
                        .split_first()
                        .ok_or(ChangeError::Malformed("a part is an empty list"))?;
                    Part::Replace {
                        len: length(len)?,
                        text: joined_lines(lines)?,
                    }
                }
                _ => {
                    return Err(ChangeError::Malformed(
                        "a part is neither a length nor a list",
                    ))
                }
            };
            let (covers, makes) = match &part {
                Part::Keep(len) => (*len, *len),
                Part::Replace { len, text } => {
                    inserted_bytes += text.len();
                    (*len, utf16_len(text))
                }
            };
            input += covers as u64;
            output += makes as u64;
            if input > MAX_UNITS || output > MAX_UNITS {
                return Err(ChangeError::Malformed("it is far too large"));
            }
            parts.push(part);
        }
        Ok(ChangeSet {
            parts,
            // Both fit: they are at most MAX_UNITS, which fits a 32-bit usize.
            input_len: input as usize,
            output_len: output as usize,
            inserted_bytes,
        })
    }

    /// The change back in CodeMirror's JSON form; `from_json(c).to_json()` gives back what
    /// CodeMirror's own `toJSON` would for `c`.
    /// The change that turns `old` into `new`, touching only what differs: the common start and
    /// end are kept (whole characters only), so the cursors of editors in those parts stay put.
    /// What the server writes when a save, a restore or a form post replaces the text.
    pub fn replacing(old: &str, new: &str) -> ChangeSet {
        let prefix = old
            .char_indices()
            .zip(new.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((at, a), _)| at + a.len_utf8());
        let (old_rest, new_rest) = (&old[prefix..], &new[prefix..]);
        let suffix = old_rest
            .chars()
            .rev()
            .zip(new_rest.chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum::<usize>();
        let removed = &old_rest[..old_rest.len() - suffix];
        let inserted = &new_rest[..new_rest.len() - suffix];
        let mut parts = Vec::new();
        let (kept_before, kept_after) = (
            utf16_len(&old[..prefix]),
            utf16_len(&old_rest[old_rest.len() - suffix..]),
        );
        if kept_before > 0 {
            parts.push(Part::Keep(kept_before));
        }
        if !removed.is_empty() || !inserted.is_empty() {
            parts.push(Part::Replace {
                len: utf16_len(removed),
                text: inserted.to_string(),
            });
        }
        if kept_after > 0 {
            parts.push(Part::Keep(kept_after));
        }
        ChangeSet {
            parts,
            input_len: utf16_len(old),
            output_len: utf16_len(new),
            inserted_bytes: inserted.len(),
        }
    }

    pub fn to_json(&self) -> Value {
        let parts = self.parts.iter().map(|part| match part {
            Part::Keep(len) => Value::from(*len),
            Part::Replace { len, text } if text.is_empty() => Value::Array(vec![(*len).into()]),
            Part::Replace { len, text } => std::iter::once(Value::from(*len))
                .chain(text.split('\n').map(Value::from))
                .collect(),
        });
        Value::Array(parts.collect())
    }

    /// The length of the document the change applies to, in UTF-16 code units.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// The length of the document the change makes, in UTF-16 code units.
    pub fn output_len(&self) -> usize {
        self.output_len
    }

    /// The document after the change. Refuses a document of another length than the change
    /// covers, and a range that starts or ends inside a surrogate pair (CodeMirror would split
    /// the character; Rust's `String` cannot hold half of one). One pass over the document.
    pub fn apply(&self, doc: &str) -> Result<String, ChangeError> {
        self.apply_in_one_pass(doc).map_err(|stop| {
            // A wrong length is the real cause whenever there is one, whatever the walk met;
            // the walk runs off either end of the document only when there is one.
            let document = utf16_len(doc);
            match stop {
                Stop::InsidePair(at) if document == self.input_len => {
                    ChangeError::SplitsCharacter { at }
                }
                _ => ChangeError::WrongLength {
                    covers: self.input_len,
                    document,
                },
            }
        })
    }

    fn apply_in_one_pass(&self, doc: &str) -> Result<String, Stop> {
        let mut result = String::with_capacity(doc.len() + self.inserted_bytes);
        let mut cursor = Cursor::new(doc);
        for part in &self.parts {
            let from = cursor.byte();
            match part {
                Part::Keep(len) => {
                    let to = cursor.advance(*len)?;
                    result.push_str(&doc[from..to]);
                }
                Part::Replace { len, text } => {
                    cursor.advance(*len)?;
                    result.push_str(text);
                }
            }
        }
        if !cursor.at_end() {
            // The document is longer than the change covers.
            return Err(Stop::PastEnd);
        }
        Ok(result)
    }
}

/// A part's length: a whole, non-negative number within `MAX_UNITS`.
fn length(value: &Value) -> Result<usize, ChangeError> {
    let units = value
        .as_u64()
        .ok_or(ChangeError::Malformed("a length is not a whole number"))?;
    if units > MAX_UNITS {
        return Err(ChangeError::Malformed("a length is far too large"));
    }
    Ok(units as usize)
}

/// The inserted lines joined by `\n`, as CodeMirror's `Text.of(lines).toString()` would.
fn joined_lines(lines: &[Value]) -> Result<String, ChangeError> {
    let mut text = String::new();
    for (index, line) in lines.iter().enumerate() {
        let line = line
            .as_str()
            .ok_or(ChangeError::Malformed("an inserted line is not text"))?;
        if line.contains(['\n', '\r']) {
            return Err(ChangeError::Malformed(
                "an inserted line holds a line break",
            ));
        }
        if line.contains('\0') {
            return Err(ChangeError::NullCharacter);
        }
        if index > 0 {
            text.push('\n');
        }
        text.push_str(line);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replacing_keeps_the_common_start_and_end_and_applies_to_the_new_text() {
        for (old, new) in [
            ("name: a\nrsi: 14\n", "name: a\nrsi: 21\n"),
            ("", "all new"),
            ("all gone", ""),
            ("same", "same"),
            ("😀 a 😀", "😀 b 😀"),
            ("aaa", "aa"),
            ("é", "è"),
        ] {
            let change = ChangeSet::replacing(old, new);
            assert_eq!(change.apply(old).unwrap(), new, "{old:?} -> {new:?}");
            let back = ChangeSet::from_json(&change.to_json()).unwrap();
            assert_eq!(back.apply(old).unwrap(), new);
        }
        let change = ChangeSet::replacing("name: a\nrsi: 14\n", "name: a\nrsi: 21\n");
        assert_eq!(change.to_json(), serde_json::json!([13, [2, "21"], 1]));
    }

    fn change(json: Value) -> ChangeSet {
        ChangeSet::from_json(&json).expect("a valid change")
    }

    #[test]
    fn an_insert_lands_at_its_offset() {
        assert_eq!(
            change(json!([3, [0, "X"], 2])).apply("abcde"),
            Ok("abcXde".into())
        );
    }

    #[test]
    fn an_insert_at_the_end_of_a_last_line_without_newline_lands_there() {
        let changes = change(json!([9, [0, "", "c: 3"]]));
        assert_eq!(changes.apply("a: 1\nb: 2"), Ok("a: 1\nb: 2\nc: 3".into()));
    }

    #[test]
    fn an_insert_into_an_empty_document_is_the_whole_document() {
        let changes = change(json!([[0, "a", "", "b"]]));
        assert_eq!(changes.input_len(), 0);
        assert_eq!(changes.output_len(), 4);
        assert_eq!(changes.apply(""), Ok("a\n\nb".into()));
    }

    #[test]
    fn a_multi_range_change_applies_every_range_in_order() {
        let changes = change(json!([1, [2], 1, [1, "Z", "Y"], [0, "!"], 1]));
        assert_eq!(changes.input_len(), 6);
        assert_eq!(changes.output_len(), 7);
        assert_eq!(changes.apply("abcdef"), Ok("adZ\nY!f".into()));
    }

    #[test]
    fn a_delete_of_an_emoji_removes_both_halves() {
        let changes = change(json!([1, [2], 1]));
        assert_eq!(changes.apply("a😀b"), Ok("ab".into()));
    }

    #[test]
    fn a_delete_across_an_emoji_boundary_is_refused() {
        let changes = change(json!([2, [2]]));
        assert_eq!(
            changes.apply("a😀b"),
            Err(ChangeError::SplitsCharacter { at: 2 })
        );
    }

    #[test]
    fn a_keep_ending_inside_an_emoji_is_refused() {
        let changes = change(json!([1, [0, "x"], 2]));
        assert_eq!(
            changes.apply("😀b"),
            Err(ChangeError::SplitsCharacter { at: 1 })
        );
    }

    #[test]
    fn non_ascii_letters_count_one_unit_each() {
        let changes = change(json!([2, [2, "文"], 1]));
        assert_eq!(changes.apply("éß中文x"), Ok("éß文x".into()));
    }

    #[test]
    fn a_change_longer_than_the_document_is_refused() {
        let error = change(json!([120])).apply(&"a".repeat(118)).unwrap_err();
        assert_eq!(
            error,
            ChangeError::WrongLength {
                covers: 120,
                document: 118
            }
        );
        assert_eq!(
            error.to_string(),
            "The change does not fit the document: it covers 120 characters, the document has 118."
        );
    }

    #[test]
    fn a_change_shorter_than_the_document_is_refused() {
        assert_eq!(
            change(json!([2, [0, "x"]])).apply("abc"),
            Err(ChangeError::WrongLength {
                covers: 2,
                document: 3
            })
        );
    }

    #[test]
    fn a_wrong_length_is_reported_before_a_split_character() {
        // Offset 1 is inside the emoji, but the document is too long for the change anyway.
        assert_eq!(
            change(json!([1])).apply("😀😀"),
            Err(ChangeError::WrongLength {
                covers: 1,
                document: 4
            })
        );
    }

    #[test]
    fn an_empty_change_applies_to_an_empty_document_only() {
        assert_eq!(change(json!([])).apply(""), Ok(String::new()));
        assert!(change(json!([])).apply("a").is_err());
    }

    #[test]
    fn malformed_shapes_are_refused() {
        for bad in [
            json!({"0": 1}),
            json!("3"),
            json!([-1]),
            json!([1.5]),
            json!([1e3]),
            json!(["3"]),
            json!([[]]),
            json!([[-2]]),
            json!([[0, 5]]),
            json!([[0, null]]),
            json!([[0, "a\nb"]]),
            json!([[0, "a\r"]]),
            json!([null]),
            json!([true]),
            json!([{"len": 1}]),
            json!([1u64 << 31]),
            json!([1u64 << 29, 1u64 << 29, 1]),
        ] {
            let Err(error) = ChangeSet::from_json(&bad) else {
                panic!("{bad} was read as a change");
            };
            assert!(
                matches!(error, ChangeError::Malformed(_)),
                "{bad}: {error:?}"
            );
            assert_eq!(error.code(), "bad_changes");
        }
    }

    #[test]
    fn an_inserted_null_character_is_refused() {
        let error = ChangeSet::from_json(&json!([[0, "a\u{0}b"]])).unwrap_err();
        assert_eq!(error, ChangeError::NullCharacter);
        assert_eq!(error.code(), "bad_changes");
    }

    #[test]
    fn a_change_round_trips_through_json() {
        let json = json!([5, [0, "a", "b"], [2], 3, [1, "😀"], 0, [0]]);
        assert_eq!(change(json.clone()).to_json(), json);
    }

    #[test]
    fn an_empty_insert_is_a_delete_as_in_codemirror() {
        // CodeMirror's fromJSON reads [n, ""] as a replace by nothing, and writes it back as [n].
        let changes = change(json!([[2, ""], 1]));
        assert_eq!(changes.to_json(), json!([[2], 1]));
        assert_eq!(changes.apply("abc"), Ok("c".into()));
    }
}
