//! Standard deviation and the Bollinger Bands drawn with it.

use crate::streams::{BandOutput, Stream};
use crate::tolerance::TA_LIB_EPSILON;

use super::{from_first_defined, undefined};

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
