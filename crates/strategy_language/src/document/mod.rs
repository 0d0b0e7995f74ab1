//! The spanned document tree: YAML or TOML text becomes one generic tree of maps, lists and
//! scalars whose keys and values keep their exact place in the text, in the order typed.

mod toml_reader;
mod yaml_reader;

use super::model::Format;
use super::span::{any_error, Diagnostic, Positions, Severity, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Map(Vec<Entry>, Layout),
    List(Vec<Node>, Layout),
    Scalar(Scalar),
}

/// Block maps and lists take whole lines (YAML indentation, TOML `[table]` headers); flow
/// ones sit inside brackets on the line (`{ period = 14 }`, `[a, b]`). Edits need to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Block,
    Flow,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub kind: ScalarKind,
    /// The decoded text of the scalar (for a YAML plain scalar, what was typed).
    pub text: String,
    pub style: ScalarStyle,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarKind {
    String,
    Integer(i64),
    Float(f64),
    Bool(bool),
    Null,
}

/// How a scalar was written; decides how offsets inside its value map back to the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    /// Unquoted text: YAML plain scalars, TOML numbers, booleans and dates.
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// YAML `|` block (content starts at the span).
    Literal,
    /// YAML `>` block (content starts at the span).
    Folded,
    TomlMultilineBasic,
    TomlMultilineLiteral,
}

pub struct ParsedDocument {
    pub root: Option<Node>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ParsedDocument {
    pub fn has_syntax_errors(&self) -> bool {
        any_error(&self.diagnostics)
    }
}

pub fn parse_document(positions: &Positions<'_>, format: Format) -> ParsedDocument {
    match format {
        Format::Yaml => yaml_reader::read(positions),
        Format::Toml => toml_reader::read(positions),
    }
}

impl Node {
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries, _) => Some(entries),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Node]> {
        match &self.value {
            Value::List(items, _) => Some(items),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|entry| entry.key == key)
    }

    /// The entry at a diagnostic path such as `indicators[2].parameters.period` (the last
    /// step must be a key).
    pub fn find_entry(&self, path: &str) -> Option<&Entry> {
        let mut node = self;
        let mut found = None;
        for step in path.split('.') {
            let (key, index) = match step.split_once('[') {
                Some((key, rest)) => (key, rest.strip_suffix(']')?.parse::<usize>().ok()),
                None => (step, None),
            };
            let entry = node.get(key)?;
            node = &entry.value;
            found = Some(entry);
            if let Some(index) = index {
                node = node.as_list()?.get(index)?;
                found = None;
            }
        }
        found
    }

    /// What the user would call this kind of value, for "expected a number, found a list".
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Map(..) => "a table",
            Value::List(..) => "a list",
            Value::Scalar(scalar) => match scalar.kind {
                ScalarKind::String => "text",
                ScalarKind::Integer(_) | ScalarKind::Float(_) => "a number",
                ScalarKind::Bool(_) => "true/false",
                ScalarKind::Null => "nothing",
            },
        }
    }

    /// Byte offset in the document of every byte of a string scalar's decoded text, plus one
    /// past the end; lets the expression parser report positions in the whole document.
    pub fn value_offsets(&self, document: &str) -> Option<Vec<usize>> {
        let scalar = self.as_scalar()?;
        Some(map_value_offsets(
            document,
            &scalar.text,
            scalar.style,
            self.span,
        ))
    }
}

/// Aligns the decoded text of a scalar with its source text. Decoding only drops or rewrites
/// whitespace (indentation, folding), quote doubling and escapes, so each visible character of
/// the value is found, in order, in the source; escapes are stepped over as one unit.
fn map_value_offsets(document: &str, value: &str, style: ScalarStyle, span: Span) -> Vec<usize> {
    let start = span.start.min(document.len());
    let end = span.end.clamp(start, document.len());
    let Some(source) = document.get(start..end) else {
        return vec![start; value.len() + 1];
    };
    let opening = match style {
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            if source.starts_with("\"\"\"") || source.starts_with("'''") {
                3
            } else if source.starts_with('"') || source.starts_with('\'') {
                1
            } else {
                0
            }
        }
        ScalarStyle::TomlMultilineBasic | ScalarStyle::TomlMultilineLiteral => 3,
        _ => 0,
    };
    let escapes = matches!(
        style,
        ScalarStyle::DoubleQuoted | ScalarStyle::TomlMultilineBasic
    );
    let source = source.get(opening..).unwrap_or("");
    let base = start + opening;
    let mut offsets = vec![base; value.len() + 1];
    let mut cursor = 0usize;
    for (value_index, character) in value.char_indices() {
        loop {
            let rest = &source[cursor..];
            if escapes && rest.starts_with('\\') {
                let after = &rest[1..];
                let trimmed = after.trim_start_matches([' ', '\t']);
                if trimmed.starts_with('\n') || trimmed.starts_with("\r\n") {
                    // A line continuation: it stands for nothing (or one space), skip it.
                    let continuation = rest.len() - trimmed.len();
                    let skipped = trimmed.len() - trimmed.trim_start().len();
                    cursor += continuation + skipped;
                    if character.is_whitespace() {
                        break;
                    }
                    continue;
                }
                let length = escape_length(after);
                fill(&mut offsets, value_index, character, base + cursor);
                cursor = (cursor + length).min(source.len());
                while !source.is_char_boundary(cursor) {
                    cursor += 1;
                }
                break;
            }
            let Some(source_character) = rest.chars().next() else {
                fill(&mut offsets, value_index, character, base + cursor);
                break;
            };
            if source_character == character {
                fill(&mut offsets, value_index, character, base + cursor);
                cursor += source_character.len_utf8();
                if style == ScalarStyle::SingleQuoted
                    && character == '\''
                    && source[cursor..].starts_with('\'')
                {
                    cursor += 1;
                }
                break;
            }
            if character.is_whitespace() {
                // Folding turned a line break and indentation into this space (or the value
                // keeps a break the source wrote differently): it lives here.
                fill(&mut offsets, value_index, character, base + cursor);
                if source_character.is_whitespace() {
                    cursor += source_character.len_utf8();
                }
                break;
            }
            if source_character.is_whitespace() {
                cursor += source_character.len_utf8();
                continue;
            }
            // Unexpected: keep going one for one rather than lose the thread.
            fill(&mut offsets, value_index, character, base + cursor);
            cursor += source_character.len_utf8();
            break;
        }
    }
    let last = offsets.len() - 1;
    offsets[last] = base + cursor;
    offsets
}

fn fill(offsets: &mut [usize], value_index: usize, character: char, at: usize) {
    for slot in offsets
        .iter_mut()
        .skip(value_index)
        .take(character.len_utf8())
    {
        *slot = at;
    }
}

/// Length in bytes of the escape after a backslash, counting the backslash.
fn escape_length(after_backslash: &str) -> usize {
    let hex_digits = match after_backslash.chars().next() {
        Some('x') => 2,
        Some('u') => 4,
        Some('U') => 8,
        Some(other) => return 1 + other.len_utf8(),
        None => return 1,
    };
    1 + 1
        + after_backslash[1..]
            .chars()
            .take(hex_digits)
            .take_while(char::is_ascii_hexdigit)
            .count()
}

pub(crate) fn syntax_error(
    positions: &Positions<'_>,
    start: usize,
    end: usize,
    message: String,
) -> Diagnostic {
    Diagnostic::new(
        "E001",
        Severity::Error,
        message,
        String::new(),
        positions.span(start, end),
    )
}
