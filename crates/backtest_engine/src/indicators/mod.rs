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

mod averages;
mod bands;
mod oscillators;
#[cfg(test)]
mod tests;
mod volume;

use std::borrow::Cow;
use std::collections::HashMap;

use strategy_language::expression::ExprKind;
use strategy_language::indicators::indicator_spec;
use strategy_language::model::{Indicator, ParameterValue, PriceField, Source, Strategy};

use super::candles::Candles;
use super::streams::{BandOutput, Stream};
use super::BacktestError;

pub use averages::{ema, hma, kama, macd, sma, wma, Macd};
pub use bands::{bollinger_bands, bollinger_bands_wanted, std_dev, BollingerBands};
pub use oscillators::{
    adx, atr, cci, momentum, roc, rolling_extreme, rsi, stochastic, williams_r, Stochastic,
};
pub use volume::{ad_line, cmf, obv, vwap, VwapReset};

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
