//! Whole-series indicators: Bollinger Bands in one pass match their definitions, and a backtest
//! computes the outputs its conditions read and the sources of those only.

use crate::candles::{Candle, Candles};

use super::averages::sma;
use super::bands::{bollinger_bands, std_dev};
use super::{compute_indicators, compute_read_indicators, ReadOutputs};

use strategy_language::{validate, Format};

fn zigzag(bars: usize) -> Candles {
    (0..bars)
        .map(|bar| {
            let close = 100.0 + (bar % 7) as f64 - (bar % 3) as f64 * 1.5;
            Candle {
                time: bar as i64 * 3_600,
                open: close - 0.25,
                high: close + 1.0,
                low: close - 1.0,
                close,
                volume: 10.0 + (bar % 5) as f64,
            }
        })
        .collect()
}

const STRATEGY: &str = "name: Reads few outputs\ntrading_pair: BTC/USD\ntimeframe: 1h\n\
    indicators:\n\
    \x20 - { type: sma, name: sma_5, parameters: { period: 5 } }\n\
    \x20 - { type: ema, name: smooth, parameters: { period: 3, source: sma_5 } }\n\
    \x20 - { type: bb, name: bb_20, parameters: { period: 20, multiplier: 2.0 } }\n\
    \x20 - { type: atr, name: atr_14, parameters: { period: 14 } }\n\
    entry_conditions: close > bb_20.upper AND smooth > 0\n\
    exit_conditions: close < bb_20.lower\n\
    position_sizing:\n  type: percentage\n  percentage_of_capital: 0.5\n\
    risk_parameters:\n  max_daily_loss: 1\n  max_drawdown: 1\n";

#[test]
fn a_backtest_computes_the_outputs_its_conditions_read_and_the_sources_of_those_only() {
    let strategy = validate(STRATEGY, Format::Yaml).into_valid().unwrap();
    let candles = zigzag(60);
    let read = ReadOutputs::of_conditions(&strategy);
    let selected = compute_read_indicators(&strategy, &candles, &read).unwrap();
    assert_eq!(
        selected.names,
        vec!["sma_5", "smooth", "bb_20.upper", "bb_20.lower"]
    );
    let every = compute_indicators(&strategy, &candles).unwrap();
    assert_eq!(every.names.len(), 8);
    for (name, column) in selected.names.iter().zip(&selected.columns) {
        let all = every.column(name).unwrap();
        assert!(column
            .iter()
            .zip(all)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

#[test]
fn bollinger_bands_computed_in_one_pass_match_their_definitions() {
    let candles = zigzag(60);
    let bands = bollinger_bands(&candles.close, 20, 2.0);
    let middle = sma(&candles.close, 20);
    let deviation = std_dev(&candles.close, 20);
    for bar in 0..60 {
        if bar < 19 {
            assert!(bands.upper[bar].is_nan() && bands.percent_b[bar].is_nan());
            continue;
        }
        let (upper, lower) = (
            middle[bar] + 2.0 * deviation[bar],
            middle[bar] - 2.0 * deviation[bar],
        );
        assert!((bands.upper[bar] - upper).abs() < 1e-9);
        assert!((bands.lower[bar] - lower).abs() < 1e-9);
        assert!(
            (bands.percent_b[bar] - (candles.close[bar] - lower) / (upper - lower)).abs() < 1e-9
        );
        assert!((bands.bandwidth[bar] - (upper - lower) / middle[bar]).abs() < 1e-9);
    }
}
