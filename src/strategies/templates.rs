//! The documents a new strategy starts from, in both notations, each commented so that a
//! trader new to the language sees what every part means.

use crate::language::Format;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Template {
    pub key: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    yaml: &'static str,
    toml: &'static str,
}

impl Template {
    pub fn text(&self, format: Format) -> &'static str {
        match format {
            Format::Yaml => self.yaml,
            Format::Toml => self.toml,
        }
    }

    pub fn find(key: &str) -> Option<&'static Template> {
        TEMPLATES.iter().find(|template| template.key == key)
    }
}

pub const TEMPLATES: &[Template] = &[
    Template {
        key: "ma_cross",
        title: "Moving-average cross",
        summary: "Buy when the fast average crosses above the slow one; sell when it crosses back.",
        yaml: r#"# Moving-average cross: follow the trend when a fast average crosses a slow one.
name: "MA cross"
description: "Buy when the 20-bar EMA crosses above the 50-bar SMA; sell when it crosses back below."
trading_pair: "EUR/USD"
timeframe: "1h"

indicators:
  - type: ema          # exponential moving average: reacts quickly to new prices
    name: ema_fast
    parameters:
      period: 20
  - type: sma          # simple moving average: the slower trend line
    name: sma_slow
    parameters:
      period: 50

entry_conditions: "crosses_above(ema_fast, sma_slow)"
exit_conditions: "crosses_below(ema_fast, sma_slow)"
# Leave early when the trade has lost 3% (a fraction: -0.03 is -3%).
stop_conditions: "unrealized_pnl_pct < -0.03"

position_sizing:
  type: percentage
  percentage_of_capital: 0.1   # 10% of the account per trade

risk_parameters:
  max_daily_loss: 0.03         # stop trading for the day after losing 3%
  max_drawdown: 0.15           # stop altogether 15% below the peak
  stop_loss_percentage: 0.02
  take_profit_percentage: 0.06
"#,
        toml: r#"# Moving-average cross: follow the trend when a fast average crosses a slow one.
name = "MA cross"
description = "Buy when the 20-bar EMA crosses above the 50-bar SMA; sell when it crosses back below."
trading_pair = "EUR/USD"
timeframe = "1h"
entry_conditions = "crosses_above(ema_fast, sma_slow)"
exit_conditions = "crosses_below(ema_fast, sma_slow)"
# Leave early when the trade has lost 3% (a fraction: -0.03 is -3%).
stop_conditions = "unrealized_pnl_pct < -0.03"

# Exponential moving average: reacts quickly to new prices.
[[indicators]]
type = "ema"
name = "ema_fast"
parameters = { period = 20 }

# Simple moving average: the slower trend line.
[[indicators]]
type = "sma"
name = "sma_slow"
parameters = { period = 50 }

[position_sizing]
type = "percentage"
percentage_of_capital = 0.1   # 10% of the account per trade

[risk_parameters]
max_daily_loss = 0.03         # stop trading for the day after losing 3%
max_drawdown = 0.15           # stop altogether 15% below the peak
stop_loss_percentage = 0.02
take_profit_percentage = 0.06
"#,
    },
    Template {
        key: "rsi_reversion",
        title: "RSI reversion",
        summary: "Buy when RSI says oversold in an uptrend; sell when it recovers.",
        yaml: r#"# RSI reversion: buy a dip in an uptrend, sell the recovery.
name: "RSI reversion"
description: "Buy when the 14-bar RSI drops below 30 while price is above its 200-bar average."
trading_pair: "GOOG/USD"
timeframe: "1d"

indicators:
  - type: rsi          # relative strength index, 0 to 100: below 30 is "oversold"
    name: rsi_14
    parameters:
      period: 14
  - type: sma
    name: sma_200      # the long-term trend
    parameters:
      period: 200

entry_conditions: "rsi_14 < 30 AND close > sma_200"
exit_conditions: "rsi_14 > 55 OR bars_in_trade >= 20"

position_sizing:
  type: risk_based
  risk_per_trade: 0.01         # lose at most 1% of the account if the stop is hit

risk_parameters:
  max_daily_loss: 0.02
  max_drawdown: 0.1
  stop_loss_percentage: 0.05   # needed by risk-based sizing
"#,
        toml: r#"# RSI reversion: buy a dip in an uptrend, sell the recovery.
name = "RSI reversion"
description = "Buy when the 14-bar RSI drops below 30 while price is above its 200-bar average."
trading_pair = "GOOG/USD"
timeframe = "1d"
entry_conditions = "rsi_14 < 30 AND close > sma_200"
exit_conditions = "rsi_14 > 55 OR bars_in_trade >= 20"

# Relative strength index, 0 to 100: below 30 is "oversold".
[[indicators]]
type = "rsi"
name = "rsi_14"
parameters = { period = 14 }

# The long-term trend.
[[indicators]]
type = "sma"
name = "sma_200"
parameters = { period = 200 }

[position_sizing]
type = "risk_based"
risk_per_trade = 0.01          # lose at most 1% of the account if the stop is hit

[risk_parameters]
max_daily_loss = 0.02
max_drawdown = 0.1
stop_loss_percentage = 0.05    # needed by risk-based sizing
"#,
    },
    Template {
        key: "blank",
        title: "Blank",
        summary: "The smallest valid strategy, to write your own.",
        yaml: r#"name: "My strategy"
trading_pair: "BTC/USD"
timeframe: "1d"

indicators:
  - type: sma
    name: sma_20
    parameters:
      period: 20

entry_conditions: "close > sma_20"
exit_conditions: "close < sma_20"

position_sizing:
  type: percentage
  percentage_of_capital: 0.1

risk_parameters:
  max_daily_loss: 0.05
  max_drawdown: 0.2
"#,
        toml: r#"name = "My strategy"
trading_pair = "BTC/USD"
timeframe = "1d"
entry_conditions = "close > sma_20"
exit_conditions = "close < sma_20"

[[indicators]]
type = "sma"
name = "sma_20"
parameters = { period = 20 }

[position_sizing]
type = "percentage"
percentage_of_capital = 0.1

[risk_parameters]
max_daily_loss = 0.05
max_drawdown = 0.2
"#,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::validate;

    #[test]
    fn every_template_is_valid_and_reads_the_same_in_both_notations() {
        for template in TEMPLATES {
            let yaml = validate(template.text(Format::Yaml), Format::Yaml);
            let toml = validate(template.text(Format::Toml), Format::Toml);
            for (notation, validation) in [("YAML", &yaml), ("TOML", &toml)] {
                let problems: Vec<_> = validation
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity != crate::language::Severity::Info)
                    .collect();
                assert!(
                    problems.is_empty(),
                    "{} in {notation}: {problems:?}",
                    template.key
                );
            }
            let (yaml, toml) = (yaml.strategy.unwrap(), toml.strategy.unwrap());
            assert_eq!(yaml.name, toml.name, "{}", template.key);
            assert_eq!(yaml.indicators.len(), toml.indicators.len());
            for (a, b) in yaml.indicators.iter().zip(&toml.indicators) {
                assert_eq!(
                    (&a.name, &a.indicator_type, &a.parameters),
                    (&b.name, &b.indicator_type, &b.parameters)
                );
            }
            for (a, b) in yaml.conditions().iter().zip(toml.conditions()) {
                assert_eq!(a.1.canonical, b.1.canonical);
            }
            assert_eq!(yaml.position_sizing, toml.position_sizing);
            assert_eq!(yaml.risk_parameters, toml.risk_parameters);
        }
    }
}
