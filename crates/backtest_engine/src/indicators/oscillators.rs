//! Oscillators and ranges: RSI, true range, ATR, ADX, rolling highs and lows, stochastic,
//! Williams %R, CCI, rate of change and momentum.

use crate::candles::Candles;
use crate::streams::Stream;
use crate::tolerance::is_zero;
use strategy_language::model::PriceField;

use super::averages::sma;
use super::{from_first_defined, price_series, undefined};

/// Relative strength index (TA-Lib `RSI`: Wilder smoothing seeded with plain averages).
pub fn rsi(input: &[f64], period: usize) -> Vec<f64> {
    Stream::rsi(input, period).whole()
}

pub(super) fn true_range(high: f64, low: f64, previous_close: f64) -> f64 {
    let mut range = high - low;
    let up = (high - previous_close).abs();
    if up > range {
        range = up;
    }
    let down = (low - previous_close).abs();
    if down > range {
        range = down;
    }
    range
}

/// Average true range (TA-Lib `ATR`: Wilder smoothing of the true range, seeded with its SMA).
pub fn atr(candles: &Candles, period: usize) -> Vec<f64> {
    let length = candles.len();
    let mut output = undefined(length);
    let ranges: Vec<f64> = (1..length)
        .map(|bar| true_range(candles.high[bar], candles.low[bar], candles.close[bar - 1]))
        .collect();
    if period <= 1 {
        output[1..].copy_from_slice(&ranges[..length.saturating_sub(1)]);
        return output;
    }
    if length <= period {
        return output;
    }
    let periods = period as f64;
    let mut average = ranges[..period].iter().sum::<f64>() / periods;
    output[period] = average;
    for bar in period + 1..length {
        average = (average * (periods - 1.0) + ranges[bar - 1]) / periods;
        output[bar] = average;
    }
    output
}

/// Average directional index (TA-Lib `ADX`).
pub fn adx(candles: &Candles, period: usize) -> Vec<f64> {
    let length = candles.len();
    let mut output = undefined(length);
    if period == 0 || length < 2 * period {
        return output;
    }
    let periods = period as f64;
    let (high, low, close) = (&candles.high, &candles.low, &candles.close);
    let (mut plus_dm, mut minus_dm, mut range) = (0.0, 0.0, 0.0);
    let movement = |bar: usize| {
        let up = high[bar] - high[bar - 1];
        let down = low[bar - 1] - low[bar];
        if down > 0.0 && up < down {
            (0.0, down)
        } else if up > 0.0 && up > down {
            (up, 0.0)
        } else {
            (0.0, 0.0)
        }
    };
    for bar in 1..period {
        let (up, down) = movement(bar);
        plus_dm += up;
        minus_dm += down;
        range += true_range(high[bar], low[bar], close[bar - 1]);
    }
    let directional_index = |plus_dm: f64, minus_dm: f64, range: f64| -> Option<f64> {
        if is_zero(range) {
            return None;
        }
        let minus = 100.0 * (minus_dm / range);
        let plus = 100.0 * (plus_dm / range);
        let total = minus + plus;
        (!is_zero(total)).then(|| 100.0 * ((minus - plus).abs() / total))
    };
    let step = |bar: usize, plus_dm: &mut f64, minus_dm: &mut f64, range: &mut f64| {
        let (up, down) = movement(bar);
        *minus_dm -= *minus_dm / periods;
        *plus_dm -= *plus_dm / periods;
        *minus_dm += down;
        *plus_dm += up;
        *range = *range - *range / periods + true_range(high[bar], low[bar], close[bar - 1]);
    };
    let mut sum = 0.0;
    for bar in period..2 * period {
        step(bar, &mut plus_dm, &mut minus_dm, &mut range);
        if let Some(index) = directional_index(plus_dm, minus_dm, range) {
            sum += index;
        }
    }
    let mut average = sum / periods;
    output[2 * period - 1] = average;
    for bar in 2 * period..length {
        step(bar, &mut plus_dm, &mut minus_dm, &mut range);
        if let Some(index) = directional_index(plus_dm, minus_dm, range) {
            average = (average * (periods - 1.0) + index) / periods;
        }
        output[bar] = average;
    }
    output
}

/// Highest and lowest of a window ending at each bar, over the bars that have a full window.
pub(super) fn rolling_extremes(high: &[f64], low: &[f64], period: usize) -> (Vec<f64>, Vec<f64>) {
    (
        rolling_extreme(high, period, true),
        rolling_extreme(low, period, false),
    )
}

/// The maximum (or minimum) of the `period` values ending at each bar, in O(n) with a
/// monotonic queue; undefined until a full window, and while the window holds an undefined value.
pub fn rolling_extreme(input: &[f64], period: usize, highest: bool) -> Vec<f64> {
    let mut output = undefined(input.len());
    if period == 0 {
        return output;
    }
    let mut queue = std::collections::VecDeque::<usize>::new();
    let mut last_undefined: Option<usize> = None;
    let better = |a: f64, b: f64| if highest { a >= b } else { a <= b };
    for bar in 0..input.len() {
        let value = input[bar];
        if value.is_nan() {
            last_undefined = Some(bar);
        }
        while queue.back().is_some_and(|&back| better(value, input[back])) {
            queue.pop_back();
        }
        queue.push_back(bar);
        while queue.front().is_some_and(|&front| front + period <= bar) {
            queue.pop_front();
        }
        let window_defined = last_undefined.is_none_or(|undefined| undefined + period <= bar);
        if bar + 1 >= period && window_defined {
            output[bar] = input[*queue.front().unwrap_or(&bar)];
        }
    }
    output
}

/// The two lines of the slow stochastic.
pub struct Stochastic {
    pub k: Vec<f64>,
    pub d: Vec<f64>,
}

/// Slow stochastic (TA-Lib `STOCH` with SMA smoothing for %K and %D).
pub fn stochastic(
    candles: &Candles,
    k_period: usize,
    k_smoothing: usize,
    d_period: usize,
) -> Stochastic {
    let (highest, lowest) = rolling_extremes(&candles.high, &candles.low, k_period);
    let fast_k: Vec<f64> = (0..candles.len())
        .map(|bar| {
            let range = highest[bar] - lowest[bar];
            if range.is_nan() {
                f64::NAN
            } else if range != 0.0 {
                (candles.close[bar] - lowest[bar]) / (range / 100.0)
            } else {
                0.0
            }
        })
        .collect();
    let k = sma(&fast_k, k_smoothing);
    let d = sma(&k, d_period);
    // TA-Lib aligns both lines to the first bar where %D exists.
    let first = (k_period - 1) + (k_smoothing - 1) + (d_period - 1);
    let mut k = k;
    for value in k.iter_mut().take(first) {
        *value = f64::NAN;
    }
    Stochastic { k, d }
}

/// Williams %R (TA-Lib `WILLR`).
pub fn williams_r(candles: &Candles, period: usize) -> Vec<f64> {
    let (highest, lowest) = rolling_extremes(&candles.high, &candles.low, period);
    (0..candles.len())
        .map(|bar| {
            let divisor = (highest[bar] - lowest[bar]) / -100.0;
            if divisor.is_nan() {
                f64::NAN
            } else if divisor != 0.0 {
                (highest[bar] - candles.close[bar]) / divisor
            } else {
                0.0
            }
        })
        .collect()
}

/// Commodity channel index (TA-Lib `CCI`: typical price against its SMA, in units of 0.015
/// mean absolute deviation).
pub fn cci(candles: &Candles, period: usize) -> Vec<f64> {
    let typical = price_series(candles, PriceField::Hlc3);
    let mut output = undefined(candles.len());
    if period == 0 {
        return output;
    }
    for bar in period.saturating_sub(1)..typical.len() {
        let window = &typical[bar + 1 - period..=bar];
        let average = window.iter().sum::<f64>() / period as f64;
        let deviation: f64 = window.iter().map(|value| (value - average).abs()).sum();
        let distance = typical[bar] - average;
        output[bar] = if distance != 0.0 && deviation != 0.0 {
            distance / (0.015 * (deviation / period as f64))
        } else {
            0.0
        };
    }
    output
}

/// Rate of change in percent (TA-Lib `ROC`).
pub fn roc(input: &[f64], period: usize) -> Vec<f64> {
    from_first_defined(input, |input| {
        (0..input.len())
            .map(|bar| match bar.checked_sub(period) {
                Some(earlier) if input[earlier] != 0.0 => {
                    (input[bar] / input[earlier] - 1.0) * 100.0
                }
                Some(_) => 0.0,
                None => f64::NAN,
            })
            .collect()
    })
}

/// Momentum: the change over `period` bars (TA-Lib `MOM`).
pub fn momentum(input: &[f64], period: usize) -> Vec<f64> {
    from_first_defined(input, |input| {
        (0..input.len())
            .map(|bar| {
                bar.checked_sub(period)
                    .map_or(f64::NAN, |earlier| input[bar] - input[earlier])
            })
            .collect()
    })
}
