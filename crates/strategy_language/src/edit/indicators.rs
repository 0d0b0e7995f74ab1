//! Edits of the `indicators` list: adding an item in the list's own layout (block or flow,
//! YAML or TOML), removing one, changing its type, and renaming it with every reference.

use super::splice::Splice;
use super::{EditError, EditValue, Editor};
use crate::document::{Entry, Layout, Node, Value};
use crate::expression::ExprKind;
use crate::indicators::{indicator_spec, indicator_spec_by_alias};
use crate::model::Format;
use crate::names::{is_identifier, is_reserved};
use crate::validate::validate;

impl Editor<'_> {
    pub(super) fn indicators(&self) -> Option<(&Entry, &[Node])> {
        let entry = self.root.get("indicators")?;
        Some((entry, entry.value.as_list().unwrap_or(&[])))
    }

    pub(super) fn indicator(&self, name: &str) -> Result<(&[Node], usize), EditError> {
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

    pub(super) fn change_type(
        &self,
        name: &str,
        indicator_type: &str,
    ) -> Result<Vec<Splice>, EditError> {
        known_type(indicator_type)?;
        let (list, index) = self.indicator(name)?;
        let entry = list[index]
            .get("type")
            .ok_or_else(|| EditError::UnknownIndicator {
                name: name.to_string(),
            })?;
        Ok(vec![self.replace_value(
            entry,
            &EditValue::Text(indicator_type.to_string()),
        )])
    }

    pub(super) fn check_new_name(&self, name: &str) -> Result<(), EditError> {
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

    pub(super) fn add_indicator(
        &self,
        indicator_type: &str,
        name: &str,
        parameters: &[(String, EditValue)],
    ) -> Result<Vec<Splice>, EditError> {
        known_type(indicator_type)?;
        self.check_new_name(name)?;
        Ok(vec![self.indicator_splice(
            indicator_type,
            name,
            parameters,
        )])
    }

    /// The text of a new item, placed after the last one in the list's own layout.
    fn indicator_splice(
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
    pub(super) fn parameter_step(&self, items: &[Node]) -> Option<String> {
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

    pub(super) fn yaml_item(
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

    pub(super) fn toml_item(
        &self,
        type_text: &str,
        name_text: &str,
        flow_parameters: &[String],
    ) -> String {
        let mut out = format!("[[indicators]]\ntype = {type_text}\nname = {name_text}\n");
        if !flow_parameters.is_empty() {
            out.push_str(&format!(
                "parameters = {{ {} }}\n",
                flow_parameters.join(", ")
            ));
        }
        out
    }

    pub(super) fn rename(&self, name: &str, new_name: &str) -> Result<Vec<Splice>, EditError> {
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
}

pub(super) fn known_type(indicator_type: &str) -> Result<(), EditError> {
    if indicator_spec(indicator_type).is_some() || indicator_spec_by_alias(indicator_type).is_some()
    {
        Ok(())
    } else {
        Err(EditError::UnknownIndicatorType {
            indicator_type: indicator_type.to_string(),
        })
    }
}

impl Editor<'_> {
    /// The start of the comment lines right above the line starting at `line_start` (the
    /// comment that belongs to an item travels with it).
    fn comments_above(&self, line_start: usize) -> usize {
        let mut start = line_start;
        while start > 0 {
            let previous = self.line_start(start - 1);
            if self.text[previous..start].trim_start().starts_with('#') {
                start = previous;
            } else {
                break;
            }
        }
        start
    }

    /// Cuts the indicator's whole lines (its comments and blank line with it, as removing it
    /// would) and puts them before or after the item now at `to`.
    pub(super) fn move_indicator(&self, name: &str, to: usize) -> Result<Vec<Splice>, EditError> {
        let (items, from) = self.indicator(name)?;
        let to = to.min(items.len() - 1);
        if from == to {
            return Ok(vec![]);
        }
        let flow = matches!(items[from].value, Value::Map(_, Layout::Flow))
            && self.is_inside_brackets(&items[from]);
        if flow {
            return Err(EditError::UnsupportedLayout {
                message: "this list is written on one line; move the indicator in the text".into(),
            });
        }
        let mut cut = self.remove_item(items, from);
        cut.start = self.comments_above(cut.start);
        let mut block = self.text[cut.start..cut.end].to_string();
        if !block.ends_with('\n') {
            block.push('\n');
        }
        let target = self.remove_item(items, to);
        let at = if to < from {
            self.comments_above(target.start)
        } else {
            target.end
        };
        Ok(vec![
            cut,
            Splice {
                start: at,
                end: at,
                text: block,
            },
        ])
    }
}
