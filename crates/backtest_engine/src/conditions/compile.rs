//! The validated syntax tree turned into the typed tree, with every name resolved to a column;
//! the parts that do not read the position become blocks, and rolling extremes over computed
//! values become columns of their own.

use crate::candles::Candles;
use crate::indicators::{output_column_name, rolling_extreme};
use crate::BacktestError;
use strategy_language::expression::{BinaryOp, Expr, ExprKind, UnaryOp};

use super::blocks::{number_reads, Block, Part};
use super::lanes::{numbers, Numbers, Scratch};
use super::store::ColumnStore;
use super::tree::{Arithmetic, Comparison, NumberNode, TruthNode};
use super::{truth, CompiledCondition};

/// A translated part of a condition, typed as the validator typed it.
pub(super) enum Typed {
    Number(NumberNode),
    Truth(TruthNode),
}

pub(super) fn mismatch(what: &str) -> BacktestError {
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

pub(super) fn translate<'c>(
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

pub(super) fn binary(op: BinaryOp, left: Typed, right: Typed) -> Result<Typed, BacktestError> {
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

/// A position-free number part over every bar, as a column (its columns made whole first).
pub(super) fn full_column(node: &NumberNode, store: &mut ColumnStore<'_>) -> Vec<f64> {
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
pub(super) fn number_extremes_to_columns(
    node: NumberNode,
    store: &mut ColumnStore<'_>,
) -> NumberNode {
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

pub(super) fn truth_extremes_to_columns(node: TruthNode, store: &mut ColumnStore<'_>) -> TruthNode {
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
pub(super) fn materialize_truth(
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

pub(super) fn materialize_number(
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
