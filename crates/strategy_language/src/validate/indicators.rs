//! The `indicators` section: the list, each entry's `name` (valid, not reserved, unique) and
//! `type` (known, or an accepted alias); the parameters are read in `parameters`.

use super::parameters::PendingSource;
use super::{Validator, MAX_INDICATORS};
use crate::document::{Entry, Node};
use crate::expression::NameTable;
use crate::indicators::{indicator_spec, indicator_spec_by_alias, IndicatorSpec, INDICATORS};
use crate::model::Indicator;
use crate::names::{identifier_from, is_identifier, is_reserved};
use crate::span::Span;
use crate::suggestion::{closest, unknown_name};

const INDICATOR_FIELDS: [&str; 3] = ["type", "name", "parameters"];

impl Validator<'_, '_> {
    pub(super) fn indicators(&mut self, entry: &Entry, names: &mut NameTable) -> Vec<Indicator> {
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
            let unread = if items.len() > MAX_INDICATORS {
                format!(" (only the first {MAX_INDICATORS} are checked)")
            } else {
                String::new()
            };
            self.error(
                "E020",
                format!(
                    "a strategy has 1 to {MAX_INDICATORS} indicators; this one has {}{unread}",
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
        // Past the limit nothing is read: every check below compares indicators with each
        // other, which a list of thousands would make slow.
        for (index, item) in items.iter().take(MAX_INDICATORS).enumerate() {
            let path = format!("indicators[{index}]");
            let Some(indicator) =
                self.indicator(item, &path, &mut seen, names, &mut pending_sources)
            else {
                continue;
            };
            indicators.push(indicator);
        }
        // Unread, but named: conditions that use them get no "unknown name" on top of E020.
        for item in items.iter().skip(MAX_INDICATORS) {
            if let Some(name) = item.get("name").and_then(|entry| entry.value.as_scalar()) {
                names.declared_without_type.insert(name.text.clone());
            }
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
                names.declared_without_type.insert(name);
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
            let fix = self.replace_scalar(span, written, spec.type_name);
            self.info_with_fix(
                "I002",
                format!(
                    "`{written}` is read as `{}`; write `{}`",
                    spec.type_name, spec.type_name
                ),
                path.to_string(),
                span,
                fix,
            );
            return Some(spec);
        }
        let candidates = || {
            INDICATORS.iter().flat_map(|spec| {
                std::iter::once(spec.type_name).chain(spec.aliases.iter().copied())
            })
        };
        let types: Vec<&str> = INDICATORS.iter().map(|spec| spec.type_name).collect();
        let message = unknown_name(
            &format!("unknown indicator type `{written}`"),
            written,
            candidates(),
            &format!("the types are {}", types.join(", ")),
        );
        let fix = closest(written, candidates())
            .and_then(|suggestion| self.replace_scalar(span, written, suggestion));
        self.error_with_fix("E021", message, path.to_string(), span, fix);
        None
    }
}
