//! The edit API of the visual builder: each edit rewrites the smallest stretch of the document
//! (a splice computed from spans), so comments, order and formatting elsewhere stay as typed.
//! Every result is read back and checked before it is returned.

use serde::{Deserialize, Serialize};

use super::document::{parse_document, Entry, Layout, Node, ScalarKind, Value};
use super::expression::{parse_condition, BinaryOp, Expr, ExprKind};
use super::indicators::{indicator_spec, indicator_spec_by_alias};
use super::indicators::{ParameterValue, Source};
use super::model::Format;
use super::names::{is_identifier, is_reserved};
use super::span::Positions;
use super::validate::validate;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", tag = "edit")]
pub enum Edit {
    AddIndicator {
        indicator_type: String,
        name: String,
        parameters: Vec<(String, EditValue)>,
    },
    RemoveIndicator {
        name: String,
    },
    ChangeIndicatorType {
        name: String,
        indicator_type: String,
    },
    /// Renames an indicator and every reference to it (conditions and `source`s).
    RenameIndicator {
        name: String,
        new_name: String,
    },
    SetParameter {
        indicator: String,
        parameter: String,
        value: EditValue,
    },
    RemoveParameter {
        indicator: String,
        parameter: String,
    },
    /// Joins a clause to a condition with AND or OR (parenthesising where precedence needs).
    AddClause {
        condition: ConditionField,
        connective: Connective,
        clause: String,
    },
    /// Replaces one top-level clause (an operand of the condition's outer AND/OR chain).
    ReplaceClause {
        condition: ConditionField,
        index: usize,
        clause: String,
    },
    RemoveClause {
        condition: ConditionField,
        index: usize,
    },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum EditValue {
    Number(f64),
    Text(String),
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConditionField {
    Entry,
    Exit,
    Stop,
}

impl ConditionField {
    pub fn key(self) -> &'static str {
        match self {
            ConditionField::Entry => "entry_conditions",
            ConditionField::Exit => "exit_conditions",
            ConditionField::Stop => "stop_conditions",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Connective {
    And,
    Or,
}

impl Connective {
    fn operator(self) -> BinaryOp {
        match self {
            Connective::And => BinaryOp::And,
            Connective::Or => BinaryOp::Or,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", tag = "error")]
pub enum EditError {
    /// The document has syntax errors, so its structure cannot be edited safely.
    DocumentUnreadable,
    UnknownIndicator {
        name: String,
    },
    UnknownIndicatorType {
        indicator_type: String,
    },
    UnknownParameter {
        indicator: String,
        parameter: String,
    },
    InvalidName {
        name: String,
    },
    NameTaken {
        name: String,
    },
    /// The condition is missing or could not be parsed.
    ConditionUnreadable {
        condition: String,
    },
    NoSuchClause {
        index: usize,
        count: usize,
    },
    /// The clause text is not a condition; `message` says why.
    InvalidClause {
        message: String,
    },
    /// A condition keeps at least one clause.
    LastClause,
    /// The edit read back differently from what was asked (a layout the splice cannot handle).
    UnsupportedLayout {
        message: String,
    },
}

impl std::fmt::Display for EditError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditError::DocumentUnreadable => write!(formatter, "fix the syntax errors first"),
            EditError::UnknownIndicator { name } => {
                write!(formatter, "no indicator is named `{name}`")
            }
            EditError::UnknownIndicatorType { indicator_type } => {
                write!(formatter, "unknown indicator type `{indicator_type}`")
            }
            EditError::UnknownParameter {
                indicator,
                parameter,
            } => {
                write!(formatter, "`{indicator}` has no parameter `{parameter}`")
            }
            EditError::InvalidName { name } => {
                write!(formatter, "`{name}` is not a valid indicator name")
            }
            EditError::NameTaken { name } => {
                write!(formatter, "an indicator is already named `{name}`")
            }
            EditError::ConditionUnreadable { condition } => {
                write!(formatter, "`{condition}` is missing or has a syntax error")
            }
            EditError::NoSuchClause { index, count } => {
                write!(
                    formatter,
                    "there is no clause {index}; the condition has {count}"
                )
            }
            EditError::InvalidClause { message } => write!(formatter, "{message}"),
            EditError::LastClause => write!(formatter, "a condition keeps at least one clause"),
            EditError::UnsupportedLayout { message } => write!(formatter, "{message}"),
        }
    }
}

/// One replacement of `start..end` (byte offsets) by `text`.
struct Splice {
    start: usize,
    end: usize,
    text: String,
}

fn apply_splices(document: &str, mut splices: Vec<Splice>) -> String {
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

/// Applies one edit and returns the new document text.
pub fn apply_edit(text: &str, format: Format, edit: &Edit) -> Result<String, EditError> {
    let positions = Positions::new(text);
    let parsed = parse_document(&positions, format);
    if parsed.has_syntax_errors() {
        return Err(EditError::DocumentUnreadable);
    }
    let root = parsed.root.ok_or(EditError::DocumentUnreadable)?;
    let editor = Editor {
        text,
        format,
        positions: &positions,
        root: &root,
    };
    let splices = editor.splices(edit)?;
    let edited = apply_splices(text, splices);
    match editor.verify(edit, &edited) {
        Ok(()) => Ok(edited),
        Err(message) => match edit {
            // A condition whose scalar style cannot take the splice is written out whole.
            Edit::AddClause { condition, .. }
            | Edit::ReplaceClause { condition, .. }
            | Edit::RemoveClause { condition, .. } => {
                let rewritten = editor.rewrite_condition(*condition, edit)?;
                editor
                    .verify(edit, &rewritten)
                    .map_err(|message| EditError::UnsupportedLayout { message })?;
                Ok(rewritten)
            }
            _ => Err(EditError::UnsupportedLayout { message }),
        },
    }
}

struct Editor<'a> {
    text: &'a str,
    format: Format,
    positions: &'a Positions<'a>,
    root: &'a Node,
}

impl Editor<'_> {
    fn splices(&self, edit: &Edit) -> Result<Vec<Splice>, EditError> {
        match edit {
            Edit::AddIndicator {
                indicator_type,
                name,
                parameters,
            } => {
                known_type(indicator_type)?;
                self.check_new_name(name)?;
                Ok(vec![self.add_indicator(indicator_type, name, parameters)])
            }
            Edit::RemoveIndicator { name } => {
                let (list, index) = self.indicator(name)?;
                Ok(vec![self.remove_item(list, index)])
            }
            Edit::ChangeIndicatorType {
                name,
                indicator_type,
            } => {
                known_type(indicator_type)?;
                let (list, index) = self.indicator(name)?;
                let item = &list[index];
                let entry = item
                    .get("type")
                    .ok_or_else(|| EditError::UnknownIndicator { name: name.clone() })?;
                Ok(vec![self.replace_value(
                    entry,
                    &EditValue::Text(indicator_type.clone()),
                )])
            }
            Edit::RenameIndicator { name, new_name } => self.rename(name, new_name),
            Edit::SetParameter {
                indicator,
                parameter,
                value,
            } => self.set_parameter(indicator, parameter, value),
            Edit::RemoveParameter {
                indicator,
                parameter,
            } => {
                let (list, index) = self.indicator(indicator)?;
                let item = &list[index];
                let unknown = || EditError::UnknownParameter {
                    indicator: indicator.clone(),
                    parameter: parameter.clone(),
                };
                let parameters = item.get("parameters").ok_or_else(unknown)?;
                let (entries, layout) = match &parameters.value.value {
                    Value::Map(entries, layout) => (entries, *layout),
                    _ => return Err(unknown()),
                };
                let position = entries
                    .iter()
                    .position(|entry| same_parameter(item, &entry.key, parameter))
                    .ok_or_else(unknown)?;
                Ok(vec![self.remove_entry(entries, position, layout)])
            }
            Edit::AddClause {
                condition,
                connective,
                clause,
            } => self.add_clause(*condition, *connective, clause),
            Edit::ReplaceClause {
                condition,
                index,
                clause,
            } => self.replace_clause(*condition, *index, clause),
            Edit::RemoveClause { condition, index } => self.remove_clause(*condition, *index),
        }
    }

    // ----- finding things -----

    fn indicators(&self) -> Option<(&Entry, &[Node])> {
        let entry = self.root.get("indicators")?;
        Some((entry, entry.value.as_list().unwrap_or(&[])))
    }

    fn indicator(&self, name: &str) -> Result<(&[Node], usize), EditError> {
        let unknown = || EditError::UnknownIndicator {
            name: name.to_string(),
        };
        let (_, items) = self.indicators().ok_or_else(unknown)?;
        let index = items
            .iter()
            .position(|item| {
                item.get("name")
                    .and_then(|entry| entry.value.as_scalar())
                    .is_some_and(|scalar| scalar.text == name)
            })
            .ok_or_else(unknown)?;
        Ok((items, index))
    }

    fn check_new_name(&self, name: &str) -> Result<(), EditError> {
        if !is_identifier(name) || is_reserved(name) {
            return Err(EditError::InvalidName {
                name: name.to_string(),
            });
        }
        if self.indicator(name).is_ok() {
            return Err(EditError::NameTaken {
                name: name.to_string(),
            });
        }
        Ok(())
    }

    // ----- text layout -----

    /// Byte offset of the start of the line holding `offset`.
    fn line_start(&self, offset: usize) -> usize {
        self.positions.line_range(offset).0
    }

    fn line_end(&self, offset: usize) -> usize {
        self.positions.line_range(offset).1
    }

    /// The end of the line holding the last character of `node` (a block scalar's span runs
    /// to the start of the next line; step back over it).
    fn last_line_end(&self, node: &Node) -> usize {
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
    fn column_of(&self, offset: usize) -> usize {
        let start = self.line_start(offset);
        self.text[start..offset].chars().count()
    }

    /// The whole lines from `start`'s line to `end`'s line, with the line break after them.
    fn whole_lines(&self, start: usize, end: usize) -> (usize, usize) {
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

    fn render(&self, value: &EditValue) -> String {
        match value {
            EditValue::Number(number) => format!("{number}"),
            EditValue::Text(text) => match self.format {
                Format::Yaml if is_plain_yaml(text) => text.clone(),
                _ => serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string()),
            },
        }
    }

    fn key_value(&self, key: &str, value: &str) -> String {
        match self.format {
            Format::Yaml => format!("{key}: {value}"),
            Format::Toml => format!("{key} = {value}"),
        }
    }

    fn replace_value(&self, entry: &Entry, value: &EditValue) -> Splice {
        Splice {
            start: entry.value.span.start,
            end: entry.value.span.end,
            text: self.render(value),
        }
    }

    // ----- indicators -----

    fn add_indicator(
        &self,
        indicator_type: &str,
        name: &str,
        parameters: &[(String, EditValue)],
    ) -> Splice {
        let type_text = self.render(&EditValue::Text(indicator_type.to_string()));
        let name_text = self.render(&EditValue::Text(name.to_string()));
        let flow_parameters: Vec<String> = parameters
            .iter()
            .map(|(key, value)| self.key_value(key, &self.render(value)))
            .collect();
        let flow_item = {
            let mut fields = vec![
                self.key_value("type", &type_text),
                self.key_value("name", &name_text),
            ];
            if !flow_parameters.is_empty() {
                fields.push(self.key_value(
                    "parameters",
                    &format!("{{ {} }}", flow_parameters.join(", ")),
                ));
            }
            format!("{{ {} }}", fields.join(", "))
        };
        let Some((entry, items)) = self.indicators() else {
            // No `indicators` yet: append it at the end of the document.
            let block = match self.format {
                Format::Yaml => format!(
                    "indicators:\n{}",
                    self.yaml_item("", "  ", "  ", &type_text, &name_text, parameters)
                ),
                Format::Toml => self.toml_item(&type_text, &name_text, &flow_parameters),
            };
            let separator = if self.text.is_empty() || self.text.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            let lead = if self.format == Format::Toml {
                "\n"
            } else {
                ""
            };
            return Splice {
                start: self.text.len(),
                end: self.text.len(),
                text: format!("{separator}{lead}{block}"),
            };
        };
        match (&entry.value.value, items.last()) {
            (Value::List(_, Layout::Flow), last) => {
                let (at, text) = match last {
                    // One item per line stays one item per line.
                    Some(last)
                        if self.text[entry.value.span.start..last.span.start].contains('\n') =>
                    {
                        let indent = " ".repeat(self.column_of(last.span.start));
                        (last.span.end, format!(",\n{indent}{flow_item}"))
                    }
                    Some(last) => (last.span.end, format!(", {flow_item}")),
                    None => (entry.value.span.start + 1, flow_item),
                };
                Splice {
                    start: at,
                    end: at,
                    text,
                }
            }
            (Value::List(_, Layout::Block), Some(last)) => {
                let at = self.last_line_end(last);
                let block = match self.format {
                    Format::Yaml => {
                        let line_start = self.line_start(last.span.start);
                        let before = &self.text[line_start..last.span.start];
                        let dash_indent: String =
                            before.chars().take_while(|c| *c == ' ').collect();
                        let key_indent = " ".repeat(self.column_of(last.span.start));
                        let step = self
                            .parameter_step(items)
                            .unwrap_or_else(|| "  ".to_string());
                        self.yaml_item(
                            &dash_indent,
                            &key_indent,
                            &step,
                            &type_text,
                            &name_text,
                            parameters,
                        )
                    }
                    Format::Toml => self.toml_item(&type_text, &name_text, &flow_parameters),
                };
                let block = block.trim_end_matches('\n');
                let gap = if self.format == Format::Toml {
                    "\n\n"
                } else {
                    "\n"
                };
                Splice {
                    start: at,
                    end: at,
                    text: format!("{gap}{block}"),
                }
            }
            _ => {
                // `indicators:` with nothing (or something that is not a list) after it.
                let at = self.line_end(entry.key_span.start);
                let (start, text) = match self.format {
                    Format::Yaml => (
                        entry.value.span.start.max(entry.key_span.end).min(at),
                        format!(
                            "\n{}",
                            self.yaml_item("  ", "    ", "  ", &type_text, &name_text, parameters)
                                .trim_end_matches('\n')
                        ),
                    ),
                    Format::Toml => (entry.value.span.start, format!("[{flow_item}]")),
                };
                let end = if matches!(entry.value.value, Value::Scalar(_)) {
                    entry.value.span.end.max(start)
                } else {
                    start
                };
                Splice { start, end, text }
            }
        }
    }

    /// The indentation of parameters below `parameters:` in existing YAML items.
    fn parameter_step(&self, items: &[Node]) -> Option<String> {
        items.iter().find_map(|item| {
            let entry = item.get("parameters")?;
            let first = entry.value.as_map()?.first()?;
            if !matches!(entry.value.value, Value::Map(_, Layout::Block)) {
                return None;
            }
            let step = self
                .column_of(first.key_span.start)
                .checked_sub(self.column_of(entry.key_span.start))?;
            (step > 0).then(|| " ".repeat(step))
        })
    }

    fn yaml_item(
        &self,
        dash_indent: &str,
        key_indent: &str,
        step: &str,
        type_text: &str,
        name_text: &str,
        parameters: &[(String, EditValue)],
    ) -> String {
        let dash_width = key_indent.len().saturating_sub(dash_indent.len()).max(2);
        let dash = format!("{dash_indent}-{}", " ".repeat(dash_width - 1));
        let mut out = format!("{dash}type: {type_text}\n{key_indent}name: {name_text}\n");
        if !parameters.is_empty() {
            out.push_str(&format!("{key_indent}parameters:\n"));
            for (key, value) in parameters {
                out.push_str(&format!(
                    "{key_indent}{step}{key}: {}\n",
                    self.render(value)
                ));
            }
        }
        out
    }

    fn toml_item(&self, type_text: &str, name_text: &str, flow_parameters: &[String]) -> String {
        let mut out = format!("[[indicators]]\ntype = {type_text}\nname = {name_text}\n");
        if !flow_parameters.is_empty() {
            out.push_str(&format!(
                "parameters = {{ {} }}\n",
                flow_parameters.join(", ")
            ));
        }
        out
    }

    /// Removes one item of a list: its whole lines in a block list, the item and a comma in a
    /// flow list.
    fn remove_item(&self, items: &[Node], index: usize) -> Splice {
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
    fn is_inside_brackets(&self, item: &Node) -> bool {
        let before = self.text[..item.span.start].trim_end();
        before.ends_with('[') || before.ends_with(',')
    }

    /// Removes element `index` of a flow collection given each element's byte range, with the
    /// comma that separates it from a neighbour.
    fn remove_flow_element(&self, ranges: Vec<(usize, usize)>, index: usize) -> Splice {
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

    fn remove_entry(&self, entries: &[Entry], position: usize, layout: Layout) -> Splice {
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

    fn set_parameter(
        &self,
        indicator: &str,
        parameter: &str,
        value: &EditValue,
    ) -> Result<Vec<Splice>, EditError> {
        let (items, index) = self.indicator(indicator)?;
        let item = &items[index];
        let spec = item
            .get("type")
            .and_then(|entry| entry.value.as_scalar())
            .and_then(|scalar| {
                indicator_spec(&scalar.text).or_else(|| indicator_spec_by_alias(&scalar.text))
            });
        if let Some(spec) = spec {
            if spec.parameter(parameter).is_none() {
                return Err(EditError::UnknownParameter {
                    indicator: indicator.to_string(),
                    parameter: parameter.to_string(),
                });
            }
        }
        let rendered = self.render(value);
        let line = self.key_value(parameter, &rendered);
        let Some(parameters) = item.get("parameters") else {
            // No `parameters` yet: add it after the item's last field.
            let Some(last) = item.as_map().and_then(|entries| entries.last()) else {
                return Err(EditError::UnsupportedLayout {
                    message: "the indicator has no fields to add parameters after".to_string(),
                });
            };
            let flow = matches!(item.value, Value::Map(_, Layout::Flow));
            let text = match (self.format, flow) {
                (Format::Yaml, true) => format!(", parameters: {{ {line} }}"),
                (Format::Toml, true) => format!(", parameters = {{ {line} }}"),
                (Format::Yaml, false) => {
                    let indent = " ".repeat(self.column_of(last.key_span.start));
                    format!("\n{indent}parameters:\n{indent}  {line}")
                }
                (Format::Toml, false) => format!("\nparameters = {{ {line} }}"),
            };
            let at = if flow {
                last.value.span.end
            } else {
                self.last_line_end(&last.value)
            };
            return Ok(vec![Splice {
                start: at,
                end: at,
                text,
            }]);
        };
        match &parameters.value.value {
            Value::Map(entries, layout) => {
                if let Some(existing) = entries
                    .iter()
                    .find(|entry| same_parameter(item, &entry.key, parameter))
                {
                    return Ok(vec![self.replace_value(existing, value)]);
                }
                match (layout, entries.last()) {
                    (Layout::Flow, Some(last)) => Ok(vec![Splice {
                        start: last.value.span.end,
                        end: last.value.span.end,
                        text: format!(", {line}"),
                    }]),
                    (Layout::Flow, None) => Ok(vec![Splice {
                        start: parameters.value.span.start + 1,
                        end: parameters.value.span.start + 1,
                        text: format!(" {line} "),
                    }]),
                    (Layout::Block, Some(last)) => {
                        let indent = " ".repeat(self.column_of(last.key_span.start));
                        let at = self.last_line_end(&last.value);
                        Ok(vec![Splice {
                            start: at,
                            end: at,
                            text: format!("\n{indent}{line}"),
                        }])
                    }
                    // An empty `[indicators.parameters]` table: the line goes under its header.
                    (Layout::Block, None) => {
                        let at = self.line_end(parameters.key_span.start);
                        Ok(vec![Splice {
                            start: at,
                            end: at,
                            text: format!("\n{line}"),
                        }])
                    }
                }
            }
            Value::Scalar(scalar) if scalar.kind == ScalarKind::Null => {
                let indent = " ".repeat(self.column_of(parameters.key_span.start) + 2);
                let at = self.line_end(parameters.key_span.start);
                let start = parameters
                    .value
                    .span
                    .start
                    .min(at)
                    .max(parameters.key_span.end);
                Ok(vec![Splice {
                    start,
                    end: at,
                    text: match self.format {
                        Format::Yaml => format!("\n{indent}{line}"),
                        Format::Toml => format!("{{ {line} }}"),
                    },
                }])
            }
            _ => Err(EditError::UnsupportedLayout {
                message: "`parameters` is not a table".to_string(),
            }),
        }
    }

    fn rename(&self, name: &str, new_name: &str) -> Result<Vec<Splice>, EditError> {
        let (items, index) = self.indicator(name)?;
        self.check_new_name(new_name)?;
        let mut splices = Vec::new();
        if let Some(entry) = items[index].get("name") {
            splices.push(self.replace_value(entry, &EditValue::Text(new_name.to_string())));
        }
        // References, as the validator resolved them (aliases included).
        let validation = validate(self.text, self.format);
        if let Some(strategy) = &validation.strategy {
            for (_, condition) in strategy.conditions() {
                condition.expression.walk(&mut |expr| {
                    if let ExprKind::Indicator {
                        name: referenced,
                        output,
                    } = &expr.kind
                    {
                        if referenced == name {
                            let written = &self.text[expr.span.start.min(self.text.len())
                                ..expr.span.end.min(self.text.len())];
                            let (start, end, text) = if written.starts_with(name)
                                && (written.len() == name.len()
                                    || written[name.len()..].starts_with('.'))
                            {
                                (
                                    expr.span.start,
                                    expr.span.start + name.len(),
                                    new_name.to_string(),
                                )
                            } else {
                                let text = match output {
                                    Some(output) => format!("{new_name}.{output}"),
                                    None => new_name.to_string(),
                                };
                                (expr.span.start, expr.span.end, text)
                            };
                            splices.push(Splice { start, end, text });
                        }
                    }
                });
            }
            for item in items {
                let Some(source) = item
                    .get("parameters")
                    .and_then(|entry| entry.value.get("source"))
                else {
                    continue;
                };
                let Some(scalar) = source.value.as_scalar() else {
                    continue;
                };
                let written = scalar.text.trim();
                let renamed = if written == name {
                    Some(new_name.to_string())
                } else {
                    written
                        .strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix('.'))
                        .map(|output| format!("{new_name}.{output}"))
                };
                if let Some(renamed) = renamed {
                    splices.push(self.replace_value(source, &EditValue::Text(renamed)));
                }
            }
        }
        Ok(splices)
    }

    // ----- conditions -----

    fn condition(&self, field: ConditionField) -> Result<(&Entry, Expr), EditError> {
        let unreadable = || EditError::ConditionUnreadable {
            condition: field.key().to_string(),
        };
        let entry = self.root.get(field.key()).ok_or_else(unreadable)?;
        let scalar = entry.value.as_scalar().ok_or_else(unreadable)?;
        let offsets = entry
            .value
            .value_offsets(self.text)
            .ok_or_else(unreadable)?;
        let outcome = super::expression::parse_expression(&scalar.text, &offsets, self.positions);
        let expression = outcome.expression.ok_or_else(unreadable)?;
        Ok((entry, expression))
    }

    fn parse_clause(clause: &str) -> Result<Expr, EditError> {
        let outcome = parse_condition(clause);
        match (outcome.expression, outcome.diagnostics.first()) {
            (Some(expression), None) => Ok(expression),
            (_, Some(diagnostic)) => Err(EditError::InvalidClause {
                message: diagnostic.message.clone(),
            }),
            (None, None) => Err(EditError::InvalidClause {
                message: "the clause is empty".to_string(),
            }),
        }
    }

    /// The clause text, parenthesised when it binds looser than the connective around it.
    fn clause_text(clause: &str, expression: &Expr, connective: BinaryOp) -> String {
        let looser = matches!(&expression.kind, ExprKind::Binary { op, .. } if op.is_logical() && op.precedence() < connective.precedence());
        if looser {
            format!("({})", clause.trim())
        } else {
            clause.trim().to_string()
        }
    }

    fn connective_of(expression: &Expr) -> Option<BinaryOp> {
        match &expression.kind {
            ExprKind::Binary { op, .. } if op.is_logical() => Some(*op),
            _ => None,
        }
    }

    fn add_clause(
        &self,
        field: ConditionField,
        connective: Connective,
        clause: &str,
    ) -> Result<Vec<Splice>, EditError> {
        let new = Self::parse_clause(clause)?;
        if self.root.get(field.key()).is_none() {
            return self.add_condition(field, clause);
        }
        let (_, root) = self.condition(field)?;
        let op = connective.operator();
        let text = format!(" {} {}", op.symbol(), Self::clause_text(clause, &new, op));
        let mut splices = vec![Splice {
            start: root.span.end,
            end: root.span.end,
            text,
        }];
        if let Some(existing) = Self::connective_of(&root) {
            if existing.precedence() < op.precedence() {
                splices.push(Splice {
                    start: root.span.start,
                    end: root.span.start,
                    text: "(".to_string(),
                });
                splices[0].text = format!("){}", splices[0].text);
            }
        }
        Ok(splices)
    }

    /// A condition the document does not have yet, written after the last condition present.
    fn add_condition(&self, field: ConditionField, clause: &str) -> Result<Vec<Splice>, EditError> {
        let missing = || EditError::ConditionUnreadable {
            condition: field.key().to_string(),
        };
        let after = ["stop_conditions", "exit_conditions", "entry_conditions"]
            .iter()
            .filter_map(|key| self.root.get(key))
            .max_by_key(|entry| entry.value.span.end)
            .ok_or_else(missing)?;
        let at = self.last_line_end(&after.value);
        let value = serde_json::to_string(clause.trim()).map_err(|_| missing())?;
        Ok(vec![Splice {
            start: at,
            end: at,
            text: format!("\n{}", self.key_value(field.key(), &value)),
        }])
    }

    fn replace_clause(
        &self,
        field: ConditionField,
        index: usize,
        clause: &str,
    ) -> Result<Vec<Splice>, EditError> {
        let new = Self::parse_clause(clause)?;
        let (_, root) = self.condition(field)?;
        let connective = Self::connective_of(&root);
        let clauses = connective.map_or_else(|| vec![&root], |op| root.clauses(op));
        let target = clauses.get(index).ok_or(EditError::NoSuchClause {
            index,
            count: clauses.len(),
        })?;
        let text = match connective {
            Some(op) => Self::clause_text(clause, &new, op),
            None => clause.trim().to_string(),
        };
        Ok(vec![Splice {
            start: target.span.start,
            end: target.span.end,
            text,
        }])
    }

    fn remove_clause(&self, field: ConditionField, index: usize) -> Result<Vec<Splice>, EditError> {
        let (_, root) = self.condition(field)?;
        let Some(connective) = Self::connective_of(&root) else {
            return Err(if index == 0 {
                EditError::LastClause
            } else {
                EditError::NoSuchClause { index, count: 1 }
            });
        };
        let clauses = root.clauses(connective);
        if index >= clauses.len() {
            return Err(EditError::NoSuchClause {
                index,
                count: clauses.len(),
            });
        }
        let (start, end) = if index > 0 {
            (clauses[index - 1].span.end, clauses[index].span.end)
        } else {
            (clauses[0].span.start, clauses[1].span.start)
        };
        Ok(vec![Splice {
            start,
            end,
            text: String::new(),
        }])
    }

    /// The clauses the condition should have after `edit`, without spans.
    fn expected_clauses(&self, edit: &Edit) -> Result<(Option<BinaryOp>, Vec<Expr>), EditError> {
        let root = match edit {
            Edit::AddClause {
                condition, clause, ..
            } if self.root.get(condition.key()).is_none() => {
                return Ok((None, vec![Self::parse_clause(clause)?.without_spans()]));
            }
            Edit::AddClause { condition, .. }
            | Edit::ReplaceClause { condition, .. }
            | Edit::RemoveClause { condition, .. } => self.condition(*condition)?.1,
            _ => {
                return Err(EditError::UnsupportedLayout {
                    message: "not a clause edit".to_string(),
                })
            }
        };
        let connective = Self::connective_of(&root);
        let mut clauses: Vec<Expr> = connective.map_or_else(
            || vec![root.without_spans()],
            |op| {
                root.clauses(op)
                    .into_iter()
                    .map(Expr::without_spans)
                    .collect()
            },
        );
        match edit {
            Edit::AddClause {
                connective: wanted,
                clause,
                ..
            } => {
                let op = wanted.operator();
                let new = Self::parse_clause(clause)?.without_spans();
                if connective.is_none_or(|existing| existing == op) {
                    clauses.push(new);
                    Ok((Some(op), clauses))
                } else {
                    Ok((Some(op), vec![root.without_spans(), new]))
                }
            }
            Edit::ReplaceClause { index, clause, .. } => {
                let new = Self::parse_clause(clause)?.without_spans();
                if let Some(slot) = clauses.get_mut(*index) {
                    *slot = new;
                }
                Ok((connective, clauses))
            }
            Edit::RemoveClause { index, .. } => {
                if *index < clauses.len() {
                    clauses.remove(*index);
                }
                let connective = if clauses.len() > 1 { connective } else { None };
                Ok((connective, clauses))
            }
            _ => Err(EditError::UnsupportedLayout {
                message: "not a clause edit".to_string(),
            }),
        }
    }

    /// Writes the whole condition value anew, as a quoted string holding the expected clauses.
    fn rewrite_condition(&self, field: ConditionField, edit: &Edit) -> Result<String, EditError> {
        let (entry, _) = self.condition(field)?;
        let (connective, clauses) = self.expected_clauses(edit)?;
        let printed: Vec<String> = clauses
            .iter()
            .map(|clause| {
                let text = super::expression::print_expression(clause);
                match connective {
                    Some(op) => Self::clause_text(&text, clause, op),
                    None => text,
                }
            })
            .collect();
        let joined = match connective {
            Some(op) => printed.join(&format!(" {} ", op.symbol())),
            None => printed.join(" "),
        };
        let splice = Splice {
            start: entry.value.span.start,
            end: entry.value.span.end,
            text: serde_json::to_string(&joined).unwrap_or_default(),
        };
        Ok(apply_splices(self.text, vec![splice]))
    }

    // ----- reading back -----

    fn verify(&self, edit: &Edit, edited: &str) -> Result<(), String> {
        let positions = Positions::new(edited);
        let parsed = parse_document(&positions, self.format);
        if parsed.has_syntax_errors() {
            return Err("the edit would break the document's syntax".to_string());
        }
        let root = parsed.root.ok_or("the edit emptied the document")?;
        let after = Editor {
            text: edited,
            format: self.format,
            positions: &positions,
            root: &root,
        };
        let item_field = |name: &str, key: &str| -> Option<String> {
            let (items, index) = after.indicator(name).ok()?;
            items[index]
                .get(key)
                .and_then(|entry| entry.value.as_scalar())
                .map(|scalar| scalar.text.clone())
        };
        let ok = match edit {
            Edit::AddIndicator {
                indicator_type,
                name,
                parameters,
            } => {
                item_field(name, "type").as_deref() == Some(indicator_type.as_str())
                    && parameters.iter().all(|(key, value)| {
                        after.parameter_text(name, key) == Some(value_text(value))
                    })
            }
            Edit::RemoveIndicator { name } => {
                after.indicator(name).is_err() && self.item_count() == after.item_count() + 1
            }
            Edit::ChangeIndicatorType {
                name,
                indicator_type,
            } => item_field(name, "type").as_deref() == Some(indicator_type.as_str()),
            Edit::RenameIndicator { name, new_name } => {
                after.indicator(name).is_err() && after.indicator(new_name).is_ok()
            }
            Edit::SetParameter {
                indicator,
                parameter,
                value,
            } => after.parameter_text(indicator, parameter) == Some(value_text(value)),
            Edit::RemoveParameter {
                indicator,
                parameter,
            } => {
                after.indicator(indicator).is_ok()
                    && after.parameter_text(indicator, parameter).is_none()
            }
            Edit::AddClause { condition, .. }
            | Edit::ReplaceClause { condition, .. }
            | Edit::RemoveClause { condition, .. } => {
                let expected = self
                    .expected_clauses(edit)
                    .map_err(|error| error.to_string())?;
                let Ok((_, root)) = after.condition(*condition) else {
                    return Err("the condition no longer parses".to_string());
                };
                let connective = Self::connective_of(&root);
                let clauses: Vec<Expr> = connective.map_or_else(
                    || vec![root.without_spans()],
                    |op| {
                        root.clauses(op)
                            .into_iter()
                            .map(Expr::without_spans)
                            .collect()
                    },
                );
                (connective, clauses) == expected
            }
        };
        if ok {
            Ok(())
        } else {
            Err("the edited document does not read back as intended".to_string())
        }
    }

    fn item_count(&self) -> usize {
        self.indicators().map_or(0, |(_, items)| items.len())
    }

    /// A parameter's value as text (numbers as their value), under its name or an alias.
    fn parameter_text(&self, indicator: &str, parameter: &str) -> Option<String> {
        let (items, index) = self.indicator(indicator).ok()?;
        let item = &items[index];
        let entries = item.get("parameters")?.value.as_map()?;
        let entry = entries
            .iter()
            .find(|entry| same_parameter(item, &entry.key, parameter))?;
        let scalar = entry.value.as_scalar()?;
        Some(match scalar.kind {
            ScalarKind::Integer(value) => format!("{}", value as f64),
            ScalarKind::Float(value) => format!("{value}"),
            _ => scalar.text.clone(),
        })
    }
}

fn value_text(value: &EditValue) -> String {
    match value {
        EditValue::Number(number) => format!("{number}"),
        EditValue::Text(text) => text.clone(),
    }
}

/// Whether `key`, as written in an item, names `parameter` (directly or as its alias).
fn same_parameter(item: &Node, key: &str, parameter: &str) -> bool {
    if key == parameter {
        return true;
    }
    item.get("type")
        .and_then(|entry| entry.value.as_scalar())
        .and_then(|scalar| {
            indicator_spec(&scalar.text).or_else(|| indicator_spec_by_alias(&scalar.text))
        })
        .and_then(|spec| spec.parameter_by_alias(key))
        .is_some_and(|spec| spec.name == parameter)
}

fn known_type(indicator_type: &str) -> Result<(), EditError> {
    if indicator_spec(indicator_type).is_some() || indicator_spec_by_alias(indicator_type).is_some()
    {
        Ok(())
    } else {
        Err(EditError::UnknownIndicatorType {
            indicator_type: indicator_type.to_string(),
        })
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

/// Values of the model as the edit API writes them.
impl From<&ParameterValue> for EditValue {
    fn from(value: &ParameterValue) -> Self {
        match value {
            ParameterValue::Number(number) => EditValue::Number(*number),
            ParameterValue::Source(Source::Price { field }) => {
                EditValue::Text(field.name().to_string())
            }
            ParameterValue::Source(source) => EditValue::Text(source.to_string()),
            ParameterValue::Choice(choice) => EditValue::Text(choice.clone()),
        }
    }
}
