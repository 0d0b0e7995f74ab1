//! The top-level fields of a strategy document (name, description, trading pair, timeframe,
//! id, version), and the order in which the sections below them are read: indicators first,
//! since conditions and sizing refer to what they declare.

use super::{Validator, TOP_LEVEL_FIELDS};
use crate::document::{Node, ScalarKind};
use crate::expression::{ConditionKind, NameTable};
use crate::model::{Format, Strategy, Timeframe};
use crate::suggestion::closest;

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

impl Validator<'_, '_> {
    pub(super) fn strategy(&mut self, root: &Node) -> Strategy {
        if self.format == Format::Toml {
            self.report_misplaced_toml_keys(root);
        }
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
                    // Pairs are ASCII capitals and digits (ASCII case mapping, as in suggestions).
                    let upper = pair.trim().to_ascii_uppercase();
                    let (message, meant) = if is_trading_pair(&upper) {
                        (
                            format!("trading pairs are written in capitals: `{upper}`"),
                            Some(upper),
                        )
                    } else if let Some(fixed) = pair_with_slash(&upper) {
                        (
                            format!("write the pair as BASE/QUOTE with a `/`: `{fixed}`"),
                            Some(fixed),
                        )
                    } else {
                        (format!("`{pair}` is not a trading pair; write BASE/QUOTE, each 1 to 12 capital letters or digits, e.g. `BTC/USD`"), None)
                    };
                    let fix = meant
                        .and_then(|meant| self.replace_scalar(entry.value.span, &pair, &meant));
                    self.error_with_fix(
                        "E015",
                        message,
                        "trading_pair".to_string(),
                        entry.value.span,
                        fix,
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
                        let lower = written.to_ascii_lowercase();
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
                        let fix = fix
                            .and_then(|fix| self.replace_scalar(entry.value.span, &written, fix));
                        self.error_with_fix(
                            "E016",
                            message,
                            "timeframe".to_string(),
                            entry.value.span,
                            fix,
                        );
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
            declared_without_type: Default::default(),
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
}

/// `BASE/QUOTE`, each side 1 to 12 capital letters or digits: the rule for `trading_pair`,
/// shared with the market data import.
pub fn is_trading_pair(pair: &str) -> bool {
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
