//! The edit API of the visual builder: each edit rewrites the smallest stretch of the document
//! (a splice computed from spans), so comments, order and formatting elsewhere stay as typed.
//! Every result is read back and checked before it is returned.
//!
//! This file holds the edits, their errors, the entry point and the read-back check; the
//! splice arithmetic and each section the builder edits (indicators, parameters, conditions)
//! have their own file, each one `impl Editor` block.

use serde::{Deserialize, Serialize};

mod conditions;
mod indicators;
mod parameters;
mod splice;

use super::document::{parse_document, Node};
use super::expression::{print_expression, BinaryOp, Expr};
use super::indicators::{ParameterValue, Source};
use super::model::Format;
use super::span::Positions;
use splice::{apply_splices, Splice};

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
    /// Moves an indicator to position `to` (0-based) of the list, with its comments and layout.
    MoveIndicator {
        name: String,
        to: usize,
    },
    /// Sets the value of a field that the document already has: a top-level field (`name`,
    /// `trading_pair`, ...) or one inside a table (`risk_parameters.max_drawdown`).
    SetField {
        path: String,
        value: EditValue,
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
    /// The document has no field at `path` to set (or it is a table or a list, not a value).
    NoSuchField {
        path: String,
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
            EditError::NoSuchField { path } => {
                write!(formatter, "the document has no value at `{path}` to change")
            }
        }
    }
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
            } => self.add_indicator(indicator_type, name, parameters),
            Edit::RemoveIndicator { name } => {
                let (list, index) = self.indicator(name)?;
                Ok(vec![self.remove_item(list, index)])
            }
            Edit::ChangeIndicatorType {
                name,
                indicator_type,
            } => self.change_type(name, indicator_type),
            Edit::RenameIndicator { name, new_name } => self.rename(name, new_name),
            Edit::SetParameter {
                indicator,
                parameter,
                value,
            } => self.set_parameter(indicator, parameter, value),
            Edit::RemoveParameter {
                indicator,
                parameter,
            } => self.remove_parameter(indicator, parameter),
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
            Edit::MoveIndicator { name, to } => self.move_indicator(name, *to),
            Edit::SetField { path, value } => {
                let entry = self
                    .root
                    .find_entry(path)
                    .filter(|entry| entry.value.as_scalar().is_some())
                    .ok_or_else(|| EditError::NoSuchField { path: path.clone() })?;
                Ok(vec![self.replace_value(entry, value)])
            }
        }
    }

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
                Self::outer_clauses(&root) == expected
            }
            Edit::MoveIndicator { name, to } => {
                let names = |editor: &Editor<'_>| -> Vec<String> {
                    editor.indicators().map_or_else(Vec::new, |(_, items)| {
                        items
                            .iter()
                            .filter_map(|item| {
                                item.get("name")?.value.as_scalar().map(|s| s.text.clone())
                            })
                            .collect()
                    })
                };
                let mut expected = names(self);
                match expected.iter().position(|n| n == name) {
                    Some(from) => {
                        let moved = expected.remove(from);
                        expected.insert((*to).min(expected.len()), moved);
                        names(&after) == expected
                    }
                    None => false,
                }
            }
            Edit::SetField { path, value } => {
                after
                    .root
                    .find_entry(path)
                    .and_then(|entry| entry.value.as_scalar())
                    .map(|scalar| scalar.text.clone())
                    == Some(value_text(value))
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
}

fn value_text(value: &EditValue) -> String {
    match value {
        EditValue::Number(number) => format!("{number}"),
        EditValue::Text(text) => text.clone(),
    }
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

/// The clauses of a condition's outer AND/OR chain as the builder lists them (their indexes
/// are what `ReplaceClause` and `RemoveClause` name), with the connective that joins them.
pub fn condition_clauses(condition: &Expr) -> (Option<Connective>, Vec<String>) {
    let (operator, clauses) = Editor::outer_clauses(condition);
    let connective = operator.map(|operator| {
        if operator == BinaryOp::And {
            Connective::And
        } else {
            Connective::Or
        }
    });
    let texts = clauses.iter().map(print_expression).collect();
    (connective, texts)
}
