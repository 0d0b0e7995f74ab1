//! The typed strategy model: what a valid document describes (indicators, conditions, sizing,
//! risk) and the notation it was written in. It crosses server functions to the browser, so
//! everything here is plain serialisable data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::expression::Expr;

// These moved to the leaf modules the rest of the engine builds on; the model still names
// them, so code written against `language::model::...` keeps working.
pub use super::indicators::{ParameterValue, Source};
pub use super::names::{PositionVariable, PriceField};
pub use super::span::{Diagnostic, Severity, Span};

/// The two notations a strategy document can be written in; both carry the same model.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Yaml,
    Toml,
}

impl Format {
    /// `yaml` or `toml`: how forms send a format and the database stores it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Toml => "toml",
        }
    }

    /// The format named `yaml` or `toml`, if it is one of them.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "yaml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }

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

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
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

// The writer and the change list walk these fields by their document keys; one list each
// keeps the two in step with the struct.
impl PositionSizing {
    /// The amounts (everything but `type`), each under its document key, in document order.
    pub fn amounts(&self) -> [(&'static str, Option<f64>); 4] {
        [
            ("percentage_of_capital", self.percentage_of_capital),
            ("fixed_amount", self.fixed_amount),
            ("risk_per_trade", self.risk_per_trade),
            ("max_position_size", self.max_position_size),
        ]
    }
}

impl RiskParameters {
    /// The limits written as fractions, each under its document key, in document order;
    /// `max_concurrent_positions`, a count, is not among them.
    pub fn fractions(&self) -> [(&'static str, Option<f64>); 6] {
        [
            ("max_daily_loss", self.max_daily_loss),
            ("max_drawdown", self.max_drawdown),
            ("stop_loss_percentage", self.stop_loss_percentage),
            ("take_profit_percentage", self.take_profit_percentage),
            ("trailing_stop_percentage", self.trailing_stop_percentage),
            ("max_position_size", self.max_position_size),
        ]
    }
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
