//! The compiled tree: number and truth nodes over column indices, the operators they apply,
//! and the crossing and NaN-aware extremes they share.

use strategy_language::expression::BinaryOp;
use strategy_language::model::PositionVariable;

use super::{defined_truth, Truth};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Arithmetic {
    Add,
    Subtract,
    Multiply,
    Divide,
}

impl Arithmetic {
    pub(super) fn of(op: BinaryOp) -> Option<Self> {
        Some(match op {
            BinaryOp::Add => Arithmetic::Add,
            BinaryOp::Subtract => Arithmetic::Subtract,
            BinaryOp::Multiply => Arithmetic::Multiply,
            BinaryOp::Divide => Arithmetic::Divide,
            _ => return None,
        })
    }

    pub(super) fn apply(self, left: f64, right: f64) -> f64 {
        match self {
            Arithmetic::Add => left + right,
            Arithmetic::Subtract => left - right,
            Arithmetic::Multiply => left * right,
            Arithmetic::Divide => left / right,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
}

impl Comparison {
    pub(super) fn of(op: BinaryOp) -> Option<Self> {
        Some(match op {
            BinaryOp::Less => Comparison::Less,
            BinaryOp::LessOrEqual => Comparison::LessOrEqual,
            BinaryOp::Greater => Comparison::Greater,
            BinaryOp::GreaterOrEqual => Comparison::GreaterOrEqual,
            BinaryOp::Equal => Comparison::Equal,
            BinaryOp::NotEqual => Comparison::NotEqual,
            _ => return None,
        })
    }

    pub(super) fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Comparison::Less => left < right,
            Comparison::LessOrEqual => left <= right,
            Comparison::Greater => left > right,
            Comparison::GreaterOrEqual => left >= right,
            Comparison::Equal => left == right,
            Comparison::NotEqual => left != right,
        }
    }
}

/// A part of a condition whose value is a number (NaN where undefined).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum NumberNode {
    Column {
        column: usize,
        shift: usize,
    },
    Constant(f64),
    Position(PositionVariable),
    Negate(Box<NumberNode>),
    Abs(Box<NumberNode>),
    Arithmetic(Arithmetic, Box<NumberNode>, Box<NumberNode>),
    Min(Box<NumberNode>, Box<NumberNode>),
    Max(Box<NumberNode>, Box<NumberNode>),
    Extreme {
        highest: bool,
        term: Box<NumberNode>,
        window: usize,
    },
    /// A position-free part evaluated in blocks: the index of its block in the condition.
    Block(usize),
}

/// A part of a condition whose value is a truth.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum TruthNode {
    Constant(Truth),
    Compare(Comparison, Box<NumberNode>, Box<NumberNode>),
    /// `==` (or `!=` when not `equal`) between two truths.
    Same {
        equal: bool,
        left: Box<TruthNode>,
        right: Box<TruthNode>,
    },
    And(Box<TruthNode>, Box<TruthNode>),
    Or(Box<TruthNode>, Box<TruthNode>),
    Not(Box<TruthNode>),
    Crosses {
        above: bool,
        left: Box<NumberNode>,
        right: Box<NumberNode>,
    },
    Block(usize),
}

impl TruthNode {
    /// The node with `f` applied to each truth below it (left before right, so blocks keep
    /// their order); comparisons, crossings, constants and blocks come back as they are.
    pub(super) fn map_truths(self, f: &mut impl FnMut(TruthNode) -> TruthNode) -> TruthNode {
        let mut apply = |node: Box<TruthNode>| Box::new(f(*node));
        match self {
            TruthNode::Same { equal, left, right } => {
                let left = apply(left);
                TruthNode::Same {
                    equal,
                    left,
                    right: apply(right),
                }
            }
            TruthNode::And(left, right) => {
                let left = apply(left);
                TruthNode::And(left, apply(right))
            }
            TruthNode::Or(left, right) => {
                let left = apply(left);
                TruthNode::Or(left, apply(right))
            }
            TruthNode::Not(inner) => TruthNode::Not(apply(inner)),
            other => other,
        }
    }
}

impl NumberNode {
    pub(super) fn reads_position(&self) -> bool {
        match self {
            NumberNode::Position(_) => true,
            NumberNode::Column { .. } | NumberNode::Constant(_) | NumberNode::Block(_) => false,
            NumberNode::Negate(inner) | NumberNode::Abs(inner) => inner.reads_position(),
            NumberNode::Arithmetic(_, left, right)
            | NumberNode::Min(left, right)
            | NumberNode::Max(left, right) => left.reads_position() || right.reads_position(),
            NumberNode::Extreme { term, .. } => term.reads_position(),
        }
    }
}

impl TruthNode {
    pub(super) fn reads_position(&self) -> bool {
        match self {
            TruthNode::Constant(_) | TruthNode::Block(_) => false,
            TruthNode::Compare(_, left, right) | TruthNode::Crosses { left, right, .. } => {
                left.reads_position() || right.reads_position()
            }
            TruthNode::Same { left, right, .. }
            | TruthNode::And(left, right)
            | TruthNode::Or(left, right) => left.reads_position() || right.reads_position(),
            TruthNode::Not(inner) => inner.reads_position(),
        }
    }
}

pub(super) fn crossed(
    above: bool,
    now: f64,
    other_now: f64,
    before: f64,
    other_before: f64,
) -> Truth {
    let defined = !(now.is_nan() | other_now.is_nan() | before.is_nan() | other_before.is_nan());
    defined_truth(
        defined,
        if above {
            (before <= other_before) & (now > other_now)
        } else {
            (before >= other_before) & (now < other_now)
        },
    )
}

pub(super) fn nan_min(left: f64, right: f64) -> f64 {
    if left.is_nan() || right.is_nan() {
        f64::NAN
    } else {
        left.min(right)
    }
}

pub(super) fn nan_max(left: f64, right: f64) -> f64 {
    if left.is_nan() || right.is_nan() {
        f64::NAN
    } else {
        left.max(right)
    }
}
