//! The `position_sizing` section: the sizing type, the amount that type needs, and the
//! fields it ignores; risk-based sizing also needs a stop in `risk_parameters`.

use super::Validator;
use crate::document::Entry;
use crate::model::{PositionSizing, RiskParameters, SizingType};
use crate::span::Severity;
use crate::suggestion::{closest, unknown_name};

const SIZING_FIELDS: [&str; 5] = [
    "type",
    "percentage_of_capital",
    "fixed_amount",
    "risk_per_trade",
    "max_position_size",
];

impl Validator<'_, '_> {
    pub(super) fn position_sizing(
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
                        let message = unknown_name(
                            &format!("unknown sizing type `{written}`"),
                            &written,
                            names.iter().copied(),
                            &format!("use one of {}", names.join(", ")),
                        );
                        let span = type_entry.value.span;
                        let fix = closest(&written, names.iter().copied())
                            .and_then(|name| self.replace_scalar(span, &written, name));
                        self.error_with_fix(
                            "E060",
                            message,
                            "position_sizing.type".to_string(),
                            span,
                            fix,
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
}
