//! Indicator outputs computed a stretch of bars at a time, the running state kept between
//! stretches: SMA, EMA, RSI and each output of Bollinger Bands. The whole-series functions of
//! `indicators.rs` run these over every bar, so a backtest that computes them as its conditions
//! ask (keeping only a window of recent bars, not a column as long as the series) gets the same
//! values, bit for bit, that the TA-Lib comparison checks.
//!
//! Like TA-Lib's Python wrapper, each starts at its input's first defined value.

use super::tolerance::{is_zero, TA_LIB_EPSILON};

/// Bars computed per inner loop: the loop writes into a stretch of this many zeros, which stays
/// in the first-level cache, rather than pushing (a push in the loop, or a closure borrowing the
/// running sums, makes the compiler store and reload the sums every bar, lengthening the very
/// dependency chain that bounds these loops).
const STRETCH: usize = 4096;

/// One output of Bollinger Bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandOutput {
    Upper,
    Middle,
    Lower,
    PercentB,
    Bandwidth,
}

impl BandOutput {
    pub const ALL: [(&'static str, BandOutput); 5] = [
        ("upper", BandOutput::Upper),
        ("middle", BandOutput::Middle),
        ("lower", BandOutput::Lower),
        ("percent_b", BandOutput::PercentB),
        ("bandwidth", BandOutput::Bandwidth),
    ];
}

/// An indicator output over `input`, computed up to `next`.
#[derive(Clone, Debug)]
pub struct Stream<'s> {
    input: &'s [f64],
    /// The next bar to compute.
    next: usize,
    /// The bar of the first defined value (the input's length when there is none).
    first_value: usize,
    kind: Kind,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Sma {
        period: usize,
        total: f64,
    },
    Ema {
        period: usize,
        previous: f64,
    },
    Rsi {
        period: usize,
        gain: f64,
        loss: f64,
    },
    Band {
        period: usize,
        multiplier: f64,
        output: BandOutput,
        total: f64,
        sum_of_squares: f64,
    },
}

/// The first defined value of `input`, and the bar of the first output of an indicator that
/// needs `needed` defined values before it (none past the end).
fn first_value(input: &[f64], period: usize, needed: usize) -> usize {
    let start = input
        .iter()
        .position(|value| !value.is_nan())
        .unwrap_or(input.len());
    if period > 0 && input.len() - start > needed - 1 {
        start + needed - 1
    } else {
        input.len()
    }
}

impl<'s> Stream<'s> {
    /// Simple moving average (TA-Lib `SMA`: a running sum).
    pub fn sma(input: &'s [f64], period: usize) -> Self {
        Stream {
            input,
            next: 0,
            first_value: first_value(input, period, period.max(1)),
            kind: Kind::Sma { period, total: 0.0 },
        }
    }

    /// Exponential moving average (TA-Lib `EMA`: seeded with the SMA of the first `period`).
    pub fn ema(input: &'s [f64], period: usize) -> Self {
        Stream {
            input,
            next: 0,
            first_value: first_value(input, period, period.max(1)),
            kind: Kind::Ema {
                period,
                previous: 0.0,
            },
        }
    }

    /// Relative strength index (TA-Lib `RSI`: Wilder smoothing seeded with plain averages).
    pub fn rsi(input: &'s [f64], period: usize) -> Self {
        Stream {
            input,
            next: 0,
            first_value: first_value(input, period, period + 1),
            kind: Kind::Rsi {
                period,
                gain: 0.0,
                loss: 0.0,
            },
        }
    }

    /// One output of Bollinger Bands (TA-Lib `BBANDS` with an SMA middle): the middle band's
    /// running sum as `sma` keeps it, and the sum of squares TA-Lib's deviation keeps.
    pub fn band(input: &'s [f64], period: usize, multiplier: f64, output: BandOutput) -> Self {
        Stream {
            input,
            next: 0,
            first_value: first_value(input, period, period.max(1)),
            kind: Kind::Band {
                period,
                multiplier,
                output,
                total: 0.0,
                sum_of_squares: 0.0,
            },
        }
    }

    /// The number of bars of its input.
    pub fn bars(&self) -> usize {
        self.input.len()
    }

    /// Every bar's value.
    pub fn whole(mut self) -> Vec<f64> {
        let mut values = Vec::with_capacity(self.input.len());
        self.extend(&mut values, self.input.len());
        values
    }

    /// Appends the values of the bars from the next one up to `end` to `values`.
    pub fn extend(&mut self, values: &mut Vec<f64>, end: usize) {
        let end = end.min(self.input.len());
        let undefined_until = self.first_value.min(end);
        if self.next < undefined_until {
            values.resize(values.len() + undefined_until - self.next, f64::NAN);
            self.next = undefined_until;
        }
        while self.next < end {
            let stretch = (end - self.next).min(STRETCH);
            let from = values.len();
            values.resize(from + stretch, 0.0);
            self.fill(&mut values[from..]);
            self.next += stretch;
        }
    }

    /// Computes the bars `next..next + out.len()`, all at or after the first value.
    fn fill(&mut self, out: &mut [f64]) {
        let Stream {
            input,
            next,
            first_value,
            kind,
        } = self;
        let (input, bars, starting) = (*input, *next..*next + out.len(), *next == *first_value);
        match kind {
            Kind::Sma { period, total } => {
                let period = *period;
                let mut running = *total;
                if starting {
                    running = input[bars.start + 1 - period..bars.start].iter().sum();
                }
                for (mean, (&value, &trailing)) in out.iter_mut().zip(
                    input[bars.clone()]
                        .iter()
                        .zip(&input[bars.start + 1 - period..]),
                ) {
                    running += value;
                    *mean = running / period as f64;
                    running -= trailing;
                }
                *total = running;
            }
            Kind::Ema { period, previous } => {
                let period = *period;
                let k = 2.0 / (period as f64 + 1.0);
                let mut last = *previous;
                let (out, bars) = if starting {
                    last = input[bars.start + 1 - period..=bars.start]
                        .iter()
                        .sum::<f64>()
                        / period as f64;
                    out[0] = last;
                    (&mut out[1..], bars.start + 1..bars.end)
                } else {
                    (out, bars)
                };
                for (average, &value) in out.iter_mut().zip(&input[bars]) {
                    last = (value - last) * k + last;
                    *average = last;
                }
                *previous = last;
            }
            Kind::Rsi { period, gain, loss } => {
                let periods = *period as f64;
                let strength = |gain: f64, loss: f64| {
                    let total = gain + loss;
                    if is_zero(total) {
                        0.0
                    } else {
                        100.0 * (gain / total)
                    }
                };
                let (mut gains, mut losses) = (*gain, *loss);
                let (out, bars) = if starting {
                    (gains, losses) = (0.0, 0.0);
                    for bar in bars.start + 1 - *period..=bars.start {
                        let change = input[bar] - input[bar - 1];
                        if change < 0.0 {
                            losses -= change;
                        } else {
                            gains += change;
                        }
                    }
                    gains /= periods;
                    losses /= periods;
                    out[0] = strength(gains, losses);
                    (&mut out[1..], bars.start + 1..bars.end)
                } else {
                    (out, bars)
                };
                for (value, (&now, &before)) in out
                    .iter_mut()
                    .zip(input[bars.clone()].iter().zip(&input[bars.start - 1..]))
                {
                    let change = now - before;
                    let falling = change < 0.0;
                    gains *= periods - 1.0;
                    losses *= periods - 1.0;
                    // Each sum takes the change or adds zero, which leaves it as it is (neither
                    // sum is ever -0), so the rise or fall of half the bars costs no mispredicted
                    // branch.
                    gains += if falling { 0.0 } else { change };
                    losses -= if falling { change } else { 0.0 };
                    gains /= periods;
                    losses /= periods;
                    *value = strength(gains, losses);
                }
                (*gain, *loss) = (gains, losses);
            }
            Kind::Band {
                period,
                multiplier,
                output,
                total,
                sum_of_squares,
            } => {
                let (period, multiplier) = (*period, *multiplier);
                let periods = period as f64;
                let (mut running, mut squares) = (*total, *sum_of_squares);
                if starting {
                    let before_first = &input[bars.start + 1 - period..bars.start];
                    running = before_first.iter().sum();
                    squares = before_first.iter().map(|v| v * v).sum();
                }
                let pick = *output;
                for (slot, (&value, &trailing)) in out.iter_mut().zip(
                    input[bars.clone()]
                        .iter()
                        .zip(&input[bars.start + 1 - period..]),
                ) {
                    running += value;
                    let center = running / periods;
                    running -= trailing;
                    squares += value * value;
                    let mut variance = squares / periods;
                    squares -= trailing * trailing;
                    variance -= center * center;
                    let deviation = if variance < TA_LIB_EPSILON {
                        0.0
                    } else {
                        variance.sqrt()
                    };
                    let (high, low) = (
                        center + deviation * multiplier,
                        center - deviation * multiplier,
                    );
                    *slot = match pick {
                        BandOutput::Upper => high,
                        BandOutput::Middle => center,
                        BandOutput::Lower => low,
                        BandOutput::PercentB => {
                            let width = high - low;
                            if width > 0.0 {
                                (value - low) / width
                            } else {
                                f64::NAN
                            }
                        }
                        BandOutput::Bandwidth => {
                            if center != 0.0 {
                                (high - low) / center
                            } else {
                                f64::NAN
                            }
                        }
                    };
                }
                (*total, *sum_of_squares) = (running, squares);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded random walk with an undefined start, as an indicator of an indicator has.
    fn series(bars: usize, undefined: usize) -> Vec<f64> {
        let mut uniform = crate::seeded::uniforms(0x2545_F491_4F6C_DD1D);
        let mut value = 100.0;
        (0..bars)
            .map(|bar| {
                value += (uniform() - 0.5) * 2.0;
                if bar < undefined {
                    f64::NAN
                } else {
                    value
                }
            })
            .collect()
    }

    fn streams(input: &[f64], period: usize) -> Vec<Stream<'_>> {
        let mut all = vec![
            Stream::sma(input, period),
            Stream::ema(input, period),
            Stream::rsi(input, period),
        ];
        all.extend(
            BandOutput::ALL
                .iter()
                .map(|&(_, output)| Stream::band(input, period, 2.0, output)),
        );
        all
    }

    #[test]
    fn a_stream_computed_a_stretch_at_a_time_gives_the_values_of_one_pass_bit_for_bit() {
        for (bars, undefined) in [(10_000, 0), (9_001, 37), (5, 0), (3, 3), (0, 0)] {
            let input = series(bars, undefined);
            for period in [0, 1, 2, 14, 200, 20_000] {
                for (whole, mut stepped) in streams(&input, period)
                    .into_iter()
                    .map(|stream| (stream.clone().whole(), stream))
                {
                    assert_eq!(whole.len(), bars);
                    let mut values = Vec::new();
                    let mut end = 0;
                    for step in [1, 0, 3, 250, 4_095, 4_097, 1].into_iter().cycle() {
                        if end >= bars {
                            break;
                        }
                        end = (end + step).min(bars);
                        stepped.extend(&mut values, end);
                    }
                    assert!(
                        values
                            .iter()
                            .zip(&whole)
                            .all(|(a, b)| a.to_bits() == b.to_bits())
                            && values.len() == whole.len(),
                        "{stepped:?}"
                    );
                }
            }
        }
    }
}
