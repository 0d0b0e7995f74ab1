//! Each indicator's `parameters` (known names or aliases, values in range, each given once)
//! and its `source`s, which are resolved once every indicator is known: unknown names, the
//! output of a multi-output indicator, and cycles of indicators reading each other.

use std::collections::BTreeMap;

use super::Validator;
use crate::document::{Entry, ScalarKind, Value};
use crate::expression::NameTable;
use crate::indicators::{IndicatorSpec, ParameterKind, ParameterValue, Source};
use crate::model::Indicator;
use crate::names::PriceField;
use crate::span::Span;
use crate::suggestion::{closest, did_you_mean, unknown_name};

/// A source reference waiting for every indicator to be known.
pub(super) struct PendingSource {
    owner: String,
    name: String,
    output: Option<String>,
    path: String,
    span: Span,
}

impl Validator<'_, '_> {
    pub(super) fn parameters(
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
            if self.is_misplaced(parameter_entry) {
                continue;
            }
            let key = parameter_entry.key.as_str();
            let parameter_path = format!("{parameters_path}.{key}");
            let parameter = match spec.parameter(key) {
                Some(parameter) => parameter,
                None => match spec.parameter_by_alias(key) {
                    Some(parameter) => {
                        let fix =
                            self.replace_scalar(parameter_entry.key_span, key, parameter.name);
                        self.info_with_fix(
                            "I001",
                            format!(
                                "`{key}` is read as `{}`; write `{}`",
                                parameter.name, parameter.name
                            ),
                            parameter_path.clone(),
                            parameter_entry.key_span,
                            fix,
                        );
                        parameter
                    }
                    None => {
                        let known: Vec<&str> = spec
                            .parameters
                            .iter()
                            .map(|parameter| parameter.name)
                            .collect();
                        let message = if known.is_empty() {
                            format!("{} takes no parameters; remove `{key}`", spec.type_name)
                        } else {
                            unknown_name(
                                &format!("{} has no parameter `{key}`", spec.type_name),
                                key,
                                known.iter().copied(),
                                &format!("its parameters are {}", known.join(", ")),
                            )
                        };
                        let fix = closest(key, known.iter().copied()).and_then(|suggestion| {
                            self.replace_scalar(parameter_entry.key_span, key, suggestion)
                        });
                        self.error_with_fix(
                            "E025",
                            message,
                            parameter_path,
                            parameter_entry.key_span,
                            fix,
                        );
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
                        let span = parameter_entry.value.span;
                        let fix = closest(&written, choices.iter().copied())
                            .and_then(|choice| self.replace_scalar(span, &written, choice));
                        self.error_with_fix(
                            "E026",
                            format!(
                                "`{}` must be {}, not `{written}`{suggestion}",
                                parameter.name,
                                parameter.kind.describe_range()
                            ),
                            parameter_path,
                            span,
                            fix,
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

    pub(super) fn resolve_sources(
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
                let message = unknown_name(
                    &format!("unknown source `{written}`"),
                    &written,
                    candidates.iter().map(String::as_str),
                    "use a price (open, high, low, close, volume, hl2, hlc3, ohlc4) or the name of another indicator",
                );
                let fix = closest(&written, candidates.iter().map(String::as_str))
                    .and_then(|name| self.replace_scalar(source.span, &written, name));
                self.error_with_fix("E028", message, source.path, source.span, fix);
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
                (Some(output), false) => {
                    let written = format!("{}.{output}", source.name);
                    let fix = self.replace_scalar(source.span, &written, &source.name);
                    self.error_with_fix(
                        "E028",
                        format!(
                            "`{}` has a single value; write `source: {}`",
                            source.name, source.name
                        ),
                        source.path,
                        source.span,
                        fix,
                    );
                    continue;
                }
                (None, false) => None,
                (Some(output), true) => {
                    if spec.output(output).is_some() {
                        Some(output.clone())
                    } else if let Some(canonical) = spec.output_by_alias(output) {
                        let written = format!("{}.{output}", source.name);
                        let meant = format!("{}.{}", source.name, canonical.name);
                        let fix = self.replace_scalar(source.span, &written, &meant);
                        self.info_with_fix(
                            "I003",
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
                            fix,
                        );
                        Some(canonical.name.to_string())
                    } else {
                        let outputs = || spec.outputs.iter().map(|o| o.name);
                        let suggestion = did_you_mean(output, outputs());
                        let written = format!("{}.{output}", source.name);
                        let fix = closest(output, outputs()).and_then(|meant| {
                            let meant = format!("{}.{meant}", source.name);
                            self.replace_scalar(source.span, &written, &meant)
                        });
                        self.error_with_fix(
                            "E028",
                            format!("`{}` has no output `{output}`{suggestion}", source.name),
                            source.path,
                            source.span,
                            fix,
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
}
