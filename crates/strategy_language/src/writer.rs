//! Writes a strategy model as a fresh YAML or TOML document (for "new strategy" and format
//! conversion); parameters equal to their defaults are left out, conditions are written in
//! canonical form. Reading the result back gives the same model.

use std::fmt::Write;

use super::indicators::{indicator_spec, ParameterValue};
use super::model::{Format, Indicator, Strategy};

pub fn write_document(strategy: &Strategy, format: Format) -> String {
    match format {
        Format::Yaml => write_yaml(strategy),
        Format::Toml => write_toml(strategy),
    }
}

/// A number as both notations read it back exactly: whole numbers without a fraction, the
/// rest in Rust's shortest round-trip form (`1e21`, `0.05`).
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:?}")
    }
}

/// A string in double quotes; JSON's escapes are valid in YAML and in TOML basic strings.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

fn parameter_value(value: &ParameterValue) -> String {
    match value {
        ParameterValue::Number(value) => number(*value),
        other => quoted(&other.to_string()),
    }
}

/// The parameters worth writing: those that differ from the registry's defaults.
fn written_parameters(indicator: &Indicator) -> Vec<(String, String)> {
    let spec = indicator_spec(&indicator.indicator_type);
    indicator
        .parameters
        .iter()
        .filter(|(name, value)| {
            spec.and_then(|spec| spec.parameter(name))
                .is_none_or(|parameter| parameter.kind.default_value() != **value)
        })
        .map(|(name, value)| (name.clone(), parameter_value(value)))
        .collect()
}

fn scalar_fields(strategy: &Strategy) -> Vec<(&'static str, String)> {
    let mut fields = vec![("name", quoted(&strategy.name))];
    if let Some(description) = &strategy.description {
        fields.push(("description", quoted(description)));
    }
    fields.push(("trading_pair", quoted(&strategy.trading_pair)));
    if let Some(timeframe) = strategy.timeframe {
        fields.push(("timeframe", quoted(timeframe.name())));
    }
    if let Some(id) = &strategy.strategy_id {
        fields.push(("strategy_id", quoted(id)));
    }
    if let Some(version) = &strategy.version {
        fields.push(("version", quoted(version)));
    }
    fields
}

fn condition_fields(strategy: &Strategy) -> Vec<(&'static str, String)> {
    strategy
        .conditions()
        .into_iter()
        .map(|(key, condition)| (key, quoted(&condition.canonical)))
        .collect()
}

fn sizing_fields(strategy: &Strategy) -> Vec<(&'static str, String)> {
    let Some(sizing) = &strategy.position_sizing else {
        return Vec::new();
    };
    let mut fields = Vec::new();
    if let Some(sizing_type) = sizing.sizing_type {
        fields.push(("type", quoted(sizing_type.name())));
    }
    fields.extend(numbers(sizing.amounts()));
    fields
}

fn risk_fields(strategy: &Strategy) -> Vec<(&'static str, String)> {
    let Some(risk) = &strategy.risk_parameters else {
        return Vec::new();
    };
    let mut fields = numbers(risk.fractions());
    if let Some(count) = risk.max_concurrent_positions {
        fields.push(("max_concurrent_positions", count.to_string()));
    }
    fields
}

/// The numbers that are given, written as the document writes numbers.
fn numbers(
    fields: impl IntoIterator<Item = (&'static str, Option<f64>)>,
) -> Vec<(&'static str, String)> {
    fields
        .into_iter()
        .filter_map(|(key, value)| value.map(|value| (key, number(value))))
        .collect()
}

fn write_yaml(strategy: &Strategy) -> String {
    let mut out = String::new();
    for (key, value) in scalar_fields(strategy) {
        let _ = writeln!(out, "{key}: {value}");
    }
    let _ = writeln!(out, "indicators:");
    for indicator in &strategy.indicators {
        let _ = writeln!(out, "  - type: {}", quoted(&indicator.indicator_type));
        let _ = writeln!(out, "    name: {}", quoted(&indicator.name));
        let parameters = written_parameters(indicator);
        if !parameters.is_empty() {
            let _ = writeln!(out, "    parameters:");
            for (name, value) in parameters {
                let _ = writeln!(out, "      {name}: {value}");
            }
        }
    }
    for (key, value) in condition_fields(strategy) {
        let _ = writeln!(out, "{key}: {value}");
    }
    write_tables(
        strategy,
        &mut out,
        &|table| format!("{table}:"),
        &|key, value| format!("  {key}: {value}"),
    );
    out
}

fn write_toml(strategy: &Strategy) -> String {
    let mut out = String::new();
    // TOML needs every top-level key before the first table.
    for (key, value) in scalar_fields(strategy)
        .into_iter()
        .chain(condition_fields(strategy))
    {
        let _ = writeln!(out, "{key} = {value}");
    }
    for indicator in &strategy.indicators {
        let _ = writeln!(out, "\n[[indicators]]");
        let _ = writeln!(out, "type = {}", quoted(&indicator.indicator_type));
        let _ = writeln!(out, "name = {}", quoted(&indicator.name));
        let parameters: Vec<String> = written_parameters(indicator)
            .into_iter()
            .map(|(name, value)| format!("{name} = {value}"))
            .collect();
        if !parameters.is_empty() {
            let _ = writeln!(out, "parameters = {{ {} }}", parameters.join(", "));
        }
    }
    write_tables(
        strategy,
        &mut out,
        &|table| format!("\n[{table}]"),
        &|key, value| format!("{key} = {value}"),
    );
    out
}

/// `position_sizing` and `risk_parameters`, each under its header, in either notation.
fn write_tables(
    strategy: &Strategy,
    out: &mut String,
    header: &dyn Fn(&str) -> String,
    line: &dyn Fn(&str, &str) -> String,
) {
    for (table, fields) in [
        ("position_sizing", sizing_fields(strategy)),
        ("risk_parameters", risk_fields(strategy)),
    ] {
        if !fields.is_empty() {
            let _ = writeln!(out, "{}", header(table));
            for (key, value) in fields {
                let _ = writeln!(out, "{}", line(key, &value));
            }
        }
    }
}
