//! Conditions compiled once per run: the validated syntax tree becomes a typed tree over column
//! indices (numbers apart from truths, as the validator typed them). The parts that do not read
//! the open position are evaluated in blocks of bars, on demand: the simulation asks for the
//! entry condition only while it may enter and for the exit only while a trade is open, and a
//! block is a few tight loops over slices of the indicator columns into small reused buffers. So
//! a condition costs nothing on bars nobody asks about and builds no column as long as the
//! series. Parts that read position variables are evaluated per bar, still without any lookup
//! by name.
//!
//! In a backtest, the indicator outputs that have a stream (`streams.rs`) are not columns either:
//! the store computes them as blocks and bars ask for them and keeps a window of recent bars, so
//! a backtest of a million bars holds a few windows rather than a column of 8 MB per output.
//!
//! Truth is three-valued: true, false, and undefined (an indicator warming up, a lookback before
//! the first bar). A comparison with an undefined value is undefined; AND/OR follow three-valued
//! logic and NOT keeps undefined undefined, so a condition fires only where it is defined and
//! true (`NOT rsi_14 > 70` does not fire during warm-up).

mod blocks;
mod compile;
mod lanes;
mod per_bar;
mod position;
mod store;
#[cfg(test)]
mod tests;
mod tree;

use std::ops::Range;

use blocks::Block;
use blocks::PerBar;
use per_bar::truth_at;
use tree::TruthNode;

pub use compile::compile_condition;
pub use position::{HeldPosition, PositionView};
pub use store::ColumnStore;

/// A truth value in one byte, ordered false < undefined < true, so that AND is the minimum, OR
/// the maximum and NOT the reflection `TRUE - value` (Kleene's three-valued logic).
type Truth = u8;
const FALSE: Truth = 0;
const UNDEFINED: Truth = 1;
const TRUE: Truth = 2;

fn truth(value: bool) -> Truth {
    (value as Truth) << 1
}

/// The truth of a comparison, undefined when one of its operands is.
#[inline(always)]
fn defined_truth(defined: bool, value: bool) -> Truth {
    if defined {
        truth(value)
    } else {
        UNDEFINED
    }
}

/// Where a condition is first asked after a gap (a trade's first bar, the first flat bar after
/// a trade), its block is this many bars; while the asks follow on, each block doubles, up to
/// the largest. Short trades thus cost little beyond their bars, and long stretches few blocks.
const FIRST_BLOCK: usize = 64;
const LARGEST_BLOCK: usize = 4096;

/// How many bars a streamed column keeps before the earliest bar last asked for: a block may
/// start that far ahead of the simulation (the largest block), and reads reach back by their
/// lookbacks and crossings. An earlier bar is still answered, by computing the stream again
/// from the first bar.
const KEPT_BARS: usize = 2 * LARGEST_BLOCK;

/// A streamed column drops the bars it no longer keeps once there are this many of them, so
/// that moving the rest down is rare.
const DROPPED_AT_ONCE: usize = 4 * LARGEST_BLOCK;

/// A condition ready to run. It keeps the blocks it evaluated last, so asking it about one bar
/// after another (as the simulation does) evaluates each bar once.
#[derive(Clone, Debug)]
pub struct CompiledCondition {
    root: TruthNode,
    blocks: Vec<Block>,
}

impl CompiledCondition {
    /// Whether the condition reads position variables (then it is evaluated per position).
    pub fn reads_position(&self) -> bool {
        self.root.reads_position()
    }

    /// Whether the condition holds (is defined and true) at the close of `bar`.
    #[inline]
    pub fn fires(
        &mut self,
        store: &mut ColumnStore<'_>,
        bar: usize,
        position: &PositionView,
    ) -> bool {
        if let TruthNode::Block(index) = self.root {
            return self.blocks[index].truth(store, bar) == TRUE;
        }
        let CompiledCondition { root, blocks } = self;
        let mut at = PerBar {
            store,
            blocks,
            position,
        };
        truth_at(root, &mut at, bar) == TRUE
    }

    /// The first bar of `bars` at which the condition fires with no position open (where
    /// `fires` with the default view would first say yes), scanning a block at a time.
    pub fn first_firing(
        &mut self,
        store: &mut ColumnStore<'_>,
        bars: Range<usize>,
    ) -> Option<usize> {
        let TruthNode::Block(index) = self.root else {
            let flat = PositionView::default();
            return bars.into_iter().find(|&bar| self.fires(store, bar, &flat));
        };
        let block = &mut self.blocks[index];
        let mut bar = bars.start;
        while bar < bars.end {
            if !block.filled.contains(&bar) {
                block.fill(store, bar);
            }
            let (start, end) = (block.filled.start, block.filled.end.min(bars.end));
            if let Some(offset) = block.truths[bar - start..end - start]
                .iter()
                .position(|&value| value == TRUE)
            {
                return Some(bar + offset);
            }
            bar = end;
        }
        None
    }
}
