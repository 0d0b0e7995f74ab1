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

use std::borrow::Cow;
use std::ops::Range;

use crate::language::expression::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::language::model::{PositionVariable, PriceField};

use super::candles::Candles;
use super::indicators::{
    output_column_name, price_source, rolling_extreme, IndicatorColumns, IndicatorOutput,
};
use super::streams::Stream;
use super::BacktestError;

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

/// A column conditions read.
#[derive(Clone, Debug)]
enum Series<'c> {
    /// Every bar: a price of the candles (borrowed) or a computed column.
    Whole(Cow<'c, [f64]>),
    /// An indicator output computed as its bars are asked for, of which a window of recent bars
    /// is kept: no column as long as the series is built for it.
    Streamed(Window<'c>),
}

#[derive(Clone, Debug)]
struct Window<'c> {
    /// The stream as it began, to compute again from should an earlier bar be asked for.
    origin: Stream<'c>,
    stream: Stream<'c>,
    /// The values of the bars `first..first + values.len()`.
    first: usize,
    values: Vec<f64>,
}

impl Window<'_> {
    /// Makes the window hold `bars`.
    fn hold(&mut self, bars: Range<usize>) {
        let bars = bars.start..bars.end.min(self.stream.bars());
        if bars.start < self.first {
            self.stream = self.origin.clone();
            self.first = 0;
            self.values.clear();
        }
        let keep_from = bars.start.saturating_sub(KEPT_BARS);
        loop {
            // Drop what no ask will read again, a large stretch at a time.
            let drop_until = keep_from.min(self.first + self.values.len());
            if drop_until >= self.first + DROPPED_AT_ONCE {
                self.values.drain(..drop_until - self.first);
                self.first = drop_until;
            }
            let computed_until = self.first + self.values.len();
            if computed_until >= bars.end {
                break;
            }
            self.stream.extend(
                &mut self.values,
                (computed_until + DROPPED_AT_ONCE).min(bars.end),
            );
        }
    }
}

/// The columns conditions read: prices, indicator outputs, and the columns computed for
/// lookbacks over expressions and for `highest`/`lowest`.
#[derive(Clone, Debug, Default)]
pub struct ColumnStore<'c> {
    columns: Vec<Series<'c>>,
    price_columns: Vec<(PriceField, usize)>,
    indicator_names: Vec<String>,
    bars: usize,
}

impl<'c> ColumnStore<'c> {
    /// Price columns are added on first use, so a run computes only the composite prices it
    /// reads (and borrows the plain ones).
    pub fn new(candles: &Candles, indicators: IndicatorColumns) -> Self {
        ColumnStore {
            indicator_names: indicators.names,
            columns: indicators
                .columns
                .into_iter()
                .map(|column| Series::Whole(Cow::Owned(column)))
                .collect(),
            price_columns: Vec::new(),
            bars: candles.len(),
        }
    }

    /// A store whose streamed indicator outputs are computed as conditions ask for their bars.
    pub fn streaming(candles: &Candles, indicators: Vec<(String, IndicatorOutput<'c>)>) -> Self {
        let (indicator_names, columns) = indicators
            .into_iter()
            .map(|(name, output)| {
                let series = match output {
                    IndicatorOutput::Values(values) => Series::Whole(Cow::Owned(values)),
                    IndicatorOutput::Stream(stream) => Series::Streamed(Window {
                        origin: stream.clone(),
                        stream,
                        first: 0,
                        values: Vec::new(),
                    }),
                };
                (name, series)
            })
            .unzip();
        ColumnStore {
            indicator_names,
            columns,
            price_columns: Vec::new(),
            bars: candles.len(),
        }
    }

    fn price(&mut self, field: PriceField, candles: &'c Candles) -> usize {
        if let Some((_, index)) = self.price_columns.iter().find(|(known, _)| *known == field) {
            return *index;
        }
        self.columns
            .push(Series::Whole(price_source(candles, field)));
        let index = self.columns.len() - 1;
        self.price_columns.push((field, index));
        index
    }

    fn indicator(&self, name: &str) -> Option<usize> {
        self.indicator_names.iter().position(|known| known == name)
    }

    fn push(&mut self, column: Vec<f64>) -> usize {
        self.columns.push(Series::Whole(Cow::Owned(column)));
        self.columns.len() - 1
    }

    fn bars(&self) -> usize {
        self.bars
    }

    /// Computes a streamed column over every bar, for what reads it whole (`highest`/`lowest`,
    /// a lookback over an expression).
    fn make_whole(&mut self, column: usize) {
        if let Series::Streamed(window) = &self.columns[column] {
            self.columns[column] = Series::Whole(Cow::Owned(window.origin.clone().whole()));
        }
    }

    /// Makes the streamed ones of `columns` hold `bars`.
    fn hold(&mut self, columns: &[usize], bars: Range<usize>) {
        for &column in columns {
            if let Series::Streamed(window) = &mut self.columns[column] {
                window.hold(bars.clone());
            }
        }
    }

    /// The values of `column` over `bars`, which a streamed column must hold.
    fn slice(&self, column: usize, bars: Range<usize>) -> &[f64] {
        match &self.columns[column] {
            Series::Whole(values) => &values[bars],
            Series::Streamed(window) => {
                &window.values[bars.start - window.first..bars.end - window.first]
            }
        }
    }

    /// The value of `column` `shift` bars before `bar`, which a streamed column must hold.
    fn read(&self, column: usize, shift: usize, bar: usize) -> f64 {
        match bar.checked_sub(shift) {
            Some(earlier) => match &self.columns[column] {
                Series::Whole(values) => values[earlier],
                Series::Streamed(window) => window.values[earlier - window.first],
            },
            None => f64::NAN,
        }
    }

    /// `read`, having made a streamed column hold the bar.
    fn read_holding(&mut self, column: usize, shift: usize, bar: usize) -> f64 {
        if let (Some(earlier), Series::Streamed(window)) =
            (bar.checked_sub(shift), &mut self.columns[column])
        {
            if !(window.first..window.first + window.values.len()).contains(&earlier) {
                window.hold(earlier..earlier + 1);
            }
        }
        self.read(column, shift, bar)
    }
}

/// What the open position looks like at a bar's close, for the position variables.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PositionView {
    pub entry_price: f64,
    pub unrealized_pnl: f64,
    pub unrealized_pnl_pct: f64,
    pub bars_in_trade: f64,
    pub drawdown: f64,
}

/// A position held since `entry_bar` (filled at `entry_price`), at the close of `bar`.
pub struct HeldPosition {
    pub entry_bar: usize,
    pub entry_price: f64,
    pub quantity: f64,
    /// The best close since entry (the entry price at first).
    pub best_close: f64,
}

impl PositionView {
    /// The position variables of `held` at the close of `bar`, as DSL.md defines them.
    pub fn at_close(held: &HeldPosition, bar: usize, close: f64) -> Self {
        PositionView {
            entry_price: held.entry_price,
            unrealized_pnl: (close - held.entry_price) * held.quantity,
            unrealized_pnl_pct: close / held.entry_price - 1.0,
            bars_in_trade: (bar - held.entry_bar) as f64,
            drawdown: 1.0 - close / held.best_close,
        }
    }

    fn read(&self, variable: PositionVariable) -> f64 {
        match variable {
            PositionVariable::EntryPrice => self.entry_price,
            PositionVariable::UnrealizedPnl => self.unrealized_pnl,
            PositionVariable::UnrealizedPnlPct => self.unrealized_pnl_pct,
            PositionVariable::BarsInTrade => self.bars_in_trade,
            PositionVariable::Drawdown => self.drawdown,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Arithmetic {
    Add,
    Subtract,
    Multiply,
    Divide,
}

impl Arithmetic {
    fn of(op: BinaryOp) -> Option<Self> {
        Some(match op {
            BinaryOp::Add => Arithmetic::Add,
            BinaryOp::Subtract => Arithmetic::Subtract,
            BinaryOp::Multiply => Arithmetic::Multiply,
            BinaryOp::Divide => Arithmetic::Divide,
            _ => return None,
        })
    }

    fn apply(self, left: f64, right: f64) -> f64 {
        match self {
            Arithmetic::Add => left + right,
            Arithmetic::Subtract => left - right,
            Arithmetic::Multiply => left * right,
            Arithmetic::Divide => left / right,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
}

impl Comparison {
    fn of(op: BinaryOp) -> Option<Self> {
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

    fn holds(self, left: f64, right: f64) -> bool {
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
enum NumberNode {
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
enum TruthNode {
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
    fn map_truths(self, f: &mut impl FnMut(TruthNode) -> TruthNode) -> TruthNode {
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
    fn reads_position(&self) -> bool {
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
    fn reads_position(&self) -> bool {
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

fn crossed(above: bool, now: f64, other_now: f64, before: f64, other_before: f64) -> Truth {
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

fn nan_min(left: f64, right: f64) -> f64 {
    if left.is_nan() || right.is_nan() {
        f64::NAN
    } else {
        left.min(right)
    }
}

fn nan_max(left: f64, right: f64) -> f64 {
    if left.is_nan() || right.is_nan() {
        f64::NAN
    } else {
        left.max(right)
    }
}

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

/// What evaluating a condition at one bar reads through.
trait BarReads {
    fn column(&mut self, column: usize, shift: usize, bar: usize) -> f64;
    fn block_truth(&mut self, block: usize, bar: usize) -> Truth;
    fn block_number(&mut self, block: usize, bar: usize) -> f64;
    fn position(&self, variable: PositionVariable) -> f64;
}

/// A whole condition at one bar: a streamed column is made to hold each bar read.
struct PerBar<'e, 's> {
    store: &'e mut ColumnStore<'s>,
    blocks: &'e mut [Block],
    position: &'e PositionView,
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

/// A part of a block at one of the block's bars, whose columns the block holds already. A
/// block holds no block and no position variable.
struct InBlock<'e, 's> {
    store: &'e ColumnStore<'s>,
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

fn truth_at(node: &TruthNode, at: &mut impl BarReads, bar: usize) -> Truth {
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

fn number_at(node: &NumberNode, at: &mut impl BarReads, bar: usize) -> f64 {
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

/// A position-free part of a condition and its values over the bars evaluated last.
#[derive(Clone, Debug)]
struct Block {
    part: Part,
    /// The columns the part reads, and how many bars before a block's first its reads reach
    /// (lookbacks, and the bar before a crossing).
    reads: Vec<usize>,
    reach: usize,
    /// The bars whose values `numbers` (for a number) or `truths` (for a truth) holds.
    filled: Range<usize>,
    numbers: Vec<f64>,
    truths: Vec<Truth>,
    scratch: Scratch,
}

#[derive(Clone, Debug)]
enum Part {
    Number(NumberNode),
    Truth(TruthNode),
}

impl Block {
    fn new(part: Part) -> Self {
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
    fn number(&mut self, store: &mut ColumnStore<'_>, bar: usize) -> f64 {
        if !self.filled.contains(&bar) {
            self.fill(store, bar);
        }
        self.numbers[bar - self.filled.start]
    }

    #[inline]
    fn truth(&mut self, store: &mut ColumnStore<'_>, bar: usize) -> Truth {
        if !self.filled.contains(&bar) {
            self.fill(store, bar);
        }
        self.truths[bar - self.filled.start]
    }

    /// Evaluates the block that starts at `bar`.
    #[inline(never)]
    fn fill(&mut self, store: &mut ColumnStore<'_>, bar: usize) {
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
fn number_reads(node: &NumberNode, before: usize, reads: &mut Vec<usize>, reach: &mut usize) {
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

fn truth_reads(node: &TruthNode, before: usize, reads: &mut Vec<usize>, reach: &mut usize) {
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

/// Buffers a block's evaluation hands back for the next one, so that evaluating blocks does not
/// allocate once the first few are done.
#[derive(Clone, Debug, Default)]
struct Scratch {
    numbers: Vec<Vec<f64>>,
    truths: Vec<Vec<Truth>>,
}

impl Scratch {
    fn numbers(&mut self) -> Vec<f64> {
        let mut buffer = self.numbers.pop().unwrap_or_default();
        buffer.clear();
        buffer
    }

    fn truths(&mut self) -> Vec<Truth> {
        let mut buffer = self.truths.pop().unwrap_or_default();
        buffer.clear();
        buffer
    }

    fn recycle_numbers(&mut self, values: Numbers<'_>) {
        if let Numbers::Owned(buffer) = values {
            self.numbers.push(buffer);
        }
    }

    fn recycle_truths(&mut self, values: Truths) {
        if let Truths::Owned(buffer) = values {
            self.truths.push(buffer);
        }
    }
}

/// A number part's values over a range of bars: a slice of a stored column read in place, one
/// value for every bar, or a buffer computed for it.
enum Numbers<'s> {
    Slice(&'s [f64]),
    Constant(f64),
    Owned(Vec<f64>),
}

/// A truth part's values over a range of bars.
enum Truths {
    Constant(Truth),
    Owned(Vec<Truth>),
}

/// One operand of a loop over a range of bars: a value per bar, or one for all.
#[derive(Clone, Copy)]
enum Lane<'v, T> {
    Values(&'v [T]),
    Constant(T),
}

impl Numbers<'_> {
    fn lane(&self) -> Lane<'_, f64> {
        match self {
            Numbers::Slice(values) => Lane::Values(values),
            Numbers::Owned(values) => Lane::Values(values),
            Numbers::Constant(value) => Lane::Constant(*value),
        }
    }
}

impl Truths {
    fn lane(&self) -> Lane<'_, Truth> {
        match self {
            Truths::Owned(values) => Lane::Values(values),
            Truths::Constant(value) => Lane::Constant(*value),
        }
    }
}

/// `apply` over two operands bar by bar into `out`, one loop per kind of operand so that each
/// is a plain loop over slices.
#[inline(always)]
fn zip_lanes<A: Copy, B: Copy, T: Copy>(
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

fn map_numbers<'s>(
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

fn zip_numbers<'s>(
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

fn compare_numbers(
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

fn zip_truths(
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
fn numbers<'s>(
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
fn truths(
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
const SPARSE_SHARE: usize = 16;

/// `left AND right` (`settled` false, `apply` the minimum) or `left OR right` (`settled` true,
/// the maximum) over `bars`: the right side only matters where the left is not `settled`.
fn join(
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
fn crosses(
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

/// A position-free number part over every bar, as a column (its columns made whole first).
fn full_column(node: &NumberNode, store: &mut ColumnStore<'_>) -> Vec<f64> {
    let (mut reads, mut reach) = (Vec::new(), 0);
    number_reads(node, 0, &mut reads, &mut reach);
    for column in reads {
        store.make_whole(column);
    }
    let store = &*store;
    let bars = 0..store.bars();
    match numbers(node, store, bars.clone(), &mut Scratch::default()) {
        Numbers::Slice(values) => values.to_vec(),
        Numbers::Constant(value) => vec![value; bars.len()],
        Numbers::Owned(values) => values,
    }
}

/// Replaces each `highest`/`lowest` of a position-free part with a column computed over every
/// bar (a window reaches back before any block), innermost first.
fn number_extremes_to_columns(node: NumberNode, store: &mut ColumnStore<'_>) -> NumberNode {
    let inner = |node: Box<NumberNode>, store: &mut ColumnStore<'_>| {
        Box::new(number_extremes_to_columns(*node, store))
    };
    match node {
        NumberNode::Extreme {
            highest,
            term,
            window,
        } => {
            let column = match number_extremes_to_columns(*term, store) {
                NumberNode::Column { column, shift: 0 } => {
                    store.make_whole(column);
                    rolling_extreme(store.slice(column, 0..store.bars()), window, highest)
                }
                term => rolling_extreme(&full_column(&term, store), window, highest),
            };
            NumberNode::Column {
                column: store.push(column),
                shift: 0,
            }
        }
        NumberNode::Negate(term) => NumberNode::Negate(inner(term, store)),
        NumberNode::Abs(term) => NumberNode::Abs(inner(term, store)),
        NumberNode::Arithmetic(op, left, right) => {
            let left = inner(left, store);
            NumberNode::Arithmetic(op, left, inner(right, store))
        }
        NumberNode::Min(left, right) => {
            let left = inner(left, store);
            NumberNode::Min(left, inner(right, store))
        }
        NumberNode::Max(left, right) => {
            let left = inner(left, store);
            NumberNode::Max(left, inner(right, store))
        }
        other => other,
    }
}

fn truth_extremes_to_columns(node: TruthNode, store: &mut ColumnStore<'_>) -> TruthNode {
    let number = |node: Box<NumberNode>, store: &mut ColumnStore<'_>| {
        Box::new(number_extremes_to_columns(*node, store))
    };
    match node {
        TruthNode::Compare(comparison, left, right) => {
            let left = number(left, store);
            TruthNode::Compare(comparison, left, number(right, store))
        }
        TruthNode::Crosses { above, left, right } => {
            let left = number(left, store);
            TruthNode::Crosses {
                above,
                left,
                right: number(right, store),
            }
        }
        other => other.map_truths(&mut |node| truth_extremes_to_columns(node, store)),
    }
}

/// Turns each maximal position-free part (other than a plain column or constant) into a block.
/// Below a crossing or an extreme that reads the position, parts stay per bar as they are.
fn materialize_truth(
    node: TruthNode,
    store: &mut ColumnStore<'_>,
    blocks: &mut Vec<Block>,
) -> TruthNode {
    if !node.reads_position() {
        if matches!(node, TruthNode::Constant(_)) {
            return node;
        }
        blocks.push(Block::new(Part::Truth(truth_extremes_to_columns(
            node, store,
        ))));
        return TruthNode::Block(blocks.len() - 1);
    }
    match node {
        TruthNode::Compare(comparison, left, right) => {
            let left = Box::new(materialize_number(*left, store, blocks));
            TruthNode::Compare(
                comparison,
                left,
                Box::new(materialize_number(*right, store, blocks)),
            )
        }
        other => other.map_truths(&mut |node| materialize_truth(node, store, blocks)),
    }
}

fn materialize_number(
    node: NumberNode,
    store: &mut ColumnStore<'_>,
    blocks: &mut Vec<Block>,
) -> NumberNode {
    if !node.reads_position() {
        if matches!(node, NumberNode::Column { .. } | NumberNode::Constant(_)) {
            return node;
        }
        blocks.push(Block::new(Part::Number(number_extremes_to_columns(
            node, store,
        ))));
        return NumberNode::Block(blocks.len() - 1);
    }
    let number = |node: Box<NumberNode>, store: &mut ColumnStore<'_>, blocks: &mut Vec<Block>| {
        Box::new(materialize_number(*node, store, blocks))
    };
    match node {
        NumberNode::Negate(inner) => NumberNode::Negate(number(inner, store, blocks)),
        NumberNode::Abs(inner) => NumberNode::Abs(number(inner, store, blocks)),
        NumberNode::Arithmetic(op, left, right) => {
            let left = number(left, store, blocks);
            NumberNode::Arithmetic(op, left, number(right, store, blocks))
        }
        NumberNode::Min(left, right) => {
            let left = number(left, store, blocks);
            NumberNode::Min(left, number(right, store, blocks))
        }
        NumberNode::Max(left, right) => {
            let left = number(left, store, blocks);
            NumberNode::Max(left, number(right, store, blocks))
        }
        other => other,
    }
}

/// A translated part of a condition, typed as the validator typed it.
enum Typed {
    Number(NumberNode),
    Truth(TruthNode),
}

fn mismatch(what: &str) -> BacktestError {
    BacktestError::Unsupported(format!("{what} where the language expects another type"))
}

/// Compiles a validated condition against the store's columns.
pub fn compile_condition<'c>(
    expression: &Expr,
    candles: &'c Candles,
    store: &mut ColumnStore<'c>,
) -> Result<CompiledCondition, BacktestError> {
    let Typed::Truth(tree) = translate(expression, candles, store)? else {
        return Err(mismatch("a number as a whole condition"));
    };
    let mut blocks = Vec::new();
    let root = materialize_truth(tree, store, &mut blocks);
    Ok(CompiledCondition { root, blocks })
}

fn translate<'c>(
    expression: &Expr,
    candles: &'c Candles,
    store: &mut ColumnStore<'c>,
) -> Result<Typed, BacktestError> {
    let number_of = |expression: &Expr, store: &mut ColumnStore<'c>| match translate(
        expression, candles, store,
    )? {
        Typed::Number(node) => Ok(Box::new(node)),
        Typed::Truth(_) => Err(mismatch("a true/false condition")),
    };
    let truth_of = |expression: &Expr, store: &mut ColumnStore<'c>| match translate(
        expression, candles, store,
    )? {
        Typed::Truth(node) => Ok(Box::new(node)),
        Typed::Number(_) => Err(mismatch("a number")),
    };
    Ok(match &expression.kind {
        ExprKind::Number { value } => Typed::Number(NumberNode::Constant(*value)),
        ExprKind::Bool { value } => Typed::Truth(TruthNode::Constant(truth(*value))),
        ExprKind::Price { field } => Typed::Number(NumberNode::Column {
            column: store.price(*field, candles),
            shift: 0,
        }),
        ExprKind::Position { variable } => Typed::Number(NumberNode::Position(*variable)),
        ExprKind::Indicator { name, output } => {
            let column_name = output_column_name(name, output.as_deref());
            let column = store
                .indicator(&column_name)
                .ok_or(BacktestError::UnknownIndicator(column_name))?;
            Typed::Number(NumberNode::Column { column, shift: 0 })
        }
        ExprKind::Lookback { term, bars } => Typed::Number(match *number_of(term, store)? {
            NumberNode::Column { column, shift } => NumberNode::Column {
                column,
                shift: shift + *bars as usize,
            },
            NumberNode::Constant(value) => NumberNode::Constant(value),
            node if node.reads_position() => {
                return Err(BacktestError::Unsupported(
                    "a lookback over position variables".to_string(),
                ))
            }
            node => {
                let node = number_extremes_to_columns(node, store);
                let column = full_column(&node, store);
                NumberNode::Column {
                    column: store.push(column),
                    shift: *bars as usize,
                }
            }
        }),
        ExprKind::Unary {
            op: UnaryOp::Negate,
            operand,
        } => Typed::Number(NumberNode::Negate(number_of(operand, store)?)),
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => Typed::Truth(TruthNode::Not(truth_of(operand, store)?)),
        ExprKind::Binary { op, lhs, rhs } => {
            let left = translate(lhs, candles, store)?;
            let right = translate(rhs, candles, store)?;
            binary(*op, left, right)?
        }
        ExprKind::Call { function, args } => {
            let argument = |index: usize| {
                args.get(index).ok_or_else(|| {
                    BacktestError::Unsupported(format!("`{function}` without its arguments"))
                })
            };
            match function.as_str() {
                "crosses_above" | "crosses_below" => Typed::Truth(TruthNode::Crosses {
                    above: function == "crosses_above",
                    left: number_of(argument(0)?, store)?,
                    right: number_of(argument(1)?, store)?,
                }),
                "abs" => Typed::Number(NumberNode::Abs(number_of(argument(0)?, store)?)),
                "min" => Typed::Number(NumberNode::Min(
                    number_of(argument(0)?, store)?,
                    number_of(argument(1)?, store)?,
                )),
                "max" => Typed::Number(NumberNode::Max(
                    number_of(argument(0)?, store)?,
                    number_of(argument(1)?, store)?,
                )),
                "highest" | "lowest" => {
                    let term = number_of(argument(0)?, store)?;
                    let NumberNode::Constant(window) = *number_of(argument(1)?, store)? else {
                        return Err(BacktestError::Unsupported(format!(
                            "`{function}` with a window that is not a number"
                        )));
                    };
                    Typed::Number(NumberNode::Extreme {
                        highest: function == "highest",
                        term,
                        window: window.max(0.0) as usize,
                    })
                }
                other => {
                    return Err(BacktestError::Unsupported(format!(
                        "the function `{other}`"
                    )))
                }
            }
        }
    })
}

fn binary(op: BinaryOp, left: Typed, right: Typed) -> Result<Typed, BacktestError> {
    Ok(match (left, right) {
        (Typed::Truth(left), Typed::Truth(right)) => {
            let (left, right) = (Box::new(left), Box::new(right));
            Typed::Truth(match op {
                BinaryOp::And => TruthNode::And(left, right),
                BinaryOp::Or => TruthNode::Or(left, right),
                BinaryOp::Equal | BinaryOp::NotEqual => TruthNode::Same {
                    equal: op == BinaryOp::Equal,
                    left,
                    right,
                },
                _ => return Err(mismatch("a true/false condition")),
            })
        }
        (Typed::Number(left), Typed::Number(right)) => {
            let (left, right) = (Box::new(left), Box::new(right));
            if let Some(op) = Arithmetic::of(op) {
                Typed::Number(NumberNode::Arithmetic(op, left, right))
            } else if let Some(comparison) = Comparison::of(op) {
                Typed::Truth(TruthNode::Compare(comparison, left, right))
            } else {
                return Err(mismatch("a number"));
            }
        }
        _ => return Err(mismatch("a number beside a true/false condition")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtests::candles::Candle;
    use crate::language::expression::parse_condition;

    fn candles(closes: &[f64]) -> Candles {
        let mut candles = Candles::default();
        for (bar, close) in closes.iter().enumerate() {
            candles.push(Candle {
                time: bar as i64,
                open: *close,
                high: *close,
                low: *close,
                close: *close,
                volume: 1.0,
            });
        }
        candles
    }

    fn fired(text: &str, closes: &[f64], position: PositionView) -> Vec<bool> {
        let expression = parse_condition(text)
            .expression
            .expect("the condition parses");
        let candles = candles(closes);
        let mut store = ColumnStore::new(&candles, IndicatorColumns::default());
        let mut condition = compile_condition(&expression, &candles, &mut store).unwrap();
        (0..closes.len())
            .map(|bar| condition.fires(&mut store, bar, &position))
            .collect()
    }

    #[test]
    fn a_lookback_before_the_first_bar_is_undefined_and_never_fires() {
        assert_eq!(
            fired(
                "close > close[1]",
                &[1.0, 2.0, 1.0, 3.0],
                PositionView::default()
            ),
            vec![false, true, false, true]
        );
        assert_eq!(
            fired(
                "NOT close <= close[1]",
                &[1.0, 2.0],
                PositionView::default()
            ),
            vec![false, true]
        );
    }

    #[test]
    fn crosses_above_needs_the_bar_before_at_or_below_and_this_bar_above() {
        assert_eq!(
            fired(
                "crosses_above(close, 2)",
                &[1.0, 2.0, 3.0, 4.0, 1.0, 3.0],
                PositionView::default()
            ),
            vec![false, false, true, false, false, true]
        );
    }

    #[test]
    fn highest_covers_the_window_ending_at_this_bar() {
        assert_eq!(
            fired(
                "close >= highest(close, 3)",
                &[3.0, 1.0, 2.0, 1.0, 4.0],
                PositionView::default()
            ),
            vec![false, false, false, false, true]
        );
    }

    #[test]
    fn position_variables_are_read_at_each_evaluation() {
        let position = PositionView {
            unrealized_pnl_pct: -0.06,
            bars_in_trade: 3.0,
            ..PositionView::default()
        };
        assert_eq!(
            fired(
                "unrealized_pnl_pct < -0.05 AND close > 1 OR bars_in_trade > 10",
                &[1.0, 2.0],
                position
            ),
            vec![false, true]
        );
    }

    #[test]
    fn undefined_or_true_is_true_and_undefined_and_true_never_fires() {
        assert_eq!(
            fired("close[1] > 0 OR close > 0", &[1.0], PositionView::default()),
            vec![true]
        );
        assert_eq!(
            fired(
                "close[1] > 0 AND close > 0",
                &[1.0],
                PositionView::default()
            ),
            vec![false]
        );
    }

    /// A seeded random walk of closes, long enough for many blocks of the largest size.
    fn walk(bars: usize) -> Vec<f64> {
        let mut uniform = crate::backtests::seeded::uniforms(0x2545_F491_4F6C_DD1D);
        let mut close = 100.0;
        (0..bars)
            .map(|_| {
                close *= 1.0 + (uniform() - 0.5) * 0.02;
                close
            })
            .collect()
    }

    fn compiled<'c>(
        text: &str,
        candles: &'c Candles,
        store: &mut ColumnStore<'c>,
    ) -> CompiledCondition {
        let expression = parse_condition(text)
            .expression
            .expect("the condition parses");
        compile_condition(&expression, candles, store).unwrap()
    }

    #[test]
    fn a_condition_evaluated_in_blocks_agrees_with_the_same_condition_evaluated_bar_by_bar() {
        let closes = walk(3 * LARGEST_BLOCK + 77);
        let candles = candles(&closes);
        let mut store = ColumnStore::new(&candles, IndicatorColumns::default());
        // Without position variables, in blocks (the rare new high spares its AND's right
        // side elsewhere); with `bars_in_trade` (0 in the default view, so each side reads the
        // same values) the crossings and what they read are evaluated per bar.
        let mut blocks = compiled(
            "crosses_above(close, highest(close[1], 30)) AND close > close[1] OR crosses_below(close, close[2]) AND close < close[3] OR NOT close >= lowest(close, 3)",
            &candles,
            &mut store,
        );
        let mut per_bar = compiled(
            "crosses_above(close + bars_in_trade, highest(close[1], 30)) AND close > close[1] OR crosses_below(close + bars_in_trade, close[2]) AND close < close[3] OR NOT close >= lowest(close, 3) + bars_in_trade",
            &candles,
            &mut store,
        );
        assert!(!blocks.reads_position() && per_bar.reads_position());
        let flat = PositionView::default();
        let in_order: Vec<bool> = (0..closes.len())
            .map(|bar| blocks.fires(&mut store, bar, &flat))
            .collect();
        let bar_by_bar: Vec<bool> = (0..closes.len())
            .map(|bar| per_bar.fires(&mut store, bar, &flat))
            .collect();
        assert_eq!(in_order, bar_by_bar);
        assert!(in_order.iter().any(|&fires| fires) && !in_order.iter().all(|&fires| fires));
        // Asked backwards, every bar starts a block of its own.
        let mut backwards = blocks.clone();
        let reversed: Vec<bool> = (0..closes.len())
            .rev()
            .map(|bar| backwards.fires(&mut store, bar, &flat))
            .collect();
        assert!(reversed.into_iter().rev().eq(in_order));
    }

    #[test]
    fn the_first_firing_bar_of_a_range_is_the_first_bar_there_where_the_condition_fires() {
        let closes = walk(2 * LARGEST_BLOCK);
        let candles = candles(&closes);
        let mut store = ColumnStore::new(&candles, IndicatorColumns::default());
        let text = "crosses_below(close, close[5])";
        let mut scanned = compiled(text, &candles, &mut store);
        let mut asked = compiled(text, &candles, &mut store);
        let flat = PositionView::default();
        let mut start = 0;
        for length in [1, 30, 500, 3_000, 5_000].into_iter().cycle().take(40) {
            let bars = start..(start + length).min(closes.len());
            let expected = bars
                .clone()
                .find(|&bar| asked.fires(&mut store, bar, &flat));
            assert_eq!(scanned.first_firing(&mut store, bars.clone()), expected);
            start = expected.map_or(bars.end, |bar| bar + 1) % closes.len();
        }
    }

    #[test]
    fn a_streamed_column_asked_for_a_bar_it_no_longer_keeps_computes_it_again() {
        let closes = walk(20 * LARGEST_BLOCK);
        let whole = Stream::rsi(&closes, 14).whole();
        let candles = candles(&closes);
        let mut store = ColumnStore::streaming(
            &candles,
            vec![(
                "rsi_14".to_string(),
                IndicatorOutput::Stream(Stream::rsi(&closes, 14)),
            )],
        );
        let late = closes.len() - 10;
        assert_eq!(
            store.read_holding(0, 0, late).to_bits(),
            whole[late].to_bits()
        );
        let Series::Streamed(window) = &store.columns[0] else {
            panic!("the column is streamed");
        };
        assert!(window.first > 100 && window.values.len() < closes.len() / 2);
        for bar in [100, 99, late, 3 * LARGEST_BLOCK, 0] {
            assert_eq!(
                store.read_holding(0, 0, bar).to_bits(),
                whole[bar].to_bits()
            );
        }
    }
}
