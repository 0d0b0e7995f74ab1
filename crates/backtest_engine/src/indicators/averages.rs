//! Moving averages (SMA, WMA, EMA, HMA, KAMA) and MACD, which is built from them.

use crate::streams::Stream;
use crate::tolerance::is_zero;

use super::{from_first_defined, undefined};

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
pub(super) fn ema_seeded(input: &[f64], period: usize, k: f64, seed_end: usize) -> Vec<f64> {
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

pub(super) fn ema_factor(period: usize) -> f64 {
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
