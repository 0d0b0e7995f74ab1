//! Top-level fields that TOML put inside a table (E017): every key written after a `[table]`
//! or `[[array]]` header belongs to that table, so `entry_conditions` typed below the last
//! indicator's `[indicators.parameters]` is a parameter of that indicator. Such a key is
//! reported once, where it stands, with a fix that moves it above the first table; the
//! "unknown parameter" and "missing field" errors it would otherwise cause are left out.

use super::{Validator, TOP_LEVEL_FIELDS};
use crate::language::document::{Entry, Layout, Node, Value};
use crate::language::span::{Diagnostic, Fix, Severity};

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
        for entry in found {
            let given_at_top = entries.iter().any(|top| top.key == entry.key);
            let header = self.header_above(entry.key_span.start);
            let (table, line) = header.map_or(("a table".to_string(), 0), |(text, line)| {
                (format!("`{text}`"), line)
            });
            let message = format!(
                "`{}` belongs to the table {table} opened at line {line}, because TOML adds every key after a header to that table; move it above the first table",
                entry.key
            );
            let fix = if given_at_top {
                None
            } else {
                self.move_above_first_table(entry)
            };
            self.misplaced.push(entry.key_span);
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

    /// The header line (`[indicators.parameters]`, without a comment) that governs `offset`,
    /// and its 1-based line number.
    fn header_above(&self, offset: usize) -> Option<(String, u32)> {
        let text = self.positions.text();
        let mut line_end = self.positions.line_range(offset).0;
        while line_end > 0 {
            let (start, end) = self.positions.line_range(line_end - 1);
            if let Some(header) = table_header(&text[start..end]) {
                return Some((header.to_string(), self.positions.line_column(start).0));
            }
            line_end = start;
        }
        None
    }

    /// Byte offset of the line that opens the document's first table.
    fn first_header_start(&self) -> Option<usize> {
        let text = self.positions.text();
        let mut start = 0;
        while start < text.len() {
            let (line_start, line_end) = self.positions.line_range(start);
            if table_header(&text[line_start..line_end]).is_some() {
                return Some(line_start);
            }
            start = text[line_end..]
                .find('\n')
                .map_or(text.len(), |index| line_end + index + 1);
        }
        None
    }

    /// One splice that takes the whole lines of `entry` (key, value, a comment after it) out
    /// of their table and writes them above the first table, after the last line of the
    /// top-level fields. `None` when the entry shares a line with other text.
    fn move_above_first_table(&self, entry: &Entry) -> Option<Fix> {
        let text = self.positions.text();
        let (line_start, _) = self.positions.line_range(entry.key_span.start);
        if !text[line_start..entry.key_span.start].trim().is_empty() {
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
        let mut insert_at = self.first_header_start()?;
        if insert_at >= line_start {
            return None;
        }
        // Above the blank lines that separate the top-level fields from the first table.
        while insert_at > 0 {
            let (previous_start, previous_end) = self.positions.line_range(insert_at - 1);
            if !text[previous_start..previous_end].trim().is_empty() {
                break;
            }
            insert_at = previous_start;
        }
        let mut moved = text[line_start..removed_end].to_string();
        if !moved.ends_with('\n') {
            moved.push_str(if text.contains("\r\n") { "\r\n" } else { "\n" });
        }
        let replacement = format!("{moved}{}", &text[insert_at..line_start]);
        Some(Fix {
            label: format!("Move `{}` above the first table", entry.key),
            span: self.positions.span(insert_at, removed_end),
            replacement,
        })
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
