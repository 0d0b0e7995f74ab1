//! The typed strategy model and the diagnostics that validation produces; these cross server
//! functions to the browser, so everything here is plain serialisable data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::expression::Expr;

/// The two notations a strategy document can be written in; both carry the same model.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Yaml,
    Toml,
}

impl Format {
    /// The format a file name implies (`.yaml`, `.yml`, `.toml`), if any.
    pub fn from_file_name(file_name: &str) -> Option<Format> {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Format::Yaml)
        } else if lower.ends_with(".toml") {
            Some(Format::Toml)
        } else {
            None
        }
    }
}

/// A stretch of the document text. Lines and columns are 1-based and columns count characters
/// (not bytes), which is what an editor shows; `start`/`end` are byte offsets into the whole
/// document, which is what a text splice needs. `end` is exclusive, `end_column` is the column
/// just past the last character.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub start: usize,
    pub end: usize,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One problem (or note) about a document. `code` is stable and documented in docs/LANGUAGE.md;
/// `path` names the place in the model (`indicators[2].parameters.period`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub path: String,
    pub span: Span,
}

/// Price series a condition or an indicator's `source` can name.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum PriceField {
    Open,
    High,
    Low,
    Close,
    Volume,
    Hl2,
    Hlc3,
    Ohlc4,
}

impl PriceField {
    pub const ALL: [PriceField; 8] = [
        PriceField::Open,
        PriceField::High,
        PriceField::Low,
        PriceField::Close,
        PriceField::Volume,
        PriceField::Hl2,
        PriceField::Hlc3,
        PriceField::Ohlc4,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PriceField::Open => "open",
            PriceField::High => "high",
            PriceField::Low => "low",
            PriceField::Close => "close",
            PriceField::Volume => "volume",
            PriceField::Hl2 => "hl2",
            PriceField::Hlc3 => "hlc3",
            PriceField::Ohlc4 => "ohlc4",
        }
    }

    pub fn from_name(name: &str) -> Option<PriceField> {
        PriceField::ALL
            .into_iter()
            .find(|field| field.name() == name)
    }
}

/// Variables that describe the open position; only exit and stop conditions may use them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PositionVariable {
    EntryPrice,
    UnrealizedPnl,
    UnrealizedPnlPct,
    BarsInTrade,
    Drawdown,
}

impl PositionVariable {
    pub const ALL: [PositionVariable; 5] = [
        PositionVariable::EntryPrice,
        PositionVariable::UnrealizedPnl,
        PositionVariable::UnrealizedPnlPct,
        PositionVariable::BarsInTrade,
        PositionVariable::Drawdown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PositionVariable::EntryPrice => "entry_price",
            PositionVariable::UnrealizedPnl => "unrealized_pnl",
            PositionVariable::UnrealizedPnlPct => "unrealized_pnl_pct",
            PositionVariable::BarsInTrade => "bars_in_trade",
            PositionVariable::Drawdown => "drawdown",
        }
    }

    pub fn from_name(name: &str) -> Option<PositionVariable> {
        PositionVariable::ALL
            .into_iter()
            .find(|variable| variable.name() == name)
    }
}

/// The bar size a strategy trades on.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timeframe {
    #[serde(rename = "1m")]
    OneMinute,
    #[serde(rename = "5m")]
    FiveMinutes,
    #[serde(rename = "15m")]
    FifteenMinutes,
    #[serde(rename = "30m")]
    ThirtyMinutes,
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "4h")]
    FourHours,
    #[serde(rename = "1d")]
    OneDay,
    #[serde(rename = "1w")]
    OneWeek,
}

impl Timeframe {
    pub const ALL: [Timeframe; 8] = [
        Timeframe::OneMinute,
        Timeframe::FiveMinutes,
        Timeframe::FifteenMinutes,
        Timeframe::ThirtyMinutes,
        Timeframe::OneHour,
        Timeframe::FourHours,
        Timeframe::OneDay,
        Timeframe::OneWeek,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Timeframe::OneMinute => "1m",
            Timeframe::FiveMinutes => "5m",
            Timeframe::FifteenMinutes => "15m",
            Timeframe::ThirtyMinutes => "30m",
            Timeframe::OneHour => "1h",
            Timeframe::FourHours => "4h",
            Timeframe::OneDay => "1d",
            Timeframe::OneWeek => "1w",
        }
    }

    pub fn from_name(name: &str) -> Option<Timeframe> {
        Timeframe::ALL
            .into_iter()
            .find(|timeframe| timeframe.name() == name)
    }

    /// Length of one bar in minutes (a week is 7 days), for annualising backtest figures.
    pub fn minutes(self) -> u32 {
        match self {
            Timeframe::OneMinute => 1,
            Timeframe::FiveMinutes => 5,
            Timeframe::FifteenMinutes => 15,
            Timeframe::ThirtyMinutes => 30,
            Timeframe::OneHour => 60,
            Timeframe::FourHours => 240,
            Timeframe::OneDay => 1_440,
            Timeframe::OneWeek => 10_080,
        }
    }
}

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

/// One entry of `indicators`, with its canonical type name (aliases resolved) and every
/// parameter the registry knows (given or defaulted), keyed by canonical parameter name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Indicator {
    pub name: String,
    pub indicator_type: String,
    pub parameters: BTreeMap<String, ParameterValue>,
    /// The whole entry, and its `name` value (where "unused indicator" points).
    pub span: Span,
    pub name_span: Span,
}

impl Indicator {
    pub fn number(&self, parameter: &str) -> Option<f64> {
        match self.parameters.get(parameter) {
            Some(ParameterValue::Number(number)) => Some(*number),
            _ => None,
        }
    }

    pub fn source(&self) -> Option<&Source> {
        match self.parameters.get("source") {
            Some(ParameterValue::Source(source)) => Some(source),
            _ => None,
        }
    }
}

/// A condition as typed, its parsed expression (spans in the document) and its canonical form.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Condition {
    pub text: String,
    pub expression: Expr,
    pub canonical: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SizingType {
    Percentage,
    FixedAmount,
    RiskBased,
}

impl SizingType {
    pub const ALL: [SizingType; 3] = [
        SizingType::Percentage,
        SizingType::FixedAmount,
        SizingType::RiskBased,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SizingType::Percentage => "percentage",
            SizingType::FixedAmount => "fixed_amount",
            SizingType::RiskBased => "risk_based",
        }
    }

    pub fn from_name(name: &str) -> Option<SizingType> {
        SizingType::ALL
            .into_iter()
            .find(|sizing| sizing.name() == name)
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PositionSizing {
    pub sizing_type: Option<SizingType>,
    pub percentage_of_capital: Option<f64>,
    pub fixed_amount: Option<f64>,
    pub risk_per_trade: Option<f64>,
    pub max_position_size: Option<f64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct RiskParameters {
    pub max_daily_loss: Option<f64>,
    pub max_drawdown: Option<f64>,
    pub stop_loss_percentage: Option<f64>,
    pub take_profit_percentage: Option<f64>,
    pub trailing_stop_percentage: Option<f64>,
    pub max_concurrent_positions: Option<u32>,
    pub max_position_size: Option<f64>,
}

/// The strategy a document describes. Validation fills in what it could read, so a document
/// with errors still yields a partial model for the editor; only a model from a document
/// without errors is fit to backtest or activate (see `Validation::into_valid`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Strategy {
    pub name: String,
    pub description: Option<String>,
    pub trading_pair: String,
    pub timeframe: Option<Timeframe>,
    pub strategy_id: Option<String>,
    pub version: Option<String>,
    pub indicators: Vec<Indicator>,
    pub entry_conditions: Option<Condition>,
    pub exit_conditions: Option<Condition>,
    pub stop_conditions: Option<Condition>,
    pub position_sizing: Option<PositionSizing>,
    pub risk_parameters: Option<RiskParameters>,
}

impl Strategy {
    pub fn indicator(&self, name: &str) -> Option<&Indicator> {
        self.indicators
            .iter()
            .find(|indicator| indicator.name == name)
    }

    /// The conditions present, each with the document key it came from.
    pub fn conditions(&self) -> Vec<(&'static str, &Condition)> {
        [
            ("entry_conditions", &self.entry_conditions),
            ("exit_conditions", &self.exit_conditions),
            ("stop_conditions", &self.stop_conditions),
        ]
        .into_iter()
        .filter_map(|(key, condition)| condition.as_ref().map(|condition| (key, condition)))
        .collect()
    }
}
