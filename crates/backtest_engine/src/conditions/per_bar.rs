//! Evaluating a tree at one bar, through whatever it reads (`BarReads`): the whole condition
//! when it reads the open position, or a part of a block at one of the block's bars (`InBlock`).

use strategy_language::model::PositionVariable;

use super::store::ColumnStore;
use super::tree::{crossed, nan_max, nan_min, NumberNode, TruthNode};
use super::{defined_truth, Truth, FALSE, TRUE, UNDEFINED};

/// What evaluating a condition at one bar reads through.
pub(super) trait BarReads {
    fn column(&mut self, column: usize, shift: usize, bar: usize) -> f64;
    fn block_truth(&mut self, block: usize, bar: usize) -> Truth;
    fn block_number(&mut self, block: usize, bar: usize) -> f64;
    fn position(&self, variable: PositionVariable) -> f64;
}

/// A part of a block at one of the block's bars, whose columns the block holds already. A
/// block holds no block and no position variable.
pub(super) struct InBlock<'e, 's> {
    pub(super) store: &'e ColumnStore<'s>,
}

impl BarReads for InBlock<'_, '_> {
    fn column(&mut self, column: usize, shift: usize, bar: usize) -> f64 {
        self.store.read(column, shift, bar)
    }

    fn block_truth(&mut self, _: usize, _: usize) -> Truth {
        unreachable!("a block never holds another block")
    }

    fn block_number(&mut self, _: usize, _: usize) -> f64 {
        unreachable!("a block never holds another block")
    }

    fn position(&self, _: PositionVariable) -> f64 {
        f64::NAN
    }
}

pub(super) fn truth_at(node: &TruthNode, at: &mut impl BarReads, bar: usize) -> Truth {
    match node {
        TruthNode::Block(index) => at.block_truth(*index, bar),
        TruthNode::Constant(value) => *value,
        TruthNode::Compare(comparison, left, right) => {
            let (left, right) = (number_at(left, at, bar), number_at(right, at, bar));
            defined_truth(
                !(left.is_nan() || right.is_nan()),
                comparison.holds(left, right),
            )
        }
        TruthNode::Same { equal, left, right } => {
            let (left, right) = (truth_at(left, at, bar), truth_at(right, at, bar));
            defined_truth(
                left != UNDEFINED && right != UNDEFINED,
                (left == right) == *equal,
            )
        }
        // False AND anything is false, true OR anything is true: the other side is not read.
        TruthNode::And(left, right) => match truth_at(left, at, bar) {
            FALSE => FALSE,
            left => left.min(truth_at(right, at, bar)),
        },
        TruthNode::Or(left, right) => match truth_at(left, at, bar) {
            TRUE => TRUE,
            left => left.max(truth_at(right, at, bar)),
        },
        TruthNode::Not(inner) => TRUE - truth_at(inner, at, bar),
        TruthNode::Crosses { above, left, right } => match bar.checked_sub(1) {
            Some(before) => crossed(
                *above,
                number_at(left, at, bar),
                number_at(right, at, bar),
                number_at(left, at, before),
                number_at(right, at, before),
            ),
            None => UNDEFINED,
        },
    }
}

pub(super) fn number_at(node: &NumberNode, at: &mut impl BarReads, bar: usize) -> f64 {
    match node {
        NumberNode::Block(index) => at.block_number(*index, bar),
        NumberNode::Column { column, shift } => at.column(*column, *shift, bar),
        NumberNode::Constant(value) => *value,
        NumberNode::Position(variable) => at.position(*variable),
        NumberNode::Negate(inner) => -number_at(inner, at, bar),
        NumberNode::Abs(inner) => number_at(inner, at, bar).abs(),
        NumberNode::Arithmetic(op, left, right) => {
            op.apply(number_at(left, at, bar), number_at(right, at, bar))
        }
        NumberNode::Min(left, right) => {
            nan_min(number_at(left, at, bar), number_at(right, at, bar))
        }
        NumberNode::Max(left, right) => {
            nan_max(number_at(left, at, bar), number_at(right, at, bar))
        }
        NumberNode::Extreme {
            highest,
            term,
            window,
        } => {
            if *window == 0 || bar + 1 < *window {
                return f64::NAN;
            }
            let mut best = number_at(term, at, bar);
            for earlier in bar + 1 - window..bar {
                let value = number_at(term, at, earlier);
                best = if *highest {
                    nan_max(best, value)
                } else {
                    nan_min(best, value)
                };
            }
            best
        }
    }
}
