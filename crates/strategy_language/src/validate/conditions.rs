//! The condition sections (`entry_conditions`, `exit_conditions`, `stop_conditions`): each is
//! parsed where it stands in the document and checked against the declared indicators.

use super::Validator;
use crate::document::{Entry, ScalarKind};
use crate::expression::{
    check_condition, parse_expression, print_expression, ConditionKind, NameTable,
};
use crate::model::Condition;

impl Validator<'_, '_> {
    pub(super) fn condition(
        &mut self,
        entry: &Entry,
        key: &str,
        kind: ConditionKind,
        names: &NameTable,
    ) -> Option<Condition> {
        let scalar = match entry.value.as_scalar() {
            Some(scalar) if scalar.kind != ScalarKind::Null => scalar,
            Some(_) => {
                self.error(
                    "E049",
                    format!("`{key}` is empty; write a condition, e.g. `rsi_14 < 30`"),
                    key.to_string(),
                    entry.key_span,
                );
                return None;
            }
            None => {
                let found = entry.value.kind_name();
                self.error(
                    "E012",
                    format!("`{key}` must be a condition written as text, e.g. `rsi_14 < 30`, but it is {found}"),
                    key.to_string(),
                    entry.value.span,
                );
                return None;
            }
        };
        let offsets = entry
            .value
            .value_offsets(self.positions.text())
            .unwrap_or_else(|| vec![entry.value.span.start; scalar.text.len() + 1]);
        let outcome = parse_expression(&scalar.text, &offsets, self.positions);
        let mut diagnostics = outcome.diagnostics;
        let condition = outcome.expression.map(|mut expression| {
            diagnostics.extend(check_condition(&mut expression, kind, names));
            Condition {
                text: scalar.text.clone(),
                canonical: print_expression(&expression),
                expression,
            }
        });
        for mut diagnostic in diagnostics {
            diagnostic.path = key.to_string();
            self.diagnostics.push(diagnostic);
        }
        condition
    }
}
