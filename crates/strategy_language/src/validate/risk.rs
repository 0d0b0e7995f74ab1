//! The `risk_parameters` section: loss and drawdown limits, stops and targets as fractions,
//! and the number of positions open at once.

use super::Validator;
use crate::document::Entry;
use crate::model::RiskParameters;

const RISK_FIELDS: [&str; 7] = [
    "max_daily_loss",
    "max_drawdown",
    "stop_loss_percentage",
    "take_profit_percentage",
    "trailing_stop_percentage",
    "max_concurrent_positions",
    "max_position_size",
];

impl Validator<'_, '_> {
    pub(super) fn risk_parameters(&mut self, entry: &Entry) -> Option<RiskParameters> {
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
