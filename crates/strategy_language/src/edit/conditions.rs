//! Edits of the conditions: adding, replacing and removing a clause of the outer AND/OR
//! chain, adding a condition the document lacks, and, when a scalar style cannot take the
//! splice, writing the condition out whole.

use super::splice::{apply_splices, Splice};
use super::{ConditionField, Connective, Edit, EditError, Editor};
use crate::document::Entry;
use crate::expression::{
    parse_condition, parse_expression, print_expression, BinaryOp, Expr, ExprKind,
};

impl Editor<'_> {
    pub(super) fn condition(&self, field: ConditionField) -> Result<(&Entry, Expr), EditError> {
        let unreadable = || EditError::ConditionUnreadable {
            condition: field.key().to_string(),
        };
        let entry = self.root.get(field.key()).ok_or_else(unreadable)?;
        let scalar = entry.value.as_scalar().ok_or_else(unreadable)?;
        let offsets = entry
            .value
            .value_offsets(self.text)
            .ok_or_else(unreadable)?;
        let outcome = parse_expression(&scalar.text, &offsets, self.positions);
        let expression = outcome.expression.ok_or_else(unreadable)?;
        Ok((entry, expression))
    }

    pub(super) fn parse_clause(clause: &str) -> Result<Expr, EditError> {
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
    pub(super) fn clause_text(clause: &str, expression: &Expr, connective: BinaryOp) -> String {
        let looser = matches!(&expression.kind, ExprKind::Binary { op, .. } if op.is_logical() && op.precedence() < connective.precedence());
        if looser {
            format!("({})", clause.trim())
        } else {
            clause.trim().to_string()
        }
    }

    pub(super) fn connective_of(expression: &Expr) -> Option<BinaryOp> {
        match &expression.kind {
            ExprKind::Binary { op, .. } if op.is_logical() => Some(*op),
            _ => None,
        }
    }

    /// The operands of the condition's outer AND/OR chain (the whole condition when it has no
    /// chain) without spans, with the connective: what a clause edit compares before and after.
    pub(super) fn outer_clauses(root: &Expr) -> (Option<BinaryOp>, Vec<Expr>) {
        let connective = Self::connective_of(root);
        let clauses = connective.map_or_else(
            || vec![root.without_spans()],
            |op| {
                root.clauses(op)
                    .into_iter()
                    .map(Expr::without_spans)
                    .collect()
            },
        );
        (connective, clauses)
    }

    pub(super) fn add_clause(
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
    pub(super) fn add_condition(
        &self,
        field: ConditionField,
        clause: &str,
    ) -> Result<Vec<Splice>, EditError> {
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

    pub(super) fn replace_clause(
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

    pub(super) fn remove_clause(
        &self,
        field: ConditionField,
        index: usize,
    ) -> Result<Vec<Splice>, EditError> {
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
    pub(super) fn expected_clauses(
        &self,
        edit: &Edit,
    ) -> Result<(Option<BinaryOp>, Vec<Expr>), EditError> {
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
        let (connective, mut clauses) = Self::outer_clauses(&root);
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
    pub(super) fn rewrite_condition(
        &self,
        field: ConditionField,
        edit: &Edit,
    ) -> Result<String, EditError> {
        let (entry, _) = self.condition(field)?;
        let (connective, clauses) = self.expected_clauses(edit)?;
        let printed: Vec<String> = clauses
            .iter()
            .map(|clause| {
                let text = print_expression(clause);
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
}
