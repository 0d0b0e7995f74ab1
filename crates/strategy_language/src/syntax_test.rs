//! The syntax test: a plain-language summary of a strategy (indicators, canonical conditions,
//! sizing, risk, warm-up) and the warnings about logic that is valid but wrong.

mod intervals;

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::document::{parse_document, Node};
use super::expression::{print_expression, Expr, ExprKind};
use super::indicators::indicator_spec;
use super::indicators::Source;
use super::model::{Format, SizingType, Strategy};
use super::names::{is_identifier, is_reserved};
use super::span::{any_error, Diagnostic, Positions, Severity, Span};
use super::validate::{validate, Validation};
use intervals::{Finding, IntervalAnalysis};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SyntaxReport {
    /// Validation's diagnostics and the syntax test's warnings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// `None` when the document could not be read as a strategy at all.
    pub summary: Option<StrategySummary>,
}

impl SyntaxReport {
    pub fn has_errors(&self) -> bool {
        any_error(&self.diagnostics)
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StrategySummary {
    pub name: String,
    pub trading_pair: String,
    pub timeframe: Option<String>,
    pub indicators: Vec<IndicatorSummary>,
    pub conditions: Vec<ConditionSummary>,
    pub sizing: Option<String>,
    pub risk: Vec<String>,
    /// Bars of history consumed before the entry condition can first be true.
    pub warm_up_bars: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct IndicatorSummary {
    pub name: String,
    pub indicator_type: String,
    pub title: String,
    /// `period = 14`, `source = close`, in the registry's order.
    pub parameters: Vec<String>,
    /// Bars before this indicator has a value (its sources' warm-up included).
    pub warm_up_bars: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ConditionSummary {
    pub field: String,
    pub canonical: String,
    pub warm_up_bars: u32,
}

pub fn syntax_test(text: &str, format: Format) -> SyntaxReport {
    let validation = validate(text, format);
    syntax_test_of(text, &validation)
}

/// The syntax test of a document already validated (the editor has the validation at hand).
pub fn syntax_test_of(text: &str, validation: &Validation) -> SyntaxReport {
    let mut diagnostics = validation.diagnostics.clone();
    let Some(strategy) = &validation.strategy else {
        return SyntaxReport {
            diagnostics,
            summary: None,
        };
    };
    let mut findings = Findings {
        diagnostics: Vec::new(),
        text,
        format: validation.format,
        root: OnceCell::new(),
    };
    // Logic is only judged on what was read in full: after a syntax error, or where a
    // condition could not be parsed, "never used" and "always true" would be noise.
    let syntax_failed = validation.diagnostics.iter().any(|d| d.code == "E001");
    let unread_condition = validation.diagnostics.iter().any(|diagnostic| {
        diagnostic.severity == Severity::Error
            && strategy
                .conditions()
                .iter()
                .all(|(field, _)| *field != diagnostic.path)
            && matches!(
                diagnostic.path.as_str(),
                "entry_conditions" | "exit_conditions" | "stop_conditions"
            )
    });
    if !syntax_failed {
        findings.logic(strategy);
        if !unread_condition {
            findings.unused_indicators(strategy);
        }
        findings.risk_consistency(strategy);
    }
    diagnostics.extend(findings.diagnostics);
    diagnostics.sort_by_key(|diagnostic| (diagnostic.span.start, diagnostic.span.end));
    SyntaxReport {
        diagnostics,
        summary: Some(summarise(strategy)),
    }
}

struct Findings<'a> {
    diagnostics: Vec<Diagnostic>,
    text: &'a str,
    format: Format,
    /// The document tree, read again only when a warning needs the span of a value.
    root: OnceCell<Option<Node>>,
}

impl Findings<'_> {
    fn warn(&mut self, code: &str, message: String, path: &str, span: Span) {
        self.diagnostics.push(Diagnostic::new(
            code,
            Severity::Warning,
            message,
            path.to_string(),
            span,
        ));
    }

    fn value_span(&self, path: &str) -> Span {
        self.root
            .get_or_init(|| parse_document(&Positions::new(self.text), self.format).root)
            .as_ref()
            .and_then(|root| root.find_entry(path))
            .map(|entry| entry.value.span)
            .unwrap_or_default()
    }

    fn logic(&mut self, strategy: &Strategy) {
        let analysis = IntervalAnalysis::new(strategy);
        for (field, condition) in strategy.conditions() {
            let stop = field == "stop_conditions";
            for finding in analysis.findings(&condition.expression) {
                let span = finding.expr().span;
                let (code, message) = match finding {
                    Finding::Never { expr, reason } if stop => (
                        "W106",
                        format!(
                            "this stop can never trigger: `{}` is never true{reason}",
                            print_expression(expr)
                        ),
                    ),
                    Finding::Never { expr, reason } => (
                        "W101",
                        format!("`{}` can never be true{reason}", print_expression(expr)),
                    ),
                    Finding::Always { expr, reason } => (
                        "W102",
                        format!("`{}` is always true{reason}", print_expression(expr)),
                    ),
                };
                self.warn(code, message, field, span);
            }
        }
        let (Some(entry), Some(exit)) = (&strategy.entry_conditions, &strategy.exit_conditions)
        else {
            return;
        };
        if entry.expression.without_spans() == exit.expression.without_spans() {
            self.warn(
                "W103",
                "exit_conditions are the same as entry_conditions: a position would close as soon as it opens"
                    .to_string(),
                "exit_conditions",
                exit.expression.span,
            );
        } else if !analysis.is_always(&exit.expression)
            && analysis.implies(&entry.expression, &exit.expression)
        {
            self.warn(
                "W104",
                format!(
                    "whenever entry_conditions hold, exit_conditions hold too: every position would close on the next bar (`{}` follows from `{}`)",
                    exit.canonical, entry.canonical
                ),
                "exit_conditions",
                exit.expression.span,
            );
        }
    }

    fn unused_indicators(&mut self, strategy: &Strategy) {
        let mut used: BTreeSet<&str> = BTreeSet::new();
        for (_, condition) in strategy.conditions() {
            condition.expression.walk(&mut |expr| {
                if let ExprKind::Indicator { name, .. } = &expr.kind {
                    used.insert(name.as_str());
                }
            });
        }
        // Sources of used indicators are used too, however deep the chain.
        loop {
            let before = used.len();
            for indicator in &strategy.indicators {
                if used.contains(indicator.name.as_str()) {
                    if let Some(Source::Indicator { name, .. }) = indicator.source() {
                        used.insert(name.as_str());
                    }
                }
            }
            if used.len() == before {
                break;
            }
        }
        for (index, indicator) in strategy.indicators.iter().enumerate() {
            if !used.contains(indicator.name.as_str())
                && is_identifier(&indicator.name)
                && !is_reserved(&indicator.name)
            {
                self.warn(
                    "W105",
                    format!(
                        "`{}` is defined but no condition uses it; use it or remove it",
                        indicator.name
                    ),
                    &format!("indicators[{index}].name"),
                    indicator.name_span,
                );
            }
        }
    }

    fn risk_consistency(&mut self, strategy: &Strategy) {
        let Some(risk) = &strategy.risk_parameters else {
            return;
        };
        if let (Some(take_profit), Some(stop_loss)) =
            (risk.take_profit_percentage, risk.stop_loss_percentage)
        {
            if take_profit < stop_loss {
                let path = "risk_parameters.take_profit_percentage";
                self.warn(
                    "W107",
                    format!(
                        "take-profit ({}) is below stop-loss ({}): each win would be smaller than each loss",
                        percent(take_profit),
                        percent(stop_loss)
                    ),
                    path,
                    self.value_span(path),
                );
            }
        }
        if let (Some(daily), Some(drawdown)) = (risk.max_daily_loss, risk.max_drawdown) {
            if daily > drawdown {
                let path = "risk_parameters.max_daily_loss";
                self.warn(
                    "W108",
                    format!(
                        "max_daily_loss ({}) is above max_drawdown ({}): the drawdown limit stops trading before the daily limit can ever be reached",
                        percent(daily),
                        percent(drawdown)
                    ),
                    path,
                    self.value_span(path),
                );
            }
        }
        let Some(sizing) = &strategy.position_sizing else {
            return;
        };
        let (Some(SizingType::Percentage), Some(size)) =
            (sizing.sizing_type, sizing.percentage_of_capital)
        else {
            return;
        };
        for (limit, where_) in [
            (
                sizing.max_position_size,
                "position_sizing.max_position_size",
            ),
            (risk.max_position_size, "risk_parameters.max_position_size"),
        ] {
            if let Some(limit) = limit {
                if size > limit {
                    let path = "position_sizing.percentage_of_capital";
                    self.warn(
                        "W109",
                        format!(
                            "the position size ({}) is above {where_} ({}); every trade would be cut to {}",
                            percent(size),
                            percent(limit),
                            percent(limit)
                        ),
                        path,
                        self.value_span(path),
                    );
                }
            }
        }
    }
}

fn percent(fraction: f64) -> String {
    let value = (fraction * 100.0 * 1e6).round() / 1e6;
    format!("{value}%")
}

/// Bars before an indicator has a value, following its sources (cycles count once).
fn indicator_warm_up(strategy: &Strategy, name: &str, visiting: &mut Vec<String>) -> u32 {
    let Some(indicator) = strategy.indicator(name) else {
        return 0;
    };
    if visiting.iter().any(|seen| seen == name) {
        return 0;
    }
    visiting.push(name.to_string());
    let own = indicator_spec(&indicator.indicator_type)
        .map_or(0, |spec| spec.warm_up(&indicator.parameters));
    let source = match indicator.source() {
        Some(Source::Indicator { name, .. }) => indicator_warm_up(strategy, name, visiting),
        _ => 0,
    };
    visiting.pop();
    own.saturating_add(source)
}

/// Bars before every condition of `strategy` (entry, exit, stop) can be evaluated: the most
/// history a backtest's indicators need before its first traded bar.
pub fn history_needed(strategy: &Strategy) -> u32 {
    strategy
        .conditions()
        .into_iter()
        .map(|(_, condition)| expression_warm_up(strategy, &condition.expression))
        .max()
        .unwrap_or(0)
}

/// Bars before a condition can first be evaluated: its slowest term.
fn expression_warm_up(strategy: &Strategy, expr: &Expr) -> u32 {
    match &expr.kind {
        ExprKind::Indicator { name, .. } => indicator_warm_up(strategy, name, &mut Vec::new()),
        ExprKind::Lookback { term, bars } => {
            expression_warm_up(strategy, term).saturating_add(*bars)
        }
        ExprKind::Call { function, args } => {
            let slowest = args
                .iter()
                .map(|arg| expression_warm_up(strategy, arg))
                .max()
                .unwrap_or(0);
            let extra = match (function.as_str(), args.get(1).map(|arg| &arg.kind)) {
                ("crosses_above" | "crosses_below", _) => 1,
                ("highest" | "lowest", Some(ExprKind::Number { value })) => {
                    (value.max(1.0) as u32).saturating_sub(1)
                }
                _ => 0,
            };
            slowest.saturating_add(extra)
        }
        _ => expr
            .children()
            .into_iter()
            .map(|child| expression_warm_up(strategy, child))
            .max()
            .unwrap_or(0),
    }
}

fn summarise(strategy: &Strategy) -> StrategySummary {
    let indicators = strategy
        .indicators
        .iter()
        .map(|indicator| {
            let spec = indicator_spec(&indicator.indicator_type);
            let parameters = spec
                .map(|spec| {
                    spec.parameters
                        .iter()
                        .filter_map(|parameter| {
                            indicator
                                .parameters
                                .get(parameter.name)
                                .map(|value| format!("{} = {value}", parameter.name))
                        })
                        .collect()
                })
                .unwrap_or_default();
            IndicatorSummary {
                name: indicator.name.clone(),
                indicator_type: indicator.indicator_type.clone(),
                title: spec.map_or_else(String::new, |spec| spec.title.to_string()),
                parameters,
                warm_up_bars: indicator_warm_up(strategy, &indicator.name, &mut Vec::new()),
            }
        })
        .collect();
    let conditions: Vec<ConditionSummary> = strategy
        .conditions()
        .into_iter()
        .map(|(field, condition)| ConditionSummary {
            field: field.to_string(),
            canonical: condition.canonical.clone(),
            warm_up_bars: expression_warm_up(strategy, &condition.expression),
        })
        .collect();
    let warm_up_bars = conditions
        .iter()
        .find(|condition| condition.field == "entry_conditions")
        .map_or(0, |condition| condition.warm_up_bars);
    let sizing = strategy.position_sizing.as_ref().map(|sizing| {
        let mut text = match sizing.sizing_type {
            Some(SizingType::Percentage) => format!(
                "{} of capital per trade",
                sizing
                    .percentage_of_capital
                    .map_or_else(|| "?".to_string(), percent)
            ),
            Some(SizingType::FixedAmount) => format!(
                "{} of the quote currency per trade",
                sizing
                    .fixed_amount
                    .map_or_else(|| "?".to_string(), |amount| amount.to_string())
            ),
            Some(SizingType::RiskBased) => format!(
                "risk {} of capital per trade, sized from the stop-loss",
                sizing
                    .risk_per_trade
                    .map_or_else(|| "?".to_string(), percent)
            ),
            None => "unknown sizing".to_string(),
        };
        if let Some(limit) = sizing.max_position_size {
            let _ = write!(text, ", at most {} of capital", percent(limit));
        }
        text
    });
    let mut risk = Vec::new();
    if let Some(parameters) = &strategy.risk_parameters {
        for (label, value) in [
            ("max daily loss", parameters.max_daily_loss),
            ("max drawdown", parameters.max_drawdown),
            ("stop-loss", parameters.stop_loss_percentage),
            ("take-profit", parameters.take_profit_percentage),
            ("trailing stop", parameters.trailing_stop_percentage),
            ("max position size", parameters.max_position_size),
        ] {
            if let Some(value) = value {
                risk.push(format!("{label} {}", percent(value)));
            }
        }
        if let Some(count) = parameters.max_concurrent_positions {
            risk.push(format!(
                "at most {count} open position{}",
                if count == 1 { "" } else { "s" }
            ));
        }
    }
    StrategySummary {
        name: strategy.name.clone(),
        trading_pair: strategy.trading_pair.clone(),
        timeframe: strategy
            .timeframe
            .map(|timeframe| timeframe.name().to_string()),
        indicators,
        conditions,
        sizing,
        risk,
        warm_up_bars,
    }
}

impl StrategySummary {
    /// The summary as text for the command line (`check --explain`).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let timeframe = self.timeframe.as_deref().unwrap_or("?");
        let _ = writeln!(
            out,
            "Strategy: {} ({}, {timeframe})",
            self.name, self.trading_pair
        );
        let _ = writeln!(out, "Indicators:");
        for indicator in &self.indicators {
            let _ = writeln!(
                out,
                "  {} = {} ({}) [{}], warm-up {} bars",
                indicator.name,
                indicator.indicator_type,
                indicator.title,
                indicator.parameters.join(", "),
                indicator.warm_up_bars
            );
        }
        let _ = writeln!(out, "Conditions:");
        for condition in &self.conditions {
            let _ = writeln!(out, "  {}: {}", condition.field, condition.canonical);
        }
        if let Some(sizing) = &self.sizing {
            let _ = writeln!(out, "Position sizing: {sizing}");
        }
        if !self.risk.is_empty() {
            let _ = writeln!(out, "Risk: {}", self.risk.join(", "));
        }
        let _ = writeln!(
            out,
            "Warm-up: {} bars before the first entry signal can fire",
            self.warm_up_bars
        );
        out
    }
}
