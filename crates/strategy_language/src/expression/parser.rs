//! Precedence-climbing parser for conditions. Names of prices and position variables are
//! recognised here; every other name is taken as an indicator and checked later.

use super::lexer::{tokenize, Lexeme, Token};
use super::tree::{BinaryOp, Expr, ExprKind, UnaryOp, MAX_LOOKBACK};
use crate::names::{PositionVariable, PriceField};
use crate::span::{Diagnostic, Fix, Positions, Severity, Span};

pub struct ParseOutcome {
    pub expression: Option<Expr>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `text`, a condition whose byte `i` sits at document offset `offsets[i]`
/// (`offsets` has one entry past the end). Diagnostics carry document spans and an empty path.
pub fn parse_expression(text: &str, offsets: &[usize], positions: &Positions<'_>) -> ParseOutcome {
    let locate = |start: usize, end: usize| -> Span {
        let at = |index: usize| {
            offsets
                .get(index)
                .copied()
                .unwrap_or(positions.text().len())
        };
        if end > start {
            let last = at(end - 1);
            let last_length = positions.text()[positions.boundary(last)..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
            positions.span(at(start), last + last_length)
        } else {
            positions.span(at(start), at(start))
        }
    };
    let mut parser = Parser {
        lexemes: Vec::new(),
        index: 0,
        diagnostics: Vec::new(),
        locate: &locate,
        depth: 0,
        operators: 0,
    };
    if text.trim().is_empty() {
        parser.diagnostics.push(diagnostic(
            "E049",
            "the condition is empty; write one, e.g. `rsi_14 < 30`".to_string(),
            locate(0, text.len()),
        ));
        return ParseOutcome {
            expression: None,
            diagnostics: parser.diagnostics,
        };
    }
    match tokenize(text) {
        Ok(lexemes) => parser.lexemes = lexemes,
        Err(error) => {
            return ParseOutcome {
                expression: None,
                diagnostics: vec![{
                    let span = locate(error.start, error.end);
                    diagnostic("E040", error.message, span).with_fixes(
                        error
                            .replacement
                            .map(|operator| Fix::replace(span, operator)),
                    )
                }],
            }
        }
    }
    let expression = parser.parse_binary(1).and_then(|expression| {
        let lexeme = parser.peek().clone();
        if lexeme.token == Token::End {
            Some(expression)
        } else {
            let message = match lexeme.token {
                Token::RightParen => "this `)` has no matching `(`".to_string(),
                Token::Identifier(_) | Token::Number(_) | Token::True | Token::False => format!(
                    "`{}` follows a complete condition; join them with AND or OR, or add an operator",
                    &text[lexeme.start..lexeme.end]
                ),
                _ => format!("unexpected `{}`", &text[lexeme.start..lexeme.end]),
            };
            parser.error(message, &lexeme);
            None
        }
    });
    ParseOutcome {
        expression,
        diagnostics: parser.diagnostics,
    }
}

fn diagnostic(code: &str, message: String, span: Span) -> Diagnostic {
    Diagnostic::new(code, Severity::Error, message, String::new(), span)
}

/// Nesting beyond this is refused rather than risk the stack on hostile input.
const MAX_DEPTH: usize = 200;

/// A chain `a + b + c ...` nests one level per operator in the tree that the printer and the
/// checker walk recursively; real conditions stay far below this.
const MAX_OPERATORS: usize = 1000;

struct Parser<'a> {
    lexemes: Vec<Lexeme>,
    index: usize,
    diagnostics: Vec<Diagnostic>,
    locate: &'a dyn Fn(usize, usize) -> Span,
    depth: usize,
    operators: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Lexeme {
        let last = self.lexemes.len().saturating_sub(1);
        &self.lexemes[self.index.min(last)]
    }

    fn advance(&mut self) -> Lexeme {
        let lexeme = self.peek().clone();
        if self.index < self.lexemes.len() {
            self.index += 1;
        }
        lexeme
    }

    fn error(&mut self, message: String, lexeme: &Lexeme) {
        let span = (self.locate)(lexeme.start, lexeme.end);
        self.diagnostics.push(diagnostic("E040", message, span));
    }

    fn span_between(&self, start: Span, end: Span) -> Span {
        Span {
            line: start.line,
            column: start.column,
            end_line: end.end_line,
            end_column: end.end_column,
            start: start.start,
            end: end.end,
        }
    }

    fn binary_operator(token: &Token) -> Option<BinaryOp> {
        Some(match token {
            Token::Or => BinaryOp::Or,
            Token::And => BinaryOp::And,
            Token::Comparison(op) => *op,
            Token::Plus => BinaryOp::Add,
            Token::Minus => BinaryOp::Subtract,
            Token::Star => BinaryOp::Multiply,
            Token::Slash => BinaryOp::Divide,
            _ => return None,
        })
    }

    /// Precedence climbing: parses operators that bind at least as tightly as `minimum`.
    fn parse_binary(&mut self, minimum: u8) -> Option<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let lexeme = self.peek().clone();
            self.error("the condition nests too deeply".to_string(), &lexeme);
            return None;
        }
        let mut lhs = self.parse_prefix()?;
        // Whether `lhs` is a comparison built by this loop (not one in parentheses, which
        // `(a < b) == (c < d)` may compare).
        let mut after_comparison = false;
        while let Some(op) = Self::binary_operator(&self.peek().token) {
            if op.precedence() < minimum {
                break;
            }
            let operator = self.advance();
            self.operators += 1;
            if self.operators > MAX_OPERATORS {
                self.error(
                    format!("the condition has more than {MAX_OPERATORS} operators; split it up"),
                    &operator,
                );
                return None;
            }
            let rhs = self.parse_binary(op.precedence() + 1)?;
            lhs = match &lhs.kind {
                // `a < b < c`: report it, then read it as the `a < b AND b < c` it must mean,
                // so that no second error follows from the first.
                ExprKind::Binary {
                    op: previous,
                    rhs: middle,
                    ..
                } if after_comparison && op.is_comparison() && previous.is_comparison() => {
                    let span = (self.locate)(operator.start, operator.end);
                    self.diagnostics.push(diagnostic(
                        "E041",
                        "comparisons cannot be chained; write `a < b AND b < c` instead of `a < b < c`"
                            .to_string(),
                        span,
                    ));
                    let middle = (**middle).clone();
                    // The middle term is written twice in the rewritten form; count its
                    // operators again so that the canonical text stays within the limit.
                    let mut repeated = 1;
                    middle.walk(&mut |node| {
                        if matches!(node.kind, ExprKind::Binary { .. }) {
                            repeated += 1;
                        }
                    });
                    self.operators += repeated;
                    if self.operators > MAX_OPERATORS {
                        self.error(
                            format!("the condition has more than {MAX_OPERATORS} operators; split it up"),
                            &operator,
                        );
                        return None;
                    }
                    let second = Expr::new(
                        ExprKind::Binary {
                            op,
                            lhs: Box::new(middle.clone()),
                            rhs: Box::new(rhs.clone()),
                        },
                        self.span_between(middle.span, rhs.span),
                    );
                    let span = self.span_between(lhs.span, rhs.span);
                    Expr::new(
                        ExprKind::Binary {
                            op: BinaryOp::And,
                            lhs: Box::new(lhs),
                            rhs: Box::new(second),
                        },
                        span,
                    )
                }
                _ => {
                    let span = self.span_between(lhs.span, rhs.span);
                    Expr::new(
                        ExprKind::Binary {
                            op,
                            lhs: Box::new(lhs),
                            rhs: Box::new(rhs),
                        },
                        span,
                    )
                }
            };
            after_comparison = op.is_comparison();
        }
        self.depth -= 1;
        Some(lhs)
    }

    fn parse_prefix(&mut self) -> Option<Expr> {
        let lexeme = self.peek().clone();
        match lexeme.token {
            Token::Not => {
                self.advance();
                // NOT binds tighter than AND and looser than comparisons: `NOT a < b` is
                // `NOT (a < b)`.
                let operand = self.parse_binary(3)?;
                let span = self.span_between((self.locate)(lexeme.start, lexeme.end), operand.span);
                Some(Expr::new(
                    ExprKind::Unary {
                        op: UnaryOp::Not,
                        operand: Box::new(operand),
                    },
                    span,
                ))
            }
            Token::Minus => {
                self.advance();
                let operand = self.parse_binary(7)?;
                let span = self.span_between((self.locate)(lexeme.start, lexeme.end), operand.span);
                // `-0.05` is one number, so that the model holds it as written.
                let kind = match operand.kind {
                    ExprKind::Number { value } => ExprKind::Number { value: -value },
                    _ => ExprKind::Unary {
                        op: UnaryOp::Negate,
                        operand: Box::new(operand),
                    },
                };
                Some(Expr::new(kind, span))
            }
            _ => self.parse_postfix(),
        }
    }

    fn parse_postfix(&mut self) -> Option<Expr> {
        let term = self.parse_primary()?;
        if self.peek().token != Token::LeftBracket {
            return Some(term);
        }
        self.advance();
        let count = self.advance();
        let bars = match count.token {
            Token::Number(value) if count.whole && value <= f64::from(MAX_LOOKBACK) => value as u32,
            Token::Number(value) => {
                let span = (self.locate)(count.start, count.end);
                self.diagnostics.push(diagnostic(
                    "E047",
                    format!("a lookback is a whole number of bars from 0 to {MAX_LOOKBACK}"),
                    span,
                ));
                // Kept as written (truncated) so the canonical form still shows it.
                value.min(f64::from(u32::MAX)) as u32
            }
            _ => {
                self.error(
                    "a lookback needs a whole number of bars, e.g. `sma_50[1]`".to_string(),
                    &count,
                );
                return None;
            }
        };
        let close = self.advance();
        if close.token != Token::RightBracket {
            self.error("expected `]` to close the lookback".to_string(), &close);
            return None;
        }
        if self.peek().token == Token::LeftBracket {
            let extra = self.peek().clone();
            self.error(
                "one lookback per term; add the bar counts, e.g. `close[3]`".to_string(),
                &extra,
            );
            return None;
        }
        let span = self.span_between(term.span, (self.locate)(close.start, close.end));
        Some(Expr::new(
            ExprKind::Lookback {
                term: Box::new(term),
                bars,
            },
            span,
        ))
    }

    fn parse_primary(&mut self) -> Option<Expr> {
        let lexeme = self.advance();
        let span = (self.locate)(lexeme.start, lexeme.end);
        match lexeme.token {
            Token::Number(value) => Some(Expr::new(ExprKind::Number { value }, span)),
            Token::True => Some(Expr::new(ExprKind::Bool { value: true }, span)),
            Token::False => Some(Expr::new(ExprKind::Bool { value: false }, span)),
            Token::LeftParen => {
                let inner = self.parse_binary(1)?;
                let close = self.advance();
                if close.token != Token::RightParen {
                    self.error("expected `)` to close the `(`".to_string(), &close);
                    return None;
                }
                let mut inner = inner;
                // The parentheses belong to the term, so that an edit replaces them too.
                inner.span = self.span_between(span, (self.locate)(close.start, close.end));
                Some(inner)
            }
            Token::Identifier(name) => {
                if self.peek().token == Token::LeftParen {
                    return self.parse_call(name, span);
                }
                if self.peek().token == Token::Dot {
                    self.advance();
                    let output = self.advance();
                    let Token::Identifier(output_name) = output.token.clone() else {
                        self.error(
                            format!(
                                "expected an output name after `{name}.`, e.g. `{name}.signal`"
                            ),
                            &output,
                        );
                        return None;
                    };
                    let span = self.span_between(span, (self.locate)(output.start, output.end));
                    return Some(Expr::new(
                        ExprKind::Indicator {
                            name,
                            output: Some(output_name),
                        },
                        span,
                    ));
                }
                let kind = if let Some(field) = PriceField::from_name(&name) {
                    ExprKind::Price { field }
                } else if let Some(variable) = PositionVariable::from_name(&name) {
                    ExprKind::Position { variable }
                } else {
                    ExprKind::Indicator { name, output: None }
                };
                Some(Expr::new(kind, span))
            }
            Token::End => {
                self.error(
                    "the condition ends too early; something is missing after the last operator"
                        .to_string(),
                    &lexeme,
                );
                None
            }
            Token::RightParen => {
                self.error("expected a value before `)`".to_string(), &lexeme);
                None
            }
            _ => {
                let message = match Self::binary_operator(&lexeme.token) {
                    Some(op) => format!("`{}` needs a value on its left", op.symbol()),
                    None => "expected a value, a name or `(` here".to_string(),
                };
                self.error(message, &lexeme);
                None
            }
        }
    }

    fn parse_call(&mut self, function: String, name_span: Span) -> Option<Expr> {
        self.advance();
        let mut args = Vec::new();
        if self.peek().token == Token::RightParen {
            let close = self.advance();
            let span = self.span_between(name_span, (self.locate)(close.start, close.end));
            return Some(Expr::new(ExprKind::Call { function, args }, span));
        }
        loop {
            args.push(self.parse_binary(1)?);
            let separator = self.advance();
            match separator.token {
                Token::Comma => continue,
                Token::RightParen => {
                    let span =
                        self.span_between(name_span, (self.locate)(separator.start, separator.end));
                    return Some(Expr::new(ExprKind::Call { function, args }, span));
                }
                _ => {
                    self.error(
                        format!("expected `,` or `)` in the arguments of `{function}`"),
                        &separator,
                    );
                    return None;
                }
            }
        }
    }
}
