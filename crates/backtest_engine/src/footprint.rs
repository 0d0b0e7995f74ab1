//! What a run holds in memory, estimated before its bars are read, so that a server can bound
//! its engines' memory with a sentence rather than find out: per bar, the candle columns, the
//! equity curve, and at most one column for each indicator output and for each rolling
//! extreme (`highest`, `lowest`) of its conditions. Streamed outputs (`streams.rs`) hold less,
//! so the estimate is an upper bound.

use strategy_language::{
    expression::{Expr, ExprKind},
    indicators::indicator_spec,
    Strategy,
};

/// Time, open, high, low, close and volume.
const CANDLE_COLUMNS: u64 = 6;
/// Each bar's equity point: its time and its value.
const EQUITY_COLUMNS: u64 = 2;
const BYTES_PER_VALUE: u64 = 8;

/// The columns of `strategy`'s run, per bar, at most.
pub fn columns(strategy: &Strategy) -> u64 {
    let outputs: usize = strategy
        .indicators
        .iter()
        .map(|indicator| {
            indicator_spec(&indicator.indicator_type).map_or(1, |spec| spec.outputs.len().max(1))
        })
        .sum();
    let extremes: usize = strategy
        .conditions()
        .into_iter()
        .map(|(_, condition)| rolling_extremes(&condition.expression))
        .sum();
    CANDLE_COLUMNS + EQUITY_COLUMNS + outputs as u64 + extremes as u64
}

/// The bytes a run of `strategy` over `bars` bars holds, at most.
pub fn estimated_bytes(strategy: &Strategy, bars: u64) -> u64 {
    bars.saturating_mul(columns(strategy))
        .saturating_mul(BYTES_PER_VALUE)
}

fn rolling_extremes(expr: &Expr) -> usize {
    match &expr.kind {
        ExprKind::Call { function, args } => {
            usize::from(matches!(function.as_str(), "highest" | "lowest"))
                + args.iter().map(rolling_extremes).sum::<usize>()
        }
        ExprKind::Lookback { term, .. } => rolling_extremes(term),
        ExprKind::Unary { operand, .. } => rolling_extremes(operand),
        ExprKind::Binary { lhs, rhs, .. } => rolling_extremes(lhs) + rolling_extremes(rhs),
        ExprKind::Number { .. }
        | ExprKind::Bool { .. }
        | ExprKind::Price { .. }
        | ExprKind::Position { .. }
        | ExprKind::Indicator { .. } => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strategy_language::{validate, Format};

    #[test]
    fn a_run_counts_its_candles_equity_indicator_outputs_and_rolling_extremes() {
        let document = "name: Sized\ntrading_pair: BTC/USD\ntimeframe: 1h\nindicators:\n  \
            - type: rsi\n    name: rsi_14\n    parameters:\n      period: 14\n  \
            - type: macd\n    name: m\nentry_conditions: rsi_14 < 30 AND highest(high, 20) > close\n\
            exit_conditions: m.macd > m.signal OR lowest(low, 5) < close\n\
            position_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\n\
            risk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n";
        let strategy = validate(document, Format::Yaml).into_valid().unwrap();
        // 6 candle + 2 equity + rsi 1 + macd 3 + two extremes.
        assert_eq!(columns(&strategy), 14);
        assert_eq!(estimated_bytes(&strategy, 1_000), 14 * 8 * 1_000);
    }
}
