//! The `trading_strategy check [--json] [--explain] FILE...` command: reads strategy files and
//! prints their diagnostics like a compiler (or as JSON), and the syntax test on request.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::language::model::Format;
use crate::language::span::{Diagnostic, Severity};
use crate::language::syntax_test::{syntax_test_of, StrategySummary};
use crate::language::validate::validate;

/// Exit status when a document has errors.
pub const EXIT_INVALID: i32 = 1;
/// Exit status when a file cannot be read (or its format cannot be told from its name).
pub const EXIT_UNREADABLE: i32 = 2;

#[derive(Serialize)]
struct FileReport<'a> {
    file: String,
    format: Option<Format>,
    error: Option<String>,
    diagnostics: &'a [Diagnostic],
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a StrategySummary>,
}

/// Checks each file and writes the report to `out`; returns the exit status: 0 when every
/// document is free of errors, 1 when any has an error, 2 when a file could not be read
/// (2 wins over 1).
pub fn run_check(files: &[PathBuf], json: bool, explain: bool, out: &mut dyn Write) -> i32 {
    let mut status = 0;
    let mut reports_json = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let loaded = load(path);
        let (text, format) = match loaded {
            Ok(loaded) => loaded,
            Err(message) => {
                status = EXIT_UNREADABLE;
                if json {
                    reports_json.push(
                        serde_json::to_value(FileReport {
                            file: name,
                            format: None,
                            error: Some(message),
                            diagnostics: &[],
                            summary: None,
                        })
                        .unwrap_or_default(),
                    );
                } else {
                    let _ = writeln!(out, "{name}: error: {message}");
                }
                continue;
            }
        };
        let validation = validate(&text, format);
        let report = explain.then(|| syntax_test_of(&text, &validation));
        let diagnostics = report
            .as_ref()
            .map_or(&validation.diagnostics, |report| &report.diagnostics);
        if validation.has_errors() && status == 0 {
            status = EXIT_INVALID;
        }
        let summary = report.as_ref().and_then(|report| report.summary.as_ref());
        if json {
            reports_json.push(
                serde_json::to_value(FileReport {
                    file: name,
                    format: Some(format),
                    error: None,
                    diagnostics,
                    summary,
                })
                .unwrap_or_default(),
            );
            continue;
        }
        for diagnostic in diagnostics {
            let _ = write!(out, "{}", render_diagnostic(&name, &text, diagnostic));
        }
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        if let Some(summary) = summary {
            let _ = write!(out, "{}", summary.to_text());
        }
        let _ = writeln!(
            out,
            "{name}: {errors} error{}, {warnings} warning{}",
            plural(errors),
            plural(warnings)
        );
    }
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&reports_json).unwrap_or_default()
        );
    }
    status
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

fn load(path: &Path) -> Result<(String, Format), String> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_default();
    let format = Format::from_file_name(&file_name)
        .ok_or_else(|| "cannot tell the format: name the file .yaml, .yml or .toml".to_string())?;
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("cannot read the file: {error}"))?;
    Ok((text, format))
}

/// `file:line:col: severity[code]: message`, the source line, and a caret line under the span
/// (to the end of the first line when the span runs over several).
pub fn render_diagnostic(file: &str, text: &str, diagnostic: &Diagnostic) -> String {
    let span = diagnostic.span;
    let mut out = format!(
        "{file}:{}:{}: {}[{}]: {}\n",
        span.line,
        span.column,
        diagnostic.severity.label(),
        diagnostic.code,
        diagnostic.message
    );
    let Some(line) = text.lines().nth((span.line as usize).saturating_sub(1)) else {
        return out;
    };
    let line = line.trim_end_matches('\r');
    let gutter = span.line.to_string();
    let pad = " ".repeat(gutter.len());
    let start = (span.column as usize).saturating_sub(1);
    let line_length = line.chars().count();
    let end = if span.end_line == span.line {
        (span.end_column as usize).saturating_sub(1)
    } else {
        line_length
    };
    let width = end.saturating_sub(start).max(1);
    // Tabs keep their width under the caret, so the marker stays aligned in a terminal.
    let lead: String = line
        .chars()
        .take(start)
        .map(|character| if character == '\t' { '\t' } else { ' ' })
        .collect();
    out.push_str(&format!(
        "{pad} |\n{gutter} | {line}\n{pad} | {lead}{}\n",
        "^".repeat(width)
    ));
    out
}
