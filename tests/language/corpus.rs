//! Runs every document of `tests/language/corpus` through validation and the syntax test and
//! compares the diagnostics (and the summary) with the golden file beside it
//! (`name.yaml.expected`). `UPDATE_GOLDEN=1 cargo test --test language corpus` rewrites the
//! golden files; review each change by eye before committing it.
//!
//! A diagnostic's fixes follow it, one line each: `  fix line:col-line:col label: "replacement"`.
//!
//! `valid/` documents have no diagnostics at all; `warnings/` ones have no errors and at least
//! the warning or note their name starts with; `invalid/` ones have the error their name
//! starts with.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use trading_strategy::language::model::{Diagnostic, Format, Severity};
use trading_strategy::language::syntax_test;
use trading_strategy::language::syntax_test::SyntaxReport;

fn corpus_directory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/language/corpus")
}

fn documents(kind: &str) -> Vec<(PathBuf, Format)> {
    let directory = corpus_directory().join(kind);
    let mut found: Vec<(PathBuf, Format)> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let format = Format::from_file_name(path.file_name()?.to_str()?)?;
            Some((path, format))
        })
        .collect();
    found.sort_by(|left, right| left.0.cmp(&right.0));
    found
}

fn render(report: &SyntaxReport) -> String {
    let mut out = String::new();
    for diagnostic in &report.diagnostics {
        let span = diagnostic.span;
        let _ = writeln!(
            out,
            "{}:{}-{}:{} {} {} {}: {}",
            span.line,
            span.column,
            span.end_line,
            span.end_column,
            diagnostic.severity.label(),
            diagnostic.code,
            diagnostic.path,
            diagnostic.message
        );
        for fix in &diagnostic.fixes {
            let _ = writeln!(out, "  fix {}", fix.label);
            for edit in &fix.edits {
                let span = edit.span;
                let _ = writeln!(
                    out,
                    "    {}:{}-{}:{} {:?}",
                    span.line, span.column, span.end_line, span.end_column, edit.insert
                );
            }
        }
    }
    if let Some(summary) = &report.summary {
        let _ = writeln!(out, "--- summary");
        let _ = writeln!(out, "warm-up bars: {}", summary.warm_up_bars);
        for condition in &summary.conditions {
            let _ = writeln!(out, "{}: {}", condition.field, condition.canonical);
        }
    }
    out
}

/// Checks one class of documents; returns the failures as text.
fn check(
    kind: &str,
    expectation: &dyn Fn(&str, &SyntaxReport) -> Result<(), String>,
) -> Vec<String> {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for (path, format) in documents(kind) {
        let text = std::fs::read_to_string(&path).expect("readable corpus document");
        let report = syntax_test(&text, format);
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_string();
        if let Err(message) = expectation(&name, &report) {
            failures.push(format!("{kind}/{name}: {message}"));
        }
        let rendered = render(&report);
        let golden = path.with_file_name(format!("{name}.expected"));
        if update {
            std::fs::write(&golden, &rendered).expect("writable golden file");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == rendered => {}
            Ok(expected) => failures.push(format!(
                "{kind}/{name}: differs from its golden file\n--- expected\n{expected}--- found\n{rendered}"
            )),
            Err(_) => failures.push(format!("{kind}/{name}: no golden file; run with UPDATE_GOLDEN=1 and review it")),
        }
    }
    failures
}

fn code_in_name(name: &str) -> &str {
    name.split('_').next().unwrap_or_default()
}

#[test]
fn the_corpus_has_at_least_eighty_documents() {
    let count: usize = ["valid", "invalid", "warnings"]
        .iter()
        .map(|kind| documents(kind).len())
        .sum();
    assert!(count >= 80, "only {count} corpus documents");
}

#[test]
fn valid_documents_have_no_diagnostics_and_match_their_golden_files() {
    let failures = check("valid", &|_, report| {
        if report.diagnostics.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "unexpected diagnostics: {:?}",
                report
                    .diagnostics
                    .iter()
                    .map(|d| &d.message)
                    .collect::<Vec<_>>()
            ))
        }
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn invalid_documents_report_the_error_they_are_named_after() {
    let failures = check("invalid", &|name, report| {
        let code = code_in_name(name);
        let found = report
            .diagnostics
            .iter()
            .any(|diagnostic| diagnostic.code == code && diagnostic.severity == Severity::Error);
        if found {
            Ok(())
        } else {
            Err(format!("no {code} error"))
        }
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn documents_with_warnings_have_no_errors_and_report_their_warning() {
    let failures = check("warnings", &|name, report| {
        let code = code_in_name(name);
        if report.has_errors() {
            return Err("unexpected errors".to_string());
        }
        if report
            .diagnostics
            .iter()
            .any(|diagnostic| diagnostic.code == code)
        {
            Ok(())
        } else {
            Err(format!("no {code}"))
        }
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn syntax_errors(report: &SyntaxReport) -> usize {
    report
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.code == "E001")
        .count()
}

/// The same diagnostic in another report: same code, at the same place or saying the same.
fn still_reported(diagnostic: &Diagnostic, report: &SyntaxReport) -> bool {
    report.diagnostics.iter().any(|other| {
        other.code == diagnostic.code
            && (other.span.start == diagnostic.span.start || other.message == diagnostic.message)
    })
}

#[test]
fn every_fix_in_the_corpus_removes_its_diagnostic_and_adds_no_syntax_error() {
    let mut failures = Vec::new();
    let mut fixes_tried = 0;
    for kind in ["valid", "invalid", "warnings"] {
        for (path, format) in documents(kind) {
            let text = std::fs::read_to_string(&path).expect("readable corpus document");
            let report = syntax_test(&text, format);
            let name = path.display();
            for diagnostic in &report.diagnostics {
                for fix in &diagnostic.fixes {
                    fixes_tried += 1;
                    let fixed = fix.apply(&text);
                    let after = syntax_test(&fixed, format);
                    if still_reported(diagnostic, &after) {
                        failures.push(format!(
                            "{name}: `{}` left {} {} in place",
                            fix.label, diagnostic.code, diagnostic.message
                        ));
                    }
                    if syntax_errors(&after) > syntax_errors(&report) {
                        failures.push(format!(
                            "{name}: `{}` made a syntax error:\n{fixed}",
                            fix.label
                        ));
                    }
                }
            }
        }
    }
    assert!(fixes_tried >= 20, "only {fixes_tried} fixes in the corpus");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
