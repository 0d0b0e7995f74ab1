//! The condition language: its syntax tree (every node spanned in the document), the lexer,
//! the precedence-climbing parser, the canonical printer and the type checker.

mod check;
mod lexer;
mod parser;
mod printer;
mod tree;

pub use check::{check_condition, ConditionKind, ExpressionType, NameTable};
pub use parser::{parse_expression, ParseOutcome};
pub use printer::print_expression;
pub use tree::{BinaryOp, Expr, ExprKind, UnaryOp, MAX_LOOKBACK};
// The function table belongs to the language's names; kept reachable where it was.
pub use super::names::FUNCTIONS;

use super::span::Positions;

/// Parses a condition that stands alone (not inside a document): spans are offsets in `text`.
/// The builder uses it to check a clause before it is written into the document.
pub fn parse_condition(text: &str) -> ParseOutcome {
    let positions = Positions::new(text);
    let offsets: Vec<usize> = (0..=text.len()).collect();
    parse_expression(text, &offsets, &positions)
}
