//! Validation: document text to the strategy model plus every diagnostic at once. The editor,
//! the save path, the syntax test, the backtest and the `check` command all call `validate`.
//!
//! This file holds the entry point and the readers every section shares (known fields,
//! required fields, text, numbers, fractions); each section of the document is read in its
//! own file, as one `impl Validator` block.

mod conditions;
mod fields;
mod indicators;
mod misplaced;
mod parameters;
mod risk;
mod sizing;

use serde::{Deserialize, Serialize};

use super::document::{parse_document, Entry, Node, ScalarKind, Value};
use super::model::{Format, Strategy};
use super::span::{any_error, Diagnostic, Fix, Positions, Severity, Span};
use super::suggestion::{closest, unknown_name};

// The naming rules moved to `names`; validation still offers them where they were.
pub use super::names::{is_identifier, is_reserved};
pub use fields::is_trading_pair;

/// The outcome of validating one document: the model as far as it could be read, and every
/// problem found, sorted by position.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Validation {
    pub format: Format,
    /// `None` only when the text is not a table at all (empty, or a syntax error before any
    /// field); otherwise the fields that could be read, even when others are wrong.
    pub strategy: Option<Strategy>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Validation {
    pub fn has_errors(&self) -> bool {
        any_error(&self.diagnostics)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.is_error())
    }

    /// Whether a section of the document (`"indicators"`, `"entry_conditions"`,
    /// `"risk_parameters"`, ...) is free of errors: the editor's green check.
    pub fn section_is_valid(&self, section: &str) -> bool {
        !self.errors().any(|diagnostic| {
            diagnostic.path == section
                || diagnostic
                    .path
                    .strip_prefix(section)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
    }

    /// The model, when the document has no errors (warnings and notes allowed): what a backtest
    /// or an activation may use.
    pub fn into_valid(self) -> Result<Strategy, Vec<Diagnostic>> {
        match self.strategy {
            Some(strategy) if !any_error(&self.diagnostics) => Ok(strategy),
            _ => Err(self
                .diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect()),
        }
    }
}

pub const TOP_LEVEL_FIELDS: [&str; 12] = [
    "name",
    "description",
    "trading_pair",
    "timeframe",
    "strategy_id",
    "version",
    "indicators",
    "entry_conditions",
    "exit_conditions",
    "stop_conditions",
    "position_sizing",
    "risk_parameters",
];

pub const MAX_INDICATORS: usize = 50;

pub fn validate(text: &str, format: Format) -> Validation {
    if let Err(too_large) = super::size::within_limit(text) {
        return Validation {
            format,
            strategy: None,
            diagnostics: vec![Diagnostic::new(
                "E005",
                Severity::Error,
                format!("{too_large} Remove what the strategy does not need, such as long comments or unused indicators."),
                String::new(),
                Positions::new("").span(0, 0),
            )],
        };
    }
    let positions = Positions::new(text);
    let parsed = parse_document(&positions, format);
    let syntax_failed = parsed.has_syntax_errors();
    let mut validator = Validator {
        positions: &positions,
        diagnostics: parsed.diagnostics,
        report_missing: !syntax_failed,
        format,
        misplaced: std::collections::HashSet::new(),
        misplaced_fields: Vec::new(),
    };
    let strategy = match &parsed.root {
        Some(root) if root.as_map().is_some() => Some(validator.strategy(root)),
        Some(root) => {
            let found = root.kind_name();
            validator.error(
                "E002",
                format!("a strategy is a table of fields (name, trading_pair, ...), but this document is {found}"),
                String::new(),
                root.span,
            );
            None
        }
        None => {
            if !syntax_failed {
                validator.error(
                    "E002",
                    "the document is empty; a strategy starts with fields such as `name`, `trading_pair` and `timeframe`"
                        .to_string(),
                    String::new(),
                    positions.span(0, 0),
                );
            }
            None
        }
    };
    let mut diagnostics = validator.diagnostics;
    diagnostics.sort_by_key(|diagnostic| (diagnostic.span.start, diagnostic.span.end));
    leave_out_past_the_limit(&mut diagnostics, &positions);
    Validation {
        format,
        strategy,
        diagnostics,
    }
}

/// Keeps the first `MAX_DIAGNOSTICS` diagnostics (errors before the rest, so that a flood of
/// notes never hides an error) and says how many were left out.
fn leave_out_past_the_limit(diagnostics: &mut Vec<Diagnostic>, positions: &Positions<'_>) {
    let limit = super::size::MAX_DIAGNOSTICS;
    if diagnostics.len() <= limit {
        return;
    }
    let left_out = diagnostics.len() - limit;
    // Stable: each severity keeps its order by position.
    diagnostics.sort_by_key(|diagnostic| diagnostic.severity);
    diagnostics.truncate(limit);
    diagnostics.sort_by_key(|diagnostic| (diagnostic.span.start, diagnostic.span.end));
    let end = positions.text().len();
    diagnostics.push(Diagnostic::new(
        "I005",
        Severity::Info,
        format!("{left_out} more problems are not listed; fix these first"),
        String::new(),
        positions.span(end, end),
    ));
}

struct Validator<'a, 'text> {
    positions: &'a Positions<'text>,
    diagnostics: Vec<Diagnostic>,
    /// After a syntax error the tree stops early; "missing field" would then be noise.
    report_missing: bool,
    format: Format,
    /// Key spans of top-level fields found inside a TOML table, already reported (E017).
    misplaced: std::collections::HashSet<Span>,
    /// Their names, when the top level lacks them: not "missing", only misplaced.
    misplaced_fields: Vec<String>,
}

impl Validator<'_, '_> {
    fn push(&mut self, code: &str, severity: Severity, message: String, path: String, span: Span) {
        self.report(Diagnostic::new(code, severity, message, path, span));
    }

    fn error(&mut self, code: &str, message: String, path: String, span: Span) {
        self.push(code, Severity::Error, message, path, span);
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// An error that offers `fix` when there is one.
    fn error_with_fix(
        &mut self,
        code: &str,
        message: String,
        path: String,
        span: Span,
        fix: Option<Fix>,
    ) {
        self.report(Diagnostic::new(code, Severity::Error, message, path, span).with_fixes(fix));
    }

    /// A note that offers `fix` when there is one.
    fn info_with_fix(
        &mut self,
        code: &str,
        message: String,
        path: String,
        span: Span,
        fix: Option<Fix>,
    ) {
        self.report(Diagnostic::new(code, Severity::Info, message, path, span).with_fixes(fix));
    }

    /// A fix that writes `replacement` in place of a key or a text value (at `span`, decoded as
    /// `decoded`), inside its quotes when it has them, so the notation stays valid. `None` when
    /// the text was written with escapes, where a plain splice could break it.
    fn replace_scalar(&self, span: Span, decoded: &str, replacement: &str) -> Option<Fix> {
        let source = self.positions.text().get(span.start..span.end)?;
        if source == decoded {
            return Some(Fix::replace(span, replacement));
        }
        let quoted = source.len() == decoded.len() + 2
            && (source.starts_with('"') && source.ends_with('"')
                || source.starts_with('\'') && source.ends_with('\''));
        (quoted && &source[1..source.len() - 1] == decoded).then(|| {
            Fix::replace(
                self.positions.span(span.start + 1, span.end - 1),
                replacement,
            )
        })
    }

    /// A fix that replaces a whole value (quotes and all) with `replacement`, e.g. a number.
    fn replace_value(&self, node: &Node, replacement: &str) -> Fix {
        Fix::replace(node.span, replacement)
    }

    /// Reports keys outside `known` (with "did you mean") and returns the known entries.
    fn known_entries<'n>(
        &mut self,
        node: &'n Node,
        known: &[&str],
        path: &str,
        hint: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<&'n Entry> {
        let Some(entries) = node.as_map() else {
            return Vec::new();
        };
        let mut kept = Vec::new();
        for entry in entries {
            if self.is_misplaced(entry) {
                continue;
            }
            if known.contains(&entry.key.as_str()) {
                kept.push(entry);
                continue;
            }
            let lowercase = entry.key.to_ascii_lowercase();
            let (message, suggestion) = match hint(&entry.key) {
                Some(message) => (
                    message,
                    known.iter().copied().find(|field| *field == lowercase),
                ),
                None => (
                    unknown_name(
                        &format!("unknown field `{}`", entry.key),
                        &entry.key,
                        known.iter().copied(),
                        &format!("the fields here are {}", known.join(", ")),
                    ),
                    closest(&entry.key, known.iter().copied()),
                ),
            };
            let fix =
                suggestion.and_then(|field| self.replace_scalar(entry.key_span, &entry.key, field));
            self.error_with_fix("E011", message, join(path, &entry.key), entry.key_span, fix);
        }
        kept
    }

    fn require(&mut self, entries: &[&Entry], required: &[&str], path: &str, anchor: Span) {
        if !self.report_missing {
            return;
        }
        for field in required {
            let misplaced = path.is_empty() && self.misplaced_fields.iter().any(|key| key == field);
            if !misplaced && !entries.iter().any(|entry| entry.key == *field) {
                let place = if path.is_empty() {
                    "the document".to_string()
                } else {
                    format!("`{path}`")
                };
                self.error(
                    "E010",
                    format!(
                        "{place} needs `{field}`{}",
                        required_field_hint(path, field)
                    ),
                    join(path, field),
                    anchor,
                );
            }
        }
    }

    fn text(&mut self, entry: &Entry, path: &str) -> Option<String> {
        match &entry.value.value {
            Value::Scalar(scalar) if scalar.kind != ScalarKind::Null => Some(scalar.text.clone()),
            _ => {
                let found = entry.value.kind_name();
                self.error(
                    "E012",
                    format!("`{}` must be text, but it is {found}", entry.key),
                    path.to_string(),
                    entry.value.span,
                );
                None
            }
        }
    }

    fn number(&mut self, entry: &Entry, path: &str) -> Option<f64> {
        let scalar = entry.value.as_scalar();
        match scalar.map(|scalar| scalar.kind) {
            Some(ScalarKind::Integer(value)) => Some(value as f64),
            Some(ScalarKind::Float(value)) => Some(value),
            _ => {
                let found = entry.value.kind_name();
                let written = scalar.map_or("", |scalar| scalar.text.trim());
                let (message, meant) = match written
                    .strip_suffix('%')
                    .map(|number| number.trim().parse::<f64>())
                {
                    Some(Ok(percent)) => {
                        let fraction = (percent / 100.0).to_string();
                        (
                            format!(
                                "`{}` must be a number; write {fraction} for {written}",
                                entry.key
                            ),
                            Some(fraction),
                        )
                    }
                    _ if written.parse::<f64>().is_ok() => (
                        format!(
                            "`{}` must be a number, not text; remove the quotes",
                            entry.key
                        ),
                        Some(written.to_string()),
                    ),
                    _ => (
                        format!("`{}` must be a number, but it is {found}", entry.key),
                        None,
                    ),
                };
                let fix = meant.map(|number| self.replace_value(&entry.value, &number));
                self.error_with_fix("E012", message, path.to_string(), entry.value.span, fix);
                None
            }
        }
    }

    /// A fraction `0 < x <= max`, with the "5 means 500%" hint for whole percentages.
    fn fraction(&mut self, entry: &Entry, path: &str, max: f64) -> Option<f64> {
        let value = self.number(entry, path)?;
        if value > 0.0 && value <= max {
            return Some(value);
        }
        let key = &entry.key;
        // A whole number where a fraction belongs is almost surely a percentage.
        if value >= 1.0 && value > max && value <= 100.0 {
            let percent = value * 100.0;
            let meant = value / 100.0;
            let fix = self.replace_value(&entry.value, &meant.to_string());
            self.error_with_fix(
                "E064",
                format!(
                    "`{key}` is a fraction: {value} means {percent}%; write {meant} for {value}%"
                ),
                path.to_string(),
                entry.value.span,
                Some(fix),
            );
        } else {
            let bound = if max == 1.0 {
                "above 0 and at most 1 (1 means 100%)".to_string()
            } else {
                format!("above 0 and at most {max} ({}%)", max * 100.0)
            };
            self.error(
                "E062",
                format!("`{key}` must be {bound}; it is {value}"),
                path.to_string(),
                entry.value.span,
            );
        }
        None
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn required_field_hint(path: &str, field: &str) -> &'static str {
    if path.starts_with("indicators[") {
        return match field {
            "name" => ", e.g. `name: rsi_14`",
            "type" => ", e.g. `type: rsi`",
            _ => "",
        };
    }
    match field {
        "name" => ", e.g. `name: RSI mean reversion`",
        "trading_pair" => ", e.g. `trading_pair: BTC/USD`",
        "timeframe" => ", one of 1m 5m 15m 30m 1h 4h 1d 1w",
        "indicators" => ", a list of at least one indicator",
        "entry_conditions" => ", the condition that opens a position, e.g. `rsi_14 < 30`",
        "exit_conditions" => ", the condition that closes a position, e.g. `rsi_14 > 70`",
        "position_sizing" => ", e.g. `type: percentage` with `percentage_of_capital: 0.1`",
        "risk_parameters" => ", with at least max_daily_loss and max_drawdown",
        "max_daily_loss" => ", a fraction such as 0.05 for 5%",
        "max_drawdown" => ", a fraction such as 0.2 for 20%",
        "type" => "",
        _ => "",
    }
}
