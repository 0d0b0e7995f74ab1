//! TOML text to the spanned tree, from `toml`'s spanned `DeTable` (its recoverable parser
//! reports every syntax error, not only the first).

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use super::{
    syntax_error, Entry, Layout, Node, ParsedDocument, Scalar, ScalarKind, ScalarStyle, Value,
};
use crate::language::span::Positions;

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
    let span = table.span();
    let root = table_node(
        table.get_ref(),
        span.start,
        span.end,
        Layout::Block,
        positions,
    );
    ParsedDocument {
        root: Some(root),
        diagnostics,
    }
}

fn table_node(
    table: &DeTable<'_>,
    start: usize,
    end: usize,
    layout: Layout,
    positions: &Positions<'_>,
) -> Node {
    let mut entries: Vec<Entry> = table
        .iter()
        .map(|(key, value)| {
            let key_span = key.span();
            let value_node = value_node(value, key_span.end, positions);
            Entry {
                key: key.get_ref().to_string(),
                key_span: positions.span(key_span.start, key_span.end),
                value: value_node,
            }
        })
        .collect();
    // The map behind `DeTable` may be sorted by key; the user's order is the text's order.
    entries.sort_by_key(|entry| entry.key_span.start);
    let (start, end) = entries.iter().fold((start, end), |(start, end), entry| {
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

fn value_node(value: &Spanned<DeValue<'_>>, key_end: usize, positions: &Positions<'_>) -> Node {
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
        DeValue::Array(items) => array_node(items, range.start, range.end, layout, positions),
        DeValue::Table(table) => table_node(table, range.start, range.end, layout, positions),
    }
}

fn array_node(
    items: &DeArray<'_>,
    start: usize,
    end: usize,
    layout: Layout,
    positions: &Positions<'_>,
) -> Node {
    let nodes: Vec<Node> = items
        .iter()
        .map(|item| {
            let item_start = item.span().start;
            value_node(
                item,
                if layout == Layout::Flow {
                    item_start
                } else {
                    usize::MAX
                },
                positions,
            )
        })
        .collect();
    let end = nodes.iter().fold(end, |end, node| end.max(node.span.end));
    Node {
        value: Value::List(nodes, layout),
        span: positions.span(start, end),
    }
}
