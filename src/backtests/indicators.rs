//! Indicator values over whole series: one pass per indicator into a column, following
//! TA-Lib's algorithms step for step (so that values agree to rounding), and the published
//! definitions for HMA, CMF and VWAP. Undefined values (TA-Lib's lookback) are NaN.
//!
//! A series that starts with undefined values (an indicator of an indicator) is computed from
//! its first defined value on, as TA-Lib's Python wrapper does.
//!
//! SMA, EMA, RSI and Bollinger Bands are `streams.rs` run over every bar; a backtest streams
//! them instead where it can (`stream_read_indicators`).

// The loops index bars as TA-Lib's C code does, so the two can be read side by side.
#![allow(clippy::needless_range_loop)]

use std::borrow::Cow;
use std::collections::HashMap;

use crate::language::expression::ExprKind;
use crate::language::indicators::indicator_spec;
use crate::language::model::{Indicator, ParameterValue, PriceField, Source, Strategy};

use super::candles::Candles;
use super::streams::{BandOutput, Stream};
use super::BacktestError;

/// TA-Lib treats magnitudes below 1e-8 as zero in some divisions (its `TA_IS_ZERO`).
pub(super) const TA_LIB_EPSILON: f64 = 0.000_000_01;

pub(super) fn is_zero(value: f64) -> bool {
    -TA_LIB_EPSILON < value && value < TA_LIB_EPSILON
}

fn undefined(length: usize) -> Vec<f64> {
    vec![f64::NAN; length]
}

/// Runs `compute` on the part of `input` from its first defined value on and pads the result
/// back to full length with undefined values.
fn from_first_defined(input: &[f64], compute: impl FnOnce(&[f64]) -> Vec<f64>) -> Vec<f64> {
    let start = input
        .iter()
        .position(|value| !value.is_nan())
        .unwrap_or(input.len());
    if start == 0 {
        return compute(input);
    }
    let mut output = undefined(start);
    output.extend(compute(&input[start..]));
    output
}

/// Simple moving average (TA-Lib `SMA`: a running sum).
pub fn sma(input: &[f64], period: usize) -> Vec<f64> {
    Stream::sma(input, period).whole()
}

/// Weighted moving average (TA-Lib `WMA`: weights 1..=period, newest heaviest).
pub fn wma(input: &[f64], period: usize) -> Vec<f64> {
    from_first_defined(input, |input| {
        if period == 1 {
            return input.to_vec();
        }
        let mut output = undefined(input.len());
        if period == 0 || input.len() < period {
            return output;
        }
        let divider = (period * (period + 1)) as f64 / 2.0;
        let (mut weighted, mut plain) = (0.0, 0.0);
        for (index, value) in input[..period - 1].iter().enumerate() {
            plain += value;
            weighted += value * (index + 1) as f64;
        }
        let mut trailing = 0.0;
        for bar in period - 1..input.len() {
            let value = input[bar];
            plain += value;
            plain -= trailing;
            weighted += value * period as f64;
            trailing = input[bar + 1 - period];
            output[bar] = weighted / divider;
            weighted -= plain;
        }
        output
    })
}

/// Exponential moving average with factor `k`, seeded with the SMA of the `period` values that
/// end at `seed_end` (TA-Lib's `INT_EMA`; `seed_end` is `period - 1` except inside MACD).
fn ema_seeded(input: &[f64], period: usize, k: f64, seed_end: usize) -> Vec<f64> {
    let mut output = undefined(input.len());
    if period == 0 || seed_end >= input.len() || seed_end + 1 < period {
        return output;
    }
    let seed: f64 = input[seed_end + 1 - period..=seed_end].iter().sum::<f64>() / period as f64;
    let mut previous = seed;
    output[seed_end] = previous;
    for bar in seed_end + 1..input.len() {
        previous = (input[bar] - previous) * k + previous;
        output[bar] = previous;
    }
    output
}

fn ema_factor(period: usize) -> f64 {
    2.0 / (period as f64 + 1.0)
}

/// Exponential moving average (TA-Lib `EMA`: seeded with the SMA of the first `period`).
pub fn ema(input: &[f64], period: usize) -> Vec<f64> {
    Stream::ema(input, period).whole()
}

/// Hull moving average: WMA over floor(sqrt(period)) bars of 2*WMA(period/2) - WMA(period).
pub fn hma(input: &[f64], period: usize) -> Vec<f64> {
    let half = wma(input, (period / 2).max(1));
    let full = wma(input, period);
    let difference: Vec<f64> = half
        .iter()
        .zip(&full)
        .map(|(half, full)| 2.0 * half - full)
        .collect();
    wma(
        &difference,
        (period as f64).sqrt().floor().max(1.0) as usize,
    )
}

/// Kaufman adaptive moving average (TA-Lib `KAMA`, whose fast and slow periods are 2 and 30).
pub fn kama(input: &[f64], period: usize, fast_period: usize, slow_period: usize) -> Vec<f64> {
    from_first_defined(input, |input| {
        let mut output = undefined(input.len());
        if period == 0 || input.len() <= period {
            return output;
        }
        let slowest = 2.0 / (slow_period as f64 + 1.0);
        let span = 2.0 / (fast_period as f64 + 1.0) - slowest;
        let smoothing = |change: f64, volatility: f64| {
            let efficiency = if volatility <= change || is_zero(volatility) {
                1.0
            } else {
                (change / volatility).abs()
            };
            let constant = efficiency * span + slowest;
            constant * constant
        };
        let mut volatility: f64 = (0..period)
            .map(|bar| (input[bar] - input[bar + 1]).abs())
            .sum();
        let mut previous = input[period - 1];
        let mut trailing_value = input[0];
        let change = input[period] - input[0];
        previous += (input[period] - previous) * smoothing(change, volatility);
        output[period] = previous;
        for bar in period + 1..input.len() {
            let trailing = input[bar - period];
            let change = input[bar] - trailing;
            volatility -= (trailing_value - trailing).abs();
            volatility += (input[bar] - input[bar - 1]).abs();
            trailing_value = trailing;
            previous += (input[bar] - previous) * smoothing(change, volatility);
            output[bar] = previous;
        }
        output
    })
}

/// The three MACD lines.
pub struct Macd {
    pub macd: Vec<f64>,
    pub signal: Vec<f64>,
    pub histogram: Vec<f64>,
}

/// MACD (TA-Lib `MACD`: both EMAs start at the slow EMA's first bar, so the fast one is seeded
/// with the SMA of the `fast` values ending there).
pub fn macd(input: &[f64], fast: usize, slow: usize, signal: usize) -> Macd {
    let (fast, slow) = if slow < fast {
        (slow, fast)
    } else {
        (fast, slow)
    };
    let start = input
        .iter()
        .position(|value| !value.is_nan())
        .unwrap_or(input.len());
    let defined = &input[start..];
    let pad = |mut column: Vec<f64>| {
        let mut output = undefined(start);
        output.append(&mut column);
        output
    };
    let slow_line = ema_seeded(defined, slow, ema_factor(slow), slow - 1);
    let fast_line = ema_seeded(defined, fast, ema_factor(fast), slow - 1);
    let line: Vec<f64> = fast_line
        .iter()
        .zip(&slow_line)
        .map(|(f, s)| f - s)
        .collect();
    let mut signal_line = undefined(defined.len());
    if defined.len() >= slow {
        let tail = ema_seeded(&line[slow - 1..], signal, ema_factor(signal), signal - 1);
        signal_line[slow - 1..].copy_from_slice(&tail);
    }
    let first = slow - 1 + signal - 1;
    let mut macd_line = line;
    for value in macd_line.iter_mut().take(first.min(defined.len())) {
        *value = f64::NAN;
    }
    let histogram = macd_line
        .iter()
        .zip(&signal_line)
        .map(|(m, s)| m - s)
        .collect();
    Macd {
        macd: pad(macd_line),
        signal: pad(signal_line),
        histogram: pad(histogram),
    }
}

/// Relative strength index (TA-Lib `RSI`: Wilder smoothing seeded with plain averages).
pub fn rsi(input: &[f64], period: usize) -> Vec<f64> {
    Stream::rsi(input, period).whole()
}

fn true_range(high: f64, low: f64, previous_close: f64) -> f64 {
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
fn rolling_extremes(high: &[f64], low: &[f64], period: usize) -> (Vec<f64>, Vec<f64>) {
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

/// Population standard deviation from running sums of x and x² (TA-Lib `STDDEV` with one
/// deviation, which reads a variance below 1e-8 as 0).
pub fn std_dev(input: &[f64], period: usize) -> Vec<f64> {
    from_first_defined(input, |input| {
        let mut output = undefined(input.len());
        if period == 0 || input.len() < period {
            return output;
        }
        let periods = period as f64;
        let (mut sum, mut sum_of_squares) = (0.0, 0.0);
        for value in &input[..period - 1] {
            sum += value;
            sum_of_squares += value * value;
        }
        for bar in period - 1..input.len() {
            let value = input[bar];
            sum += value;
            sum_of_squares += value * value;
            let mean = sum / periods;
            let variance = sum_of_squares / periods - mean * mean;
            let trailing = input[bar + 1 - period];
            sum -= trailing;
            sum_of_squares -= trailing * trailing;
            output[bar] = if variance < TA_LIB_EPSILON {
                0.0
            } else {
                variance.sqrt()
            };
        }
        output
    })
}

/// The five Bollinger outputs.
pub struct BollingerBands {
    pub upper: Vec<f64>,
    pub middle: Vec<f64>,
    pub lower: Vec<f64>,
    pub percent_b: Vec<f64>,
    pub bandwidth: Vec<f64>,
}

/// Bollinger Bands (TA-Lib `BBANDS` with an SMA middle): the deviation comes from the running
/// sum of squares around the SMA, as TA-Lib computes it.
pub fn bollinger_bands(input: &[f64], period: usize, multiplier: f64) -> BollingerBands {
    bollinger_bands_wanted(input, period, multiplier, &|_| true)
}

/// Bollinger Bands, computing only the outputs `wanted` names (the others are left empty), so
/// a strategy that reads the upper band pays for one band.
pub fn bollinger_bands_wanted(
    input: &[f64],
    period: usize,
    multiplier: f64,
    wanted: &dyn Fn(&str) -> bool,
) -> BollingerBands {
    let band = |name: &str, output: BandOutput| {
        if wanted(name) {
            Stream::band(input, period, multiplier, output).whole()
        } else {
            Vec::new()
        }
    };
    BollingerBands {
        upper: band("upper", BandOutput::Upper),
        middle: band("middle", BandOutput::Middle),
        lower: band("lower", BandOutput::Lower),
        percent_b: band("percent_b", BandOutput::PercentB),
        bandwidth: band("bandwidth", BandOutput::Bandwidth),
    }
}

/// On-balance volume (TA-Lib `OBV`: starts at the first bar's volume).
pub fn obv(candles: &Candles) -> Vec<f64> {
    let mut output = Vec::with_capacity(candles.len());
    let mut total = 0.0;
    for bar in 0..candles.len() {
        if bar == 0 {
            total = candles.volume[0];
        } else if candles.close[bar] > candles.close[bar - 1] {
            total += candles.volume[bar];
        } else if candles.close[bar] < candles.close[bar - 1] {
            total -= candles.volume[bar];
        }
        output.push(total);
    }
    output
}

/// The money flow volume of one bar: volume weighted by where the close sits in the range.
fn money_flow_volume(candles: &Candles, bar: usize) -> f64 {
    let (high, low, close) = (candles.high[bar], candles.low[bar], candles.close[bar]);
    let range = high - low;
    if range > 0.0 {
        (((close - low) - (high - close)) / range) * candles.volume[bar]
    } else {
        0.0
    }
}

/// Accumulation/distribution line (TA-Lib `AD`).
pub fn ad_line(candles: &Candles) -> Vec<f64> {
    let mut total = 0.0;
    (0..candles.len())
        .map(|bar| {
            total += money_flow_volume(candles, bar);
            total
        })
        .collect()
}

/// Chaikin money flow: the money flow volume of `period` bars over their volume (undefined
/// when that volume is zero).
pub fn cmf(candles: &Candles, period: usize) -> Vec<f64> {
    let mut output = undefined(candles.len());
    if period == 0 {
        return output;
    }
    let (mut flow, mut volume) = (0.0, 0.0);
    for bar in 0..candles.len() {
        flow += money_flow_volume(candles, bar);
        volume += candles.volume[bar];
        if bar >= period {
            flow -= money_flow_volume(candles, bar - period);
            volume -= candles.volume[bar - period];
        }
        if bar + 1 >= period && volume > 0.0 {
            output[bar] = flow / volume;
        }
    }
    output
}

/// When VWAP starts over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VwapReset {
    Never,
    Daily,
    Weekly,
}

const SECONDS_PER_DAY: i64 = 86_400;
/// 1970-01-01 was a Thursday; shifting by 3 days makes weeks start on Monday.
const MONDAY_OFFSET: i64 = 3 * SECONDS_PER_DAY;

/// Volume-weighted average of the typical price since the last reset (UTC days; weeks from
/// Monday); undefined until some volume has traded in the period.
pub fn vwap(candles: &Candles, reset: VwapReset) -> Vec<f64> {
    let period_of = |time: i64| match reset {
        VwapReset::Never => 0,
        VwapReset::Daily => time.div_euclid(SECONDS_PER_DAY),
        VwapReset::Weekly => (time + MONDAY_OFFSET).div_euclid(7 * SECONDS_PER_DAY),
    };
    let typical = price_series(candles, PriceField::Hlc3);
    let (mut weighted, mut volume) = (0.0, 0.0);
    let mut current = None;
    (0..candles.len())
        .map(|bar| {
            let period = period_of(candles.time[bar]);
            if current != Some(period) {
                current = Some(period);
                weighted = 0.0;
                volume = 0.0;
            }
            weighted += typical[bar] * candles.volume[bar];
            volume += candles.volume[bar];
            if volume > 0.0 {
                weighted / volume
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// A price series, including the composite ones (TA-Lib `MEDPRICE`, `TYPPRICE`, `AVGPRICE`).
pub fn price_series(candles: &Candles, field: PriceField) -> Vec<f64> {
    let (open, high, low, close) = (&candles.open, &candles.high, &candles.low, &candles.close);
    match field {
        PriceField::Open => open.clone(),
        PriceField::High => high.clone(),
        PriceField::Low => low.clone(),
        PriceField::Close => close.clone(),
        PriceField::Volume => candles.volume.clone(),
        PriceField::Hl2 => (0..candles.len())
            .map(|b| (high[b] + low[b]) / 2.0)
            .collect(),
        PriceField::Hlc3 => (0..candles.len())
            .map(|b| (high[b] + low[b] + close[b]) / 3.0)
            .collect(),
        PriceField::Ohlc4 => (0..candles.len())
            .map(|b| (open[b] + high[b] + low[b] + close[b]) / 4.0)
            .collect(),
    }
}

/// A price series as an indicator's input: the stored columns are borrowed, not copied.
pub(crate) fn price_source(candles: &Candles, field: PriceField) -> Cow<'_, [f64]> {
    match field {
        PriceField::Open => Cow::Borrowed(&candles.open),
        PriceField::High => Cow::Borrowed(&candles.high),
        PriceField::Low => Cow::Borrowed(&candles.low),
        PriceField::Close => Cow::Borrowed(&candles.close),
        PriceField::Volume => Cow::Borrowed(&candles.volume),
        composite => Cow::Owned(price_series(candles, composite)),
    }
}

/// Every indicator output of a strategy, one column each, named as conditions name them
/// (`rsi_14`, `bb_20.upper`), in document order.
#[derive(Clone, Debug, Default)]
pub struct IndicatorColumns {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

impl IndicatorColumns {
    pub fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|known| known == name)
    }

    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.position(name)
            .map(|index| self.columns[index].as_slice())
    }
}

/// The column name of an indicator output: the indicator's name for a single-output one.
pub fn output_column_name(indicator: &str, output: Option<&str>) -> String {
    match output {
        Some(output) => format!("{indicator}.{output}"),
        None => indicator.to_string(),
    }
}

/// The indicator outputs a strategy's conditions read, with the outputs those indicators read
/// in turn: `None` stands for every output of the indicator.
#[derive(Clone, Debug, Default)]
pub struct ReadOutputs(Vec<(String, Option<String>)>);

impl ReadOutputs {
    pub fn of_conditions(strategy: &Strategy) -> Self {
        let mut read = Vec::new();
        for (_, condition) in strategy.conditions() {
            condition.expression.walk(&mut |expression| {
                if let ExprKind::Indicator { name, output } = &expression.kind {
                    read.push((name.clone(), output.clone()));
                }
            });
        }
        let mut followed = 0;
        while followed < read.len() {
            let source = strategy
                .indicator(&read[followed].0)
                .and_then(Indicator::source);
            if let Some(Source::Indicator { name, output }) = source {
                let entry = (name.clone(), output.clone());
                if !read.contains(&entry) {
                    read.push(entry);
                }
            }
            followed += 1;
        }
        ReadOutputs(read)
    }

    fn reads_indicator(&self, indicator: &str) -> bool {
        self.0.iter().any(|(name, _)| name == indicator)
    }

    fn reads(&self, indicator: &str, output: &str) -> bool {
        self.0.iter().any(|(name, read)| {
            name == indicator && read.as_deref().is_none_or(|read| read == output)
        })
    }
}

/// Computes every indicator of a validated strategy over the candles, each after the
/// indicators it reads.
pub fn compute_indicators(
    strategy: &Strategy,
    candles: &Candles,
) -> Result<IndicatorColumns, BacktestError> {
    compute_selected_indicators(strategy, candles, None)
}

/// Computes only the indicator outputs `read` names (what a backtest's conditions read): an
/// indicator nothing reads costs nothing.
pub fn compute_read_indicators(
    strategy: &Strategy,
    candles: &Candles,
    read: &ReadOutputs,
) -> Result<IndicatorColumns, BacktestError> {
    compute_selected_indicators(strategy, candles, Some(read))
}

/// An indicator output as a backtest reads it: its values over every bar, or a stream that
/// computes them as the bars are asked for.
#[derive(Clone, Debug)]
pub enum IndicatorOutput<'c> {
    Values(Vec<f64>),
    Stream(Stream<'c>),
}

/// The indicator outputs `read` names, named as conditions name them, as streams where the
/// indicator has one (SMA, EMA, RSI, Bollinger Bands over a price of the candles, read by no
/// other indicator) and as whole columns otherwise.
pub fn stream_read_indicators<'c>(
    strategy: &Strategy,
    candles: &'c Candles,
    read: &ReadOutputs,
) -> Result<Vec<(String, IndicatorOutput<'c>)>, BacktestError> {
    selected_indicators(strategy, candles, Some(read), true)
}

fn compute_selected_indicators(
    strategy: &Strategy,
    candles: &Candles,
    read: Option<&ReadOutputs>,
) -> Result<IndicatorColumns, BacktestError> {
    let mut columns = IndicatorColumns::default();
    for (name, output) in selected_indicators(strategy, candles, read, false)? {
        columns.names.push(name);
        columns.columns.push(match output {
            IndicatorOutput::Values(values) => values,
            IndicatorOutput::Stream(stream) => stream.whole(),
        });
    }
    Ok(columns)
}

fn selected_indicators<'c>(
    strategy: &Strategy,
    candles: &'c Candles,
    read: Option<&ReadOutputs>,
    streams: bool,
) -> Result<Vec<(String, IndicatorOutput<'c>)>, BacktestError> {
    let wanted =
        |indicator: &str, output: &str| read.is_none_or(|read| read.reads(indicator, output));
    let mut computed: HashMap<String, Vec<(String, IndicatorOutput<'c>)>> = HashMap::new();
    let mut pending: Vec<&Indicator> = strategy
        .indicators
        .iter()
        .filter(|indicator| read.is_none_or(|read| read.reads_indicator(&indicator.name)))
        .collect();
    // An indicator another one reads must be whole: the other reads it over every bar.
    let sources: Vec<&str> = pending
        .iter()
        .filter_map(|indicator| match indicator.source() {
            Some(Source::Indicator { name, .. }) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut still_pending = Vec::new();
        for indicator in pending {
            let ready = match indicator.source() {
                Some(Source::Indicator { name, .. }) => computed.contains_key(name),
                _ => true,
            };
            if !ready {
                still_pending.push(indicator);
                continue;
            }
            let source = match indicator.source() {
                Some(Source::Indicator { name, output }) => {
                    let outputs = &computed[name];
                    let found = match output {
                        Some(output) => outputs.iter().find(|(named, _)| named == output),
                        None => outputs.first().filter(|_| outputs.len() == 1),
                    };
                    Cow::Owned(match found {
                        Some((_, IndicatorOutput::Values(column))) => column.clone(),
                        Some((_, IndicatorOutput::Stream(stream))) => stream.clone().whole(),
                        None => return Err(BacktestError::UnknownSource(indicator.name.clone())),
                    })
                }
                Some(Source::Price { field }) => price_source(candles, *field),
                None => Cow::Borrowed(candles.close.as_slice()),
            };
            let wanted_here = |output: &str| wanted(&indicator.name, output);
            let streamed = match source {
                Cow::Borrowed(prices) if streams && !sources.contains(&indicator.name.as_str()) => {
                    stream_one(indicator, prices, &wanted_here)
                }
                _ => None,
            };
            let outputs = match streamed {
                Some(outputs) => outputs,
                None => compute_one(indicator, &source, candles, &wanted_here)?
                    .into_iter()
                    .map(|(name, column)| (name, IndicatorOutput::Values(column)))
                    .collect(),
            };
            computed.insert(indicator.name.clone(), outputs);
        }
        if still_pending.len() == before {
            return Err(BacktestError::IndicatorCycle(
                still_pending
                    .iter()
                    .map(|indicator| indicator.name.clone())
                    .collect(),
            ));
        }
        pending = still_pending;
    }
    let mut selected = Vec::new();
    for indicator in &strategy.indicators {
        let outputs = computed.remove(&indicator.name).unwrap_or_default();
        let single = outputs.len() == 1;
        for (output, values) in outputs {
            if !single && !wanted(&indicator.name, &output) {
                continue;
            }
            selected.push((
                output_column_name(&indicator.name, (!single).then_some(output.as_str())),
                values,
            ));
        }
    }
    Ok(selected)
}

/// An indicator's parameters, with the registry's defaults for those the document leaves out.
struct Parameters<'i>(&'i Indicator);

impl Parameters<'_> {
    fn number(&self, name: &str) -> f64 {
        self.0.number(name).unwrap_or_else(|| {
            indicator_spec(&self.0.indicator_type)
                .and_then(|spec| spec.parameter(name))
                .and_then(|parameter| match parameter.kind.default_value() {
                    ParameterValue::Number(number) => Some(number),
                    _ => None,
                })
                .unwrap_or(0.0)
        })
    }

    /// A count of bars: the number, never below 0, rounded down.
    fn whole(&self, name: &str) -> usize {
        self.number(name).max(0.0) as usize
    }
}

/// The outputs of an indicator over a price as streams, for the indicators that have one.
fn stream_one<'c>(
    indicator: &Indicator,
    source: &'c [f64],
    wanted: &dyn Fn(&str) -> bool,
) -> Option<Vec<(String, IndicatorOutput<'c>)>> {
    let parameters = Parameters(indicator);
    let period = parameters.whole("period");
    let value = |stream| Some(vec![("value".to_string(), IndicatorOutput::Stream(stream))]);
    match indicator.indicator_type.as_str() {
        "sma" => value(Stream::sma(source, period)),
        "ema" => value(Stream::ema(source, period)),
        "rsi" => value(Stream::rsi(source, period)),
        "bb" => {
            let multiplier = parameters.number("multiplier");
            Some(
                BandOutput::ALL
                    .iter()
                    .map(|&(name, output)| {
                        let output = if wanted(name) {
                            IndicatorOutput::Stream(Stream::band(
                                source, period, multiplier, output,
                            ))
                        } else {
                            IndicatorOutput::Values(Vec::new())
                        };
                        (name.to_string(), output)
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

fn compute_one(
    indicator: &Indicator,
    source: &[f64],
    candles: &Candles,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, Vec<f64>)>, BacktestError> {
    let parameters = Parameters(indicator);
    let parameter = |name: &str| parameters.whole(name);
    let period = parameter("period");
    let value = |column: Vec<f64>| vec![("value".to_string(), column)];
    let named = |pairs: Vec<(&str, Vec<f64>)>| {
        pairs
            .into_iter()
            .map(|(name, column)| (name.to_string(), column))
            .collect()
    };
    Ok(match indicator.indicator_type.as_str() {
        "sma" => value(sma(source, period)),
        "wma" => value(wma(source, period)),
        "ema" => value(ema(source, period)),
        "hma" => value(hma(source, period)),
        "kama" => value(kama(
            source,
            period,
            parameter("fast_period"),
            parameter("slow_period"),
        )),
        "macd" => {
            let lines = macd(
                source,
                parameter("fast_period"),
                parameter("slow_period"),
                parameter("signal_period"),
            );
            named(vec![
                ("macd", lines.macd),
                ("signal", lines.signal),
                ("histogram", lines.histogram),
            ])
        }
        "rsi" => value(rsi(source, period)),
        "stochastic" => {
            let lines = stochastic(
                candles,
                parameter("k_period"),
                parameter("k_smoothing"),
                parameter("d_period"),
            );
            named(vec![("k", lines.k), ("d", lines.d)])
        }
        "williams_r" => value(williams_r(candles, period)),
        "cci" => value(cci(candles, period)),
        "roc" => value(roc(source, period)),
        "momentum" => value(momentum(source, period)),
        "bb" => {
            let multiplier = parameters.number("multiplier");
            let bands = bollinger_bands_wanted(source, period, multiplier, wanted);
            named(vec![
                ("upper", bands.upper),
                ("middle", bands.middle),
                ("lower", bands.lower),
                ("percent_b", bands.percent_b),
                ("bandwidth", bands.bandwidth),
            ])
        }
        "atr" => value(atr(candles, period)),
        "adx" => value(adx(candles, period)),
        "std_dev" => value(std_dev(source, period)),
        "obv" => value(obv(candles)),
        "ad_line" => value(ad_line(candles)),
        "cmf" => value(cmf(candles, period)),
        "vwap" => {
            let reset = match indicator.parameters.get("reset") {
                Some(ParameterValue::Choice(choice)) if choice == "daily" => VwapReset::Daily,
                Some(ParameterValue::Choice(choice)) if choice == "weekly" => VwapReset::Weekly,
                _ => VwapReset::Never,
            };
            value(vwap(candles, reset))
        }
        other => return Err(BacktestError::UnknownIndicator(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtests::candles::Candle;
    use crate::language::{validate, Format};

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
                (bands.percent_b[bar] - (candles.close[bar] - lower) / (upper - lower)).abs()
                    < 1e-9
            );
            assert!((bands.bandwidth[bar] - (upper - lower) / middle[bar]).abs() < 1e-9);
        }
    }
}
