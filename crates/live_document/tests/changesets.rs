//! The authority applies changes exactly as the editor does: every change set of the fixture that
//! `node editor/changesets.mjs` wrote with CodeMirror's own `ChangeSet.apply` gives the same text
//! and UTF-16 length here, and reads back to the same JSON.

use live_document::{utf16_len, ChangeSet};
use serde_json::Value;

/// How many entries the generator writes: fewer means the fixture was cut.
const ENTRIES: usize = 2000;

fn fixture() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/changesets.json");
    let text = std::fs::read_to_string(path).expect("run `node editor/changesets.mjs`");
    let Value::Array(entries) = serde_json::from_str(&text).expect("the fixture is JSON") else {
        panic!("the fixture is a list");
    };
    entries
}

fn field<'a>(entry: &'a Value, name: &str) -> &'a str {
    entry[name]
        .as_str()
        .unwrap_or_else(|| panic!("{entry}: no {name}"))
}

#[test]
fn the_fixture_holds_every_kind_of_case() {
    let entries = fixture();
    assert_eq!(entries.len(), ENTRIES);
    let docs: Vec<&str> = entries.iter().map(|entry| field(entry, "doc")).collect();
    assert!(docs.iter().any(|doc| doc.is_empty()));
    assert!(docs.iter().any(|doc| doc.contains("\n\n")));
    assert!(docs
        .iter()
        .any(|doc| !doc.is_empty() && !doc.ends_with('\n')));
    assert!(docs
        .iter()
        .any(|doc| doc.contains('😀') || doc.contains('𝄞')));
    assert!(docs
        .iter()
        .any(|doc| doc.contains('中') || doc.contains('é')));
}

#[test]
fn rust_applies_every_change_as_codemirror_does() {
    for (index, entry) in fixture().iter().enumerate() {
        let doc = field(entry, "doc");
        let changes = ChangeSet::from_json(&entry["changes"])
            .unwrap_or_else(|error| panic!("entry {index}: {error}"));
        assert_eq!(changes.input_len(), utf16_len(doc), "entry {index}");
        let result = changes
            .apply(doc)
            .unwrap_or_else(|error| panic!("entry {index} {entry}: {error}"));
        assert_eq!(result, field(entry, "result"), "entry {index}: {entry}");
        let length = entry["length"].as_u64().expect("a length") as usize;
        assert_eq!(utf16_len(&result), length, "entry {index}");
        assert_eq!(changes.output_len(), length, "entry {index}");
    }
}

#[test]
fn every_change_reads_back_to_the_json_codemirror_wrote() {
    for (index, entry) in fixture().iter().enumerate() {
        let changes = ChangeSet::from_json(&entry["changes"]).unwrap();
        assert_eq!(changes.to_json(), entry["changes"], "entry {index}");
    }
}
