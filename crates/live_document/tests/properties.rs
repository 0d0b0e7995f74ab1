//! Properties of applying a change, over generated documents and changes: the result is what a
//! plain splice of UTF-16 code units gives, its length is the change's output length, and a
//! change never applies to a document of another length or across half a character.

use live_document::{utf16_len, ChangeError, ChangeSet};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Characters of every UTF-8 width and both UTF-16 widths, and line breaks.
const CHARS: &[char] = &['a', 'z', ' ', '\n', 'é', 'ß', '中', '文', '😀', '𝄞'];

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(CHARS), 0..max)
        .prop_map(|chars| chars.into_iter().collect())
}

/// What one part of a change does to the next characters of the document.
#[derive(Debug, Clone)]
enum Step {
    Keep(usize),
    Delete(usize),
    Replace(usize, String),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        (0..8usize).prop_map(Step::Keep),
        (0..8usize).prop_map(Step::Delete),
        (0..8usize, text(6)).prop_map(|(n, text)| Step::Replace(n, text)),
    ];
    prop::collection::vec(step, 0..8)
}

/// The change `steps` make on `doc`, over whole characters, as CodeMirror's JSON, and the text
/// a splice of UTF-16 code units gives.
fn change_on(doc: &str, steps: &[Step]) -> (Value, String) {
    let chars: Vec<char> = doc.chars().collect();
    let units = |taken: &[char]| taken.iter().map(|c| c.len_utf16()).sum::<usize>();
    let mut at = 0;
    let mut parts = Vec::new();
    let mut result: Vec<u16> = Vec::new();
    let take = |count: usize, at: &mut usize| {
        let end = (*at + count).min(chars.len());
        let taken = &chars[*at..end];
        *at = end;
        taken
    };
    for step in steps {
        match step {
            Step::Keep(count) => {
                let taken = take(*count, &mut at);
                result.extend(taken.iter().collect::<String>().encode_utf16());
                parts.push(json!(units(taken)));
            }
            Step::Delete(count) => parts.push(json!([units(take(*count, &mut at))])),
            Step::Replace(count, insert) => {
                let mut part = vec![json!(units(take(*count, &mut at)))];
                part.extend(insert.split('\n').map(Value::from));
                result.extend(insert.encode_utf16());
                parts.push(Value::Array(part));
            }
        }
    }
    let rest = &chars[at..];
    if !rest.is_empty() {
        result.extend(rest.iter().collect::<String>().encode_utf16());
        parts.push(json!(units(rest)));
    }
    (Value::Array(parts), String::from_utf16(&result).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_output_length_is_the_length_of_the_result(doc in text(40), steps in steps()) {
        let (json, expected) = change_on(&doc, &steps);
        let changes = ChangeSet::from_json(&json).unwrap();
        prop_assert_eq!(changes.input_len(), utf16_len(&doc));
        let result = changes.apply(&doc).unwrap();
        prop_assert_eq!(changes.output_len(), utf16_len(&result));
        prop_assert_eq!(result, expected);
    }

    #[test]
    fn a_change_reads_back_to_its_json(doc in text(40), steps in steps()) {
        let (json, _) = change_on(&doc, &steps);
        let changes = ChangeSet::from_json(&json).unwrap();
        // CodeMirror writes a replace by nothing as a delete; so does the generator's oracle.
        let canonical: Vec<Value> = json.as_array().unwrap().iter().map(|part| match part {
            Value::Array(items) if items.len() == 2 && items[1] == "" => json!([items[0]]),
            other => other.clone(),
        }).collect();
        prop_assert_eq!(changes.to_json(), Value::Array(canonical));
    }

    #[test]
    fn applying_to_a_longer_document_is_always_refused(
        doc in text(40), steps in steps(), extra in text(5),
    ) {
        prop_assume!(!extra.is_empty());
        let (json, _) = change_on(&doc, &steps);
        let longer = format!("{doc}{extra}");
        prop_assert_eq!(
            ChangeSet::from_json(&json).unwrap().apply(&longer),
            Err(ChangeError::WrongLength { covers: utf16_len(&doc), document: utf16_len(&longer) })
        );
    }

    #[test]
    fn applying_to_a_shorter_document_is_always_refused(
        doc in text(40), steps in steps(), cut in 1..5usize,
    ) {
        let chars: Vec<char> = doc.chars().collect();
        prop_assume!(!chars.is_empty());
        let shorter: String = chars[..chars.len().saturating_sub(cut)].iter().collect();
        let (json, _) = change_on(&doc, &steps);
        prop_assert_eq!(
            ChangeSet::from_json(&json).unwrap().apply(&shorter),
            Err(ChangeError::WrongLength { covers: utf16_len(&doc), document: utf16_len(&shorter) })
        );
    }

    #[test]
    fn a_boundary_inside_an_astral_character_is_always_refused(
        doc in text(40), pick in any::<prop::sample::Index>(), delete in any::<bool>(),
    ) {
        // The UTF-16 offsets of the middles of astral characters.
        let mut middles = Vec::new();
        let mut at = 0;
        for char in doc.chars() {
            if char.len_utf16() == 2 {
                middles.push(at + 1);
            }
            at += char.len_utf16();
        }
        prop_assume!(!middles.is_empty());
        let middle = middles[pick.index(middles.len())];
        let rest = utf16_len(&doc) - middle;
        let json = if delete { json!([middle, [rest]]) } else { json!([[middle, "x"], rest]) };
        prop_assert_eq!(
            ChangeSet::from_json(&json).unwrap().apply(&doc),
            Err(ChangeError::SplitsCharacter { at: middle })
        );
    }
}
