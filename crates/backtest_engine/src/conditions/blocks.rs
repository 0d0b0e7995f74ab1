//! Blocks: the parts of a condition that do not read the position, evaluated a stretch of bars
//! at a time and kept until the simulation moves past them; and `PerBar`, what a whole
//! condition reads at one bar (its columns, its blocks, the open position).

use strategy_language::model::PositionVariable;

use super::per_bar::BarReads;
use super::position::PositionView;
use std::ops::Range;

use super::lanes::{numbers, truths, Numbers, Scratch, Truths};
use super::store::ColumnStore;
use super::tree::{NumberNode, TruthNode};
use super::{Truth, FIRST_BLOCK, LARGEST_BLOCK};

/// A position-free part of a condition and its values over the bars evaluated last.
#[derive(Clone, Debug)]
pub(super) struct Block {
    pub(super) part: Part,
    /// The columns the part reads, and how many bars before a block's first its reads reach
    /// (lookbacks, and the bar before a crossing).
    pub(super) reads: Vec<usize>,
    pub(super) reach: usize,
    /// The bars whose values `numbers` (for a number) or `truths` (for a truth) holds.
    pub(super) filled: Range<usize>,
    pub(super) numbers: Vec<f64>,
    pub(super) truths: Vec<Truth>,
    pub(super) scratch: Scratch,
}

#[derive(Clone, Debug)]
pub(super) enum Part {
    Number(NumberNode),
    Truth(TruthNode),
}

impl Block {
    pub(super) fn new(part: Part) -> Self {
        let (mut reads, mut reach) = (Vec::new(), 0);
        match &part {
            Part::Number(node) => number_reads(node, 0, &mut reads, &mut reach),
            Part::Truth(node) => truth_reads(node, 0, &mut reads, &mut reach),
        }
        Block {
            part,
            reads,
            reach,
            filled: 0..0,
            numbers: Vec::new(),
            truths: Vec::new(),
            scratch: Scratch::default(),
        }
    }

    #[inline]
    pub(super) fn number(&mut self, store: &mut ColumnStore<'_>, bar: usize) -> f64 {
        if !self.filled.contains(&bar) {
            self.fill(store, bar);
        }
        self.numbers[bar - self.filled.start]
    }

    #[inline]
    pub(super) fn truth(&mut self, store: &mut ColumnStore<'_>, bar: usize) -> Truth {
        if !self.filled.contains(&bar) {
            self.fill(store, bar);
        }
        self.truths[bar - self.filled.start]
    }

    /// Evaluates the block that starts at `bar`.
    #[inline(never)]
    pub(super) fn fill(&mut self, store: &mut ColumnStore<'_>, bar: usize) {
        let size = if bar == self.filled.end && !self.filled.is_empty() {
            (self.filled.len() * 2).min(LARGEST_BLOCK)
        } else {
            FIRST_BLOCK
        };
        let bars = bar..(bar + size).min(store.bars());
        store.hold(&self.reads, bars.start.saturating_sub(self.reach)..bars.end);
        let store = &*store;
        let Block {
            part,
            numbers: kept_numbers,
            truths: kept_truths,
            scratch,
            ..
        } = self;
        match part {
            Part::Number(node) => match numbers(node, store, bars.clone(), scratch) {
                Numbers::Owned(values) => scratch
                    .numbers
                    .push(std::mem::replace(kept_numbers, values)),
                Numbers::Slice(values) => {
                    kept_numbers.clear();
                    kept_numbers.extend_from_slice(values);
                }
                Numbers::Constant(value) => {
                    kept_numbers.clear();
                    kept_numbers.resize(bars.len(), value);
                }
            },
            Part::Truth(node) => match truths(node, store, bars.clone(), scratch) {
                Truths::Owned(values) => {
                    scratch.truths.push(std::mem::replace(kept_truths, values))
                }
                Truths::Constant(value) => {
                    kept_truths.clear();
                    kept_truths.resize(bars.len(), value);
                }
            },
        }
        self.filled = bars;
    }
}

/// Gathers the columns a number part reads, and how far before a bar its reads reach when it
/// is evaluated there (`before` bars already).
pub(super) fn number_reads(
    node: &NumberNode,
    before: usize,
    reads: &mut Vec<usize>,
    reach: &mut usize,
) {
    match node {
        NumberNode::Column { column, shift } => {
            if !reads.contains(column) {
                reads.push(*column);
            }
            *reach = (*reach).max(before + shift);
        }
        NumberNode::Constant(_) | NumberNode::Position(_) | NumberNode::Block(_) => {}
        NumberNode::Negate(inner) | NumberNode::Abs(inner) => {
            number_reads(inner, before, reads, reach)
        }
        NumberNode::Arithmetic(_, left, right)
        | NumberNode::Min(left, right)
        | NumberNode::Max(left, right) => {
            number_reads(left, before, reads, reach);
            number_reads(right, before, reads, reach);
        }
        NumberNode::Extreme { term, window, .. } => {
            number_reads(term, before + window.saturating_sub(1), reads, reach)
        }
    }
}

pub(super) fn truth_reads(
    node: &TruthNode,
    before: usize,
    reads: &mut Vec<usize>,
    reach: &mut usize,
) {
    match node {
        TruthNode::Constant(_) | TruthNode::Block(_) => {}
        TruthNode::Compare(_, left, right) => {
            number_reads(left, before, reads, reach);
            number_reads(right, before, reads, reach);
        }
        TruthNode::Crosses { left, right, .. } => {
            number_reads(left, before + 1, reads, reach);
            number_reads(right, before + 1, reads, reach);
        }
        TruthNode::Same { left, right, .. }
        | TruthNode::And(left, right)
        | TruthNode::Or(left, right) => {
            truth_reads(left, before, reads, reach);
            truth_reads(right, before, reads, reach);
        }
        TruthNode::Not(inner) => truth_reads(inner, before, reads, reach),
    }
}

/// A whole condition at one bar: a streamed column is made to hold each bar read.
pub(super) struct PerBar<'e, 's> {
    pub(super) store: &'e mut ColumnStore<'s>,
    pub(super) blocks: &'e mut [Block],
    pub(super) position: &'e PositionView,
}

impl BarReads for PerBar<'_, '_> {
    fn column(&mut self, column: usize, shift: usize, bar: usize) -> f64 {
        self.store.read_holding(column, shift, bar)
    }

    fn block_truth(&mut self, block: usize, bar: usize) -> Truth {
        self.blocks[block].truth(self.store, bar)
    }

    fn block_number(&mut self, block: usize, bar: usize) -> f64 {
        self.blocks[block].number(self.store, bar)
    }

    fn position(&self, variable: PositionVariable) -> f64 {
        self.position.read(variable)
    }
}
