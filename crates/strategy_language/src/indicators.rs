//! The indicator registry: every indicator of the language with its parameters (defaults,
//! ranges, aliases), outputs (value ranges, aliases), warm-up and help text. It is a plain
//! table so that the validator, the syntax test and the builder UI all read the same facts.
//! The values a parameter takes (`ParameterValue`, with `Source` for an indicator's input) live
//! here too, since every parameter kind has a default value of that type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::names::PriceField;

/// Where an indicator reads its input: a price series or another indicator's output.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Source {
    Price {
        field: PriceField,
    },
    Indicator {
        name: String,
        output: Option<String>,
    },
}

impl std::fmt::Display for Source {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Price { field } => formatter.write_str(field.name()),
            Source::Indicator { name, output: None } => formatter.write_str(name),
            Source::Indicator {
                name,
                output: Some(output),
            } => write!(formatter, "{name}.{output}"),
        }
    }
}

/// A parameter value after defaults are applied and aliases resolved.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", untagged)]
pub enum ParameterValue {
    Number(f64),
    Source(Source),
    Choice(String),
}

impl std::fmt::Display for ParameterValue {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParameterValue::Number(number) => write!(formatter, "{number}"),
            ParameterValue::Source(source) => write!(formatter, "{source}"),
            ParameterValue::Choice(choice) => formatter.write_str(choice),
        }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct IndicatorSpec {
    pub type_name: &'static str,
    /// Other accepted spellings of the type (accepted with an info note).
    pub aliases: &'static [&'static str],
    pub title: &'static str,
    pub parameters: &'static [ParameterSpec],
    /// A single-output indicator has one output named `value`, referred to by the indicator's
    /// name alone.
    pub outputs: &'static [OutputSpec],
    pub help: &'static str,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ParameterSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: ParameterKind,
    pub help: &'static str,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ParameterKind {
    /// A whole number in `min..=max`.
    Integer { default: i64, min: i64, max: i64 },
    /// A number with `min < x <= max` (an exclusive lower bound, as for `multiplier`).
    Number {
        default: f64,
        min_exclusive: f64,
        max: f64,
    },
    /// A price series or another indicator of the document.
    Source,
    /// One of a fixed set of words.
    Choice {
        default: &'static str,
        choices: &'static [&'static str],
    },
}

impl ParameterKind {
    pub fn default_value(&self) -> ParameterValue {
        match self {
            ParameterKind::Integer { default, .. } => ParameterValue::Number(*default as f64),
            ParameterKind::Number { default, .. } => ParameterValue::Number(*default),
            ParameterKind::Source => ParameterValue::Source(Source::Price {
                field: PriceField::Close,
            }),
            ParameterKind::Choice { default, .. } => ParameterValue::Choice(default.to_string()),
        }
    }

    /// Whether a number is valid for a numeric parameter.
    pub fn accepts(&self, number: f64) -> bool {
        match self {
            ParameterKind::Integer { min, max, .. } => {
                number.fract() == 0.0 && (*min as f64..=*max as f64).contains(&number)
            }
            ParameterKind::Number {
                min_exclusive, max, ..
            } => number > *min_exclusive && number <= *max,
            _ => false,
        }
    }

    /// The default and the valid values, for completions and tooltips: "default 14; a whole
    /// number from 2 to 500".
    pub fn describe_default_and_range(&self) -> String {
        let default = match self.default_value() {
            ParameterValue::Number(number) => format!("{number}"),
            ParameterValue::Source(source) => source.to_string(),
            ParameterValue::Choice(choice) => choice,
        };
        format!("default {default}; {}", self.describe_range())
    }

    /// The valid values in words, for messages and tooltips.
    pub fn describe_range(&self) -> String {
        match self {
            ParameterKind::Integer { min, max, .. } => {
                format!("a whole number from {min} to {max}")
            }
            ParameterKind::Number {
                min_exclusive, max, ..
            } => format!("a number above {min_exclusive} and at most {max}"),
            ParameterKind::Source => {
                "a price (open, high, low, close, volume, hl2, hlc3, ohlc4) or another indicator's name"
                    .to_string()
            }
            ParameterKind::Choice { choices, .. } => format!("one of {}", choices.join(", ")),
        }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct OutputSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// The values the output can take (inclusive), when the formula bounds them; the syntax
    /// test uses them to find comparisons that can never (or always) hold.
    pub range: Option<(f64, f64)>,
}

impl IndicatorSpec {
    pub fn is_multi_output(&self) -> bool {
        self.outputs.len() > 1
    }

    pub fn parameter(&self, name: &str) -> Option<&'static ParameterSpec> {
        self.parameters
            .iter()
            .find(|parameter| parameter.name == name)
    }

    /// The parameter a name or a compatibility alias refers to.
    pub fn parameter_by_alias(&self, alias: &str) -> Option<&'static ParameterSpec> {
        self.parameters
            .iter()
            .find(|parameter| parameter.aliases.contains(&alias))
    }

    pub fn output(&self, name: &str) -> Option<&'static OutputSpec> {
        self.outputs.iter().find(|output| output.name == name)
    }

    pub fn output_by_alias(&self, alias: &str) -> Option<&'static OutputSpec> {
        self.outputs
            .iter()
            .find(|output| output.aliases.contains(&alias))
    }

    /// Bars consumed before the first value (TA-Lib's "lookback"), for the given parameters.
    pub fn warm_up(&self, parameters: &BTreeMap<String, ParameterValue>) -> u32 {
        let number = |name: &str| -> u32 {
            match parameters.get(name) {
                Some(ParameterValue::Number(value)) if value.is_finite() && *value >= 0.0 => {
                    value.min(f64::from(u32::MAX / 4)) as u32
                }
                _ => match self.parameter(name).map(|parameter| &parameter.kind) {
                    Some(ParameterKind::Integer { default, .. }) => *default as u32,
                    _ => 0,
                },
            }
        };
        let period = number("period");
        match self.type_name {
            "sma" | "wma" | "ema" | "williams_r" | "cci" | "bb" | "std_dev" | "cmf" => {
                period.saturating_sub(1)
            }
            "hma" => period.saturating_sub(1) + integer_sqrt(period).saturating_sub(1),
            "kama" | "rsi" | "roc" | "momentum" | "atr" => period,
            "macd" => {
                number("slow_period").saturating_sub(1) + number("signal_period").saturating_sub(1)
            }
            "stochastic" => {
                number("k_period").saturating_sub(1)
                    + number("k_smoothing").saturating_sub(1)
                    + number("d_period").saturating_sub(1)
            }
            "adx" => (2 * period).saturating_sub(1),
            _ => 0,
        }
    }
}

fn integer_sqrt(value: u32) -> u32 {
    (f64::from(value)).sqrt().floor() as u32
}

/// The spec of a type name or type alias.
pub fn indicator_spec(type_name: &str) -> Option<&'static IndicatorSpec> {
    INDICATORS.iter().find(|spec| spec.type_name == type_name)
}

pub fn indicator_spec_by_alias(alias: &str) -> Option<&'static IndicatorSpec> {
    INDICATORS.iter().find(|spec| spec.aliases.contains(&alias))
}

const SOURCE: ParameterSpec = ParameterSpec {
    name: "source",
    aliases: &[],
    kind: ParameterKind::Source,
    help: "The series the indicator is computed on: a price (close by default) or another indicator, to smooth it.",
};

const fn period(default: i64, min: i64, max: i64) -> ParameterSpec {
    ParameterSpec {
        name: "period",
        aliases: &[],
        kind: ParameterKind::Integer { default, min, max },
        help: "How many bars the indicator looks back over.",
    }
}

const VALUE: &[OutputSpec] = &[OutputSpec {
    name: "value",
    aliases: &[],
    range: None,
}];

const fn bounded(min: f64, max: f64) -> OutputSpec {
    OutputSpec {
        name: "value",
        aliases: &[],
        range: Some((min, max)),
    }
}

const ZERO_TO_HUNDRED: &[OutputSpec] = &[bounded(0.0, 100.0)];
const NON_NEGATIVE: &[OutputSpec] = &[bounded(0.0, f64::INFINITY)];

/// Every indicator of the language, in the order the builder lists them.
pub static INDICATORS: &[IndicatorSpec] = &[
    IndicatorSpec {
        type_name: "sma",
        aliases: &[],
        title: "Simple moving average",
        parameters: &[period(20, 1, 1000), SOURCE],
        outputs: VALUE,
        help: "The plain average of the last `period` values. It smooths out noise so the trend shows; price above a rising SMA is the classic sign of an uptrend. Longer periods react more slowly.",
    },
    IndicatorSpec {
        type_name: "wma",
        aliases: &[],
        title: "Weighted moving average",
        parameters: &[period(20, 1, 1000), SOURCE],
        outputs: VALUE,
        help: "An average of the last `period` values in which recent bars weigh more (the newest counts `period` times, the oldest once), so it follows price faster than an SMA of the same period.",
    },
    IndicatorSpec {
        type_name: "ema",
        aliases: &[],
        title: "Exponential moving average",
        parameters: &[period(12, 1, 1000), SOURCE],
        outputs: VALUE,
        help: "A moving average whose weights fade exponentially, seeded with the SMA of its first `period` values (as TA-Lib does). It turns sooner than an SMA; fast/slow EMA crossovers are a common trend signal.",
    },
    IndicatorSpec {
        type_name: "hma",
        aliases: &[],
        title: "Hull moving average",
        parameters: &[period(14, 2, 1000), SOURCE],
        outputs: VALUE,
        help: "Alan Hull's moving average: a weighted average of 2*WMA(period/2) - WMA(period), smoothed over sqrt(period) bars. It is both smooth and quick, with little lag behind turns.",
    },
    IndicatorSpec {
        type_name: "kama",
        aliases: &[],
        title: "Kaufman adaptive moving average",
        parameters: &[
            period(10, 2, 1000),
            ParameterSpec {
                name: "fast_period",
                aliases: &["short_period"],
                kind: ParameterKind::Integer { default: 2, min: 1, max: 500 },
                help: "The period the average follows when price trends cleanly (must be below slow_period).",
            },
            ParameterSpec {
                name: "slow_period",
                aliases: &["long_period"],
                kind: ParameterKind::Integer { default: 30, min: 2, max: 500 },
                help: "The period the average follows when price chops sideways.",
            },
            SOURCE,
        ],
        outputs: VALUE,
        help: "Perry Kaufman's average adapts its speed to how efficiently price moves over `period` bars: it hugs a clean trend and flattens in sideways noise, which cuts false crossover signals.",
    },
    IndicatorSpec {
        type_name: "macd",
        aliases: &[],
        title: "Moving average convergence divergence",
        parameters: &[
            ParameterSpec {
                name: "fast_period",
                aliases: &["short_period"],
                kind: ParameterKind::Integer { default: 12, min: 1, max: 500 },
                help: "Period of the fast EMA (must be below slow_period).",
            },
            ParameterSpec {
                name: "slow_period",
                aliases: &["long_period"],
                kind: ParameterKind::Integer { default: 26, min: 1, max: 500 },
                help: "Period of the slow EMA.",
            },
            ParameterSpec {
                name: "signal_period",
                aliases: &[],
                kind: ParameterKind::Integer { default: 9, min: 1, max: 500 },
                help: "Period of the EMA of the MACD line that forms the signal line.",
            },
            SOURCE,
        ],
        outputs: &[
            OutputSpec { name: "macd", aliases: &["macd_line", "line"], range: None },
            OutputSpec { name: "signal", aliases: &["signal_line"], range: None },
            OutputSpec { name: "histogram", aliases: &["hist"], range: None },
        ],
        help: "The fast EMA minus the slow EMA (`macd`), its EMA (`signal`) and their difference (`histogram`). MACD crossing above its signal line is read as momentum turning up; a histogram above zero means the fast average leads.",
    },
    IndicatorSpec {
        type_name: "rsi",
        aliases: &[],
        title: "Relative strength index",
        parameters: &[period(14, 2, 500), SOURCE],
        outputs: ZERO_TO_HUNDRED,
        help: "Welles Wilder's momentum oscillator, from 0 to 100: the share of recent gains in all recent moves, with Wilder smoothing. Below 30 is usually called oversold, above 70 overbought.",
    },
    IndicatorSpec {
        type_name: "stochastic",
        aliases: &["stoch"],
        title: "Stochastic oscillator (slow)",
        parameters: &[
            ParameterSpec {
                name: "k_period",
                aliases: &[],
                kind: ParameterKind::Integer { default: 14, min: 1, max: 500 },
                help: "How many bars the high-low range is measured over.",
            },
            ParameterSpec {
                name: "k_smoothing",
                aliases: &["smooth"],
                kind: ParameterKind::Integer { default: 3, min: 1, max: 500 },
                help: "How many bars %K is smoothed over (the 'slow' stochastic).",
            },
            ParameterSpec {
                name: "d_period",
                aliases: &[],
                kind: ParameterKind::Integer { default: 3, min: 1, max: 500 },
                help: "How many bars %D, the average of %K, covers.",
            },
        ],
        outputs: &[
            OutputSpec { name: "k", aliases: &["percent_k"], range: Some((0.0, 100.0)) },
            OutputSpec { name: "d", aliases: &["percent_d"], range: Some((0.0, 100.0)) },
        ],
        help: "Where the close sits within the high-low range of the last `k_period` bars, from 0 (at the low) to 100 (at the high), smoothed (`k`) and averaged again (`d`). Below 20 is oversold, above 80 overbought; %K crossing %D is a common trigger.",
    },
    IndicatorSpec {
        type_name: "williams_r",
        aliases: &["willr"],
        title: "Williams %R",
        parameters: &[period(14, 2, 500)],
        outputs: &[bounded(-100.0, 0.0)],
        help: "Larry Williams' oscillator: how far the close is below the highest high of `period` bars, from 0 (at the high) to -100 (at the low). Below -80 is oversold, above -20 overbought.",
    },
    IndicatorSpec {
        type_name: "cci",
        aliases: &[],
        title: "Commodity channel index",
        parameters: &[period(20, 2, 500)],
        outputs: VALUE,
        help: "How far the typical price is from its average, in units of mean deviation (scaled by 0.015). Readings above +100 or below -100 mark unusually strong moves.",
    },
    IndicatorSpec {
        type_name: "roc",
        aliases: &[],
        title: "Rate of change",
        parameters: &[period(12, 1, 1000), SOURCE],
        outputs: &[bounded(-100.0, f64::INFINITY)],
        help: "The percentage change over `period` bars: 5 means the source is 5% higher than `period` bars ago. Above zero means price is rising.",
    },
    IndicatorSpec {
        type_name: "momentum",
        aliases: &["mom"],
        title: "Momentum",
        parameters: &[period(10, 1, 1000), SOURCE],
        outputs: VALUE,
        help: "The difference between the source now and `period` bars ago, in price units. Above zero means price is higher than it was.",
    },
    IndicatorSpec {
        type_name: "bb",
        aliases: &["bollinger_bands", "bollinger"],
        title: "Bollinger Bands",
        parameters: &[
            period(20, 2, 500),
            ParameterSpec {
                name: "multiplier",
                aliases: &["std_dev"],
                kind: ParameterKind::Number { default: 2.0, min_exclusive: 0.0, max: 10.0 },
                help: "How many standard deviations the bands sit from the middle.",
            },
            SOURCE,
        ],
        outputs: &[
            OutputSpec { name: "upper", aliases: &["upper_band"], range: None },
            OutputSpec { name: "middle", aliases: &["middle_band"], range: None },
            OutputSpec { name: "lower", aliases: &["lower_band"], range: None },
            OutputSpec { name: "percent_b", aliases: &["pct_b"], range: None },
            OutputSpec { name: "bandwidth", aliases: &[], range: Some((0.0, f64::INFINITY)) },
        ],
        help: "A `period` SMA (`middle`) with bands `multiplier` population standard deviations above and below. Price near the lower band is stretched downwards; `percent_b` is where price sits between the bands (0 at the lower, 1 at the upper) and `bandwidth` how wide they are relative to the middle.",
    },
    IndicatorSpec {
        type_name: "atr",
        aliases: &[],
        title: "Average true range",
        parameters: &[period(14, 1, 500)],
        outputs: NON_NEGATIVE,
        help: "Welles Wilder's measure of volatility: the Wilder-smoothed average of each bar's true range (including gaps), in price units. Often used to size stops, e.g. exit when price falls 2 ATR below entry.",
    },
    IndicatorSpec {
        type_name: "adx",
        aliases: &[],
        title: "Average directional index",
        parameters: &[period(14, 2, 500)],
        outputs: ZERO_TO_HUNDRED,
        help: "Welles Wilder's trend strength, from 0 to 100, whatever the direction. Above 25 is usually taken as a trending market, below 20 as a range.",
    },
    IndicatorSpec {
        type_name: "std_dev",
        aliases: &["stddev"],
        title: "Standard deviation",
        parameters: &[period(20, 2, 1000), SOURCE],
        outputs: NON_NEGATIVE,
        help: "The population standard deviation of the source over `period` bars, in price units: how widely prices have been spreading around their average.",
    },
    IndicatorSpec {
        type_name: "obv",
        aliases: &["on_balance_volume"],
        title: "On-balance volume",
        parameters: &[],
        outputs: VALUE,
        help: "A running total that adds the bar's volume when the close rises and subtracts it when it falls. Rising OBV with flat price hints that buyers are accumulating.",
    },
    IndicatorSpec {
        type_name: "ad_line",
        aliases: &["ad", "accumulation_distribution"],
        title: "Accumulation/distribution line",
        parameters: &[],
        outputs: VALUE,
        help: "A running total of volume weighted by where each close sits in its bar's range (near the high adds, near the low subtracts). It shows whether volume is flowing into or out of the asset.",
    },
    IndicatorSpec {
        type_name: "cmf",
        aliases: &["chaikin_money_flow"],
        title: "Chaikin money flow",
        parameters: &[period(20, 1, 1000)],
        outputs: &[bounded(-1.0, 1.0)],
        help: "Marc Chaikin's money flow: the accumulation/distribution of the last `period` bars divided by their volume, from -1 to 1. Above zero means buying pressure.",
    },
    IndicatorSpec {
        type_name: "vwap",
        aliases: &[],
        title: "Volume-weighted average price",
        parameters: &[ParameterSpec {
            name: "reset",
            aliases: &[],
            kind: ParameterKind::Choice {
                default: "none",
                choices: &["none", "daily", "weekly"],
            },
            help: "When the running average starts over: never, at each UTC day, or at each week (Monday).",
        }],
        outputs: NON_NEGATIVE,
        help: "The average price paid, weighting each bar's typical price by its volume, accumulated since the last reset. Price above VWAP means buyers are paying up.",
    },
];
