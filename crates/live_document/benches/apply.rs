//! Applying a change to a large document: the authority does it on every push, holding the
//! document's row lock, so it must stay far below a keystroke's budget (target: a 200 KB
//! document with a three-range change in well under 200 µs).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use live_document::{utf16_len, ChangeSet};
use serde_json::json;

/// About 200 KB of a strategy with some non-ASCII and astral characters in it.
fn document() -> String {
    "indicators:\n  fast: ema(close, 12) # schnell, ß\n  slow: ema(close, 26) 中文 😀\n"
        .repeat(2600)
}

/// The UTF-16 offset of the character boundary at or before byte `byte`.
fn units_at(doc: &str, mut byte: usize) -> usize {
    while !doc.is_char_boundary(byte) {
        byte -= 1;
    }
    utf16_len(&doc[..byte])
}

/// An insert near the start, a replace in the middle and a delete near the end.
fn three_ranges(doc: &str) -> ChangeSet {
    let bytes = doc.len();
    let a = units_at(doc, bytes / 10);
    let (b, b_end) = (units_at(doc, bytes / 2), units_at(doc, bytes / 2 + 40));
    let (c, c_end) = (units_at(doc, bytes - 100), units_at(doc, bytes - 90));
    let len = utf16_len(doc);
    let json = json!([
        a,
        [0, "x"],
        b - a,
        [b_end - b, "rsi", ""],
        c - b_end,
        [c_end - c],
        len - c_end
    ]);
    ChangeSet::from_json(&json).unwrap()
}

fn apply(criterion: &mut Criterion) {
    let doc = document();
    let changes = three_ranges(&doc);
    criterion.bench_function("apply a 3-range change to a 200 KB document", |bench| {
        bench.iter(|| changes.apply(black_box(&doc)).unwrap())
    });
    criterion.bench_function("utf16_len of a 200 KB document", |bench| {
        bench.iter(|| utf16_len(black_box(&doc)))
    });
}

criterion_group!(benches, apply);
criterion_main!(benches);
