//! The syntax tree of a condition: every node carries its span in the document, so the
//! validator, the syntax test and the editor can point at (and splice) exactly what was typed.

use serde::{Deserialize, Serialize};

use crate::names::{PositionVariable, PriceField};
use crate::span::Span;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", tag = "node")]
pub enum ExprKind {
    Number {
        value: f64,
    },
    Bool {
        value: bool,
    },
    Price {
        field: PriceField,
    },
    Position {
        variable: PositionVariable,
    },
    /// An indicator, by name, with the output of a multi-output one (`macd_fast.signal`).
    Indicator {
        name: String,
        output: Option<String>,
    },
    /// `term[bars]`: the value `bars` bars ago.
    Lookback {
        term: Box<Expr>,
        bars: u32,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Call {
        function: String,
        args: Vec<Expr>,
    },
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    Negate,
    Not,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
    And,
    Or,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Less => "<",
            BinaryOp::LessOrEqual => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterOrEqual => ">=",
            BinaryOp::Equal => "==",
            BinaryOp::NotEqual => "!=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }

    /// Binding strength; higher binds tighter. `NOT` sits between AND (2) and comparisons (4).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Less
            | BinaryOp::LessOrEqual
            | BinaryOp::Greater
            | BinaryOp::GreaterOrEqual
            | BinaryOp::Equal
            | BinaryOp::NotEqual => 4,
            BinaryOp::Add | BinaryOp::Subtract => 5,
            BinaryOp::Multiply | BinaryOp::Divide => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }

    /// The comparison that holds when the operands are swapped (`a < b` is `b > a`).
    pub fn mirrored(self) -> BinaryOp {
        match self {
            BinaryOp::Less => BinaryOp::Greater,
            BinaryOp::LessOrEqual => BinaryOp::GreaterOrEqual,
            BinaryOp::Greater => BinaryOp::Less,
            BinaryOp::GreaterOrEqual => BinaryOp::LessOrEqual,
            other => other,
        }
    }
}

/// Lookbacks (`term[n]`) and the window of `highest`/`lowest` stay within this many bars.
pub const MAX_LOOKBACK: u32 = 1000;

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// The direct sub-expressions.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Lookback { term, .. } => vec![term],
            ExprKind::Unary { operand, .. } => vec![operand],
            ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Call { args, .. } => args.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Calls `visit` on this node and every node below it, parents first.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Expr)) {
        visit(self);
        for child in self.children() {
            child.walk(visit);
        }
    }

    /// The same tree with every span cleared: two conditions that differ only in layout
    /// compare equal this way.
    pub fn without_spans(&self) -> Expr {
        let kind = match &self.kind {
            ExprKind::Lookback { term, bars } => ExprKind::Lookback {
                term: Box::new(term.without_spans()),
                bars: *bars,
            },
            ExprKind::Unary { op, operand } => ExprKind::Unary {
                op: *op,
                operand: Box::new(operand.without_spans()),
            },
            ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op: *op,
                lhs: Box::new(lhs.without_spans()),
                rhs: Box::new(rhs.without_spans()),
            },
            ExprKind::Call { function, args } => ExprKind::Call {
                function: function.clone(),
                args: args.iter().map(Expr::without_spans).collect(),
            },
            other => other.clone(),
        };
        Expr {
            kind,
            span: Span::default(),
        }
    }

    /// The operands of a chain of one logical operator: `a AND b AND c` gives `[a, b, c]`;
    /// anything else gives itself.
    pub fn clauses(&self, connective: BinaryOp) -> Vec<&Expr> {
        let mut clauses = Vec::new();
        fn collect<'a>(expr: &'a Expr, connective: BinaryOp, clauses: &mut Vec<&'a Expr>) {
            match &expr.kind {
                ExprKind::Binary { op, lhs, rhs } if *op == connective => {
                    collect(lhs, connective, clauses);
                    collect(rhs, connective, clauses);
                }
                _ => clauses.push(expr),
            }
        }
        collect(self, connective, &mut clauses);
        clauses
    }
}
