//! Edits of an indicator's `parameters`: setting one (under its name or an accepted alias)
//! and removing one, and reading a parameter back to verify the edit.

use super::splice::Splice;
use super::{EditError, EditValue, Editor};
use crate::document::{Layout, Node, ScalarKind, Value};
use crate::indicators::{indicator_spec, indicator_spec_by_alias};
use crate::model::Format;

impl Editor<'_> {
    pub(super) fn set_parameter(
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

    /// A parameter's value as text (numbers as their value), under its name or an alias.
    pub(super) fn remove_parameter(
        &self,
        indicator: &str,
        parameter: &str,
    ) -> Result<Vec<Splice>, EditError> {
        let (list, index) = self.indicator(indicator)?;
        let item = &list[index];
        let unknown = || EditError::UnknownParameter {
            indicator: indicator.to_string(),
            parameter: parameter.to_string(),
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

    pub(super) fn parameter_text(&self, indicator: &str, parameter: &str) -> Option<String> {
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

/// Whether `key`, as written in an item, names `parameter` (directly or as its alias).
pub(super) fn same_parameter(item: &Node, key: &str, parameter: &str) -> bool {
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
