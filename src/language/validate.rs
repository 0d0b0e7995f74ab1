//! Validation: document text to the strategy model plus every diagnostic at once. The editor,
//! the save path, the syntax test, the backtest and the `check` command all call `validate`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::document::{parse_document, Entry, Node, ScalarKind, Value};
use super::expression::{
    check_condition, parse_expression, print_expression, ConditionKind, NameTable,
};
use super::indicators::{
    indicator_spec, indicator_spec_by_alias, IndicatorSpec, ParameterKind, ParameterValue, Source,
    INDICATORS,
};
use super::model::{
    Condition, Format, Indicator, PositionSizing, RiskParameters, SizingType, Strategy, Timeframe,
};
use super::names::{identifier_from, PriceField};
use super::span::{any_error, Diagnostic, Positions, Severity, Span};
use super::suggestion::{closest, did_you_mean};

// The naming rules moved to `names`; validation still offers them where they were.
pub use super::names::{is_identifier, is_reserved};

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

const REQUIRED_FIELDS: [&str; 8] = [
    "name",
    "trading_pair",
    "timeframe",
    "indicators",
    "entry_conditions",
    "exit_conditions",
    "position_sizing",
    "risk_parameters",
];

const INDICATOR_FIELDS: [&str; 3] = ["type", "name", "parameters"];
const SIZING_FIELDS: [&str; 5] = [
    "type",
    "percentage_of_capital",
    "fixed_amount",
    "risk_per_trade",
    "max_position_size",
];
const RISK_FIELDS: [&str; 7] = [
    "max_daily_loss",
    "max_drawdown",
    "stop_loss_percentage",
    "take_profit_percentage",
    "trailing_stop_percentage",
    "max_concurrent_positions",
    "max_position_size",
];

pub const MAX_INDICATORS: usize = 50;

pub fn validate(text: &str, format: Format) -> Validation {
    let positions = Positions::new(text);
    let parsed = parse_document(&positions, format);
    let syntax_failed = parsed.has_syntax_errors();
    let mut validator = Validator {
        positions: &positions,
        diagnostics: parsed.diagnostics,
        report_missing: !syntax_failed,
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
    Validation {
        format,
        strategy,
        diagnostics,
    }
}

struct Validator<'a, 'text> {
    positions: &'a Positions<'text>,
    diagnostics: Vec<Diagnostic>,
    /// After a syntax error the tree stops early; "missing field" would then be noise.
    report_missing: bool,
}

/// A source reference waiting for every indicator to be known.
struct PendingSource {
    owner: String,
    name: String,
    output: Option<String>,
    path: String,
    span: Span,
}

impl Validator<'_, '_> {
    fn push(&mut self, code: &str, severity: Severity, message: String, path: String, span: Span) {
        self.diagnostics.push(Diagnostic {
            code: code.to_string(),
            severity,
            message,
            path,
            span,
        });
    }

    fn error(&mut self, code: &str, message: String, path: String, span: Span) {
        self.push(code, Severity::Error, message, path, span);
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
            if known.contains(&entry.key.as_str()) {
                kept.push(entry);
                continue;
            }
            let message = match hint(&entry.key) {
                Some(message) => message,
                None => {
                    let suggestion = did_you_mean(&entry.key, known.iter().copied());
                    if suggestion.is_empty() {
                        format!(
                            "unknown field `{}`; the fields here are {}",
                            entry.key,
                            known.join(", ")
                        )
                    } else {
                        format!("unknown field `{}`{suggestion}", entry.key)
                    }
                }
            };
            self.error("E011", message, join(path, &entry.key), entry.key_span);
        }
        kept
    }

    fn require(&mut self, entries: &[&Entry], required: &[&str], path: &str, anchor: Span) {
        if !self.report_missing {
            return;
        }
        for field in required {
            if !entries.iter().any(|entry| entry.key == *field) {
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
                let message = match written
                    .strip_suffix('%')
                    .map(|number| number.trim().parse::<f64>())
                {
                    Some(Ok(percent)) => format!(
                        "`{}` must be a number; write {} for {written}",
                        entry.key,
                        percent / 100.0
                    ),
                    _ if written.parse::<f64>().is_ok() => {
                        format!(
                            "`{}` must be a number, not text; remove the quotes",
                            entry.key
                        )
                    }
                    _ => format!("`{}` must be a number, but it is {found}", entry.key),
                };
                self.error("E012", message, path.to_string(), entry.value.span);
                None
            }
        }
    }

    fn strategy(&mut self, root: &Node) -> Strategy {
        let entries = self.known_entries(root, &TOP_LEVEL_FIELDS, "", &|key| {
            let lower = key.to_ascii_lowercase();
            if lower != key && TOP_LEVEL_FIELDS.contains(&lower.as_str()) {
                return Some(format!(
                    "unknown field `{key}`; field names are lowercase: `{lower}`"
                ));
            }
            None
        });
        let anchor = root
            .as_map()
            .and_then(|entries| entries.first())
            .map_or(self.positions.span(0, 0), |entry| entry.key_span);
        self.require(&entries, &REQUIRED_FIELDS, "", anchor);
        let mut strategy = Strategy::default();
        let field = |key: &str| entries.iter().copied().find(|entry| entry.key == key);

        if let Some(entry) = field("name") {
            if let Some(name) = self.text(entry, "name") {
                let length = name.trim().chars().count();
                if !(3..=100).contains(&length) {
                    self.error(
                        "E013",
                        format!("the name must be 3 to 100 characters (not counting spaces at the ends); it has {length}"),
                        "name".to_string(),
                        entry.value.span,
                    );
                }
                strategy.name = name.trim().to_string();
            }
        }
        if let Some(entry) = field("description") {
            if entry
                .value
                .as_scalar()
                .is_some_and(|scalar| scalar.kind == ScalarKind::Null)
            {
                // `description:` with nothing after it is an empty description.
            } else if let Some(description) = self.text(entry, "description") {
                let length = description.chars().count();
                if length > 1000 {
                    self.error(
                        "E014",
                        format!("the description can be at most 1,000 characters; it has {length}"),
                        "description".to_string(),
                        entry.value.span,
                    );
                }
                strategy.description = Some(description);
            }
        }
        if let Some(entry) = field("trading_pair") {
            if let Some(pair) = self.text(entry, "trading_pair") {
                if !is_trading_pair(&pair) {
                    let upper = pair.trim().to_uppercase();
                    let message = if is_trading_pair(&upper) {
                        format!("trading pairs are written in capitals: `{upper}`")
                    } else if let Some(fixed) = pair_with_slash(&upper) {
                        format!("write the pair as BASE/QUOTE with a `/`: `{fixed}`")
                    } else {
                        format!("`{pair}` is not a trading pair; write BASE/QUOTE, each 1 to 12 capital letters or digits, e.g. `BTC/USD`")
                    };
                    self.error(
                        "E015",
                        message,
                        "trading_pair".to_string(),
                        entry.value.span,
                    );
                }
                strategy.trading_pair = pair;
            }
        }
        if let Some(entry) = field("timeframe") {
            if let Some(written) = self.text(entry, "timeframe") {
                match Timeframe::from_name(&written) {
                    Some(timeframe) => strategy.timeframe = Some(timeframe),
                    None => {
                        let names: Vec<&str> = Timeframe::ALL.iter().map(|t| t.name()).collect();
                        let lower = written.to_lowercase();
                        let fix = Timeframe::from_name(&lower)
                            .map(Timeframe::name)
                            .or_else(|| closest(&written, names.iter().copied()));
                        let message = match fix {
                            Some(fix) => format!(
                                "unknown timeframe `{written}`; did you mean `{fix}`? (one of {})",
                                names.join(", ")
                            ),
                            None => format!(
                                "unknown timeframe `{written}`; use one of {}",
                                names.join(", ")
                            ),
                        };
                        self.error("E016", message, "timeframe".to_string(), entry.value.span);
                    }
                }
            }
        }
        for (key, slot) in [
            ("strategy_id", &mut strategy.strategy_id),
            ("version", &mut strategy.version),
        ] {
            if let Some(entry) = field(key) {
                *slot = self.text(entry, key);
            }
        }

        let mut names = NameTable {
            indicators: Vec::new(),
            declared_without_type: Vec::new(),
        };
        if let Some(entry) = field("indicators") {
            strategy.indicators = self.indicators(entry, &mut names);
        }
        for (key, kind) in [
            ("entry_conditions", ConditionKind::Entry),
            ("exit_conditions", ConditionKind::Exit),
            ("stop_conditions", ConditionKind::Stop),
        ] {
            let Some(entry) = field(key) else { continue };
            let condition = self.condition(entry, key, kind, &names);
            match kind {
                ConditionKind::Entry => strategy.entry_conditions = condition,
                ConditionKind::Exit => strategy.exit_conditions = condition,
                ConditionKind::Stop => strategy.stop_conditions = condition,
            }
        }
        let risk_entry = field("risk_parameters");
        if let Some(entry) = risk_entry {
            strategy.risk_parameters = self.risk_parameters(entry);
        }
        if let Some(entry) = field("position_sizing") {
            strategy.position_sizing = self.position_sizing(
                entry,
                strategy.risk_parameters.as_ref(),
                risk_entry.is_some(),
            );
        }
        strategy
    }

    fn indicators(&mut self, entry: &Entry, names: &mut NameTable) -> Vec<Indicator> {
        let Some(items) = entry.value.as_list() else {
            let found = entry.value.kind_name();
            self.error(
                "E012",
                format!("`indicators` must be a list of indicators, but it is {found}"),
                "indicators".to_string(),
                entry.value.span,
            );
            return Vec::new();
        };
        if items.is_empty() || items.len() > MAX_INDICATORS {
            self.error(
                "E020",
                format!(
                    "a strategy has 1 to {MAX_INDICATORS} indicators; this one has {}",
                    items.len()
                ),
                "indicators".to_string(),
                if items.is_empty() {
                    entry.value.span
                } else {
                    entry.key_span
                },
            );
        }
        let mut indicators: Vec<Indicator> = Vec::new();
        let mut seen: Vec<(String, Span)> = Vec::new();
        let mut pending_sources = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let path = format!("indicators[{index}]");
            let Some(indicator) =
                self.indicator(item, &path, &mut seen, names, &mut pending_sources)
            else {
                continue;
            };
            indicators.push(indicator);
        }
        self.resolve_sources(&mut indicators, pending_sources, names);
        indicators
    }

    fn indicator(
        &mut self,
        item: &Node,
        path: &str,
        seen: &mut Vec<(String, Span)>,
        names: &mut NameTable,
        pending_sources: &mut Vec<PendingSource>,
    ) -> Option<Indicator> {
        if item.as_map().is_none() {
            let found = item.kind_name();
            self.error(
                "E012",
                format!("each indicator is a table with `type`, `name` and `parameters`, but this one is {found}"),
                path.to_string(),
                item.span,
            );
            return None;
        }
        let declared_type = item
            .get("type")
            .and_then(|entry| entry.value.as_scalar())
            .map(|scalar| scalar.text.clone());
        let declared_spec = declared_type
            .as_deref()
            .and_then(|name| indicator_spec(name).or_else(|| indicator_spec_by_alias(name)));
        let entries = self.known_entries(item, &INDICATOR_FIELDS, path, &|key| {
            let spec = declared_spec?;
            let parameter = spec.parameter(key).or_else(|| spec.parameter_by_alias(key))?;
            Some(format!(
                "`{key}` is a parameter of {}; put it under `parameters` (`parameters: {{ {}: ... }}`)",
                spec.type_name, parameter.name
            ))
        });
        self.require(&entries, &["type", "name"], path, item.span);
        let field = |key: &str| entries.iter().copied().find(|entry| entry.key == key);

        let mut name = None;
        let name_span = field("name").map_or(item.span, |entry| entry.value.span);
        if let Some(entry) = field("name") {
            let name_path = format!("{path}.name");
            if let Some(written) = self.text(entry, &name_path) {
                self.check_indicator_name(&written, &name_path, entry.value.span, seen);
                name = Some(written);
            }
        }
        let mut spec: Option<&'static IndicatorSpec> = None;
        if let Some(entry) = field("type") {
            let type_path = format!("{path}.type");
            if let Some(written) = self.text(entry, &type_path) {
                spec = self.indicator_type(&written, &type_path, entry.value.span);
            }
        }
        let Some(spec) = spec else {
            if let Some(name) = name {
                names.declared_without_type.push(name);
            }
            return None;
        };
        let name = name?;
        names.indicators.push((name.clone(), spec));
        let parameters = self.parameters(spec, field("parameters"), path, &name, pending_sources);
        Some(Indicator {
            name,
            indicator_type: spec.type_name.to_string(),
            parameters,
            span: item.span,
            name_span,
        })
    }

    fn check_indicator_name(
        &mut self,
        written: &str,
        path: &str,
        span: Span,
        seen: &mut Vec<(String, Span)>,
    ) {
        if !is_identifier(written) {
            let fixed = identifier_from(written);
            let example = if is_identifier(&fixed) {
                format!(", e.g. `{fixed}`")
            } else {
                ", e.g. `rsi_14`".to_string()
            };
            self.error(
                "E022",
                format!("`{written}` is not a valid indicator name: use lowercase letters, digits and `_`, starting with a letter, at most 50 characters{example}"),
                path.to_string(),
                span,
            );
        } else if is_reserved(written) {
            self.error(
                "E024",
                format!("`{written}` is a built-in name of the condition language; name the indicator differently, e.g. `{written}_1`"),
                path.to_string(),
                span,
            );
        }
        if let Some((_, first)) = seen.iter().find(|(name, _)| name == written) {
            let line = first.line;
            self.error(
                "E023",
                format!("another indicator is already named `{written}` (line {line}); names must be unique"),
                path.to_string(),
                span,
            );
        } else {
            seen.push((written.to_string(), span));
        }
    }

    fn indicator_type(
        &mut self,
        written: &str,
        path: &str,
        span: Span,
    ) -> Option<&'static IndicatorSpec> {
        if let Some(spec) = indicator_spec(written) {
            return Some(spec);
        }
        if let Some(spec) = indicator_spec_by_alias(written) {
            self.push(
                "I002",
                Severity::Info,
                format!(
                    "`{written}` is read as `{}`; write `{}`",
                    spec.type_name, spec.type_name
                ),
                path.to_string(),
                span,
            );
            return Some(spec);
        }
        let candidates = INDICATORS
            .iter()
            .flat_map(|spec| std::iter::once(spec.type_name).chain(spec.aliases.iter().copied()));
        let suggestion = did_you_mean(written, candidates);
        let types: Vec<&str> = INDICATORS.iter().map(|spec| spec.type_name).collect();
        let message = if suggestion.is_empty() {
            format!(
                "unknown indicator type `{written}`; the types are {}",
                types.join(", ")
            )
        } else {
            format!("unknown indicator type `{written}`{suggestion}")
        };
        self.error("E021", message, path.to_string(), span);
        None
    }

    fn parameters(
        &mut self,
        spec: &'static IndicatorSpec,
        entry: Option<&Entry>,
        path: &str,
        owner: &str,
        pending_sources: &mut Vec<PendingSource>,
    ) -> BTreeMap<String, ParameterValue> {
        let mut values: BTreeMap<String, ParameterValue> = spec
            .parameters
            .iter()
            .map(|parameter| (parameter.name.to_string(), parameter.kind.default_value()))
            .collect();
        let Some(entry) = entry else { return values };
        let parameters_path = format!("{path}.parameters");
        let entries = match &entry.value.value {
            Value::Map(entries, _) => entries.as_slice(),
            Value::Scalar(scalar) if scalar.kind == ScalarKind::Null => &[],
            _ => {
                let found = entry.value.kind_name();
                self.error(
                    "E012",
                    format!("`parameters` must be a table such as `period: 14`, but it is {found}"),
                    parameters_path,
                    entry.value.span,
                );
                return values;
            }
        };
        let mut given: Vec<(&str, &str, Span)> = Vec::new();
        let mut spans: BTreeMap<&str, Span> = BTreeMap::new();
        for parameter_entry in entries {
            let key = parameter_entry.key.as_str();
            let parameter_path = format!("{parameters_path}.{key}");
            let parameter = match spec.parameter(key) {
                Some(parameter) => parameter,
                None => match spec.parameter_by_alias(key) {
                    Some(parameter) => {
                        self.push(
                            "I001",
                            Severity::Info,
                            format!(
                                "`{key}` is read as `{}`; write `{}`",
                                parameter.name, parameter.name
                            ),
                            parameter_path.clone(),
                            parameter_entry.key_span,
                        );
                        parameter
                    }
                    None => {
                        let known: Vec<&str> = spec
                            .parameters
                            .iter()
                            .map(|parameter| parameter.name)
                            .collect();
                        let suggestion = did_you_mean(key, known.iter().copied());
                        let message = if known.is_empty() {
                            format!("{} takes no parameters; remove `{key}`", spec.type_name)
                        } else if suggestion.is_empty() {
                            format!(
                                "{} has no parameter `{key}`; its parameters are {}",
                                spec.type_name,
                                known.join(", ")
                            )
                        } else {
                            format!("{} has no parameter `{key}`{suggestion}", spec.type_name)
                        };
                        self.error("E025", message, parameter_path, parameter_entry.key_span);
                        continue;
                    }
                },
            };
            if let Some((first, _, _)) = given
                .iter()
                .find(|(_, canonical, _)| *canonical == parameter.name)
            {
                self.error(
                    "E004",
                    format!(
                        "`{}` is given twice (as `{first}` and `{key}`); keep one",
                        parameter.name
                    ),
                    parameter_path,
                    parameter_entry.key_span,
                );
                continue;
            }
            given.push((key, parameter.name, parameter_entry.key_span));
            spans.insert(parameter.name, parameter_entry.value.span);
            let value = match &parameter.kind {
                ParameterKind::Integer { .. } | ParameterKind::Number { .. } => {
                    let Some(number) = self.number(parameter_entry, &parameter_path) else {
                        continue;
                    };
                    if !parameter.kind.accepts(number) {
                        self.error(
                            "E026",
                            format!(
                                "`{}` must be {}; it is {number}",
                                parameter.name,
                                parameter.kind.describe_range()
                            ),
                            parameter_path,
                            parameter_entry.value.span,
                        );
                        continue;
                    }
                    ParameterValue::Number(number)
                }
                ParameterKind::Choice { choices, .. } => {
                    let Some(written) = self.text(parameter_entry, &parameter_path) else {
                        continue;
                    };
                    if !choices.contains(&written.as_str()) {
                        let suggestion = did_you_mean(&written, choices.iter().copied());
                        self.error(
                            "E026",
                            format!(
                                "`{}` must be {}, not `{written}`{suggestion}",
                                parameter.name,
                                parameter.kind.describe_range()
                            ),
                            parameter_path,
                            parameter_entry.value.span,
                        );
                        continue;
                    }
                    ParameterValue::Choice(written)
                }
                ParameterKind::Source => {
                    let Some(written) = self.text(parameter_entry, &parameter_path) else {
                        continue;
                    };
                    let written = written.trim();
                    if let Some(field) = PriceField::from_name(written) {
                        ParameterValue::Source(Source::Price { field })
                    } else {
                        let (name, output) = match written.split_once('.') {
                            Some((name, output)) => (name.to_string(), Some(output.to_string())),
                            None => (written.to_string(), None),
                        };
                        pending_sources.push(PendingSource {
                            owner: owner.to_string(),
                            name: name.clone(),
                            output: output.clone(),
                            path: parameter_path,
                            span: parameter_entry.value.span,
                        });
                        ParameterValue::Source(Source::Indicator { name, output })
                    }
                }
            };
            values.insert(parameter.name.to_string(), value);
        }
        if let (Some(ParameterValue::Number(fast)), Some(ParameterValue::Number(slow))) =
            (values.get("fast_period"), values.get("slow_period"))
        {
            if fast >= slow {
                let span = spans
                    .get("slow_period")
                    .or_else(|| spans.get("fast_period"))
                    .copied()
                    .unwrap_or(entry.key_span);
                let field = if spans.contains_key("slow_period") {
                    "slow_period"
                } else {
                    "fast_period"
                };
                self.error(
                    "E027",
                    format!("fast_period ({fast}) must be below slow_period ({slow})"),
                    format!("{parameters_path}.{field}"),
                    span,
                );
            }
        }
        values
    }

    fn resolve_sources(
        &mut self,
        indicators: &mut [Indicator],
        pending: Vec<PendingSource>,
        names: &NameTable,
    ) {
        let mut edges: Vec<(String, String, Span, String)> = Vec::new();
        for source in pending {
            let owner = indicators
                .iter()
                .position(|indicator| indicator.name == source.owner);
            let owner_name = source.owner.clone();
            let Some((_, spec)) = names
                .indicators
                .iter()
                .find(|(name, _)| *name == source.name)
            else {
                if names.declared_without_type.contains(&source.name) {
                    continue;
                }
                let mut candidates: Vec<String> = PriceField::ALL
                    .iter()
                    .map(|field| field.name().to_string())
                    .collect();
                candidates.extend(names.indicators.iter().map(|(name, _)| name.clone()));
                let written = match &source.output {
                    Some(output) => format!("{}.{output}", source.name),
                    None => source.name.clone(),
                };
                let suggestion = did_you_mean(&written, candidates.iter().map(String::as_str));
                let message = if suggestion.is_empty() {
                    format!("unknown source `{written}`; use a price (open, high, low, close, volume, hl2, hlc3, ohlc4) or the name of another indicator")
                } else {
                    format!("unknown source `{written}`{suggestion}")
                };
                self.error("E028", message, source.path, source.span);
                continue;
            };
            let output = match (&source.output, spec.is_multi_output()) {
                (None, true) => {
                    let outputs: Vec<String> = spec
                        .outputs
                        .iter()
                        .map(|o| format!("`{}.{}`", source.name, o.name))
                        .collect();
                    self.error(
                        "E028",
                        format!(
                            "`{}` has several outputs; pick one as the source: {}",
                            source.name,
                            outputs.join(", ")
                        ),
                        source.path,
                        source.span,
                    );
                    continue;
                }
                (Some(_), false) => {
                    self.error(
                        "E028",
                        format!(
                            "`{}` has a single value; write `source: {}`",
                            source.name, source.name
                        ),
                        source.path,
                        source.span,
                    );
                    continue;
                }
                (None, false) => None,
                (Some(output), true) => {
                    if spec.output(output).is_some() {
                        Some(output.clone())
                    } else if let Some(canonical) = spec.output_by_alias(output) {
                        self.push(
                            "I003",
                            Severity::Info,
                            format!(
                                "`{}.{output}` is read as `{}.{}`; write `{}.{}`",
                                source.name,
                                source.name,
                                canonical.name,
                                source.name,
                                canonical.name
                            ),
                            source.path.clone(),
                            source.span,
                        );
                        Some(canonical.name.to_string())
                    } else {
                        let suggestion = did_you_mean(output, spec.outputs.iter().map(|o| o.name));
                        self.error(
                            "E028",
                            format!("`{}` has no output `{output}`{suggestion}", source.name),
                            source.path,
                            source.span,
                        );
                        continue;
                    }
                }
            };
            if let Some(position) = owner {
                if let Some(ParameterValue::Source(Source::Indicator { output: slot, .. })) =
                    indicators[position].parameters.get_mut("source")
                {
                    slot.clone_from(&output);
                }
            }
            edges.push((owner_name, source.name, source.span, source.path));
        }
        self.report_cycles(indicators, &edges);
    }

    /// Each cycle of `source` references once, named in document order: `a -> b -> a`.
    fn report_cycles(
        &mut self,
        indicators: &[Indicator],
        edges: &[(String, String, Span, String)],
    ) {
        let mut reported: Vec<Vec<String>> = Vec::new();
        for indicator in indicators {
            let mut chain = vec![indicator.name.clone()];
            let mut current = indicator.name.clone();
            while let Some((_, next, _, _)) = edges.iter().find(|(from, _, _, _)| *from == current)
            {
                if let Some(position) = chain.iter().position(|name| name == next) {
                    let mut cycle: Vec<String> = chain[position..].to_vec();
                    let mut members = cycle.clone();
                    members.sort();
                    if position == 0 && !reported.contains(&members) {
                        reported.push(members);
                        cycle.push(next.clone());
                        if let Some((_, _, span, path)) =
                            edges.iter().find(|(from, _, _, _)| *from == indicator.name)
                        {
                            self.error(
                                "E029",
                                format!(
                                    "these indicators read each other in a cycle: {}; one of them must read a price instead",
                                    cycle.join(" -> ")
                                ),
                                path.clone(),
                                *span,
                            );
                        }
                    }
                    break;
                }
                chain.push(next.clone());
                current = next.clone();
            }
        }
    }

    fn condition(
        &mut self,
        entry: &Entry,
        key: &str,
        kind: ConditionKind,
        names: &NameTable,
    ) -> Option<Condition> {
        let scalar = match entry.value.as_scalar() {
            Some(scalar) if scalar.kind != ScalarKind::Null => scalar,
            Some(_) => {
                self.error(
                    "E049",
                    format!("`{key}` is empty; write a condition, e.g. `rsi_14 < 30`"),
                    key.to_string(),
                    entry.key_span,
                );
                return None;
            }
            None => {
                let found = entry.value.kind_name();
                self.error(
                    "E012",
                    format!("`{key}` must be a condition written as text, e.g. `rsi_14 < 30`, but it is {found}"),
                    key.to_string(),
                    entry.value.span,
                );
                return None;
            }
        };
        let offsets = entry
            .value
            .value_offsets(self.positions.text())
            .unwrap_or_else(|| vec![entry.value.span.start; scalar.text.len() + 1]);
        let outcome = parse_expression(&scalar.text, &offsets, self.positions);
        let mut diagnostics = outcome.diagnostics;
        let condition = outcome.expression.map(|mut expression| {
            diagnostics.extend(check_condition(&mut expression, kind, names));
            Condition {
                text: scalar.text.clone(),
                canonical: print_expression(&expression),
                expression,
            }
        });
        for mut diagnostic in diagnostics {
            diagnostic.path = key.to_string();
            self.diagnostics.push(diagnostic);
        }
        condition
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
            self.error(
                "E064",
                format!(
                    "`{key}` is a fraction: {value} means {percent}%; write {meant} for {value}%"
                ),
                path.to_string(),
                entry.value.span,
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

    fn position_sizing(
        &mut self,
        entry: &Entry,
        risk: Option<&RiskParameters>,
        risk_present: bool,
    ) -> Option<PositionSizing> {
        let node = &entry.value;
        if node.as_map().is_none() {
            let found = node.kind_name();
            self.error(
                "E012",
                format!("`position_sizing` must be a table with `type` and its amount, but it is {found}"),
                "position_sizing".to_string(),
                node.span,
            );
            return None;
        }
        let entries = self.known_entries(node, &SIZING_FIELDS, "position_sizing", &|_| None);
        self.require(&entries, &["type"], "position_sizing", entry.key_span);
        let field = |key: &str| entries.iter().copied().find(|entry| entry.key == key);
        let mut sizing = PositionSizing {
            sizing_type: None,
            percentage_of_capital: None,
            fixed_amount: None,
            risk_per_trade: None,
            max_position_size: None,
        };
        if let Some(type_entry) = field("type") {
            if let Some(written) = self.text(type_entry, "position_sizing.type") {
                match SizingType::from_name(&written) {
                    Some(sizing_type) => sizing.sizing_type = Some(sizing_type),
                    None => {
                        let names: Vec<&str> = SizingType::ALL.iter().map(|t| t.name()).collect();
                        let suggestion = did_you_mean(&written, names.iter().copied());
                        let message = if suggestion.is_empty() {
                            format!(
                                "unknown sizing type `{written}`; use one of {}",
                                names.join(", ")
                            )
                        } else {
                            format!("unknown sizing type `{written}`{suggestion}")
                        };
                        self.error(
                            "E060",
                            message,
                            "position_sizing.type".to_string(),
                            type_entry.value.span,
                        );
                    }
                }
            }
        }
        if let Some(field_entry) = field("percentage_of_capital") {
            sizing.percentage_of_capital =
                self.fraction(field_entry, "position_sizing.percentage_of_capital", 1.0);
        }
        if let Some(field_entry) = field("fixed_amount") {
            if let Some(amount) = self.number(field_entry, "position_sizing.fixed_amount") {
                if amount > 0.0 && amount.is_finite() {
                    sizing.fixed_amount = Some(amount);
                } else {
                    self.error(
                        "E062",
                        format!("`fixed_amount` is an amount of the quote currency above 0; it is {amount}"),
                        "position_sizing.fixed_amount".to_string(),
                        field_entry.value.span,
                    );
                }
            }
        }
        if let Some(field_entry) = field("risk_per_trade") {
            sizing.risk_per_trade =
                self.fraction(field_entry, "position_sizing.risk_per_trade", 0.1);
        }
        if let Some(field_entry) = field("max_position_size") {
            sizing.max_position_size =
                self.fraction(field_entry, "position_sizing.max_position_size", 1.0);
        }
        if let Some(sizing_type) = sizing.sizing_type {
            let needed = match sizing_type {
                SizingType::Percentage => "percentage_of_capital",
                SizingType::FixedAmount => "fixed_amount",
                SizingType::RiskBased => "risk_per_trade",
            };
            let type_span = field("type").map_or(entry.key_span, |entry| entry.value.span);
            if field(needed).is_none() && self.report_missing {
                let example = match sizing_type {
                    SizingType::Percentage => {
                        "percentage_of_capital: 0.1 (10% of capital per trade)"
                    }
                    SizingType::FixedAmount => "fixed_amount: 1000 (in the quote currency)",
                    SizingType::RiskBased => "risk_per_trade: 0.01 (risk 1% of capital per trade)",
                };
                self.error(
                    "E061",
                    format!(
                        "sizing type `{}` needs `{needed}`, e.g. `{example}`",
                        sizing_type.name()
                    ),
                    format!("position_sizing.{needed}"),
                    type_span,
                );
            }
            for other in ["percentage_of_capital", "fixed_amount", "risk_per_trade"] {
                if other != needed {
                    if let Some(ignored) = field(other) {
                        self.push(
                            "W070",
                            Severity::Warning,
                            format!("`{other}` is ignored when the sizing type is `{}`; remove it or change the type", sizing_type.name()),
                            format!("position_sizing.{other}"),
                            ignored.key_span,
                        );
                    }
                }
            }
            let has_stop = risk.is_some_and(|risk| risk.stop_loss_percentage.is_some());
            if sizing_type == SizingType::RiskBased
                && !has_stop
                && risk_present
                && self.report_missing
            {
                self.error(
                    "E063",
                    "risk-based sizing needs a stop: add `stop_loss_percentage` to risk_parameters (e.g. 0.02 for 2%)".to_string(),
                    "risk_parameters.stop_loss_percentage".to_string(),
                    type_span,
                );
            }
        }
        Some(sizing)
    }

    fn risk_parameters(&mut self, entry: &Entry) -> Option<RiskParameters> {
        let node = &entry.value;
        if node.as_map().is_none() {
            let found = node.kind_name();
            self.error(
                "E012",
                format!("`risk_parameters` must be a table (max_daily_loss, max_drawdown, ...), but it is {found}"),
                "risk_parameters".to_string(),
                node.span,
            );
            return None;
        }
        let entries = self.known_entries(node, &RISK_FIELDS, "risk_parameters", &|_| None);
        self.require(
            &entries,
            &["max_daily_loss", "max_drawdown"],
            "risk_parameters",
            entry.key_span,
        );
        let mut risk = RiskParameters::default();
        for field_entry in entries {
            let path = format!("risk_parameters.{}", field_entry.key);
            if field_entry.key == "max_concurrent_positions" {
                if let Some(count) = self.number(field_entry, &path) {
                    if count.fract() == 0.0 && (1.0..=100.0).contains(&count) {
                        risk.max_concurrent_positions = Some(count as u32);
                    } else {
                        self.error(
                            "E062",
                            format!("`max_concurrent_positions` must be a whole number from 1 to 100; it is {count}"),
                            path,
                            field_entry.value.span,
                        );
                    }
                }
                continue;
            }
            let value = self.fraction(field_entry, &path, 1.0);
            let slot = match field_entry.key.as_str() {
                "max_daily_loss" => &mut risk.max_daily_loss,
                "max_drawdown" => &mut risk.max_drawdown,
                "stop_loss_percentage" => &mut risk.stop_loss_percentage,
                "take_profit_percentage" => &mut risk.take_profit_percentage,
                "trailing_stop_percentage" => &mut risk.trailing_stop_percentage,
                _ => &mut risk.max_position_size,
            };
            *slot = value;
        }
        Some(risk)
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

fn is_trading_pair(pair: &str) -> bool {
    let Some((base, quote)) = pair.split_once('/') else {
        return false;
    };
    let side = |side: &str| {
        (1..=12).contains(&side.len())
            && side
                .bytes()
                .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
    };
    side(base) && side(quote)
}

/// `BTC-USD`, `BTC_USD` or `BTC USD` written for `BTC/USD`.
fn pair_with_slash(upper: &str) -> Option<String> {
    let separator = upper.find(['-', '_', ' ', ':'])?;
    let fixed = format!("{}/{}", &upper[..separator], &upper[separator + 1..]);
    is_trading_pair(&fixed).then_some(fixed)
}
