//! Indicators of volume: on-balance volume, the accumulation/distribution line, Chaikin money
//! flow and VWAP with its resets.

use crate::candles::Candles;
use strategy_language::model::PriceField;

use super::{price_series, undefined};

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
pub(super) fn money_flow_volume(candles: &Candles, bar: usize) -> f64 {
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

pub(super) const SECONDS_PER_DAY: i64 = 86_400;
/// 1970-01-01 was a Thursday; shifting by 3 days makes weeks start on Monday.
pub(super) const MONDAY_OFFSET: i64 = 3 * SECONDS_PER_DAY;

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
