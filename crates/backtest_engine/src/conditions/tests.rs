//! Compiled conditions against hand-made series: three-valued truth, crossings, lookbacks,
//! blocks and streamed columns agree with a bar-by-bar reading.

use crate::candles::{Candle, Candles};
use crate::indicators::{IndicatorColumns, IndicatorOutput};
use crate::streams::Stream;

use super::compile::compile_condition;
use super::position::PositionView;
use super::store::{ColumnStore, Series};
use super::{CompiledCondition, LARGEST_BLOCK};

use strategy_language::expression::parse_condition;

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
    let mut uniform = crate::seeded::uniforms(0x2545_F491_4F6C_DD1D);
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
