//! YAML text to the spanned tree, from the events of `saphyr-parser` (a YAML 1.2 parser that
//! passes the YAML test suite); scalars are resolved with the 1.2 core schema.

use std::collections::HashSet;

use saphyr_parser::{Event, Parser, ScalarStyle as YamlStyle, Span as YamlSpan};

use super::{
    syntax_error, Entry, Layout, Node, ParsedDocument, Scalar, ScalarKind, ScalarStyle, Value,
};
use crate::span::{Diagnostic, Positions, Severity, Span};

enum Frame {
    Map {
        start: usize,
        layout: Layout,
        entries: Vec<Entry>,
        /// The keys of `entries`, so that a repeated key is found at once in a table of
        /// thousands.
        keys: HashSet<String>,
        pending_key: Option<(String, Span)>,
    },
    List {
        start: usize,
        layout: Layout,
        items: Vec<Node>,
    },
}

/// Deeper nesting than any strategy needs; a bound keeps hostile input from exhausting memory.
const MAX_DEPTH: usize = 64;

pub(super) fn read(positions: &Positions<'_>) -> ParsedDocument {
    let mut diagnostics = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    let byte_span = |span: &YamlSpan| {
        positions.span(
            positions.byte_of_char(span.start.index()),
            positions.byte_of_char(span.end.index()),
        )
    };
    for event in Parser::new_from_str(positions.text()) {
        let (event, span) = match event {
            Ok(event) => event,
            Err(error) => {
                let offset = positions.byte_of_char(error.marker().index());
                diagnostics.push(syntax_error(
                    positions,
                    offset,
                    offset,
                    format!("YAML syntax error: {}", error.info()),
                ));
                break;
            }
        };
        let span = byte_span(&span);
        let node = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    diagnostics.push(unsupported(
                        span,
                        "a strategy is one YAML document; remove the second `---` and what follows",
                    ));
                    break;
                }
                continue;
            }
            Event::Scalar(text, style, _, _) => scalar_node(text.into_owned(), style, span),
            Event::Alias(_) => {
                diagnostics.push(unsupported(
                    span,
                    "aliases (`*name`) are not supported in strategies; write the value out",
                ));
                Node {
                    value: Value::Scalar(Scalar {
                        kind: ScalarKind::Null,
                        text: String::new(),
                        style: ScalarStyle::Plain,
                    }),
                    span,
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    diagnostics.push(unsupported(span, "the document nests too deeply"));
                    break;
                }
                let layout = if span.start == span.end {
                    Layout::Block
                } else {
                    Layout::Flow
                };
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        start: span.start,
                        layout,
                        entries: Vec::new(),
                        keys: HashSet::new(),
                        pending_key: None,
                    }
                } else {
                    Frame::List {
                        start: span.start,
                        layout,
                        items: Vec::new(),
                    }
                });
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => match stack.pop() {
                Some(frame) => close(frame, Some(span.end), positions),
                None => continue,
            },
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
        };
        attach(node, &mut stack, &mut root, &mut diagnostics);
    }
    // After a syntax error, keep what was read so far so the editor still sees a model, but
    // not a flow collection cut short by the error (it would be reported as the wrong kind).
    if let Some(
        Frame::Map {
            layout: Layout::Flow,
            ..
        }
        | Frame::List {
            layout: Layout::Flow,
            ..
        },
    ) = stack.last()
    {
        stack.pop();
        if let Some(Frame::Map { pending_key, .. }) = stack.last_mut() {
            *pending_key = None;
        }
    }
    while let Some(frame) = stack.pop() {
        let node = close(frame, None, positions);
        attach(node, &mut stack, &mut root, &mut diagnostics);
    }
    ParsedDocument { root, diagnostics }
}

fn close(frame: Frame, end: Option<usize>, positions: &Positions<'_>) -> Node {
    match frame {
        Frame::Map {
            start,
            layout,
            entries,
            ..
        } => {
            let last = entries.last().map_or(start, |entry| entry.value.span.end);
            let end = flow_end(layout, end).unwrap_or(last);
            Node {
                span: positions.span(start, end),
                value: Value::Map(entries, layout),
            }
        }
        Frame::List {
            start,
            layout,
            items,
        } => {
            let last = items.last().map_or(start, |item| item.span.end);
            let end = flow_end(layout, end).unwrap_or(last);
            Node {
                span: positions.span(start, end),
                value: Value::List(items, layout),
            }
        }
    }
}

fn flow_end(layout: Layout, end: Option<usize>) -> Option<usize> {
    match layout {
        Layout::Flow => end,
        Layout::Block => None,
    }
}

fn attach(
    node: Node,
    stack: &mut [Frame],
    root: &mut Option<Node>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match stack.last_mut() {
        None => {
            if root.is_none() {
                *root = Some(node);
            }
        }
        Some(Frame::List { items, .. }) => items.push(node),
        Some(Frame::Map {
            entries,
            keys,
            pending_key,
            ..
        }) => match pending_key.take() {
            None => {
                let key = match &node.value {
                    Value::Scalar(scalar) => scalar.text.clone(),
                    _ => {
                        diagnostics.push(unsupported(
                            node.span,
                            "a key must be a plain name, not a list or a table",
                        ));
                        String::new()
                    }
                };
                *pending_key = Some((key, node.span));
            }
            Some((key, key_span)) => {
                if !keys.insert(key.clone()) {
                    diagnostics.push(Diagnostic::new(
                        "E004",
                        Severity::Error,
                        format!("`{key}` appears twice in the same table; keep one of them"),
                        String::new(),
                        key_span,
                    ));
                    return;
                }
                entries.push(Entry {
                    key,
                    key_span,
                    value: node,
                });
            }
        },
    }
}

fn unsupported(span: Span, message: &str) -> Diagnostic {
    Diagnostic::new(
        "E003",
        Severity::Error,
        message.to_string(),
        String::new(),
        span,
    )
}

fn scalar_node(text: String, style: YamlStyle, span: Span) -> Node {
    let (kind, style) = match style {
        YamlStyle::Plain => (resolve_plain(&text), ScalarStyle::Plain),
        YamlStyle::SingleQuoted => (ScalarKind::String, ScalarStyle::SingleQuoted),
        YamlStyle::DoubleQuoted => (ScalarKind::String, ScalarStyle::DoubleQuoted),
        YamlStyle::Literal => (ScalarKind::String, ScalarStyle::Literal),
        YamlStyle::Folded => (ScalarKind::String, ScalarStyle::Folded),
    };
    Node {
        value: Value::Scalar(Scalar { kind, text, style }),
        span,
    }
}

/// The YAML 1.2 core schema for plain scalars.
fn resolve_plain(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" => return ScalarKind::Bool(true),
        "false" | "False" | "FALSE" => return ScalarKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return ScalarKind::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return ScalarKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(value) = i64::from_str_radix(hex, 16) {
            return ScalarKind::Integer(value);
        }
    }
    if let Some(octal) = text.strip_prefix("0o") {
        if let Ok(value) = i64::from_str_radix(octal, 8) {
            return ScalarKind::Integer(value);
        }
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return match text.parse::<i64>() {
            Ok(value) => ScalarKind::Integer(value),
            Err(_) => text
                .parse::<f64>()
                .map_or(ScalarKind::String, ScalarKind::Float),
        };
    }
    let looks_numeric = !digits.is_empty()
        && digits
            .bytes()
            .all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|byte| byte.is_ascii_digit());
    if looks_numeric {
        if let Ok(value) = text.parse::<f64>() {
            return ScalarKind::Float(value);
        }
    }
    ScalarKind::String
}
