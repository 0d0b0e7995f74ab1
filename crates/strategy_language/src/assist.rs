//! What the editor offers while typing: completions (indicator types after `type`, the
//! parameters of the indicator being written, and in conditions the document's indicators
//! and their outputs, price series, position variables and functions) and the help text shown
//! on hover. Pure and position-based, so it answers in the browser without a round trip.
//! Offsets are byte offsets into the document.

use super::indicators::{indicator_spec, indicator_spec_by_alias, IndicatorSpec, INDICATORS};
use super::model::Strategy;
use super::names::{PositionVariable, PriceField, FUNCTIONS};

#[derive(Clone, Debug, PartialEq)]
pub struct CompletionItem {
    pub label: String,
    /// `type`, `variable`, `function`, `property`, `keyword` (the editor's icon).
    pub kind: &'static str,
    pub detail: String,
    pub info: String,
    /// What is inserted (for a function, with its parentheses).
    pub apply: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completions {
    /// Where the word being completed starts.
    pub from: usize,
    pub items: Vec<CompletionItem>,
}

/// What the cursor is in, read from the lines around it.
#[derive(Debug, PartialEq)]
enum Context<'a> {
    IndicatorType,
    Parameter { indicator_type: Option<&'a str> },
    Condition,
    Other,
}

/// The spec of a type as written (its name or an alias).
fn spec_of(written: &str) -> Option<&'static IndicatorSpec> {
    indicator_spec(written).or_else(|| indicator_spec_by_alias(written))
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// The key a line sets (`type` in `  - type: sma` or `type = "sma"`), if any.
fn line_key(line: &str) -> Option<&str> {
    let trimmed = line.trim_start().trim_start_matches("- ").trim_start();
    let end = trimmed.find([':', '='])?;
    let key = trimmed[..end].trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(key)
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn context<'a>(text: &'a str, offset: usize) -> Context<'a> {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start
        ..text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i)];
    let column = offset - line_start;
    if let Some(key) = line_key(line) {
        let value_starts = line.find([':', '=']).unwrap_or(line.len()) + 1;
        if column >= value_starts {
            return match key {
                "type" => Context::IndicatorType,
                k if k.ends_with("_conditions") => Context::Condition,
                _ => Context::Other,
            };
        }
    }
    // The enclosing keys: each earlier line less indented than the one after it.
    let mut indent = indentation(line);
    let mut inside_parameters = false;
    let mut indicator_type = None;
    for earlier in before[..line_start].lines().rev() {
        if earlier.trim().is_empty() || earlier.trim_start().starts_with('#') {
            continue;
        }
        let earlier_indent = indentation(earlier);
        let key = line_key(earlier);
        // A TOML table header.
        if let Some(header) = earlier.trim().strip_prefix('[') {
            let header = header.trim_matches(['[', ']', ' ']);
            return if header.ends_with("parameters") {
                Context::Parameter {
                    indicator_type: type_in_item(&text[..line_start]),
                }
            } else {
                Context::Other
            };
        }
        if earlier_indent < indent || (earlier_indent == 0 && indent == 0) {
            match key {
                Some(k)
                    if k.ends_with("_conditions") && earlier.trim_end().ends_with(['|', '>']) =>
                {
                    return Context::Condition
                }
                Some("parameters") => {
                    inside_parameters = true;
                    indicator_type = type_in_item(&text[..line_start]);
                }
                _ => {}
            }
            if earlier_indent == 0 {
                break;
            }
            indent = earlier_indent;
        }
    }
    if inside_parameters {
        Context::Parameter { indicator_type }
    } else {
        Context::Other
    }
}

/// The `type` of the indicator list item that `before` ends inside.
fn type_in_item(before: &str) -> Option<&str> {
    for line in before.lines().rev() {
        if line_key(line) == Some("type") {
            let value = line.split_once([':', '='])?.1;
            return Some(value.split('#').next()?.trim().trim_matches(['"', '\'']));
        }
        if line.trim_start().starts_with("- ")
            && line_key(line) != Some("type")
            && line_key(line).is_some()
        {
            // An item that names its type later, or not at all.
            continue;
        }
        if line.trim() == "[[indicators]]" {
            return None;
        }
    }
    None
}

fn indicator_item(spec: &IndicatorSpec) -> CompletionItem {
    CompletionItem {
        label: spec.type_name.to_string(),
        kind: "type",
        detail: spec.title.to_string(),
        info: spec.help.to_string(),
        apply: spec.type_name.to_string(),
    }
}

/// The completions at `offset` of `text`, given the strategy as last validated (for the
/// document's own indicator names).
pub fn complete(text: &str, offset: usize, strategy: Option<&Strategy>) -> Option<Completions> {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let from = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let word = &text[from..offset];
    let items: Vec<CompletionItem> = match context(text, offset) {
        Context::IndicatorType => INDICATORS.iter().map(indicator_item).collect(),
        Context::Parameter { indicator_type } => {
            let spec = indicator_type.and_then(spec_of)?;
            spec.parameters
                .iter()
                .map(|parameter| CompletionItem {
                    label: parameter.name.to_string(),
                    kind: "property",
                    detail: parameter.kind.describe_default_and_range(),
                    info: parameter.help.to_string(),
                    apply: parameter.name.to_string(),
                })
                .collect()
        }
        Context::Condition => condition_vocabulary(strategy),
        Context::Other => return None,
    };
    let lowered = word.to_ascii_lowercase();
    let items: Vec<_> = items
        .into_iter()
        .filter(|item| {
            item.label.to_ascii_lowercase().starts_with(&lowered)
                || spec_of(&item.label).is_some_and(|spec| {
                    item.kind == "type"
                        && spec.aliases.iter().any(|alias| alias.starts_with(&lowered))
                })
        })
        .collect();
    (!items.is_empty()).then_some(Completions { from, items })
}

fn condition_vocabulary(strategy: Option<&Strategy>) -> Vec<CompletionItem> {
    let mut items = Vec::new();
    for indicator in strategy
        .map(|s| s.indicators.as_slice())
        .unwrap_or_default()
    {
        let Some(spec) = spec_of(&indicator.indicator_type) else {
            continue;
        };
        if spec.is_multi_output() {
            for output in spec.outputs {
                let label = format!("{}.{}", indicator.name, output.name);
                items.push(CompletionItem {
                    apply: label.clone(),
                    label,
                    kind: "variable",
                    detail: format!("{} output", spec.title),
                    info: spec.help.to_string(),
                });
            }
        } else {
            items.push(CompletionItem {
                label: indicator.name.clone(),
                kind: "variable",
                detail: spec.title.to_string(),
                info: spec.help.to_string(),
                apply: indicator.name.clone(),
            });
        }
    }
    for field in PriceField::ALL {
        items.push(CompletionItem {
            label: field.name().to_string(),
            kind: "variable",
            detail: "price series".into(),
            info: price_help(field).into(),
            apply: field.name().to_string(),
        });
    }
    for variable in PositionVariable::ALL {
        items.push(CompletionItem {
            label: variable.name().to_string(),
            kind: "variable",
            detail: "position (exit and stop conditions only)".into(),
            info: position_help(variable).into(),
            apply: variable.name().to_string(),
        });
    }
    for (name, arguments) in FUNCTIONS {
        items.push(CompletionItem {
            label: name.to_string(),
            kind: "function",
            detail: format!(
                "function of {arguments} argument{}",
                if arguments == 1 { "" } else { "s" }
            ),
            info: function_help(name).into(),
            apply: format!("{name}("),
        });
    }
    for keyword in ["AND", "OR", "NOT"] {
        items.push(CompletionItem {
            label: keyword.to_string(),
            kind: "keyword",
            detail: "logic".into(),
            info: "NOT binds tighter than AND, which binds tighter than OR.".into(),
            apply: keyword.to_string(),
        });
    }
    items
}

fn price_help(field: PriceField) -> &'static str {
    match field {
        PriceField::Open => "The bar's first traded price.",
        PriceField::High => "The bar's highest price.",
        PriceField::Low => "The bar's lowest price.",
        PriceField::Close => "The bar's last price; conditions are evaluated at the close.",
        PriceField::Volume => "How much was traded during the bar.",
        PriceField::Hl2 => "(high + low) / 2, the bar's midpoint.",
        PriceField::Hlc3 => "(high + low + close) / 3, the typical price.",
        PriceField::Ohlc4 => "(open + high + low + close) / 4.",
    }
}

fn position_help(variable: PositionVariable) -> &'static str {
    match variable {
        PositionVariable::EntryPrice => "The price the open position was bought at.",
        PositionVariable::UnrealizedPnl => {
            "Profit or loss of the open position, in the quote currency."
        }
        PositionVariable::UnrealizedPnlPct => {
            "Profit or loss of the open position as a fraction: -0.05 is a 5% loss."
        }
        PositionVariable::BarsInTrade => "How many bars the position has been open.",
        PositionVariable::Drawdown => {
            "How far price is below the trade's best price, as a fraction."
        }
    }
}

fn function_help(name: &str) -> &'static str {
    match name {
        "crosses_above" => {
            "crosses_above(a, b): a was at or below b on the previous bar and is above it now."
        }
        "crosses_below" => {
            "crosses_below(a, b): a was at or above b on the previous bar and is below it now."
        }
        "abs" => "abs(x): x without its sign.",
        "min" => "min(a, b): the smaller of the two.",
        "max" => "max(a, b): the larger of the two.",
        "highest" => "highest(x, n): the highest value of x over the last n bars.",
        "lowest" => "lowest(x, n): the lowest value of x over the last n bars.",
        _ => "",
    }
}

/// The help text for the word at `offset`: an indicator type, a parameter, a price series, a
/// position variable or a function.
pub fn hover(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(text.len(), |(i, _)| offset + i);
    let word = &text[start..end];
    if word.is_empty() {
        return None;
    }
    if let Some(spec) = spec_of(word) {
        if matches!(context(text, start), Context::IndicatorType) {
            return Some(format!("{}: {}", spec.title, spec.help));
        }
    }
    if let Context::Parameter { indicator_type } = context(text, start) {
        let parameter = indicator_type.and_then(spec_of).and_then(|spec| {
            spec.parameter(word)
                .or_else(|| spec.parameter_by_alias(word))
        });
        if let Some(parameter) = parameter {
            return Some(format!(
                "{}: {} ({})",
                parameter.name,
                parameter.help,
                parameter.kind.describe_default_and_range()
            ));
        }
    }
    if let Some(field) = PriceField::from_name(word) {
        return Some(format!("{word}: {}", price_help(field)));
    }
    if let Some(variable) = PositionVariable::from_name(word) {
        return Some(format!("{word}: {}", position_help(variable)));
    }
    FUNCTIONS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(name, _)| function_help(name).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{validate, Format};

    const YAML: &str = "name: \"X\"\nindicators:\n  - type: rsi\n    name: rsi_14\n    parameters:\n      per\nentry_conditions: \"rsi\"\n";

    #[test]
    fn after_type_the_indicator_types_are_offered() {
        let text = "indicators:\n  - type: bo\n";
        let at = text.find("bo").unwrap() + 2;
        let completions = complete(text, at, None).unwrap();
        assert_eq!(completions.from, at - 2);
        assert!(completions.items.iter().any(|item| item.label == "bb"));
        assert!(completions
            .items
            .iter()
            .all(|item| item.label.starts_with("b")));
    }

    #[test]
    fn inside_parameters_the_indicators_own_parameters_are_offered() {
        let at = YAML.find("per\n").unwrap() + 3;
        let completions = complete(YAML, at, None).unwrap();
        let labels: Vec<_> = completions
            .items
            .iter()
            .map(|item| item.label.as_str())
            .collect();
        assert_eq!(labels, vec!["period"]);
        assert!(
            completions.items[0].detail.contains("14"),
            "{:?}",
            completions.items[0]
        );
    }

    #[test]
    fn in_a_condition_the_documents_indicators_and_outputs_are_offered() {
        let document = "name: \"Bands\"\ntrading_pair: \"BTC/USD\"\ntimeframe: \"1d\"\nindicators:\n  - type: bb\n    name: bb_20\nentry_conditions: \"close < bb\"\nexit_conditions: \"close > bb_20.middle\"\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n";
        let strategy = validate(document, Format::Yaml).strategy;
        let at = document.find("close < bb").unwrap() + "close < bb".len();
        let completions = complete(document, at, strategy.as_ref()).unwrap();
        assert!(completions
            .items
            .iter()
            .any(|item| item.label == "bb_20.lower"));
        let functions = complete(document, document.find("close <").unwrap() + 2, None).unwrap();
        assert!(functions.items.iter().any(|item| item.label == "close"));
    }

    #[test]
    fn hovering_a_type_or_a_parameter_shows_its_help() {
        let at = YAML.find("rsi\n").unwrap() + 1;
        assert!(
            hover(YAML, at)
                .unwrap()
                .starts_with("Relative strength index"),
            "{:?}",
            hover(YAML, at)
        );
        let text = "indicators:\n  - type: rsi\n    parameters:\n      period: 14\n";
        let at = text.find("period").unwrap() + 2;
        assert!(hover(text, at).unwrap().starts_with("period:"));
        assert!(hover("entry_conditions: \"crosses_above(a, b)\"", 22)
            .unwrap()
            .contains("previous bar"));
    }
}
