//! What changed between two versions of a strategy, as a list a trader can read
//! ("rsi_14.period 14 -> 21"), for the versions page and the conflict view.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::indicators::ParameterValue;
use super::model::{Indicator, Strategy};

/// One difference: where it is in the model, and the value before and after (`None` when the
/// thing was added or removed).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Change {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.before, &self.after) {
            (Some(before), Some(after)) => write!(formatter, "{} {before} -> {after}", self.path),
            (None, Some(after)) => write!(formatter, "{} added: {after}", self.path),
            (Some(before), None) => write!(formatter, "{} removed (was {before})", self.path),
            (None, None) => write!(formatter, "{}", self.path),
        }
    }
}

/// The differences from `before` to `after`, in document order: top-level fields,
/// indicators (matched by name), conditions (compared in canonical form), sizing and risk.
pub fn describe_changes(before: &Strategy, after: &Strategy) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut compare = |path: &str, old: Option<String>, new: Option<String>| {
        if old != new {
            changes.push(Change {
                path: path.to_string(),
                before: old,
                after: new,
            });
        }
    };
    compare("name", Some(before.name.clone()), Some(after.name.clone()));
    compare(
        "description",
        before.description.clone(),
        after.description.clone(),
    );
    compare(
        "trading_pair",
        Some(before.trading_pair.clone()),
        Some(after.trading_pair.clone()),
    );
    compare(
        "timeframe",
        before
            .timeframe
            .map(|timeframe| timeframe.name().to_string()),
        after
            .timeframe
            .map(|timeframe| timeframe.name().to_string()),
    );
    for old in &before.indicators {
        match after.indicator(&old.name) {
            None => compare(&old.name, Some(summary(old)), None),
            Some(new) => {
                compare(
                    &format!("{}.type", old.name),
                    Some(old.indicator_type.clone()),
                    Some(new.indicator_type.clone()),
                );
                let names: BTreeSet<&String> =
                    old.parameters.keys().chain(new.parameters.keys()).collect();
                for parameter in names {
                    compare(
                        &format!("{}.{parameter}", old.name),
                        old.parameters.get(parameter).map(ParameterValue::to_string),
                        new.parameters.get(parameter).map(ParameterValue::to_string),
                    );
                }
            }
        }
    }
    for new in &after.indicators {
        if before.indicator(&new.name).is_none() {
            compare(&new.name, None, Some(summary(new)));
        }
    }
    for (key, old, new) in [
        (
            "entry_conditions",
            &before.entry_conditions,
            &after.entry_conditions,
        ),
        (
            "exit_conditions",
            &before.exit_conditions,
            &after.exit_conditions,
        ),
        (
            "stop_conditions",
            &before.stop_conditions,
            &after.stop_conditions,
        ),
    ] {
        compare(
            key,
            old.as_ref().map(|condition| condition.canonical.clone()),
            new.as_ref().map(|condition| condition.canonical.clone()),
        );
    }
    for ((path, old), (_, new)) in settings(before).into_iter().zip(settings(after)) {
        compare(&path, old, new);
    }
    changes
}

/// Sizing and risk, each field with its value as text, in document order.
fn settings(strategy: &Strategy) -> Vec<(String, Option<String>)> {
    // A missing table compares as one whose fields are all missing.
    let sizing = strategy.position_sizing.clone().unwrap_or_default();
    let risk = strategy.risk_parameters.clone().unwrap_or_default();
    let sizing_type = sizing
        .sizing_type
        .map(|sizing_type| sizing_type.name().to_string());
    let mut fields = vec![("position_sizing.type".to_string(), sizing_type)];
    let numbers = (sizing
        .amounts()
        .map(|(key, value)| ("position_sizing", key, value)))
    .into_iter()
    .chain(
        risk.fractions()
            .map(|(key, value)| ("risk_parameters", key, value)),
    );
    fields.extend(numbers.map(|(table, key, value)| {
        (
            format!("{table}.{key}"),
            value.map(|value| value.to_string()),
        )
    }));
    let concurrent = risk.max_concurrent_positions;
    fields.push((
        "risk_parameters.max_concurrent_positions".to_string(),
        concurrent.map(|count| count.to_string()),
    ));
    fields
}

/// `rsi (period 14, source close)`.
fn summary(indicator: &Indicator) -> String {
    let parameters: Vec<String> = indicator
        .parameters
        .iter()
        .map(|(name, value)| format!("{name} {value}"))
        .collect();
    if parameters.is_empty() {
        indicator.indicator_type.clone()
    } else {
        format!("{} ({})", indicator.indicator_type, parameters.join(", "))
    }
}
