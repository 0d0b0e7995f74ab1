//! The names of the strategy language: the rule for identifiers (indicator names), the names
//! the condition language reserves (price series, position variables, keywords, functions),
//! and the closest valid identifier to a mistyped one. The validator, the type checker, the
//! syntax test and the editor all ask here, so they agree on what a name may be.

use serde::{Deserialize, Serialize};

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

/// The functions of the language with their parameter count.
pub const FUNCTIONS: [(&str, usize); 7] = [
    ("crosses_above", 2),
    ("crosses_below", 2),
    ("abs", 1),
    ("min", 2),
    ("max", 2),
    ("highest", 2),
    ("lowest", 2),
];

/// Whether `name` may name an indicator: lowercase letters, digits and `_`, starting with a
/// letter, at most 50 characters.
pub fn is_identifier(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 50
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'_')
}

/// The valid identifier closest to what was typed (`RSI 14` gives `rsi_14`).
pub fn identifier_from(written: &str) -> String {
    let mut name: String = written
        .trim()
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    // `50_sma` becomes `sma_50`: the number moves behind the word.
    let leading: String = name
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '_')
        .collect();
    if !leading.is_empty() {
        let digits = leading.trim_matches('_');
        name = name[leading.len()..].trim_end_matches('_').to_string();
        if !digits.is_empty() {
            name = format!("{name}_{digits}");
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            name.insert(0, 'i');
        }
    }
    name.chars().take(50).collect()
}

/// Names the condition language gives a meaning of its own.
pub fn is_reserved(name: &str) -> bool {
    PriceField::from_name(name).is_some()
        || PositionVariable::from_name(name).is_some()
        || matches!(name, "and" | "or" | "not" | "true" | "false")
        || FUNCTIONS.iter().any(|(function, _)| *function == name)
}
