//! Quick fixes: what a diagnostic offers to write instead, and that applying it gives the
//! document the message asked for. The corpus-wide property is in `language_corpus.rs`.

use trading_strategy::language::model::{Diagnostic, Format};
use trading_strategy::language::validate;

const YAML: &str = "\
name: RSI mean reversion
trading_pair: btc/usd
timeframe: 1h
indicators:
  - type: rsi
    name: rsi_14
    parameters:
      period: 14
entry_condition: |
  rsi14 < 30
exit_conditions: rsi_14 > 70
position_sizing:
  type: percentage
  percentage_of_capital: 15
risk_parameters:
  max_daily_loss: 0.05
  max_drawdown: 0.2
";

/// The old system's `rsi_reversal.toml`: the conditions sit under the last indicator's table.
const TOML_CONDITIONS_IN_A_TABLE: &str = r#"name = "RSI reversal"
trading_pair = "BTC/USD"
timeframe = "4h"

[[indicators]]
type = "rsi"
name = "rsi_14"

[indicators.parameters]
period = 14

entry_conditions = """
rsi_14 < 30"""
exit_conditions = "rsi_14 > 70" # take the bounce

[position_sizing]
type = "percentage"
percentage_of_capital = 0.1

[risk_parameters]
max_daily_loss = 0.05
max_drawdown = 0.2
"#;

fn only(diagnostics: &[Diagnostic], code: &str) -> Diagnostic {
    let found: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one {code} in {diagnostics:#?}");
    found[0].clone()
}

/// The document after the one fix of the one diagnostic with `code`.
fn fixed(text: &str, format: Format, code: &str) -> String {
    let diagnostic = only(&validate(text, format).diagnostics, code);
    assert_eq!(diagnostic.fixes.len(), 1, "{diagnostic:#?}");
    diagnostic.fixes[0].apply(text)
}

/// Applies the first fix offered until none is left.
fn apply_every_fix(mut text: String, format: Format) -> String {
    for _ in 0..20 {
        let validation = validate(&text, format);
        let Some(fix) = validation
            .diagnostics
            .iter()
            .find_map(|diagnostic| diagnostic.fixes.first())
        else {
            return text;
        };
        text = fix.apply(&text);
    }
    panic!("fixes keep coming:\n{text}");
}

#[test]
fn a_misspelt_field_offers_its_correct_spelling_as_a_fix() {
    let diagnostic = only(&validate(YAML, Format::Yaml).diagnostics, "E011");
    let fix = &diagnostic.fixes[0];
    assert_eq!(fix.label, "Replace with `entry_conditions`");
    let [edit] = fix.edits.as_slice() else {
        panic!("one edit: {fix:#?}")
    };
    assert_eq!(&YAML[edit.span.start..edit.span.end], "entry_condition");
    assert!(fix.apply(YAML).contains("\nentry_conditions: |\n"));
}

#[test]
fn a_misspelt_name_in_a_condition_is_replaced_where_it_stands() {
    let text = YAML.replace("entry_condition:", "entry_conditions:");
    let after = fixed(&text, Format::Yaml, "E042");
    assert!(
        after.contains("entry_conditions: |\n  rsi_14 < 30\n"),
        "{after}"
    );
}

#[test]
fn a_lowercase_pair_in_quotes_is_fixed_inside_its_quotes() {
    let text = TOML_CONDITIONS_IN_A_TABLE.replace("\"BTC/USD\"", "\"btc-usd\"");
    let after = fixed(&text, Format::Toml, "E015");
    assert!(after.contains("trading_pair = \"BTC/USD\"\n"), "{after}");
}

#[test]
fn a_whole_percentage_is_fixed_to_the_fraction_it_means() {
    let text = YAML.replace("entry_condition:", "entry_conditions:");
    let after = fixed(&text, Format::Yaml, "E064");
    assert!(after.contains("percentage_of_capital: 0.15\n"), "{after}");
}

#[test]
fn a_capitalised_timeframe_in_toml_keeps_its_quotes() {
    let text = TOML_CONDITIONS_IN_A_TABLE.replace("\"4h\"", "\"4H\"");
    let after = fixed(&text, Format::Toml, "E016");
    assert!(after.contains("timeframe = \"4h\"\n"), "{after}");
}

#[test]
fn a_diagnostic_without_an_exact_suggestion_offers_no_fix() {
    let text = YAML.replace("trading_pair: btc/usd", "trading_pair: bitcoin");
    let diagnostic = only(&validate(&text, Format::Yaml).diagnostics, "E015");
    assert!(diagnostic.fixes.is_empty());
    let json = serde_json::to_string(&diagnostic).expect("serialisable");
    assert!(!json.contains("fixes"), "{json}");
}

#[test]
fn applying_every_fix_makes_the_misspelt_document_valid() {
    let after = apply_every_fix(YAML.to_string(), Format::Yaml);
    let validation = validate(&after, Format::Yaml);
    assert!(
        validation.diagnostics.is_empty(),
        "{after}\n{validation:#?}"
    );
}

#[test]
fn conditions_below_the_last_toml_table_get_one_error_each_at_their_key() {
    let diagnostics = validate(TOML_CONDITIONS_IN_A_TABLE, Format::Toml).diagnostics;
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E017", "E017"], "{diagnostics:#?}");
    assert_eq!(diagnostics[0].path, "entry_conditions");
    assert_eq!(diagnostics[0].span.line, 12);
    assert_eq!(
        diagnostics[0].message,
        "`entry_conditions` belongs to the table `[indicators.parameters]` opened at line 9, \
         because TOML adds every key after a header to that table; move it above the first table"
    );
}

#[test]
fn the_fix_moves_a_misplaced_key_with_its_multiline_value_above_the_first_table() {
    let diagnostics = validate(TOML_CONDITIONS_IN_A_TABLE, Format::Toml).diagnostics;
    let after = diagnostics[0].fixes[0].apply(TOML_CONDITIONS_IN_A_TABLE);
    assert!(
        after.starts_with(
            "name = \"RSI reversal\"\ntrading_pair = \"BTC/USD\"\ntimeframe = \"4h\"\n\
             entry_conditions = \"\"\"\nrsi_14 < 30\"\"\"\n\n[[indicators]]\n"
        ),
        "{after}"
    );
    assert!(after.contains("period = 14\n\nexit_conditions"), "{after}");
}

#[test]
fn moving_every_misplaced_key_gives_a_valid_document_in_both_line_endings() {
    for text in [
        TOML_CONDITIONS_IN_A_TABLE.to_string(),
        TOML_CONDITIONS_IN_A_TABLE.replace('\n', "\r\n"),
    ] {
        let after = apply_every_fix(text, Format::Toml);
        let validation = validate(&after, Format::Toml);
        assert!(
            validation.diagnostics.is_empty(),
            "{after}\n{validation:#?}"
        );
        let strategy = validation.strategy.expect("a model");
        assert_eq!(
            strategy.exit_conditions.expect("exit").canonical,
            "rsi_14 > 70"
        );
    }
}

#[test]
fn a_key_in_a_table_that_the_top_level_also_has_is_reported_without_a_move() {
    let text = TOML_CONDITIONS_IN_A_TABLE.replace(
        "timeframe = \"4h\"\n",
        "timeframe = \"4h\"\nexit_conditions = \"rsi_14 > 60\"\n",
    );
    let diagnostics = validate(&text, Format::Toml).diagnostics;
    let exit: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.path == "exit_conditions")
        .collect();
    assert_eq!(exit.len(), 1, "{diagnostics:#?}");
    assert_eq!(exit[0].code, "E017");
    assert!(exit[0].fixes.is_empty());
}
