//! Interval reasoning over conditions: which values each operand can take (from the
//! registry's output ranges and from the comparisons around it), to find comparisons that can
//! never hold or always hold.

use std::collections::BTreeMap;

use crate::expression::{print_expression, BinaryOp, Expr, ExprKind, UnaryOp};
use crate::indicators::indicator_spec;
use crate::indicators::Source;
use crate::model::Strategy;
use crate::names::PositionVariable;

/// One stretch of the number line; an unbounded end is an infinity.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Interval {
    low: f64,
    low_closed: bool,
    high: f64,
    high_closed: bool,
}

impl Interval {
    const ALL: Interval = Interval {
        low: f64::NEG_INFINITY,
        low_closed: false,
        high: f64::INFINITY,
        high_closed: false,
    };

    fn closed(low: f64, high: f64) -> Interval {
        Interval {
            low,
            low_closed: low.is_finite(),
            high,
            high_closed: high.is_finite(),
        }
    }

    fn is_empty(&self) -> bool {
        self.low > self.high || (self.low == self.high && !(self.low_closed && self.high_closed))
    }

    fn intersect(&self, other: &Interval) -> Interval {
        let (low, low_closed) = if self.low > other.low {
            (self.low, self.low_closed)
        } else if other.low > self.low {
            (other.low, other.low_closed)
        } else {
            (self.low, self.low_closed && other.low_closed)
        };
        let (high, high_closed) = if self.high < other.high {
            (self.high, self.high_closed)
        } else if other.high < self.high {
            (other.high, other.high_closed)
        } else {
            (self.high, self.high_closed && other.high_closed)
        };
        Interval {
            low,
            low_closed,
            high,
            high_closed,
        }
    }
}

/// A union of disjoint intervals.
#[derive(Clone, Debug, PartialEq)]
struct Set(Vec<Interval>);

impl Set {
    fn all() -> Set {
        Set(vec![Interval::ALL])
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(Interval::is_empty)
    }

    fn intersect(&self, other: &Set) -> Set {
        let mut parts = Vec::new();
        for left in &self.0 {
            for right in &other.0 {
                let part = left.intersect(right);
                if !part.is_empty() {
                    parts.push(part);
                }
            }
        }
        Set(parts)
    }

    fn union(&self, other: &Set) -> Set {
        let mut parts: Vec<Interval> = self
            .0
            .iter()
            .chain(&other.0)
            .copied()
            .filter(|part| !part.is_empty())
            .collect();
        parts.sort_by(|left, right| left.low.total_cmp(&right.low));
        let mut merged: Vec<Interval> = Vec::new();
        for part in parts {
            if let Some(last) = merged.last_mut() {
                let touches = part.low < last.high
                    || (part.low == last.high && (part.low_closed || last.high_closed));
                if touches {
                    if part.high > last.high || (part.high == last.high && part.high_closed) {
                        last.high = part.high;
                        last.high_closed =
                            part.high_closed || (part.high == last.high && last.high_closed);
                    }
                    continue;
                }
            }
            merged.push(part);
        }
        Set(merged)
    }

    fn complement(&self) -> Set {
        let mut parts = Vec::new();
        let mut low = f64::NEG_INFINITY;
        let mut low_closed = false;
        let normalised = Set(Vec::new()).union(self);
        for part in &normalised.0 {
            parts.push(Interval {
                low,
                low_closed,
                high: part.low,
                high_closed: !part.low_closed && part.low.is_finite(),
            });
            low = part.high;
            low_closed = !part.high_closed && part.high.is_finite();
        }
        parts.push(Interval {
            low,
            low_closed,
            high: f64::INFINITY,
            high_closed: false,
        });
        Set(parts.into_iter().filter(|part| !part.is_empty()).collect())
    }

    fn contains_set(&self, other: &Set) -> bool {
        other.intersect(&self.complement()).is_empty()
    }

    fn describe(&self) -> String {
        match self.0.as_slice() {
            [only] => match (only.low.is_finite(), only.high.is_finite()) {
                (true, true) => format!("between {} and {}", only.low, only.high),
                (true, false) => format!("at least {}", only.low),
                (false, true) => format!("at most {}", only.high),
                (false, false) => "any number".to_string(),
            },
            _ => "within its range".to_string(),
        }
    }
}

fn comparison_set(op: BinaryOp, constant: f64) -> Set {
    let below = Interval {
        low: f64::NEG_INFINITY,
        low_closed: false,
        high: constant,
        high_closed: false,
    };
    let above = Interval {
        low: constant,
        low_closed: false,
        high: f64::INFINITY,
        high_closed: false,
    };
    match op {
        BinaryOp::Less => Set(vec![below]),
        BinaryOp::LessOrEqual => Set(vec![Interval {
            high_closed: true,
            ..below
        }]),
        BinaryOp::Greater => Set(vec![above]),
        BinaryOp::GreaterOrEqual => Set(vec![Interval {
            low_closed: true,
            ..above
        }]),
        BinaryOp::Equal => Set(vec![Interval::closed(constant, constant)]),
        BinaryOp::NotEqual => Set(vec![below, above]),
        _ => Set::all(),
    }
}

/// What the analysis concluded about a true/false expression, with the reason in words.
#[derive(Clone, Debug, PartialEq)]
enum Truth {
    Never(String),
    Always(String),
    Unknown,
}

impl Truth {
    fn is_definite(&self) -> bool {
        !matches!(self, Truth::Unknown)
    }
}

pub enum Finding<'e> {
    Never { expr: &'e Expr, reason: String },
    Always { expr: &'e Expr, reason: String },
}

impl<'e> Finding<'e> {
    pub fn expr(&self) -> &'e Expr {
        match self {
            Finding::Never { expr, .. } | Finding::Always { expr, .. } => expr,
        }
    }
}

/// A comparison of one operand with a fixed number: `rsi_14 < 30` (or `30 > rsi_14`).
struct Atom<'e> {
    key: String,
    operand: &'e Expr,
    set: Set,
}

type Environment = BTreeMap<String, Set>;

pub struct IntervalAnalysis<'s> {
    strategy: &'s Strategy,
}

impl<'s> IntervalAnalysis<'s> {
    pub fn new(strategy: &'s Strategy) -> Self {
        IntervalAnalysis { strategy }
    }

    /// The smallest sub-conditions that can never or always be true (a node is reported only
    /// when none of its parts already explains it).
    pub fn findings<'e>(&self, expr: &'e Expr) -> Vec<Finding<'e>> {
        let mut findings = Vec::new();
        self.collect(expr, &Environment::new(), &mut findings);
        findings
    }

    fn collect<'e>(
        &self,
        expr: &'e Expr,
        environment: &Environment,
        findings: &mut Vec<Finding<'e>>,
    ) -> bool {
        let truth = self.truth(expr, environment);
        let children: Vec<&Expr> = match &expr.kind {
            ExprKind::Binary { op, .. } if op.is_logical() => expr.clauses(*op),
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => vec![operand],
            _ => Vec::new(),
        };
        let mut explained = false;
        for child in children {
            explained |= self.collect(child, environment, findings);
        }
        let definite = truth.is_definite();
        if !explained {
            match truth {
                Truth::Never(reason) => findings.push(Finding::Never { expr, reason }),
                Truth::Always(reason) => findings.push(Finding::Always { expr, reason }),
                Truth::Unknown => {}
            }
        }
        definite || explained
    }

    pub fn is_always(&self, expr: &Expr) -> bool {
        matches!(self.truth(expr, &Environment::new()), Truth::Always(_))
    }

    /// Whether `conclusion` holds whenever the comparisons that `premise` requires hold.
    pub fn implies(&self, premise: &Expr, conclusion: &Expr) -> bool {
        let environment = Environment::new();
        if matches!(self.truth(premise, &environment), Truth::Never(_)) {
            return false;
        }
        let mut narrowed = environment;
        for clause in premise.clauses(BinaryOp::And) {
            if let Some(atom) = self.atom(clause) {
                let current = self.current(&narrowed, &atom);
                narrowed.insert(atom.key, current.intersect(&atom.set));
            }
        }
        matches!(self.truth(conclusion, &narrowed), Truth::Always(_))
    }

    fn current(&self, environment: &Environment, atom: &Atom<'_>) -> Set {
        environment
            .get(&atom.key)
            .cloned()
            .unwrap_or_else(|| self.range(atom.operand))
    }

    fn truth(&self, expr: &Expr, environment: &Environment) -> Truth {
        match &expr.kind {
            ExprKind::Bool { value: true } => {
                Truth::Always(" (it is the constant `true`)".to_string())
            }
            ExprKind::Bool { value: false } => {
                Truth::Never(" (it is the constant `false`)".to_string())
            }
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => match self.truth(operand, environment) {
                Truth::Never(reason) => Truth::Always(reason),
                Truth::Always(reason) => Truth::Never(reason),
                Truth::Unknown => Truth::Unknown,
            },
            ExprKind::Binary {
                op: BinaryOp::And, ..
            } => self.conjunction(expr, environment),
            ExprKind::Binary {
                op: BinaryOp::Or, ..
            } => self.disjunction(expr, environment),
            ExprKind::Binary { op, lhs, rhs } if op.is_comparison() => {
                self.comparison(expr, *op, lhs, rhs, environment)
            }
            ExprKind::Call { function, args } if function.starts_with("crosses_") => {
                let [line, other] = args.as_slice() else {
                    return Truth::Unknown;
                };
                if print_expression(line) == print_expression(other) {
                    return Truth::Never(" (a series cannot cross itself)".to_string());
                }
                let Some(level) = constant(other) else {
                    return Truth::Unknown;
                };
                let wanted = if function == "crosses_above" {
                    BinaryOp::Greater
                } else {
                    BinaryOp::Less
                };
                let range = self.range(line);
                if range.intersect(&comparison_set(wanted, level)).is_empty() {
                    let name = print_expression(line);
                    return Truth::Never(format!(" (`{name}` stays {})", range.describe()));
                }
                Truth::Unknown
            }
            _ => Truth::Unknown,
        }
    }

    fn comparison(
        &self,
        expr: &Expr,
        op: BinaryOp,
        lhs: &Expr,
        rhs: &Expr,
        environment: &Environment,
    ) -> Truth {
        if let (Some(left), Some(right)) = (constant(lhs), constant(rhs)) {
            let holds = match op {
                BinaryOp::Less => left < right,
                BinaryOp::LessOrEqual => left <= right,
                BinaryOp::Greater => left > right,
                BinaryOp::GreaterOrEqual => left >= right,
                BinaryOp::Equal => left == right,
                _ => left != right,
            };
            let reason = " (it compares two fixed numbers)".to_string();
            return if holds {
                Truth::Always(reason)
            } else {
                Truth::Never(reason)
            };
        }
        if print_expression(lhs) == print_expression(rhs) {
            let reason = " (both sides are the same)".to_string();
            return match op {
                BinaryOp::LessOrEqual | BinaryOp::GreaterOrEqual | BinaryOp::Equal => {
                    Truth::Always(reason)
                }
                _ => Truth::Never(reason),
            };
        }
        let Some(atom) = self.atom(expr) else {
            return Truth::Unknown;
        };
        let possible = self.current(environment, &atom);
        if possible.intersect(&atom.set).is_empty() {
            return Truth::Never(format!(" (`{}` is {})", atom.key, possible.describe()));
        }
        if atom.set.contains_set(&possible) {
            return Truth::Always(format!(" (`{}` is {})", atom.key, possible.describe()));
        }
        Truth::Unknown
    }

    fn conjunction(&self, expr: &Expr, environment: &Environment) -> Truth {
        let clauses = expr.clauses(BinaryOp::And);
        let mut narrowed = environment.clone();
        for clause in &clauses {
            if let Some(atom) = self.atom(clause) {
                let possible = self.current(&narrowed, &atom).intersect(&atom.set);
                if possible.is_empty() {
                    return Truth::Never(format!(
                        " (no value of `{}` meets all of these at once)",
                        atom.key
                    ));
                }
                narrowed.insert(atom.key, possible);
            }
        }
        let truths: Vec<Truth> = clauses
            .iter()
            .map(|clause| self.truth(clause, environment))
            .collect();
        if let Some(never) = truths.iter().find(|truth| matches!(truth, Truth::Never(_))) {
            return never.clone();
        }
        if truths.iter().all(|truth| matches!(truth, Truth::Always(_))) {
            return Truth::Always(" (each part always holds)".to_string());
        }
        Truth::Unknown
    }

    fn disjunction(&self, expr: &Expr, environment: &Environment) -> Truth {
        let clauses = expr.clauses(BinaryOp::Or);
        let mut covered: BTreeMap<String, (Set, Set)> = BTreeMap::new();
        for clause in &clauses {
            if let Some(atom) = self.atom(clause) {
                let possible = self.current(environment, &atom);
                let slot = covered
                    .entry(atom.key.clone())
                    .or_insert((Set(Vec::new()), possible));
                slot.0 = slot.0.union(&atom.set);
            }
        }
        for (key, (union, possible)) in &covered {
            if union.contains_set(possible) {
                return Truth::Always(format!(" (together these cover every value of `{key}`)"));
            }
        }
        let truths: Vec<Truth> = clauses
            .iter()
            .map(|clause| self.truth(clause, environment))
            .collect();
        if let Some(always) = truths
            .iter()
            .find(|truth| matches!(truth, Truth::Always(_)))
        {
            return always.clone();
        }
        if truths.iter().all(|truth| matches!(truth, Truth::Never(_))) {
            return Truth::Never(" (no part can ever hold)".to_string());
        }
        Truth::Unknown
    }

    fn atom<'e>(&self, expr: &'e Expr) -> Option<Atom<'e>> {
        let ExprKind::Binary { op, lhs, rhs } = &expr.kind else {
            return None;
        };
        if !op.is_comparison() {
            return None;
        }
        let (operand, op, value) = match (constant(lhs), constant(rhs)) {
            (None, Some(value)) => (&**lhs, *op, value),
            (Some(value), None) => (&**rhs, op.mirrored(), value),
            _ => return None,
        };
        Some(Atom {
            key: print_expression(operand),
            operand,
            set: comparison_set(op, value),
        })
    }

    /// The values an operand can take by its nature (an RSI stays within 0..=100).
    fn range(&self, operand: &Expr) -> Set {
        let interval = match &operand.kind {
            ExprKind::Indicator { name, output } => {
                self.indicator_range(name, output.as_deref(), 0)
            }
            ExprKind::Lookback { term, .. } => return self.range(term),
            ExprKind::Price { .. } => Some(Interval::closed(0.0, f64::INFINITY)),
            ExprKind::Position { variable } => match variable {
                PositionVariable::EntryPrice | PositionVariable::BarsInTrade => {
                    Some(Interval::closed(0.0, f64::INFINITY))
                }
                PositionVariable::UnrealizedPnlPct => Some(Interval::closed(-1.0, f64::INFINITY)),
                PositionVariable::Drawdown => Some(Interval::closed(0.0, 1.0)),
                PositionVariable::UnrealizedPnl => None,
            },
            ExprKind::Call { function, args } => match (function.as_str(), args.first()) {
                ("abs", _) => Some(Interval::closed(0.0, f64::INFINITY)),
                ("highest" | "lowest", Some(series)) => return self.range(series),
                _ => None,
            },
            _ => None,
        };
        Set(vec![interval.unwrap_or(Interval::ALL)])
    }
}

impl IntervalAnalysis<'_> {
    /// An output's own range; an average of a bounded series stays within its bounds.
    fn indicator_range(&self, name: &str, output: Option<&str>, depth: usize) -> Option<Interval> {
        let indicator = self.strategy.indicator(name)?;
        let spec = indicator_spec(&indicator.indicator_type)?;
        if let Some((low, high)) = spec.output(output.unwrap_or("value"))?.range {
            return Some(Interval::closed(low, high));
        }
        if depth > 50 || !matches!(spec.type_name, "sma" | "wma" | "ema" | "kama") {
            return None;
        }
        match indicator.source()? {
            Source::Price { .. } => Some(Interval::closed(0.0, f64::INFINITY)),
            Source::Indicator { name, output } => {
                self.indicator_range(name, output.as_deref(), depth + 1)
            }
        }
    }
}

/// The value of an expression made of numbers only (`-0.05`, `2 * 3`).
fn constant(expr: &Expr) -> Option<f64> {
    let value = match &expr.kind {
        ExprKind::Number { value } => *value,
        ExprKind::Unary {
            op: UnaryOp::Negate,
            operand,
        } => -constant(operand)?,
        ExprKind::Binary { op, lhs, rhs } => {
            let (left, right) = (constant(lhs)?, constant(rhs)?);
            match op {
                BinaryOp::Add => left + right,
                BinaryOp::Subtract => left - right,
                BinaryOp::Multiply => left * right,
                BinaryOp::Divide if right != 0.0 => left / right,
                _ => return None,
            }
        }
        _ => return None,
    };
    value.is_finite().then_some(value)
}
