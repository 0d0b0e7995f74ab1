//! Resolves the names of a parsed condition against the document's indicators (rewriting
//! accepted aliases to their canonical spelling) and checks its types.

use super::printer::print_expression;
use super::tree::{BinaryOp, Expr, ExprKind, UnaryOp, MAX_LOOKBACK};
use crate::indicators::IndicatorSpec;
use crate::names::{is_identifier, PositionVariable, PriceField, FUNCTIONS};
use crate::span::{Diagnostic, Fix, Severity, Span};
use crate::suggestion::{closest, unknown_name};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpressionType {
    Numeric,
    Boolean,
}

impl ExpressionType {
    fn describe(self) -> &'static str {
        match self {
            ExpressionType::Numeric => "a number",
            ExpressionType::Boolean => "a true/false condition",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionKind {
    Entry,
    Exit,
    Stop,
}

impl ConditionKind {
    fn allows_position_variables(self) -> bool {
        !matches!(self, ConditionKind::Entry)
    }
}

/// The indicators a condition may name: each name with its type's registry entry.
pub struct NameTable {
    pub indicators: Vec<(String, &'static IndicatorSpec)>,
    /// Names of indicators whose type is missing or unknown, or that stand past the limit of
    /// indicators unread: conditions may name them without a second error.
    pub declared_without_type: std::collections::HashSet<String>,
}

impl NameTable {
    fn spec(&self, name: &str) -> Option<&'static IndicatorSpec> {
        self.indicators
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, spec)| *spec)
    }

    /// Every name a condition could use, for "did you mean".
    fn candidates(&self, kind: ConditionKind) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        // Only valid names are worth suggesting; an invalid one has its own error.
        let valid = self
            .indicators
            .iter()
            .filter(|(name, _)| is_identifier(name));
        for (name, spec) in valid {
            if spec.is_multi_output() {
                names.extend(
                    spec.outputs
                        .iter()
                        .map(|output| format!("{name}.{}", output.name)),
                );
            } else {
                names.push(name.clone());
            }
        }
        names.extend(PriceField::ALL.iter().map(|field| field.name().to_string()));
        if kind.allows_position_variables() {
            names.extend(
                PositionVariable::ALL
                    .iter()
                    .map(|variable| variable.name().to_string()),
            );
        }
        names
    }
}

/// Checks a condition: every name known, every operator applied to the right types, the
/// whole a true/false condition. Accepted aliases are rewritten in place (with info notes).
pub fn check_condition(expr: &mut Expr, kind: ConditionKind, names: &NameTable) -> Vec<Diagnostic> {
    let mut checker = Checker {
        kind,
        names,
        diagnostics: Vec::new(),
    };
    if let Some(ExpressionType::Numeric) = checker.check(expr) {
        let printed = print_expression(expr);
        checker.error(
            "E045",
            format!(
                "a condition must compare something, e.g. `{printed} < 30`; `{printed}` alone is a number"
            ),
            expr,
        );
    }
    checker.diagnostics
}

struct Checker<'a> {
    kind: ConditionKind,
    names: &'a NameTable,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn push(
        &mut self,
        code: &str,
        severity: Severity,
        message: String,
        expr: &Expr,
    ) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic::new(
            code,
            severity,
            message,
            String::new(),
            expr.span,
        ));
        self.diagnostics.last_mut().expect("just pushed")
    }

    fn error(&mut self, code: &str, message: String, expr: &Expr) -> &mut Diagnostic {
        self.push(code, Severity::Error, message, expr)
    }

    /// The type of `expr`, or `None` when an error below already explains the problem.
    fn check(&mut self, expr: &mut Expr) -> Option<ExpressionType> {
        let span = expr.span;
        match &mut expr.kind {
            ExprKind::Number { .. } => Some(ExpressionType::Numeric),
            ExprKind::Bool { .. } => Some(ExpressionType::Boolean),
            ExprKind::Price { .. } => Some(ExpressionType::Numeric),
            ExprKind::Position { variable } => {
                if !self.kind.allows_position_variables() {
                    let name = variable.name();
                    self.error(
                        "E046",
                        format!(
                            "`{name}` describes an open position, so only exit_conditions and stop_conditions can use it"
                        ),
                        expr,
                    );
                    return None;
                }
                Some(ExpressionType::Numeric)
            }
            ExprKind::Indicator { .. } => self.resolve_indicator(expr),
            ExprKind::Lookback { term, .. } => {
                let term_type = self.check(term);
                if matches!(
                    term.kind,
                    ExprKind::Price { .. } | ExprKind::Indicator { .. }
                ) {
                    term_type
                } else {
                    let message =
                        "a lookback `[n]` applies to a price or an indicator, e.g. `close[1]`"
                            .to_string();
                    self.error("E047", message, expr);
                    None
                }
            }
            ExprKind::Unary { op, operand } => {
                let op = *op;
                let operand_type = self.check(operand)?;
                let (wanted, word) = match op {
                    UnaryOp::Not => (ExpressionType::Boolean, "NOT"),
                    UnaryOp::Negate => (ExpressionType::Numeric, "unary `-`"),
                };
                if operand_type != wanted {
                    let printed = print_expression(operand);
                    self.error(
                        "E044",
                        format!(
                            "{word} needs {}, but `{printed}` is {}",
                            wanted.describe(),
                            operand_type.describe()
                        ),
                        expr,
                    );
                    return None;
                }
                Some(wanted)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let op = *op;
                let left = self.check(lhs);
                let right = self.check(rhs);
                let (left, right) = (left?, right?);
                let (lhs, rhs) = (&**lhs, &**rhs);
                if op.is_logical() {
                    for (side, side_type) in [(lhs, left), (rhs, right)] {
                        if side_type != ExpressionType::Boolean {
                            let printed = print_expression(side);
                            self.diagnostics.push(Diagnostic::new("E044", Severity::Error, format!(
                                    "{} joins true/false conditions, but `{printed}` is a number; compare it, e.g. `{printed} > 0`",
                                    op.symbol()
                                ), String::new(), side.span));
                        }
                    }
                    return (left == ExpressionType::Boolean && right == ExpressionType::Boolean)
                        .then_some(ExpressionType::Boolean);
                }
                let both_boolean =
                    left == ExpressionType::Boolean && right == ExpressionType::Boolean;
                if matches!(op, BinaryOp::Equal | BinaryOp::NotEqual) && both_boolean {
                    return Some(ExpressionType::Boolean);
                }
                for (side, side_type) in [(lhs, left), (rhs, right)] {
                    if side_type != ExpressionType::Numeric {
                        let printed = print_expression(side);
                        let message = format!(
                            "`{}` needs numbers on both sides, but `{printed}` is a true/false condition",
                            op.symbol()
                        );
                        self.diagnostics.push(Diagnostic::new(
                            "E044",
                            Severity::Error,
                            message,
                            String::new(),
                            side.span,
                        ));
                        return None;
                    }
                }
                Some(if op.is_comparison() {
                    ExpressionType::Boolean
                } else {
                    ExpressionType::Numeric
                })
            }
            ExprKind::Call { function, args } => {
                let typed = function.clone();
                let lower = typed.to_ascii_lowercase();
                let Some((name, arity)) = FUNCTIONS.iter().find(|(name, _)| *name == lower) else {
                    let names: Vec<&str> = FUNCTIONS.iter().map(|(name, _)| *name).collect();
                    let message = unknown_name(
                        &format!("unknown function `{typed}`"),
                        &typed,
                        names.iter().copied(),
                        &format!("the functions are {}", names.join(", ")),
                    );
                    let fix = closest(&typed, names.iter().copied()).map(|suggestion| {
                        Fix::replace(leading_name_span(span, &typed), suggestion)
                    });
                    self.diagnostics.push(
                        Diagnostic::new("E048", Severity::Error, message, String::new(), span)
                            .with_fixes(fix),
                    );
                    for arg in args.iter_mut() {
                        self.check(arg);
                    }
                    return None;
                };
                *function = (*name).to_string();
                let name = *name;
                if args.len() != *arity {
                    let example = match name {
                        "crosses_above" | "crosses_below" => format!("{name}(ema_12, ema_26)"),
                        "abs" => "abs(momentum_10)".to_string(),
                        "highest" | "lowest" => format!("{name}(high, 20)"),
                        _ => format!("{name}(close, sma_20)"),
                    };
                    let count = args.len();
                    self.diagnostics.push(Diagnostic::new("E048", Severity::Error, format!(
                            "`{name}` takes {arity} argument{} but is given {count}, e.g. `{example}`",
                            if *arity == 1 { "" } else { "s" }
                        ), String::new(), span));
                    for arg in args.iter_mut() {
                        self.check(arg);
                    }
                    return None;
                }
                let mut fine = true;
                for (index, arg) in args.iter_mut().enumerate() {
                    let window = matches!(name, "highest" | "lowest") && index == 1;
                    if window {
                        let whole = matches!(arg.kind, ExprKind::Number { value } if value.fract() == 0.0 && (1.0..=f64::from(MAX_LOOKBACK)).contains(&value));
                        if !whole {
                            self.diagnostics.push(Diagnostic::new("E048", Severity::Error, format!(
                                    "the window of `{name}` is a whole number of bars from 1 to {MAX_LOOKBACK}, e.g. `{name}(high, 20)`"
                                ), String::new(), arg.span));
                            fine = false;
                        }
                        continue;
                    }
                    match self.check(arg) {
                        Some(ExpressionType::Numeric) => {}
                        Some(ExpressionType::Boolean) => {
                            let printed = print_expression(arg);
                            self.diagnostics.push(Diagnostic::new("E044", Severity::Error, format!(
                                    "`{name}` takes numbers, but `{printed}` is a true/false condition"
                                ), String::new(), arg.span));
                            fine = false;
                        }
                        None => fine = false,
                    }
                }
                if !fine {
                    return None;
                }
                Some(if name.starts_with("crosses_") {
                    ExpressionType::Boolean
                } else {
                    ExpressionType::Numeric
                })
            }
        }
    }

    fn resolve_indicator(&mut self, expr: &mut Expr) -> Option<ExpressionType> {
        let ExprKind::Indicator { name, output } = &expr.kind else {
            return None;
        };
        let (name, output) = (name.clone(), output.clone());
        let Some(spec) = self.names.spec(&name) else {
            if output.is_none() {
                if let Some((indicator, canonical_output)) = self.underscore_alias(&name) {
                    let canonical = format!("{indicator}.{canonical_output}");
                    self.push(
                        "I004",
                        Severity::Info,
                        format!("`{name}` is read as `{canonical}`; write `{canonical}`"),
                        expr,
                    )
                    .fixes
                    .push(Fix::replace(expr.span, canonical));
                    expr.kind = ExprKind::Indicator {
                        name: indicator,
                        output: Some(canonical_output),
                    };
                    return Some(ExpressionType::Numeric);
                }
            }
            let written = match &output {
                Some(output) => format!("{name}.{output}"),
                None => name.clone(),
            };
            let candidates = self.names.candidates(self.kind);
            if self.names.declared_without_type.contains(&name) {
                // The indicator's own entry already reports why it has no usable type.
                return None;
            }
            let message = unknown_name(
                &format!("unknown name `{written}`"),
                &written,
                candidates.iter().map(String::as_str),
                &format!("define an indicator named `{name}` under indicators, or use a price (close, open, high, low, volume, hl2, hlc3, ohlc4)"),
            );
            let fix = closest(&written, candidates.iter().map(String::as_str))
                .map(|suggestion| Fix::replace(expr.span, suggestion));
            self.error("E042", message, expr).fixes.extend(fix);
            return None;
        };
        match output {
            None if spec.is_multi_output() => {
                let outputs: Vec<String> = spec
                    .outputs
                    .iter()
                    .map(|o| format!("`{name}.{}`", o.name))
                    .collect();
                self.error(
                    "E043",
                    format!(
                        "`{name}` has several outputs; pick one: {}",
                        outputs.join(", ")
                    ),
                    expr,
                );
                None
            }
            None => Some(ExpressionType::Numeric),
            Some(output) if !spec.is_multi_output() => {
                self.error(
                    "E043",
                    format!("`{name}` has a single value; write `{name}` without `.{output}`"),
                    expr,
                )
                .fixes
                .push(Fix::replace(expr.span, name));
                None
            }
            Some(output) => {
                if spec.output(&output).is_some() {
                    return Some(ExpressionType::Numeric);
                }
                if let Some(canonical) = spec.output_by_alias(&output) {
                    self.push(
                        "I003",
                        Severity::Info,
                        format!(
                            "`{name}.{output}` is read as `{name}.{}`; write `{name}.{}`",
                            canonical.name, canonical.name
                        ),
                        expr,
                    )
                    .fixes
                    .push(Fix::replace(
                        expr.span,
                        format!("{name}.{}", canonical.name),
                    ));
                    expr.kind = ExprKind::Indicator {
                        name,
                        output: Some(canonical.name.to_string()),
                    };
                    return Some(ExpressionType::Numeric);
                }
                let outputs: Vec<&str> = spec.outputs.iter().map(|o| o.name).collect();
                let message = unknown_name(
                    &format!("`{name}` has no output `{output}`"),
                    &output,
                    outputs.iter().copied(),
                    &format!("its outputs are {}", outputs.join(", ")),
                );
                let fix = closest(&output, outputs.iter().copied())
                    .map(|suggestion| Fix::replace(expr.span, format!("{name}.{suggestion}")));
                self.error("E043", message, expr).fixes.extend(fix);
                None
            }
        }
    }

    /// `bb_20_upper` for `bb_20.upper`, when exactly one split of the name works.
    fn underscore_alias(&self, written: &str) -> Option<(String, String)> {
        let mut found = Vec::new();
        for (index, _) in written.match_indices('_') {
            let (indicator, output) = (&written[..index], &written[index + 1..]);
            let Some(spec) = self.names.spec(indicator) else {
                continue;
            };
            if !spec.is_multi_output() {
                continue;
            }
            if let Some(output) = spec.output(output).or_else(|| spec.output_by_alias(output)) {
                found.push((indicator.to_string(), output.name.to_string()));
            }
        }
        if found.len() == 1 {
            found.pop()
        } else {
            None
        }
    }
}

/// The span of the name a call starts with (`crosess_above` in `crosess_above(a, b)`): names
/// are ASCII and written on one line, so it is the call's first `name.len()` bytes.
fn leading_name_span(call: Span, name: &str) -> Span {
    let length = name.len().min(call.end.saturating_sub(call.start));
    Span {
        end_line: call.line,
        end_column: call.column + u32::try_from(length).unwrap_or(0),
        end: call.start + length,
        ..call
    }
}
