//! Fuzzes the whole pipeline: any text, read as YAML and as TOML, through validation and the
//! syntax test; every condition's canonical form must parse back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strategy_language::expression::parse_condition;
use strategy_language::model::Format;
use strategy_language::syntax_test::syntax_test_of;
use strategy_language::validate;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Yaml, Format::Toml] {
        let validation = validate(text, format);
        for diagnostic in &validation.diagnostics {
            assert!(diagnostic.span.start <= diagnostic.span.end);
            assert!(diagnostic.span.end <= text.len());
            assert!(text.is_char_boundary(diagnostic.span.start));
            assert!(text.is_char_boundary(diagnostic.span.end));
        }
        let report = syntax_test_of(text, &validation);
        let _ = report.summary.map(|summary| summary.to_text());
        if let Some(strategy) = &validation.strategy {
            for (_, condition) in strategy.conditions() {
                let reparsed = parse_condition(&condition.canonical);
                let expression = reparsed
                    .expression
                    .expect("the canonical form of a condition parses");
                assert_eq!(
                    expression.without_spans(),
                    condition.expression.without_spans(),
                    "canonical form {:?} reads back differently",
                    condition.canonical
                );
            }
        }
    }
});
