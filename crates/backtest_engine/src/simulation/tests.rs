//! The simulation's rules, each on a few hand-made bars: fills at the next open, stops and
//! take-profits, trailing stops, costs, sizing, stacked positions, metrics and the risk limits.

use super::*;
use crate::backtest_document;
use crate::candles::Candle;
use strategy_language::model::Format;

/// Bars as (open, high, low, close), one day apart.
fn candles(bars: &[(f64, f64, f64, f64)]) -> Candles {
    let mut candles = Candles::default();
    for (day, (open, high, low, close)) in bars.iter().enumerate() {
        candles.push(Candle {
            time: day as i64 * 86_400,
            open: *open,
            high: *high,
            low: *low,
            close: *close,
            volume: 1.0,
        });
    }
    candles
}

fn document(entry: &str, exit: &str, sizing: &str, risk: &str) -> String {
    format!(
        "name: Simulation rules\ntrading_pair: BTC/USD\ntimeframe: 1d\nindicators:\n  - {{ type: sma, name: sma_2, parameters: {{ period: 2 }} }}\n\
         entry_conditions: {entry}\nexit_conditions: {exit}\nposition_sizing:\n{sizing}\nrisk_parameters:\n  max_daily_loss: 1\n  max_drawdown: 1\n{risk}"
    )
}

fn run(text: &str, bars: &[(f64, f64, f64, f64)], settings: BacktestSettings) -> BacktestReport {
    backtest_document(text, Format::Yaml, &candles(bars), &settings).unwrap()
}

const ALL_IN: &str = "  type: percentage\n  percentage_of_capital: 1";
const FLAT: (f64, f64, f64, f64) = (100.0, 100.0, 100.0, 100.0);

#[test]
fn a_run_asked_to_stop_ends_at_the_next_block_of_bars() {
    // In the market on every bar, so the bars are stepped one by one.
    let text = document("close > 0", "close < 0", ALL_IN, "");
    let bars = vec![FLAT; 3 * BARS_BETWEEN_STOP_CHECKS];
    let asked = std::cell::Cell::new(0);
    let stopped = crate::backtest_document_until(
        &text,
        Format::Yaml,
        &candles(&bars),
        &BacktestSettings::default(),
        &|| {
            asked.set(asked.get() + 1);
            asked.get() >= 3
        },
    );
    assert_eq!(stopped.unwrap_err(), BacktestError::Stopped);
    // Before the indicators, after them, and at the first block of bars.
    assert_eq!(asked.get(), 3);
    let never = crate::backtest_document_until(
        &text,
        Format::Yaml,
        &candles(&bars),
        &BacktestSettings::default(),
        &|| false,
    );
    assert_eq!(never.unwrap().equity_curve.len(), bars.len());
}

#[test]
fn a_signal_at_a_close_fills_at_the_next_open_and_an_open_trade_is_sold_at_the_last_close() {
    let text = document("close > 0", "close < 0", ALL_IN, "");
    let report = run(
        &text,
        &[
            FLAT,
            (110.0, 120.0, 105.0, 115.0),
            (116.0, 130.0, 115.0, 125.0),
        ],
        BacktestSettings::default(),
    );
    let trade = &report.trades[0];
    assert_eq!((trade.entry_bar, trade.entry_price), (1, 110.0));
    assert_eq!(
        (trade.exit_bar, trade.exit_price, trade.exit_reason),
        (2, 125.0, ExitReason::EndOfData)
    );
    assert!((report.metrics.final_equity - 10_000.0 * 125.0 / 110.0).abs() < 1e-9);
}

#[test]
fn a_stop_loss_fills_at_its_level_or_at_the_open_when_the_bar_gaps_through_it() {
    let text = document(
        "close > 0",
        "close < 0",
        ALL_IN,
        "  stop_loss_percentage: 0.1\n",
    );
    let touched = run(
        &text,
        &[FLAT, FLAT, (95.0, 96.0, 89.0, 90.0), FLAT],
        BacktestSettings::default(),
    );
    assert_eq!(
        (touched.trades[0].exit_bar, touched.trades[0].exit_price),
        (2, 90.0)
    );
    assert_eq!(touched.trades[0].exit_reason, ExitReason::StopLoss);
    let gapped = run(
        &text,
        &[FLAT, FLAT, (85.0, 96.0, 80.0, 90.0), FLAT],
        BacktestSettings::default(),
    );
    assert_eq!(
        (gapped.trades[0].exit_bar, gapped.trades[0].exit_price),
        (2, 85.0)
    );
}

#[test]
fn a_take_profit_fills_at_its_level_and_a_bar_reaching_both_levels_counts_as_stopped() {
    let text = document(
        "close > 0",
        "close < 0",
        ALL_IN,
        "  stop_loss_percentage: 0.1\n  take_profit_percentage: 0.2\n",
    );
    let target = run(
        &text,
        &[FLAT, FLAT, (101.0, 125.0, 99.0, 110.0), FLAT],
        BacktestSettings::default(),
    );
    assert_eq!(
        (target.trades[0].exit_price, target.trades[0].exit_reason),
        (120.0, ExitReason::TakeProfit)
    );
    let both = run(
        &text,
        &[FLAT, FLAT, (101.0, 125.0, 85.0, 110.0), FLAT],
        BacktestSettings::default(),
    );
    assert_eq!(
        (both.trades[0].exit_price, both.trades[0].exit_reason),
        (90.0, ExitReason::StopLoss)
    );
}

#[test]
fn a_trailing_stop_follows_the_highest_high_of_earlier_bars() {
    let text = document(
        "close > 0",
        "close < 0",
        ALL_IN,
        "  trailing_stop_percentage: 0.1\n",
    );
    let report = run(
        &text,
        &[
            FLAT,
            FLAT,
            (110.0, 150.0, 105.0, 140.0),
            (140.0, 141.0, 130.0, 131.0),
            FLAT,
        ],
        BacktestSettings::default(),
    );
    assert_eq!(
        (report.trades[0].exit_bar, report.trades[0].exit_price),
        (3, 135.0)
    );
    assert_eq!(report.trades[0].exit_reason, ExitReason::TrailingStop);
}

#[test]
fn commission_and_slippage_are_paid_on_each_side() {
    let text = document("close > 0", "close > 0", ALL_IN, "");
    let settings = BacktestSettings {
        commission: 0.01,
        slippage: 0.02,
        ..BacktestSettings::default()
    };
    let report = run(&text, &[FLAT, FLAT, FLAT, FLAT], settings);
    let trade = &report.trades[0];
    assert_eq!((trade.entry_price, trade.exit_price), (102.0, 98.0));
    let quantity = 10_000.0 / (102.0 * 1.01);
    assert!((trade.quantity - quantity).abs() < 1e-9);
    let expected_pnl = quantity * 98.0 * 0.99 - 10_000.0;
    assert!(
        (trade.pnl - expected_pnl).abs() < 1e-9,
        "{} vs {expected_pnl}",
        trade.pnl
    );
}

#[test]
fn fixed_amount_risk_based_and_capped_sizes_buy_what_they_say() {
    let bars = [FLAT, FLAT, FLAT];
    let fixed = run(
        &document(
            "close > 0",
            "close < 0",
            "  type: fixed_amount\n  fixed_amount: 2500",
            "",
        ),
        &bars,
        BacktestSettings::default(),
    );
    assert!((fixed.trades[0].quantity - 25.0).abs() < 1e-9);
    let risk = run(
        &document(
            "close > 0",
            "close < 0",
            "  type: risk_based\n  risk_per_trade: 0.01",
            "  stop_loss_percentage: 0.05\n",
        ),
        &bars,
        BacktestSettings::default(),
    );
    // Risking 1% of 10,000 with a 5% stop buys 2,000 worth.
    assert!((risk.trades[0].quantity - 20.0).abs() < 1e-9);
    let capped = run(
        &document(
            "close > 0",
            "close < 0",
            "  type: percentage\n  percentage_of_capital: 1\n  max_position_size: 0.3",
            "",
        ),
        &bars,
        BacktestSettings::default(),
    );
    assert!((capped.trades[0].quantity - 30.0).abs() < 1e-9);
}

#[test]
fn max_concurrent_positions_lets_entries_stack_up_to_the_limit() {
    let text = document(
        "close > 0",
        "close < 0",
        "  type: fixed_amount\n  fixed_amount: 1000",
        "  max_concurrent_positions: 3\n",
    );
    let report = run(&text, &[FLAT; 8], BacktestSettings::default());
    assert_eq!(report.trades.len(), 3);
    assert!(report
        .trades
        .iter()
        .all(|trade| trade.exit_reason == ExitReason::EndOfData));
    assert_eq!(
        report
            .trades
            .iter()
            .map(|trade| trade.entry_bar)
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
}

#[test]
fn metrics_report_return_drawdown_win_rate_and_exposure() {
    let text = document("close > 0", "bars_in_trade >= 1", ALL_IN, "");
    let bars = [
        FLAT,
        FLAT,
        (100.0, 100.0, 50.0, 50.0),
        (50.0, 50.0, 50.0, 50.0),
        FLAT,
    ];
    let report = run(&text, &bars, BacktestSettings::default());
    let metrics = &report.metrics;
    assert_eq!(metrics.trades, report.trades.len());
    assert!((metrics.max_drawdown - 0.5).abs() < 1e-12);
    // Sold at 50 on bar 3's open and bought again there; sold at 100 on bar 4's open.
    assert_eq!(metrics.trades, 2);
    assert!(metrics.total_return.abs() < 1e-12, "{metrics:?}");
    assert_eq!(metrics.profit_factor, Some(1.0));
    assert_eq!(metrics.win_rate, Some(0.5));
    assert_eq!(report.equity_curve.len(), 5);
    assert!(metrics.exposure > 0.0 && metrics.exposure <= 1.0);
}

/// Three days of hourly bars from midnight UTC at 100, falling to 90 at bar 3's close.
fn three_days_falling_at_bar_3() -> Candles {
    (0..72)
        .map(|bar| {
            let (open, close) = match bar {
                0..3 => (100.0, 100.0),
                3 => (100.0, 90.0),
                _ => (90.0, 90.0),
            };
            Candle {
                time: bar * 3_600,
                open,
                high: open,
                low: close,
                close,
                volume: 1.0,
            }
        })
        .collect()
}

fn always_in(max_daily_loss: f64, max_drawdown: f64) -> String {
    format!(
        "name: Limits\ntrading_pair: BTC/USD\ntimeframe: 1h\nindicators:\n  - {{ type: sma, name: sma_2, parameters: {{ period: 2 }} }}\n\
         entry_conditions: close > 0\nexit_conditions: close < 0\nposition_sizing:\n{ALL_IN}\n\
         risk_parameters:\n  max_daily_loss: {max_daily_loss}\n  max_drawdown: {max_drawdown}\n"
    )
}

fn entries_and_exits(report: &BacktestReport) -> Vec<(usize, usize, ExitReason)> {
    report
        .trades
        .iter()
        .map(|trade| (trade.entry_bar, trade.exit_bar, trade.exit_reason))
        .collect()
}

#[test]
fn after_the_daily_loss_limit_no_entry_fills_until_the_next_utc_day() {
    let report = backtest_document(
        &always_in(0.05, 0.9),
        Format::Yaml,
        &three_days_falling_at_bar_3(),
        &BacktestSettings::default(),
    )
    .unwrap();
    // The entry holds at every close, but after the loss it is next taken at the close of
    // the day's first bar (24) and filled at the open of bar 25.
    assert_eq!(
        entries_and_exits(&report),
        vec![
            (1, 4, ExitReason::MaxDailyLoss),
            (25, 71, ExitReason::EndOfData)
        ]
    );
    assert_eq!(report.equity_curve.len(), 72);
    assert!(report.equity_curve[4..25]
        .iter()
        .all(|point| point.equity == report.equity_curve[4].equity));
}

#[test]
fn after_the_drawdown_limit_no_entry_fills_again() {
    let report = backtest_document(
        &always_in(1.0, 0.05),
        Format::Yaml,
        &three_days_falling_at_bar_3(),
        &BacktestSettings::default(),
    )
    .unwrap();
    assert_eq!(
        entries_and_exits(&report),
        vec![(1, 4, ExitReason::MaxDrawdown)]
    );
    assert_eq!(report.metrics.exposure, 3.0 / 72.0);
}
