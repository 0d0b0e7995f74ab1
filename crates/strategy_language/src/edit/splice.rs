//! Where an edit's text goes: the `Splice` (one replacement of a byte range), applying
//! several at once, and the line and indentation arithmetic every edit shares so that new text
//! lines up with what is already there.

use super::{EditValue, Editor};
use crate::document::{Entry, Layout, Node, Value};
use crate::model::Format;

/// One replacement of `start..end` (byte offsets) by `text`.
pub(super) struct Splice {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) text: String,
}

pub(super) fn apply_splices(document: &str, mut splices: Vec<Splice>) -> String {
    // New lines follow the document's own line ends (a text pasted from Windows keeps CRLF).
    if document.contains("\r\n") {
        for splice in &mut splices {
            splice.text = splice.text.replace("\r\n", "\n").replace('\n', "\r\n");
        }
    }
    splices.sort_by_key(|splice| std::cmp::Reverse((splice.start, splice.end)));
    let mut result = document.to_string();
    for splice in splices {
        if splice.start <= splice.end
            && splice.end <= result.len()
            && result.is_char_boundary(splice.start)
            && result.is_char_boundary(splice.end)
        {
            result.replace_range(splice.start..splice.end, &splice.text);
        }
    }
    result
}

impl Editor<'_> {
    /// Byte offset of the start of the line holding `offset`.
    pub(super) fn line_start(&self, offset: usize) -> usize {
        self.positions.line_range(offset).0
    }

    pub(super) fn line_end(&self, offset: usize) -> usize {
        self.positions.line_range(offset).1
    }

    /// The end of the line holding the last character of `node` (a block scalar's span runs
    /// to the start of the next line; step back over it).
    pub(super) fn last_line_end(&self, node: &Node) -> usize {
        let mut end = node.span.end.max(node.span.start);
        while end > node.span.start
            && matches!(
                self.text.as_bytes().get(end - 1),
                Some(b'\n' | b'\r' | b' ' | b'\t')
            )
        {
            end -= 1;
        }
        self.line_end(
            end.saturating_sub(usize::from(end > node.span.start))
                .max(node.span.start),
        )
    }

    /// The indentation (in spaces) of the column where `offset` sits.
    pub(super) fn column_of(&self, offset: usize) -> usize {
        let start = self.line_start(offset);
        self.text[start..offset].chars().count()
    }

    /// The whole lines from `start`'s line to `end`'s line, with the line break after them.
    pub(super) fn whole_lines(&self, start: usize, end: usize) -> (usize, usize) {
        let first = self.line_start(start);
        let last = self.line_end(end);
        let after = if self.text[last..].starts_with("\r\n") {
            last + 2
        } else if self.text[last..].starts_with('\n') {
            last + 1
        } else {
            last
        };
        (first, after)
    }

    pub(super) fn render(&self, value: &EditValue) -> String {
        match value {
            EditValue::Number(number) => format!("{number}"),
            EditValue::Text(text) => match self.format {
                Format::Yaml if is_plain_yaml(text) => text.clone(),
                _ => serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string()),
            },
        }
    }

    pub(super) fn key_value(&self, key: &str, value: &str) -> String {
        match self.format {
            Format::Yaml => format!("{key}: {value}"),
            Format::Toml => format!("{key} = {value}"),
        }
    }

    pub(super) fn replace_value(&self, entry: &Entry, value: &EditValue) -> Splice {
        Splice {
            start: entry.value.span.start,
            end: entry.value.span.end,
            text: self.render(value),
        }
    }

    /// Removes one item of a list: its whole lines in a block list, the item and a comma in a
    /// flow list.
    pub(super) fn remove_item(&self, items: &[Node], index: usize) -> Splice {
        let item = &items[index];
        let flow =
            matches!(item.value, Value::Map(_, Layout::Flow)) && self.is_inside_brackets(item);
        if flow {
            return self.remove_flow_element(
                items
                    .iter()
                    .map(|node| (node.span.start, node.span.end))
                    .collect(),
                index,
            );
        }
        let start = item.span.start;
        let end = self.last_line_end(item);
        let (mut first, mut after) = self.whole_lines(start, end.saturating_sub(1).max(start));
        if self.format == Format::Toml {
            // The blank line that separated this table from the next goes with it.
            let rest = &self.text[after..];
            if rest.starts_with('\n') {
                after += 1;
            } else if rest.starts_with("\r\n") {
                after += 2;
            } else if rest.is_empty() && first > 0 && self.text[..first].ends_with("\n\n") {
                first -= 1;
            }
        }
        Splice {
            start: first,
            end: after,
            text: String::new(),
        }
    }

    /// Whether a map item sits inside `[...]` on its line (a flow list) rather than after `- `.
    pub(super) fn is_inside_brackets(&self, item: &Node) -> bool {
        let before = self.text[..item.span.start].trim_end();
        before.ends_with('[') || before.ends_with(',')
    }

    /// Removes element `index` of a flow collection given each element's byte range, with the
    /// comma that separates it from a neighbour.
    pub(super) fn remove_flow_element(&self, ranges: Vec<(usize, usize)>, index: usize) -> Splice {
        let (start, end) = ranges[index];
        if let Some((next_start, _)) = ranges.get(index + 1) {
            return Splice {
                start,
                end: *next_start,
                text: String::new(),
            };
        }
        if index > 0 {
            let (_, previous_end) = ranges[index - 1];
            return Splice {
                start: previous_end,
                end,
                text: String::new(),
            };
        }
        Splice {
            start,
            end,
            text: String::new(),
        }
    }

    pub(super) fn remove_entry(
        &self,
        entries: &[Entry],
        position: usize,
        layout: Layout,
    ) -> Splice {
        let entry = &entries[position];
        match layout {
            Layout::Flow => self.remove_flow_element(
                entries
                    .iter()
                    .map(|entry| (entry.key_span.start, entry.value.span.end))
                    .collect(),
                position,
            ),
            Layout::Block => {
                let (start, end) = self.whole_lines(
                    entry.key_span.start,
                    self.last_line_end(&entry.value)
                        .saturating_sub(1)
                        .max(entry.key_span.start),
                );
                Splice {
                    start,
                    end,
                    text: String::new(),
                }
            }
        }
    }
}

/// Text that YAML reads back as the same string when written without quotes.
fn is_plain_yaml(text: &str) -> bool {
    let mut characters = text.chars();
    let starts_well = characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
    starts_well
        && text.chars().all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | '/' | '-')
        })
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
}
