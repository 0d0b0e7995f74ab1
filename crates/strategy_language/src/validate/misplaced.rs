//! Top-level fields that TOML put inside a table (E017): every key written after a `[table]`
//! or `[[array]]` header belongs to that table, so `entry_conditions` typed below the last
//! indicator's `[indicators.parameters]` is a parameter of that indicator. Such a key is
//! reported once, where it stands, with a fix that moves it above the first table; the
//! "unknown parameter" and "missing field" errors it would otherwise cause are left out.

use super::{Validator, TOP_LEVEL_FIELDS};
use crate::document::{Entry, Layout, Node, Value};
use crate::span::{Diagnostic, Fix, Positions, Severity, TextEdit};

/// The fields an indicator's own table holds that are also top-level field names.
const INDICATOR_FIELDS_NAMED_LIKE_TOP_LEVEL: [&str; 1] = ["name"];

impl Validator<'_, '_> {
    /// Finds and reports the top-level fields inside header tables of a TOML document; the
    /// keys found are remembered in `self.misplaced` so that no other error repeats them.
    pub(super) fn report_misplaced_toml_keys(&mut self, root: &Node) {
        let Some(entries) = root.as_map() else { return };
        let mut found: Vec<&Entry> = Vec::new();
        for entry in entries {
            match &entry.value.value {
                Value::Map(table, Layout::Block) => found.extend(top_level_keys(table, &[])),
                Value::List(items, Layout::Block) if entry.key == "indicators" => {
                    for item in items {
                        let Value::Map(table, Layout::Block) = &item.value else {
                            continue;
                        };
                        found.extend(top_level_keys(
                            table,
                            &INDICATOR_FIELDS_NAMED_LIKE_TOP_LEVEL,
                        ));
                        if let Some(Value::Map(parameters, Layout::Block)) =
                            item.get("parameters").map(|entry| &entry.value.value)
                        {
                            found.extend(top_level_keys(parameters, &[]));
                        }
                    }
                }
                _ => {}
            }
        }
        if found.is_empty() {
            return;
        }
        // Read once: a document may hold thousands of misplaced keys.
        let headers = TableHeaders::of(self.positions);
        let top_level: std::collections::HashSet<&str> =
            entries.iter().map(|top| top.key.as_str()).collect();
        for entry in found {
            let given_at_top = top_level.contains(entry.key.as_str());
            let header = headers.above(entry.key_span.start);
            let (table, line) = header.map_or(("a table".to_string(), 0), |header| {
                (format!("`{}`", header.text), header.line)
            });
            let message = format!(
                "`{}` belongs to the table {table} opened at line {line}, because TOML adds every key after a header to that table; move it above the first table",
                entry.key
            );
            let fix = if given_at_top {
                None
            } else {
                headers
                    .insertion_point
                    .and_then(|insert_at| self.move_above(entry, insert_at))
            };
            self.misplaced.insert(entry.key_span);
            if !given_at_top {
                self.misplaced_fields.push(entry.key.clone());
            }
            self.report(
                Diagnostic::new(
                    "E017",
                    Severity::Error,
                    message,
                    entry.key.clone(),
                    entry.key_span,
                )
                .with_fixes(fix),
            );
        }
    }

    /// Whether a key was already reported as a top-level field inside a table.
    pub(super) fn is_misplaced(&self, entry: &Entry) -> bool {
        self.misplaced.contains(&entry.key_span)
    }

    /// One fix of two edits that takes the whole lines of `entry` (key, value, a comment after
    /// it) out of their table and writes them at `insert_at`, above the first table. Only the
    /// moved lines travel with the fix, never the text between the two places. `None` when
    /// the entry shares a line with other text.
    fn move_above(&self, entry: &Entry, insert_at: usize) -> Option<Fix> {
        let text = self.positions.text();
        let (line_start, _) = self.positions.line_range(entry.key_span.start);
        if !text[line_start..entry.key_span.start].trim().is_empty() || insert_at >= line_start {
            return None;
        }
        let value_end = entry.value.span.end.max(entry.key_span.end);
        let (_, last_line_end) = self.positions.line_range(value_end.saturating_sub(1));
        let after_value = &text[value_end.min(last_line_end)..last_line_end];
        if !(after_value.trim().is_empty() || after_value.trim_start().starts_with('#')) {
            return None;
        }
        let removed_end = match text[last_line_end..].find('\n') {
            Some(0) => last_line_end + 1,
            Some(_) if text[last_line_end..].starts_with("\r\n") => last_line_end + 2,
            _ => last_line_end,
        };
        let mut moved = text[line_start..removed_end].to_string();
        if !moved.ends_with('\n') {
            moved.push_str(if text.contains("\r\n") { "\r\n" } else { "\n" });
        }
        Some(Fix::new(
            format!("Move `{}` above the first table", entry.key),
            vec![
                TextEdit {
                    span: self.positions.span(insert_at, insert_at),
                    insert: moved,
                },
                TextEdit {
                    span: self.positions.span(line_start, removed_end),
                    insert: String::new(),
                },
            ],
        ))
    }
}

/// The table header lines of a TOML text, read in one pass: which header governs a place, and
/// where a field moved out of the tables goes.
struct TableHeaders {
    /// In text order.
    headers: Vec<Header>,
    /// Above the first table, after the last line of the top-level fields (the blank lines
    /// that separate them from the first table stay below the moved field).
    insertion_point: Option<usize>,
}

struct Header {
    /// Byte offset of its line.
    start: usize,
    /// `[indicators.parameters]`, without a comment.
    text: String,
    /// 1-based.
    line: u32,
}

impl TableHeaders {
    fn of(positions: &Positions<'_>) -> TableHeaders {
        let text = positions.text();
        let mut headers = Vec::new();
        let mut line_start = 0;
        for (index, line) in text.split('\n').enumerate() {
            if let Some(header) = table_header(line) {
                headers.push(Header {
                    start: line_start,
                    text: header.to_string(),
                    line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                });
            }
            line_start += line.len() + 1;
        }
        let insertion_point = headers.first().map(|first| {
            let mut insert_at = first.start;
            while insert_at > 0 {
                let (previous_start, previous_end) = positions.line_range(insert_at - 1);
                if !text[previous_start..previous_end].trim().is_empty() {
                    break;
                }
                insert_at = previous_start;
            }
            insert_at
        });
        TableHeaders {
            headers,
            insertion_point,
        }
    }

    /// The header whose table holds the line of `offset`: the nearest one above it.
    fn above(&self, offset: usize) -> Option<&Header> {
        let after = self
            .headers
            .partition_point(|header| header.start <= offset);
        after.checked_sub(1).map(|index| &self.headers[index])
    }
}

/// The entries of a table whose keys are top-level field names, except `allowed` ones.
fn top_level_keys<'n>(table: &'n [Entry], allowed: &[&str]) -> Vec<&'n Entry> {
    table
        .iter()
        .filter(|entry| {
            TOP_LEVEL_FIELDS.contains(&entry.key.as_str()) && !allowed.contains(&entry.key.as_str())
        })
        .collect()
}

/// `[name]` or `[[name]]` when the line is a TOML table header (a comment may follow).
fn table_header(line: &str) -> Option<&str> {
    let line = line.trim();
    if !line.starts_with('[') {
        return None;
    }
    let closing = if line.starts_with("[[") { "]]" } else { "]" };
    let end = line.find(closing)? + closing.len();
    let header = &line[..end];
    let rest = line[end..].trim_start();
    let name = header.trim_matches(['[', ']']).trim();
    let plain_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | '"' | '\''));
    (plain_name && (rest.is_empty() || rest.starts_with('#'))).then_some(header)
}
