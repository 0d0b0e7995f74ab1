//! The columns conditions read: prices, whole indicator columns, and streamed outputs held as a
//! window of recent bars (`ColumnStore`).

use std::borrow::Cow;
use std::ops::Range;

use crate::candles::Candles;
use crate::indicators::{price_source, IndicatorColumns, IndicatorOutput};
use crate::streams::Stream;
use strategy_language::model::PriceField;

use super::{DROPPED_AT_ONCE, KEPT_BARS};

/// A column conditions read.
#[derive(Clone, Debug)]
pub(super) enum Series<'c> {
    /// Every bar: a price of the candles (borrowed) or a computed column.
    Whole(Cow<'c, [f64]>),
    /// An indicator output computed as its bars are asked for, of which a window of recent bars
    /// is kept: no column as long as the series is built for it.
    Streamed(Window<'c>),
}

#[derive(Clone, Debug)]
pub(super) struct Window<'c> {
    /// The stream as it began, to compute again from should an earlier bar be asked for.
    pub(super) origin: Stream<'c>,
    pub(super) stream: Stream<'c>,
    /// The values of the bars `first..first + values.len()`.
    pub(super) first: usize,
    pub(super) values: Vec<f64>,
}

impl Window<'_> {
    /// Makes the window hold `bars`.
    pub(super) fn hold(&mut self, bars: Range<usize>) {
        let bars = bars.start..bars.end.min(self.stream.bars());
        if bars.start < self.first {
            self.stream = self.origin.clone();
            self.first = 0;
            self.values.clear();
        }
        let keep_from = bars.start.saturating_sub(KEPT_BARS);
        loop {
            // Drop what no ask will read again, a large stretch at a time.
            let drop_until = keep_from.min(self.first + self.values.len());
            if drop_until >= self.first + DROPPED_AT_ONCE {
                self.values.drain(..drop_until - self.first);
                self.first = drop_until;
            }
            let computed_until = self.first + self.values.len();
            if computed_until >= bars.end {
                break;
            }
            self.stream.extend(
                &mut self.values,
                (computed_until + DROPPED_AT_ONCE).min(bars.end),
            );
        }
    }
}

/// The columns conditions read: prices, indicator outputs, and the columns computed for
/// lookbacks over expressions and for `highest`/`lowest`.
#[derive(Clone, Debug, Default)]
pub struct ColumnStore<'c> {
    pub(super) columns: Vec<Series<'c>>,
    pub(super) price_columns: Vec<(PriceField, usize)>,
    pub(super) indicator_names: Vec<String>,
    pub(super) bars: usize,
}

impl<'c> ColumnStore<'c> {
    /// Price columns are added on first use, so a run computes only the composite prices it
    /// reads (and borrows the plain ones).
    pub fn new(candles: &Candles, indicators: IndicatorColumns) -> Self {
        ColumnStore {
            indicator_names: indicators.names,
            columns: indicators
                .columns
                .into_iter()
                .map(|column| Series::Whole(Cow::Owned(column)))
                .collect(),
            price_columns: Vec::new(),
            bars: candles.len(),
        }
    }

    /// A store whose streamed indicator outputs are computed as conditions ask for their bars.
    pub fn streaming(candles: &Candles, indicators: Vec<(String, IndicatorOutput<'c>)>) -> Self {
        let (indicator_names, columns) = indicators
            .into_iter()
            .map(|(name, output)| {
                let series = match output {
                    IndicatorOutput::Values(values) => Series::Whole(Cow::Owned(values)),
                    IndicatorOutput::Stream(stream) => Series::Streamed(Window {
                        origin: stream.clone(),
                        stream,
                        first: 0,
                        values: Vec::new(),
                    }),
                };
                (name, series)
            })
            .unzip();
        ColumnStore {
            indicator_names,
            columns,
            price_columns: Vec::new(),
            bars: candles.len(),
        }
    }

    pub(super) fn price(&mut self, field: PriceField, candles: &'c Candles) -> usize {
        if let Some((_, index)) = self.price_columns.iter().find(|(known, _)| *known == field) {
            return *index;
        }
        self.columns
            .push(Series::Whole(price_source(candles, field)));
        let index = self.columns.len() - 1;
        self.price_columns.push((field, index));
        index
    }

    pub(super) fn indicator(&self, name: &str) -> Option<usize> {
        self.indicator_names.iter().position(|known| known == name)
    }

    pub(super) fn push(&mut self, column: Vec<f64>) -> usize {
        self.columns.push(Series::Whole(Cow::Owned(column)));
        self.columns.len() - 1
    }

    pub(super) fn bars(&self) -> usize {
        self.bars
    }

    /// Computes a streamed column over every bar, for what reads it whole (`highest`/`lowest`,
    /// a lookback over an expression).
    pub(super) fn make_whole(&mut self, column: usize) {
        if let Series::Streamed(window) = &self.columns[column] {
            self.columns[column] = Series::Whole(Cow::Owned(window.origin.clone().whole()));
        }
    }

    /// Makes the streamed ones of `columns` hold `bars`.
    pub(super) fn hold(&mut self, columns: &[usize], bars: Range<usize>) {
        for &column in columns {
            if let Series::Streamed(window) = &mut self.columns[column] {
                window.hold(bars.clone());
            }
        }
    }

    /// The values of `column` over `bars`, which a streamed column must hold.
    pub(super) fn slice(&self, column: usize, bars: Range<usize>) -> &[f64] {
        match &self.columns[column] {
            Series::Whole(values) => &values[bars],
            Series::Streamed(window) => {
                &window.values[bars.start - window.first..bars.end - window.first]
            }
        }
    }

    /// The value of `column` `shift` bars before `bar`, which a streamed column must hold.
    pub(super) fn read(&self, column: usize, shift: usize, bar: usize) -> f64 {
        match bar.checked_sub(shift) {
            Some(earlier) => match &self.columns[column] {
                Series::Whole(values) => values[earlier],
                Series::Streamed(window) => window.values[earlier - window.first],
            },
            None => f64::NAN,
        }
    }

    /// `read`, having made a streamed column hold the bar.
    pub(super) fn read_holding(&mut self, column: usize, shift: usize, bar: usize) -> f64 {
        if let (Some(earlier), Series::Streamed(window)) =
            (bar.checked_sub(shift), &mut self.columns[column])
        {
            if !(window.first..window.first + window.values.len()).contains(&earlier) {
                window.hold(earlier..earlier + 1);
            }
        }
        self.read(column, shift, bar)
    }
}
