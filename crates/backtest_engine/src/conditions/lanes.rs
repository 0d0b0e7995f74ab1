//! The tight loops a block is filled by: numbers and truths over slices of columns, in buffers
//! reused from one block to the next.

use std::ops::Range;

use super::per_bar::{truth_at, InBlock};
use super::store::ColumnStore;
use super::tree::{crossed, nan_max, nan_min, Arithmetic, Comparison, NumberNode, TruthNode};
use super::{defined_truth, Truth, FALSE, TRUE, UNDEFINED};

/// Buffers a block's evaluation hands back for the next one, so that evaluating blocks does not
/// allocate once the first few are done.
#[derive(Clone, Debug, Default)]
pub(super) struct Scratch {
    pub(super) numbers: Vec<Vec<f64>>,
    pub(super) truths: Vec<Vec<Truth>>,
}

impl Scratch {
    pub(super) fn numbers(&mut self) -> Vec<f64> {
        let mut buffer = self.numbers.pop().unwrap_or_default();
        buffer.clear();
        buffer
    }

    pub(super) fn truths(&mut self) -> Vec<Truth> {
        let mut buffer = self.truths.pop().unwrap_or_default();
        buffer.clear();
        buffer
    }

    pub(super) fn recycle_numbers(&mut self, values: Numbers<'_>) {
        if let Numbers::Owned(buffer) = values {
            self.numbers.push(buffer);
        }
    }

    pub(super) fn recycle_truths(&mut self, values: Truths) {
        if let Truths::Owned(buffer) = values {
            self.truths.push(buffer);
        }
    }
}

/// A number part's values over a range of bars: a slice of a stored column read in place, one
/// value for every bar, or a buffer computed for it.
pub(super) enum Numbers<'s> {
    Slice(&'s [f64]),
    Constant(f64),
    Owned(Vec<f64>),
}

/// A truth part's values over a range of bars.
pub(super) enum Truths {
    Constant(Truth),
    Owned(Vec<Truth>),
}

/// One operand of a loop over a range of bars: a value per bar, or one for all.
#[derive(Clone, Copy)]
pub(super) enum Lane<'v, T> {
    Values(&'v [T]),
    Constant(T),
}

impl Numbers<'_> {
    pub(super) fn lane(&self) -> Lane<'_, f64> {
        match self {
            Numbers::Slice(values) => Lane::Values(values),
            Numbers::Owned(values) => Lane::Values(values),
            Numbers::Constant(value) => Lane::Constant(*value),
        }
    }
}

impl Truths {
    pub(super) fn lane(&self) -> Lane<'_, Truth> {
        match self {
            Truths::Owned(values) => Lane::Values(values),
            Truths::Constant(value) => Lane::Constant(*value),
        }
    }
}

/// `apply` over two operands bar by bar into `out`, one loop per kind of operand so that each
/// is a plain loop over slices.
#[inline(always)]
pub(super) fn zip_lanes<A: Copy, B: Copy, T: Copy>(
    left: Lane<'_, A>,
    right: Lane<'_, B>,
    bars: usize,
    out: &mut Vec<T>,
    apply: impl Fn(A, B) -> T,
) {
    match (left, right) {
        (Lane::Values(left), Lane::Values(right)) => out.extend(
            left.iter()
                .zip(right)
                .map(|(&left, &right)| apply(left, right)),
        ),
        (Lane::Values(left), Lane::Constant(right)) => {
            out.extend(left.iter().map(|&left| apply(left, right)))
        }
        (Lane::Constant(left), Lane::Values(right)) => {
            out.extend(right.iter().map(|&right| apply(left, right)))
        }
        (Lane::Constant(left), Lane::Constant(right)) => out.resize(bars, apply(left, right)),
    }
}

pub(super) fn map_numbers<'s>(
    values: Numbers<'s>,
    scratch: &mut Scratch,
    apply: impl Fn(f64) -> f64,
) -> Numbers<'s> {
    match values {
        Numbers::Constant(value) => Numbers::Constant(apply(value)),
        Numbers::Owned(mut values) => {
            values.iter_mut().for_each(|value| *value = apply(*value));
            Numbers::Owned(values)
        }
        Numbers::Slice(values) => {
            let mut out = scratch.numbers();
            out.extend(values.iter().map(|&value| apply(value)));
            Numbers::Owned(out)
        }
    }
}

pub(super) fn zip_numbers<'s>(
    left: Numbers<'s>,
    right: Numbers<'s>,
    bars: usize,
    scratch: &mut Scratch,
    apply: impl Fn(f64, f64) -> f64,
) -> Numbers<'s> {
    if let (Numbers::Constant(left), Numbers::Constant(right)) = (&left, &right) {
        return Numbers::Constant(apply(*left, *right));
    }
    let mut out = scratch.numbers();
    zip_lanes(left.lane(), right.lane(), bars, &mut out, apply);
    scratch.recycle_numbers(left);
    scratch.recycle_numbers(right);
    Numbers::Owned(out)
}

pub(super) fn compare_numbers(
    left: Numbers<'_>,
    right: Numbers<'_>,
    bars: usize,
    scratch: &mut Scratch,
    holds: impl Fn(f64, f64) -> bool,
) -> Truths {
    let apply = |left: f64, right: f64| {
        defined_truth(!(left.is_nan() | right.is_nan()), holds(left, right))
    };
    if let (Numbers::Constant(left), Numbers::Constant(right)) = (&left, &right) {
        return Truths::Constant(apply(*left, *right));
    }
    let mut out = scratch.truths();
    zip_lanes(left.lane(), right.lane(), bars, &mut out, apply);
    scratch.recycle_numbers(left);
    scratch.recycle_numbers(right);
    Truths::Owned(out)
}

pub(super) fn zip_truths(
    left: Truths,
    right: Truths,
    bars: usize,
    scratch: &mut Scratch,
    apply: impl Fn(Truth, Truth) -> Truth,
) -> Truths {
    if let (Truths::Constant(left), Truths::Constant(right)) = (&left, &right) {
        return Truths::Constant(apply(*left, *right));
    }
    let mut out = scratch.truths();
    zip_lanes(left.lane(), right.lane(), bars, &mut out, apply);
    scratch.recycle_truths(left);
    scratch.recycle_truths(right);
    Truths::Owned(out)
}

/// A number part over `bars`, one tight loop per node.
pub(super) fn numbers<'s>(
    node: &NumberNode,
    store: &'s ColumnStore<'_>,
    bars: Range<usize>,
    scratch: &mut Scratch,
) -> Numbers<'s> {
    let count = bars.len();
    let both = |left: &NumberNode, right: &NumberNode, scratch: &mut Scratch| {
        (
            numbers(left, store, bars.clone(), scratch),
            numbers(right, store, bars.clone(), scratch),
        )
    };
    match node {
        NumberNode::Column { column, shift } => match bars.start.checked_sub(*shift) {
            Some(first) => Numbers::Slice(store.slice(*column, first..bars.end - shift)),
            None => {
                // The bars before the shift reach back past the first bar.
                let defined_from = (*shift).min(bars.end);
                let mut values = scratch.numbers();
                values.resize(defined_from - bars.start, f64::NAN);
                values.extend_from_slice(store.slice(*column, 0..bars.end - defined_from));
                Numbers::Owned(values)
            }
        },
        NumberNode::Constant(value) => Numbers::Constant(*value),
        // A block is position-free, so this is never reached; undefined is the safe answer.
        NumberNode::Position(_) => Numbers::Constant(f64::NAN),
        NumberNode::Negate(inner) => {
            map_numbers(numbers(inner, store, bars, scratch), scratch, |value| {
                -value
            })
        }
        NumberNode::Abs(inner) => {
            map_numbers(numbers(inner, store, bars, scratch), scratch, f64::abs)
        }
        NumberNode::Arithmetic(op, left, right) => {
            let (left, right) = both(left, right, scratch);
            match op {
                Arithmetic::Add => zip_numbers(left, right, count, scratch, |l, r| l + r),
                Arithmetic::Subtract => zip_numbers(left, right, count, scratch, |l, r| l - r),
                Arithmetic::Multiply => zip_numbers(left, right, count, scratch, |l, r| l * r),
                Arithmetic::Divide => zip_numbers(left, right, count, scratch, |l, r| l / r),
            }
        }
        NumberNode::Min(left, right) => {
            let (left, right) = both(left, right, scratch);
            zip_numbers(left, right, count, scratch, nan_min)
        }
        NumberNode::Max(left, right) => {
            let (left, right) = both(left, right, scratch);
            zip_numbers(left, right, count, scratch, nan_max)
        }
        // A window reaches back before any block, so a block's extremes are columns computed
        // at compilation (`number_extremes_to_columns`).
        NumberNode::Extreme { .. } => unreachable!("a block holds its extremes as columns"),
        NumberNode::Block(_) => unreachable!("a block never holds another block"),
    }
}

/// A truth part over `bars`, one tight loop per node.
pub(super) fn truths(
    node: &TruthNode,
    store: &ColumnStore<'_>,
    bars: Range<usize>,
    scratch: &mut Scratch,
) -> Truths {
    let count = bars.len();
    let both = |left: &TruthNode, right: &TruthNode, scratch: &mut Scratch| {
        (
            truths(left, store, bars.clone(), scratch),
            truths(right, store, bars.clone(), scratch),
        )
    };
    match node {
        TruthNode::Constant(value) => Truths::Constant(*value),
        TruthNode::Compare(comparison, left, right) => {
            let left = numbers(left, store, bars.clone(), scratch);
            let right = numbers(right, store, bars.clone(), scratch);
            match comparison {
                Comparison::Less => compare_numbers(left, right, count, scratch, |l, r| l < r),
                Comparison::LessOrEqual => {
                    compare_numbers(left, right, count, scratch, |l, r| l <= r)
                }
                Comparison::Greater => compare_numbers(left, right, count, scratch, |l, r| l > r),
                Comparison::GreaterOrEqual => {
                    compare_numbers(left, right, count, scratch, |l, r| l >= r)
                }
                Comparison::Equal => compare_numbers(left, right, count, scratch, |l, r| l == r),
                Comparison::NotEqual => compare_numbers(left, right, count, scratch, |l, r| l != r),
            }
        }
        TruthNode::Same { equal, left, right } => {
            let (left, right) = both(left, right, scratch);
            let equal = *equal;
            zip_truths(left, right, count, scratch, move |l, r| {
                defined_truth(l != UNDEFINED && r != UNDEFINED, (l == r) == equal)
            })
        }
        TruthNode::And(left, right) => join(left, right, FALSE, store, bars, scratch, Truth::min),
        TruthNode::Or(left, right) => join(left, right, TRUE, store, bars, scratch, Truth::max),
        TruthNode::Not(inner) => match truths(inner, store, bars, scratch) {
            Truths::Constant(value) => Truths::Constant(TRUE - value),
            Truths::Owned(mut values) => {
                values.iter_mut().for_each(|value| *value = TRUE - *value);
                Truths::Owned(values)
            }
        },
        TruthNode::Crosses { above, left, right } => {
            if *above {
                crosses(
                    left,
                    right,
                    store,
                    bars,
                    scratch,
                    |now, other, before, other_before| {
                        crossed(true, now, other, before, other_before)
                    },
                )
            } else {
                crosses(
                    left,
                    right,
                    store,
                    bars,
                    scratch,
                    |now, other, before, other_before| {
                        crossed(false, now, other, before, other_before)
                    },
                )
            }
        }
        TruthNode::Block(_) => unreachable!("a block never holds another block"),
    }
}

/// Where at most one bar in this many needs the right side of an AND or an OR, that side is
/// evaluated at those bars only, so a rare first condition (a crossing) spares the columns the
/// second reads (`crosses_above(sma_50, sma_200) AND rsi_14 < 70` reads no RSI elsewhere).
pub(super) const SPARSE_SHARE: usize = 16;

/// `left AND right` (`settled` false, `apply` the minimum) or `left OR right` (`settled` true,
/// the maximum) over `bars`: the right side only matters where the left is not `settled`.
pub(super) fn join(
    left: &TruthNode,
    right: &TruthNode,
    settled: Truth,
    store: &ColumnStore<'_>,
    bars: Range<usize>,
    scratch: &mut Scratch,
    apply: impl Fn(Truth, Truth) -> Truth,
) -> Truths {
    let count = bars.len();
    match truths(left, store, bars.clone(), scratch) {
        Truths::Constant(value) if value == settled => Truths::Constant(settled),
        Truths::Owned(mut values)
            if values.iter().filter(|&&value| value != settled).count() * SPARSE_SHARE
                <= values.len() =>
        {
            let mut at = InBlock { store };
            for (value, bar) in values.iter_mut().zip(bars) {
                if *value != settled {
                    *value = apply(*value, truth_at(right, &mut at, bar));
                }
            }
            Truths::Owned(values)
        }
        left => {
            let right = truths(right, store, bars, scratch);
            zip_truths(left, right, count, scratch, apply)
        }
    }
}

/// A crossing over `bars`: both sides are read from the bar before the first on (the first bar
/// of the series has none, so its crossing is undefined).
pub(super) fn crosses(
    left: &NumberNode,
    right: &NumberNode,
    store: &ColumnStore<'_>,
    bars: Range<usize>,
    scratch: &mut Scratch,
    test: impl Fn(f64, f64, f64, f64) -> Truth,
) -> Truths {
    let mut out = scratch.truths();
    if bars.is_empty() {
        return Truths::Owned(out);
    }
    if bars.start == 0 {
        out.push(UNDEFINED);
    }
    // Index i + 1 of each side is a bar whose crossing is computed, index i the bar before it.
    let read = bars.start.saturating_sub(1)..bars.end;
    let left = numbers(left, store, read.clone(), scratch);
    let right = numbers(right, store, read, scratch);
    match (left.lane(), right.lane()) {
        (Lane::Values(left), Lane::Values(right)) => out.extend(
            left[1..]
                .iter()
                .zip(left)
                .zip(right[1..].iter().zip(right))
                .map(|((&now, &before), (&other, &other_before))| {
                    test(now, other, before, other_before)
                }),
        ),
        (Lane::Values(left), Lane::Constant(other)) => out.extend(
            left[1..]
                .iter()
                .zip(left)
                .map(|(&now, &before)| test(now, other, before, other)),
        ),
        (Lane::Constant(value), Lane::Values(right)) => out.extend(
            right[1..]
                .iter()
                .zip(right)
                .map(|(&other, &other_before)| test(value, other, value, other_before)),
        ),
        (Lane::Constant(value), Lane::Constant(other)) => {
            out.resize(bars.len(), test(value, other, value, other))
        }
    }
    scratch.recycle_numbers(left);
    scratch.recycle_numbers(right);
    Truths::Owned(out)
}
