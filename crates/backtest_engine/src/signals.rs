//! The editor's signal preview: on which of the last bars each condition of a strategy holds,
//! computed by the engine itself (indicators over the whole series, the conditions compiled
//! once), so the preview and a backtest never disagree. It runs on the server (the editor asks
//! for it), and its answer crosses a server function.
//!
//! A condition that reads the open position (`bars_in_trade >= 20`, `unrealized_pnl_pct <
//! -0.03`) has a truth only while a trade is open: it is evaluated on the bars where a backtest
//! of the same candles (default settings) holds a trade, with that trade's position, as the
//! simulation evaluates it. A condition without position variables is evaluated on every bar.

use super::candles::Candles;
use super::conditions::{
    compile_condition, ColumnStore, CompiledCondition, HeldPosition, PositionView,
};
use super::indicators::compute_indicators;
use super::simulation::{run_backtest, BacktestSettings};
use super::trades::Trade;
use super::BacktestError;
use strategy_language::model::Strategy;

/// How many of the last bars the editor's preview shows (the bars before them warm indicators
/// up).
pub const SHOWN_BARS: usize = 300;

/// The truth of one condition on each shown bar.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConditionBars {
    /// One per shown bar: whether the condition holds at its close.
    pub fires: Vec<bool>,
    /// One per shown bar: whether the condition has a truth there (every bar, or for a
    /// condition that reads the position, the bars with an open trade).
    pub checked: Vec<bool>,
    /// Whether the condition reads the open position.
    pub reads_position: bool,
}

impl ConditionBars {
    pub fn fired(&self) -> usize {
        self.fires.iter().filter(|&&fires| fires).count()
    }

    pub fn checked_bars(&self) -> usize {
        self.checked.iter().filter(|&&checked| checked).count()
    }

    /// How often it fires, for the preview's sentence and warning.
    pub fn firing(&self) -> Firing {
        let (fired, checked) = (self.fired(), self.checked_bars());
        if checked == 0 {
            Firing::Unchecked
        } else if fired == 0 {
            Firing::Never
        } else if fired == checked && checked > 1 {
            Firing::Always
        } else {
            Firing::Sometimes
        }
    }
}

/// How often a condition fires on the bars where it was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firing {
    /// No bar to check it on (a position condition without any trade).
    Unchecked,
    Never,
    Sometimes,
    /// On every checked bar.
    Always,
}

/// The preview of a strategy over the last bars of a series.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SignalBars {
    /// The index in the candles of the first shown bar (the bars before it warm indicators up).
    pub first_bar: usize,
    pub entry: ConditionBars,
    pub exit: ConditionBars,
    pub stop: Option<ConditionBars>,
}

/// Evaluates the strategy's conditions on the last `shown` bars of `candles`.
pub fn signal_bars(
    strategy: &Strategy,
    candles: &Candles,
    shown: usize,
) -> Result<SignalBars, BacktestError> {
    if candles.is_empty() {
        return Err(BacktestError::NoCandles);
    }
    let first_bar = candles.len().saturating_sub(shown);
    let mut store = ColumnStore::new(candles, compute_indicators(strategy, candles)?);
    let missing = |field: &str| BacktestError::Unsupported(format!("a strategy without {field}"));
    let entry = strategy
        .entry_conditions
        .as_ref()
        .ok_or_else(|| missing("entry_conditions"))?;
    let exit = strategy
        .exit_conditions
        .as_ref()
        .ok_or_else(|| missing("exit_conditions"))?;
    let mut entry = compile_condition(&entry.expression, candles, &mut store)?;
    let mut exit = compile_condition(&exit.expression, candles, &mut store)?;
    let mut stop = strategy
        .stop_conditions
        .as_ref()
        .map(|stop| compile_condition(&stop.expression, candles, &mut store))
        .transpose()?;
    let reads_position = entry.reads_position()
        || exit.reads_position()
        || stop.as_ref().is_some_and(CompiledCondition::reads_position);
    // Only position conditions need the trades, and only then is a backtest run.
    let trades = if reads_position {
        run_backtest(strategy, candles, &BacktestSettings::default())?.trades
    } else {
        Vec::new()
    };
    let mut evaluate = |condition: &mut CompiledCondition| {
        condition_bars(condition, &mut store, candles, &trades, first_bar)
    };
    Ok(SignalBars {
        first_bar,
        entry: evaluate(&mut entry),
        exit: evaluate(&mut exit),
        stop: stop.as_mut().map(evaluate),
    })
}

fn condition_bars(
    condition: &mut CompiledCondition,
    store: &mut ColumnStore,
    candles: &Candles,
    trades: &[Trade],
    first_bar: usize,
) -> ConditionBars {
    let bars = first_bar..candles.len();
    if !condition.reads_position() {
        let flat = PositionView::default();
        return ConditionBars {
            fires: bars
                .clone()
                .map(|bar| condition.fires(store, bar, &flat))
                .collect(),
            checked: vec![true; bars.len()],
            reads_position: false,
        };
    }
    let mut fires = vec![false; bars.len()];
    let mut checked = vec![false; bars.len()];
    for trade in trades {
        let mut held = HeldPosition {
            entry_bar: trade.entry_bar,
            entry_price: trade.entry_price,
            quantity: trade.quantity,
            best_close: trade.entry_price,
        };
        // The simulation decides at each close from the entry bar until the exit fills.
        for bar in trade.entry_bar..trade.exit_bar.min(candles.len()) {
            let close = candles.close[bar];
            held.best_close = held.best_close.max(close);
            if bar < first_bar {
                continue;
            }
            let view = PositionView::at_close(&held, bar, close);
            checked[bar - first_bar] = true;
            fires[bar - first_bar] |= condition.fires(store, bar, &view);
        }
    }
    ConditionBars {
        fires,
        checked,
        reads_position: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candles::Candle;
    use strategy_language::{validate, Format};

    /// Closes rising by one from 100, then falling by one: 20 bars each way.
    fn up_then_down() -> Candles {
        (0..40)
            .map(|bar| {
                let close = if bar < 20 {
                    100.0 + bar as f64
                } else {
                    139.0 - bar as f64
                };
                Candle {
                    time: 1_700_000_000 + bar * 86_400,
                    open: close,
                    high: close + 0.5,
                    low: close - 0.5,
                    close,
                    volume: 1.0,
                }
            })
            .collect()
    }

    fn strategy(entry: &str, exit: &str, stop: Option<&str>) -> Strategy {
        let stop = stop.map_or(String::new(), |stop| {
            format!("stop_conditions: \"{stop}\"\n")
        });
        let text = format!(
            "name: Preview\ntrading_pair: BTC/USD\ntimeframe: 1d\nindicators:\n  - type: sma\n    name: sma_3\n    parameters:\n      period: 3\nentry_conditions: \"{entry}\"\nexit_conditions: \"{exit}\"\n{stop}position_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.9\n  max_drawdown: 0.9\n"
        );
        validate(&text, Format::Yaml)
            .into_valid()
            .unwrap_or_else(|errors| panic!("{errors:?}"))
    }

    #[test]
    fn a_price_condition_is_counted_on_every_shown_bar() {
        let candles = up_then_down();
        let preview =
            signal_bars(&strategy("close > 110", "close < 105", None), &candles, 30).unwrap();
        assert_eq!(preview.first_bar, 10);
        // Closes above 110: bars 11..=19 rising (111 to 119) and 20..=28 falling (119 to 111).
        assert_eq!(preview.entry.fired(), 18);
        assert_eq!(preview.entry.checked_bars(), 30);
        assert_eq!(preview.entry.firing(), Firing::Sometimes);
        assert!(preview.stop.is_none());
    }

    #[test]
    fn a_condition_that_never_or_always_holds_says_so() {
        let candles = up_then_down();
        let preview =
            signal_bars(&strategy("close > 1000", "close > 1", None), &candles, 30).unwrap();
        assert_eq!(preview.entry.firing(), Firing::Never);
        assert_eq!(preview.exit.firing(), Firing::Always);
    }

    #[test]
    fn indicators_warm_up_on_the_bars_before_the_shown_ones() {
        let candles = up_then_down();
        // sma_3 is undefined on the first two bars of the series, not of the shown window.
        let preview = signal_bars(&strategy("sma_3 > 0", "close < 0", None), &candles, 5).unwrap();
        assert_eq!(preview.entry.fired(), 5);
        let whole = signal_bars(&strategy("sma_3 > 0", "close < 0", None), &candles, 40).unwrap();
        assert_eq!(whole.entry.fired(), 38);
    }

    #[test]
    fn a_position_condition_is_checked_only_while_a_trade_is_open() {
        let candles = up_then_down();
        // Enter on the first bar (fill at bar 1's open); leave after 5 bars in the trade.
        let preview = signal_bars(
            &strategy(
                "close > 0",
                "bars_in_trade >= 5",
                Some("unrealized_pnl_pct < -0.5"),
            ),
            &candles,
            40,
        )
        .unwrap();
        assert!(preview.exit.reads_position);
        // The first trade holds bars 1..=6 (it fires at bar 6 and fills at bar 7's open).
        assert!(preview.exit.checked[1..=6].iter().all(|&checked| checked));
        assert!(!preview.exit.checked[0]);
        assert!(preview.exit.fires[6]);
        assert!(!preview.exit.fires[5]);
        let stop = preview.stop.unwrap();
        assert_eq!(stop.firing(), Firing::Never);
        assert!(stop.checked_bars() > 30);
    }
}
