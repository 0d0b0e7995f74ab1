//! TOML text to the spanned tree, from `toml`'s spanned `DeTable` (its recoverable parser
//! reports every syntax error, not only the first).

use std::ops::Range;

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use super::{
    syntax_error, Entry, Layout, Node, ParsedDocument, Scalar, ScalarKind, ScalarStyle, Value,
};
use crate::span::Positions;

pub(super) fn read(positions: &Positions<'_>) -> ParsedDocument {
    let (table, errors) = DeTable::parse_recoverable(positions.text());
    let mut diagnostics = Vec::new();
    for error in &errors {
        let range = error.span().unwrap_or(0..0);
        diagnostics.push(syntax_error(
            positions,
            range.start,
            range.end,
            format!("TOML syntax error: {}", error.message().trim_end()),
        ));
    }
    let root = TreeBuilder { positions }.table_node(table.get_ref(), table.span(), Layout::Block);
    ParsedDocument {
        root: Some(root),
        diagnostics,
    }
}

/// Builds the tree from `toml`'s values; every node is spanned in the one document text.
struct TreeBuilder<'a, 'text> {
    positions: &'a Positions<'text>,
}

impl TreeBuilder<'_, '_> {
    fn table_node(&self, table: &DeTable<'_>, range: Range<usize>, layout: Layout) -> Node {
        let positions = self.positions;
        let mut entries: Vec<Entry> = table
            .iter()
            .map(|(key, value)| {
                let key_span = key.span();
                let value_node = self.value_node(value, key_span.end);
                Entry {
                    key: key.get_ref().to_string(),
                    key_span: positions.span(key_span.start, key_span.end),
                    value: value_node,
                }
            })
            .collect();
        // The map behind `DeTable` may be sorted by key; the user's order is the text's order.
        entries.sort_by_key(|entry| entry.key_span.start);
        let (start, end) = entries
            .iter()
            .fold((range.start, range.end), |(start, end), entry| {
                (
                    start.min(entry.key_span.start).min(entry.value.span.start),
                    end.max(entry.value.span.end),
                )
            });
        Node {
            value: Value::Map(entries, layout),
            span: positions.span(start, end),
        }
    }

    fn value_node(&self, value: &Spanned<DeValue<'_>>, key_end: usize) -> Node {
        let positions = self.positions;
        let range = value.span();
        // An inline value comes after its key; a `[table]` or `[[array]]` header encloses it.
        let layout = if range.start >= key_end {
            Layout::Flow
        } else {
            Layout::Block
        };
        let scalar = |kind: ScalarKind, text: String, style: ScalarStyle| Node {
            value: Value::Scalar(Scalar { kind, text, style }),
            span: positions.span(range.start, range.end),
        };
        match value.get_ref() {
            DeValue::String(text) => {
                let raw = positions.text().get(range.start..range.end).unwrap_or("");
                let style = if raw.starts_with("\"\"\"") {
                    ScalarStyle::TomlMultilineBasic
                } else if raw.starts_with("'''") {
                    ScalarStyle::TomlMultilineLiteral
                } else if raw.starts_with('\'') {
                    ScalarStyle::SingleQuoted
                } else {
                    ScalarStyle::DoubleQuoted
                };
                scalar(ScalarKind::String, text.to_string(), style)
            }
            DeValue::Integer(integer) => {
                let digits: String = integer.as_str().chars().filter(|c| *c != '_').collect();
                let kind = i64::from_str_radix(&digits, integer.radix())
                    .map_or(ScalarKind::String, ScalarKind::Integer);
                scalar(kind, integer.as_str().to_string(), ScalarStyle::Plain)
            }
            DeValue::Float(float) => {
                let digits: String = float.as_str().chars().filter(|c| *c != '_').collect();
                let kind = match digits.trim_start_matches(['+', '-']) {
                    "inf" => ScalarKind::Float(if digits.starts_with('-') {
                        f64::NEG_INFINITY
                    } else {
                        f64::INFINITY
                    }),
                    "nan" => ScalarKind::Float(f64::NAN),
                    _ => digits
                        .parse::<f64>()
                        .map_or(ScalarKind::String, ScalarKind::Float),
                };
                scalar(kind, float.as_str().to_string(), ScalarStyle::Plain)
            }
            DeValue::Boolean(flag) => scalar(
                ScalarKind::Bool(*flag),
                flag.to_string(),
                ScalarStyle::Plain,
            ),
            DeValue::Datetime(datetime) => {
                scalar(ScalarKind::String, datetime.to_string(), ScalarStyle::Plain)
            }
            DeValue::Array(items) => self.array_node(items, range, layout),
            DeValue::Table(table) => self.table_node(table, range, layout),
        }
    }

    fn array_node(&self, items: &DeArray<'_>, range: Range<usize>, layout: Layout) -> Node {
        let nodes: Vec<Node> = items
            .iter()
            .map(|item| {
                let item_start = item.span().start;
                self.value_node(
                    item,
                    if layout == Layout::Flow {
                        item_start
                    } else {
                        usize::MAX
                    },
                )
            })
            .collect();
        let end = nodes
            .iter()
            .fold(range.end, |end, node| end.max(node.span.end));
        Node {
            value: Value::List(nodes, layout),
            span: self.positions.span(range.start, end),
        }
    }
}
