//! The canonical form of a condition: one space around binary operators, `AND`/`OR`/`NOT` in
//! capitals, parentheses only where precedence needs them. Parsing the printed text gives
//! back the same tree.

use std::fmt::Write;

use super::tree::{Expr, ExprKind, UnaryOp};

/// Precedence of `NOT` (between AND and comparisons) and of unary minus (above `*`).
const NOT_PRECEDENCE: u8 = 3;
const NEGATE_PRECEDENCE: u8 = 7;

pub fn print_expression(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(expr, 0, &mut out);
    out
}

fn precedence(expr: &Expr) -> u8 {
    match &expr.kind {
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => NOT_PRECEDENCE,
        ExprKind::Unary {
            op: UnaryOp::Negate,
            ..
        } => NEGATE_PRECEDENCE,
        // A negative literal reads as a unary minus.
        ExprKind::Number { value } if value.is_sign_negative() => NEGATE_PRECEDENCE,
        _ => u8::MAX,
    }
}

/// Writes `expr` where the context binds with `context`; parenthesises when it binds looser.
fn write_expr(expr: &Expr, context: u8, out: &mut String) {
    let own = precedence(expr);
    let parenthesised = own < context;
    if parenthesised {
        out.push('(');
    }
    match &expr.kind {
        ExprKind::Number { value } => {
            let _ = write!(out, "{value}");
        }
        ExprKind::Bool { value } => out.push_str(if *value { "true" } else { "false" }),
        ExprKind::Price { field } => out.push_str(field.name()),
        ExprKind::Position { variable } => out.push_str(variable.name()),
        ExprKind::Indicator { name, output } => {
            out.push_str(name);
            if let Some(output) = output {
                out.push('.');
                out.push_str(output);
            }
        }
        ExprKind::Lookback { term, bars } => {
            write_expr(term, u8::MAX, out);
            let _ = write!(out, "[{bars}]");
        }
        ExprKind::Unary { op, operand } => match op {
            UnaryOp::Not => {
                out.push_str("NOT ");
                write_expr(operand, NOT_PRECEDENCE, out);
            }
            UnaryOp::Negate => {
                // `--x` reads back as two minus signs, so a nested minus needs no
                // parentheses (which would double the nesting a long chain needs to parse).
                out.push('-');
                write_expr(operand, NEGATE_PRECEDENCE, out);
            }
        },
        ExprKind::Binary { op, lhs, rhs } => {
            // Left-associative, so the right side needs parentheses at equal precedence;
            // comparisons do not chain, so both of their sides do.
            let left_context = if op.is_comparison() { own + 1 } else { own };
            write_expr(lhs, left_context, out);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_expr(rhs, own + 1, out);
        }
        ExprKind::Call { function, args } => {
            out.push_str(function);
            out.push('(');
            for (index, arg) in args.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_expr(arg, 0, out);
            }
            out.push(')');
        }
    }
    if parenthesised {
        out.push(')');
    }
}
