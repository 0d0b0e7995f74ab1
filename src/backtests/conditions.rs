//! Conditions compiled once per run: the validated syntax tree becomes a small tree over column
//! indices. Every part that does not read the open position is computed up front, column by
//! column, so most conditions cost one array read per bar; only parts that read position
//! variables are evaluated per bar, still without any lookup by name.
//!
//! Truth values are numbers: 1 true, 0 false, NaN undefined (an indicator warming up, a
//! lookback before the first bar). A comparison with an undefined value is undefined; AND/OR
//! follow three-valued logic and NOT keeps undefined undefined, so a condition fires only
//! where it is defined and true (`NOT rsi_14 > 70` does not fire during warm-up).

use std::borrow::Cow;

use crate::language::expression::{BinaryOp, Expr, ExprKind, UnaryOp};
use crate::language::model::{PositionVariable, PriceField};

use super::candles::Candles;
use super::indicators::{output_column_name, price_source, rolling_extreme, IndicatorColumns};
use super::BacktestError;

const TRUE: f64 = 1.0;
const FALSE: f64 = 0.0;
const UNDEFINED: f64 = f64::NAN;

fn truth(value: bool) -> f64 {
    if value {
        TRUE
    } else {
        FALSE
    }
}

/// The columns conditions read: prices, indicator outputs, and the columns precomputed for
/// position-free parts of conditions.
#[derive(Clone, Debug, Default)]
pub struct ColumnStore<'c> {
    /// The candles' own price columns are borrowed, everything else is owned.
    columns: Vec<Cow<'c, [f64]>>,
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
            columns: indicators.columns.into_iter().map(Cow::Owned).collect(),
            price_columns: Vec::new(),
            bars: candles.len(),
        }
    }

    fn price(&mut self, field: PriceField, candles: &'c Candles) -> usize {
        if let Some((_, index)) = self.price_columns.iter().find(|(known, _)| *known == field) {
            return *index;
        }
        self.columns.push(price_source(candles, field));
        let index = self.columns.len() - 1;
        self.price_columns.push((field, index));
        index
    }

    fn indicator(&self, name: &str) -> Option<usize> {
        self.indicator_names.iter().position(|known| known == name)
    }

    fn push(&mut self, column: Vec<f64>) -> usize {
        self.columns.push(Cow::Owned(column));
        self.columns.len() - 1
    }

    fn bars(&self) -> usize {
        self.bars
    }

    fn read(&self, column: usize, shift: usize, bar: usize) -> f64 {
        match bar.checked_sub(shift) {
            Some(earlier) => self.columns[column][earlier],
            None => UNDEFINED,
        }
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

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Column {
        column: usize,
        shift: usize,
    },
    Constant(f64),
    Position(PositionVariable),
    Negate(Box<Node>),
    Not(Box<Node>),
    Abs(Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    Min(Box<Node>, Box<Node>),
    Max(Box<Node>, Box<Node>),
    Crosses {
        above: bool,
        left: Box<Node>,
        right: Box<Node>,
    },
    Extreme {
        highest: bool,
        term: Box<Node>,
        window: usize,
    },
}

impl Node {
    fn reads_position(&self) -> bool {
        match self {
            Node::Position(_) => true,
            Node::Column { .. } | Node::Constant(_) => false,
            Node::Negate(inner) | Node::Not(inner) | Node::Abs(inner) => inner.reads_position(),
            Node::Binary(_, left, right)
            | Node::Min(left, right)
            | Node::Max(left, right)
            | Node::Crosses { left, right, .. } => left.reads_position() || right.reads_position(),
            Node::Extreme { term, .. } => term.reads_position(),
        }
    }
}

fn combine(op: BinaryOp, left: f64, right: f64) -> f64 {
    match op {
        BinaryOp::Add => left + right,
        BinaryOp::Subtract => left - right,
        BinaryOp::Multiply => left * right,
        BinaryOp::Divide => left / right,
        BinaryOp::And => {
            if left == FALSE || right == FALSE {
                FALSE
            } else if left.is_nan() || right.is_nan() {
                UNDEFINED
            } else {
                TRUE
            }
        }
        BinaryOp::Or => {
            if left == TRUE || right == TRUE {
                TRUE
            } else if left.is_nan() || right.is_nan() {
                UNDEFINED
            } else {
                FALSE
            }
        }
        comparison => {
            if left.is_nan() || right.is_nan() {
                return UNDEFINED;
            }
            truth(match comparison {
                BinaryOp::Less => left < right,
                BinaryOp::LessOrEqual => left <= right,
                BinaryOp::Greater => left > right,
                BinaryOp::GreaterOrEqual => left >= right,
                BinaryOp::Equal => left == right,
                _ => left != right,
            })
        }
    }
}

fn negate_truth(value: f64) -> f64 {
    if value.is_nan() {
        UNDEFINED
    } else {
        TRUE - value
    }
}

fn crosses(above: bool, left_now: f64, right_now: f64, left_before: f64, right_before: f64) -> f64 {
    if [left_now, right_now, left_before, right_before]
        .iter()
        .any(|value| value.is_nan())
    {
        return UNDEFINED;
    }
    truth(if above {
        left_before <= right_before && left_now > right_now
    } else {
        left_before >= right_before && left_now < right_now
    })
}

fn nan_min(left: f64, right: f64) -> f64 {
    if left.is_nan() || right.is_nan() {
        UNDEFINED
    } else {
        left.min(right)
    }
}

fn nan_max(left: f64, right: f64) -> f64 {
    if left.is_nan() || right.is_nan() {
        UNDEFINED
    } else {
        left.max(right)
    }
}

/// A condition ready to run: `fires(bar, position)` is one read of a precomputed column when
/// the condition does not use position variables.
#[derive(Clone, Debug)]
pub struct CompiledCondition {
    root: Node,
}

impl CompiledCondition {
    /// Whether the condition reads position variables (then it is evaluated per position).
    pub fn reads_position(&self) -> bool {
        self.root.reads_position()
    }

    /// Whether the condition holds (is defined and true) at the close of `bar`.
    pub fn fires(&self, store: &ColumnStore<'_>, bar: usize, position: &PositionView) -> bool {
        match &self.root {
            Node::Column { column, shift } => store.read(*column, *shift, bar) == TRUE,
            Node::Constant(value) => *value == TRUE,
            root => evaluate(root, store, bar, position) == TRUE,
        }
    }
}

fn evaluate(node: &Node, store: &ColumnStore<'_>, bar: usize, position: &PositionView) -> f64 {
    let at = |node: &Node, bar: usize| evaluate(node, store, bar, position);
    match node {
        Node::Column { column, shift } => store.read(*column, *shift, bar),
        Node::Constant(value) => *value,
        Node::Position(variable) => position.read(*variable),
        Node::Negate(inner) => -at(inner, bar),
        Node::Not(inner) => negate_truth(at(inner, bar)),
        Node::Abs(inner) => at(inner, bar).abs(),
        Node::Binary(op, left, right) => combine(*op, at(left, bar), at(right, bar)),
        Node::Min(left, right) => nan_min(at(left, bar), at(right, bar)),
        Node::Max(left, right) => nan_max(at(left, bar), at(right, bar)),
        Node::Crosses { above, left, right } => match bar.checked_sub(1) {
            Some(before) => crosses(
                *above,
                at(left, bar),
                at(right, bar),
                at(left, before),
                at(right, before),
            ),
            None => UNDEFINED,
        },
        Node::Extreme {
            highest,
            term,
            window,
        } => {
            if *window == 0 || bar + 1 < *window {
                return UNDEFINED;
            }
            let mut best = at(term, bar);
            for earlier in bar + 1 - window..bar {
                let value = at(term, earlier);
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

/// Computes a position-free node over every bar into a column of the store.
fn materialize(node: Node, store: &mut ColumnStore<'_>) -> Node {
    if node.reads_position() {
        return match node {
            Node::Negate(inner) => Node::Negate(Box::new(materialize(*inner, store))),
            Node::Not(inner) => Node::Not(Box::new(materialize(*inner, store))),
            Node::Abs(inner) => Node::Abs(Box::new(materialize(*inner, store))),
            Node::Binary(op, left, right) => Node::Binary(
                op,
                Box::new(materialize(*left, store)),
                Box::new(materialize(*right, store)),
            ),
            Node::Min(left, right) => Node::Min(
                Box::new(materialize(*left, store)),
                Box::new(materialize(*right, store)),
            ),
            Node::Max(left, right) => Node::Max(
                Box::new(materialize(*left, store)),
                Box::new(materialize(*right, store)),
            ),
            other => other,
        };
    }
    if matches!(node, Node::Column { .. } | Node::Constant(_)) {
        return node;
    }
    let column = column_of(&node, store).into_column(store);
    Node::Column {
        column: store.push(column),
        shift: 0,
    }
}

/// A position-free node's values over every bar, without copying what already exists: a
/// stored column read with a shift, a constant, or a column computed for this node (whose
/// buffer the node above it reuses).
enum Values {
    Stored { column: usize, shift: usize },
    Constant(f64),
    Computed(Vec<f64>),
}

/// Read access to `Values` by bar.
enum View<'s> {
    Shifted { data: &'s [f64], shift: usize },
    Constant(f64),
}

impl View<'_> {
    #[inline(always)]
    fn at(&self, bar: usize) -> f64 {
        match self {
            View::Shifted { data, shift } => match bar.checked_sub(*shift) {
                Some(earlier) => data[earlier],
                None => UNDEFINED,
            },
            View::Constant(value) => *value,
        }
    }
}

impl Values {
    fn view<'s>(&'s self, store: &'s ColumnStore<'_>) -> View<'s> {
        match self {
            Values::Stored { column, shift } => View::Shifted {
                data: &store.columns[*column],
                shift: *shift,
            },
            Values::Constant(value) => View::Constant(*value),
            Values::Computed(column) => View::Shifted {
                data: column,
                shift: 0,
            },
        }
    }

    /// The values as a column of their own (a copy only when they are not computed already).
    fn into_column(self, store: &ColumnStore<'_>) -> Vec<f64> {
        match self {
            Values::Computed(column) => column,
            other => {
                let view = other.view(store);
                (0..store.bars()).map(|bar| view.at(bar)).collect()
            }
        }
    }

    /// `apply` over every value, in place when the values are computed already.
    fn map(self, store: &ColumnStore<'_>, apply: impl Fn(f64) -> f64) -> Values {
        match self {
            Values::Constant(value) => Values::Constant(apply(value)),
            Values::Computed(mut column) => {
                column.iter_mut().for_each(|value| *value = apply(*value));
                Values::Computed(column)
            }
            stored => {
                let view = stored.view(store);
                Values::Computed((0..store.bars()).map(|bar| apply(view.at(bar))).collect())
            }
        }
    }

    /// `apply` over both sides bar by bar, into a computed side's buffer when there is one.
    fn zip(
        self,
        right: Values,
        store: &ColumnStore<'_>,
        apply: impl Fn(f64, f64) -> f64,
    ) -> Values {
        match (self, right) {
            (Values::Constant(left), Values::Constant(right)) => {
                Values::Constant(apply(left, right))
            }
            (Values::Computed(mut left), right) => {
                let right = right.view(store);
                for (bar, value) in left.iter_mut().enumerate() {
                    *value = apply(*value, right.at(bar));
                }
                Values::Computed(left)
            }
            (left, Values::Computed(mut right)) => {
                let left = left.view(store);
                for (bar, value) in right.iter_mut().enumerate() {
                    *value = apply(left.at(bar), *value);
                }
                Values::Computed(right)
            }
            (left, right) => {
                let (left, right) = (left.view(store), right.view(store));
                Values::Computed(
                    (0..store.bars())
                        .map(|bar| apply(left.at(bar), right.at(bar)))
                        .collect(),
                )
            }
        }
    }
}

/// A position-free node's values over every bar, one tight loop per node.
fn column_of(node: &Node, store: &ColumnStore<'_>) -> Values {
    let bars = store.bars();
    match node {
        Node::Column { column, shift } => Values::Stored {
            column: *column,
            shift: *shift,
        },
        Node::Constant(value) => Values::Constant(*value),
        Node::Position(_) => Values::Constant(UNDEFINED),
        Node::Negate(inner) => column_of(inner, store).map(store, |value| -value),
        Node::Not(inner) => column_of(inner, store).map(store, negate_truth),
        Node::Abs(inner) => column_of(inner, store).map(store, f64::abs),
        Node::Binary(op, left, right) => {
            column_of(left, store).zip(column_of(right, store), store, |l, r| combine(*op, l, r))
        }
        Node::Min(left, right) => {
            column_of(left, store).zip(column_of(right, store), store, nan_min)
        }
        Node::Max(left, right) => {
            column_of(left, store).zip(column_of(right, store), store, nan_max)
        }
        Node::Crosses { above, left, right } => {
            let (left, right) = (column_of(left, store), column_of(right, store));
            let (left, right) = (left.view(store), right.view(store));
            Values::Computed(
                (0..bars)
                    .map(|bar| match bar.checked_sub(1) {
                        Some(before) => crosses(
                            *above,
                            left.at(bar),
                            right.at(bar),
                            left.at(before),
                            right.at(before),
                        ),
                        None => UNDEFINED,
                    })
                    .collect(),
            )
        }
        Node::Extreme {
            highest,
            term,
            window,
        } => Values::Computed(match column_of(term, store) {
            Values::Stored { column, shift: 0 } => {
                rolling_extreme(&store.columns[column], *window, *highest)
            }
            term => rolling_extreme(&term.into_column(store), *window, *highest),
        }),
    }
}

/// Compiles a validated condition against the store's columns.
pub fn compile_condition<'c>(
    expression: &Expr,
    candles: &'c Candles,
    store: &mut ColumnStore<'c>,
) -> Result<CompiledCondition, BacktestError> {
    let tree = translate(expression, candles, store)?;
    Ok(CompiledCondition {
        root: materialize(tree, store),
    })
}

fn translate<'c>(
    expression: &Expr,
    candles: &'c Candles,
    store: &mut ColumnStore<'c>,
) -> Result<Node, BacktestError> {
    let boxed = |expression: &Expr, store: &mut ColumnStore<'c>| {
        translate(expression, candles, store).map(Box::new)
    };
    Ok(match &expression.kind {
        ExprKind::Number { value } => Node::Constant(*value),
        ExprKind::Bool { value } => Node::Constant(truth(*value)),
        ExprKind::Price { field } => Node::Column {
            column: store.price(*field, candles),
            shift: 0,
        },
        ExprKind::Position { variable } => Node::Position(*variable),
        ExprKind::Indicator { name, output } => {
            let column_name = output_column_name(name, output.as_deref());
            let column = store
                .indicator(&column_name)
                .ok_or(BacktestError::UnknownIndicator(column_name))?;
            Node::Column { column, shift: 0 }
        }
        ExprKind::Lookback { term, bars } => match translate(term, candles, store)? {
            Node::Column { column, shift } => Node::Column {
                column,
                shift: shift + *bars as usize,
            },
            Node::Constant(value) => Node::Constant(value),
            node if node.reads_position() => {
                return Err(BacktestError::Unsupported(
                    "a lookback over position variables".to_string(),
                ))
            }
            node => Node::Column {
                column: {
                    let column = column_of(&node, store).into_column(store);
                    store.push(column)
                },
                shift: *bars as usize,
            },
        },
        ExprKind::Unary {
            op: UnaryOp::Negate,
            operand,
        } => Node::Negate(boxed(operand, store)?),
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => Node::Not(boxed(operand, store)?),
        ExprKind::Binary { op, lhs, rhs } => {
            Node::Binary(*op, boxed(lhs, store)?, boxed(rhs, store)?)
        }
        ExprKind::Call { function, args } => {
            let argument =
                |index: usize, store: &mut ColumnStore<'c>| -> Result<Box<Node>, BacktestError> {
                    let expression = args.get(index).ok_or_else(|| {
                        BacktestError::Unsupported(format!("`{function}` without its arguments"))
                    })?;
                    boxed(expression, store)
                };
            match function.as_str() {
                "crosses_above" | "crosses_below" => Node::Crosses {
                    above: function == "crosses_above",
                    left: argument(0, store)?,
                    right: argument(1, store)?,
                },
                "abs" => Node::Abs(argument(0, store)?),
                "min" => Node::Min(argument(0, store)?, argument(1, store)?),
                "max" => Node::Max(argument(0, store)?, argument(1, store)?),
                "highest" | "lowest" => {
                    let term = argument(0, store)?;
                    let Node::Constant(window) = *argument(1, store)? else {
                        return Err(BacktestError::Unsupported(format!(
                            "`{function}` with a window that is not a number"
                        )));
                    };
                    Node::Extreme {
                        highest: function == "highest",
                        term,
                        window: window.max(0.0) as usize,
                    }
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
        let condition = compile_condition(&expression, &candles, &mut store).unwrap();
        (0..closes.len())
            .map(|bar| condition.fires(&store, bar, &position))
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
}
