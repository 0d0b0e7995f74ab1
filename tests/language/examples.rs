//! The two hand-written example documents (YAML and TOML, with comments) the language tests
//! edit and check, and the assertions they share.

use trading_strategy::language::model::Diagnostic;

pub(crate) const YAML: &str = "\
# RSI mean reversion, written by hand
name: RSI mean reversion
trading_pair: BTC/USD
timeframe: 1h
indicators:
  - type: rsi      # Wilder's RSI
    name: rsi_14
    parameters:
      period: 14
  - type: sma
    name: sma_200
    parameters:
      period: 200
entry_conditions: |
  rsi_14 < 30
    AND close > sma_200
exit_conditions: rsi_14 > 70
position_sizing:
  type: percentage
  percentage_of_capital: 0.1
risk_parameters:
  max_daily_loss: 0.05
  max_drawdown: 0.2
";

pub(crate) const TOML: &str = r#"# EMA crossover
name = "EMA crossover"
trading_pair = "ETH/USDT"
timeframe = "4h"
entry_conditions = """
crosses_above(ema_fast, ema_slow) \
  AND volume > 0"""
exit_conditions = "crosses_below(ema_fast, ema_slow)"

[[indicators]]
type = "ema"   # fast one
name = "ema_fast"
parameters = { period = 12 }

[[indicators]]
type = "ema"
name = "ema_slow"

[indicators.parameters]
period = 26

[position_sizing]
type = "fixed_amount"
fixed_amount = 1000

[risk_parameters]
max_daily_loss = 0.05
max_drawdown = 0.2
"#;

pub(crate) fn codes(diagnostics: &[Diagnostic]) -> Vec<&str> {
    diagnostics.iter().map(|d| d.code.as_str()).collect()
}

pub(crate) fn only(diagnostics: &[Diagnostic], code: &str) -> Diagnostic {
    let found: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one {code} in {diagnostics:#?}");
    found[0].clone()
}

pub(crate) fn replace_line(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the document");
    text.replacen(from, to, 1)
}
