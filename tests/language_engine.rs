//! Behaviour of the strategy language engine: spans, messages, the syntax test, the edit API
//! and the `check` command.

use trading_strategy::language::expression::{parse_condition, print_expression};
use trading_strategy::language::indicators::INDICATORS;
use trading_strategy::language::model::{Diagnostic, Format, Severity};
use trading_strategy::language::syntax_test;
use trading_strategy::language::{
    apply_edit, validate, ConditionField, Connective, Edit, EditError, EditValue,
};

const YAML: &str = "\
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

const TOML: &str = r#"# EMA crossover
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

fn codes(diagnostics: &[Diagnostic]) -> Vec<&str> {
    diagnostics.iter().map(|d| d.code.as_str()).collect()
}

fn only(diagnostics: &[Diagnostic], code: &str) -> Diagnostic {
    let found: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one {code} in {diagnostics:#?}");
    found[0].clone()
}

fn replace_line(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the document");
    text.replacen(from, to, 1)
}

#[test]
fn the_example_documents_are_valid_in_both_formats() {
    for (text, format) in [(YAML, Format::Yaml), (TOML, Format::Toml)] {
        let validation = validate(text, format);
        assert!(
            validation.diagnostics.is_empty(),
            "{:#?}",
            validation.diagnostics
        );
        let strategy = validation.into_valid().expect("valid");
        assert_eq!(strategy.indicators.len(), 2);
    }
}

#[test]
fn an_error_inside_a_yaml_block_scalar_points_at_its_line_and_column_in_the_document() {
    let text = replace_line(YAML, "    AND close > sma_200", "    AND close > sma_2OO");
    let diagnostic = only(&validate(&text, Format::Yaml).diagnostics, "E042");
    assert_eq!((diagnostic.span.line, diagnostic.span.column), (16, 17));
    assert_eq!(
        (diagnostic.span.end_line, diagnostic.span.end_column),
        (16, 24)
    );
    assert_eq!(&text[diagnostic.span.start..diagnostic.span.end], "sma_2OO");
    assert!(
        diagnostic.message.contains("did you mean `sma_200`?"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn an_error_after_a_line_continuation_in_a_toml_multiline_string_is_placed_exactly() {
    let text = replace_line(TOML, "  AND volume > 0", "  AND volum > 0");
    let diagnostic = only(&validate(&text, Format::Toml).diagnostics, "E042");
    assert_eq!(&text[diagnostic.span.start..diagnostic.span.end], "volum");
    assert_eq!((diagnostic.span.line, diagnostic.span.column), (7, 7));
}

#[test]
fn columns_count_characters_not_bytes_after_non_ascii_text() {
    let text = "name: \"Stratégie été\"\nentry_conditions: \"rsi_14 <\"\n";
    let validation = validate(text, Format::Yaml);
    let diagnostic = only(&validation.diagnostics, "E040");
    assert_eq!(diagnostic.span.line, 2);
    let line = text.lines().nth(1).unwrap();
    assert_eq!(diagnostic.span.column as usize, line.chars().count());
}

#[test]
fn a_misspelled_top_level_field_is_reported_at_its_own_line_with_a_suggestion() {
    let text = replace_line(YAML, "exit_conditions:", "exit_condition:");
    let validation = validate(&text, Format::Yaml);
    let unknown = only(&validation.diagnostics, "E011");
    assert_eq!(
        unknown.message,
        "unknown field `exit_condition`; did you mean `exit_conditions`?"
    );
    assert_eq!(unknown.span.line, 17);
    assert!(codes(&validation.diagnostics).contains(&"E010"));
}

#[test]
fn a_misspelled_indicator_type_suggests_the_closest_name() {
    let text = replace_line(YAML, "type: sma", "type: smaa");
    let diagnostic = only(&validate(&text, Format::Yaml).diagnostics, "E021");
    assert!(
        diagnostic.message.ends_with("did you mean `sma`?"),
        "{}",
        diagnostic.message
    );
    assert_eq!(diagnostic.path, "indicators[1].type");
}

#[test]
fn a_lowercase_trading_pair_gets_the_uppercase_spelling_as_its_hint() {
    let text = replace_line(YAML, "BTC/USD", "btc/usd");
    let diagnostic = only(&validate(&text, Format::Yaml).diagnostics, "E015");
    assert!(diagnostic.message.contains("`BTC/USD`"));
}

#[test]
fn a_percentage_written_as_a_whole_number_is_explained() {
    let text = replace_line(YAML, "max_daily_loss: 0.05", "max_daily_loss: 5");
    let diagnostic = only(&validate(&text, Format::Yaml).diagnostics, "E064");
    assert!(
        diagnostic
            .message
            .contains("5 means 500%; write 0.05 for 5%"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = YAML
        .replace("BTC/USD", "btc-usd")
        .replace("timeframe: 1h", "timeframe: 2h")
        .replace("period: 14", "period: 1")
        .replace("rsi_14 > 70", "rsi_14 > 70 > 80");
    let validation = validate(&text, Format::Yaml);
    let mut found = codes(&validation.diagnostics);
    found.sort();
    assert_eq!(found, vec!["E015", "E016", "E026", "E041"]);
}

#[test]
fn a_chained_comparison_is_an_error_with_a_hint() {
    let text = replace_line(
        YAML,
        "exit_conditions: rsi_14 > 70",
        "exit_conditions: 30 < rsi_14 < 70",
    );
    let diagnostic = only(&validate(&text, Format::Yaml).diagnostics, "E041");
    assert!(diagnostic.message.contains("a < b AND b < c"));
}

#[test]
fn a_bare_number_as_a_condition_asks_for_a_comparison() {
    let text = replace_line(
        YAML,
        "exit_conditions: rsi_14 > 70",
        "exit_conditions: rsi_14",
    );
    let diagnostic = only(&validate(&text, Format::Yaml).diagnostics, "E045");
    assert!(diagnostic
        .message
        .starts_with("a condition must compare something, e.g. `rsi_14 < 30`"));
}

#[test]
fn position_variables_are_refused_in_entry_conditions_only() {
    let text = replace_line(YAML, "rsi_14 < 30\n", "bars_in_trade > 3\n");
    let text = replace_line(
        &text,
        "exit_conditions: rsi_14 > 70",
        "exit_conditions: bars_in_trade > 10",
    );
    let validation = validate(&text, Format::Yaml);
    let diagnostic = only(&validation.diagnostics, "E046");
    assert_eq!(diagnostic.path, "entry_conditions");
}

#[test]
fn a_dependency_cycle_names_the_cycle() {
    let text = "name: Cycle test\ntrading_pair: BTC/USD\ntimeframe: 1d\nindicators:\n  - {type: ema, name: a, parameters: {source: b}}\n  - {type: sma, name: b, parameters: {source: a}}\nentry_conditions: a > b\nexit_conditions: a < b\nposition_sizing: {type: percentage, percentage_of_capital: 0.1}\nrisk_parameters: {max_daily_loss: 0.05, max_drawdown: 0.2}\n";
    let diagnostic = only(&validate(text, Format::Yaml).diagnostics, "E029");
    assert!(
        diagnostic.message.contains("a -> b -> a"),
        "{}",
        diagnostic.message
    );
}

#[test]
fn compatibility_aliases_are_accepted_with_an_info_note() {
    let text = replace_line(YAML, "type: sma", "type: bollinger_bands")
        .replace("rsi_14 < 30", "rsi_14 < 30 AND close < sma_200_lower_band")
        .replace("AND close > sma_200", "AND close > sma_200.middle");
    let validation = validate(&text, Format::Yaml);
    assert!(!validation.has_errors(), "{:#?}", validation.diagnostics);
    let notes: Vec<&str> = validation
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Info)
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(notes, vec!["I002", "I004"]);
    let strategy = validation.into_valid().unwrap();
    assert_eq!(strategy.indicators[1].indicator_type, "bb");
    assert!(strategy
        .entry_conditions
        .unwrap()
        .canonical
        .contains("sma_200.lower"));
}

#[test]
fn a_yaml_syntax_error_is_a_diagnostic_and_keeps_what_came_before() {
    let text = replace_line(
        YAML,
        "exit_conditions: rsi_14 > 70",
        "exit_conditions: [rsi_14 > 70",
    );
    let validation = validate(&text, Format::Yaml);
    assert_eq!(codes(&validation.diagnostics), vec!["E001"]);
    let strategy = validation.strategy.expect("partial model");
    assert_eq!(strategy.name, "RSI mean reversion");
}

#[test]
fn every_toml_syntax_error_is_reported() {
    let text = TOML
        .replace("timeframe = \"4h\"", "timeframe = 4h")
        .replace("max_drawdown = 0.2", "max_drawdown = ");
    let validation = validate(&text, Format::Toml);
    let syntax: Vec<&Diagnostic> = validation
        .diagnostics
        .iter()
        .filter(|d| d.code == "E001")
        .collect();
    assert!(syntax.len() >= 2, "{:#?}", validation.diagnostics);
}

#[test]
fn the_syntax_test_finds_contradictions_tautologies_and_unused_indicators() {
    let text = YAML
        .replace("rsi_14 < 30\n", "rsi_14 < 30 AND rsi_14 > 70\n")
        .replace(
            "exit_conditions: rsi_14 > 70",
            "exit_conditions: rsi_14 < 120",
        );
    let report = syntax_test(&text, Format::Yaml);
    let found = codes(&report.diagnostics);
    assert!(found.contains(&"W101"), "{found:?}");
    assert!(found.contains(&"W102"), "{found:?}");
    let summary = report.summary.expect("summary");
    assert_eq!(summary.warm_up_bars, 199);
    assert_eq!(
        summary.conditions[0].canonical,
        "rsi_14 < 30 AND rsi_14 > 70 AND close > sma_200"
    );
}

#[test]
fn identical_entry_and_exit_conditions_are_flagged() {
    let text = replace_line(
        YAML,
        "exit_conditions: rsi_14 > 70",
        "exit_conditions: rsi_14 < 30 AND close > sma_200",
    );
    let report = syntax_test(&text, Format::Yaml);
    assert!(codes(&report.diagnostics).contains(&"W103"));
}

#[test]
fn an_exit_that_always_follows_from_the_entry_is_flagged() {
    let text = replace_line(
        YAML,
        "exit_conditions: rsi_14 > 70",
        "exit_conditions: rsi_14 < 40",
    );
    let report = syntax_test(&text, Format::Yaml);
    assert!(
        codes(&report.diagnostics).contains(&"W104"),
        "{:#?}",
        report.diagnostics
    );
}

#[test]
fn every_indicator_has_help_text_and_sane_defaults() {
    for spec in INDICATORS {
        assert!(spec.help.len() > 60, "{} needs help text", spec.type_name);
        for parameter in spec.parameters {
            if let trading_strategy::language::model::ParameterValue::Number(default) =
                parameter.kind.default_value()
            {
                assert!(
                    parameter.kind.accepts(default),
                    "{}.{}",
                    spec.type_name,
                    parameter.name
                );
            }
        }
    }
}

#[test]
fn the_printer_writes_canonical_conditions() {
    let outcome =
        parse_condition("not rsi_14<30 and (close>open or volume>=1e3) && x[2]*-2 != -0.05");
    let expression = outcome.expression.expect("parses");
    assert_eq!(
        print_expression(&expression),
        "NOT rsi_14 < 30 AND (close > open OR volume >= 1000) AND x[2] * -2 != -0.05"
    );
}

// ----- edits -----

// Each edit test compares the whole result with the original text changed in one place,
// so the rest of the document is shown byte-identical.

#[test]
fn setting_a_parameter_rewrites_only_its_value_and_keeps_comments() {
    let edited = apply_edit(
        YAML,
        Format::Yaml,
        &Edit::SetParameter {
            indicator: "rsi_14".to_string(),
            parameter: "period".to_string(),
            value: EditValue::Number(21.0),
        },
    )
    .unwrap();
    assert_eq!(edited, YAML.replace("period: 14", "period: 21"));
    let edited = apply_edit(
        TOML,
        Format::Toml,
        &Edit::SetParameter {
            indicator: "ema_fast".to_string(),
            parameter: "period".to_string(),
            value: EditValue::Number(9.0),
        },
    )
    .unwrap();
    assert_eq!(edited, TOML.replace("{ period = 12 }", "{ period = 9 }"));
}

#[test]
fn adding_a_parameter_to_an_inline_table_extends_it_in_place() {
    let edited = apply_edit(
        TOML,
        Format::Toml,
        &Edit::SetParameter {
            indicator: "ema_fast".to_string(),
            parameter: "source".to_string(),
            value: EditValue::Text("hl2".to_string()),
        },
    )
    .unwrap();
    assert_eq!(
        edited,
        TOML.replace("{ period = 12 }", "{ period = 12, source = \"hl2\" }")
    );
    let edited = apply_edit(
        YAML,
        Format::Yaml,
        &Edit::SetParameter {
            indicator: "sma_200".to_string(),
            parameter: "source".to_string(),
            value: EditValue::Text("hlc3".to_string()),
        },
    )
    .unwrap();
    assert_eq!(
        edited,
        YAML.replace(
            "      period: 200\n",
            "      period: 200\n      source: hlc3\n"
        )
    );
}

#[test]
fn removing_a_parameter_removes_its_line_only() {
    let edited = apply_edit(
        TOML,
        Format::Toml,
        &Edit::RemoveParameter {
            indicator: "ema_slow".to_string(),
            parameter: "period".to_string(),
        },
    )
    .unwrap();
    assert_eq!(edited, TOML.replace("period = 26\n", ""));
}

#[test]
fn adding_an_indicator_appends_it_in_the_documents_own_style() {
    let edit = Edit::AddIndicator {
        indicator_type: "atr".to_string(),
        name: "atr_14".to_string(),
        parameters: vec![("period".to_string(), EditValue::Number(14.0))],
    };
    let edited = apply_edit(YAML, Format::Yaml, &edit).unwrap();
    assert_eq!(
        edited,
        YAML.replace(
            "      period: 200\n",
            "      period: 200\n  - type: atr\n    name: atr_14\n    parameters:\n      period: 14\n"
        )
    );
    let edited = apply_edit(TOML, Format::Toml, &edit).unwrap();
    assert_eq!(
        edited,
        TOML.replace(
            "period = 26\n",
            "period = 26\n\n[[indicators]]\ntype = \"atr\"\nname = \"atr_14\"\nparameters = { period = 14 }\n"
        )
    );
    assert!(!validate(&edited, Format::Toml).has_errors());
}

#[test]
fn removing_an_indicator_removes_its_entry_and_nothing_else() {
    let edit = Edit::RemoveIndicator {
        name: "rsi_14".to_string(),
    };
    let edited = apply_edit(YAML, Format::Yaml, &edit).unwrap();
    assert_eq!(
        edited,
        YAML.replace("  - type: rsi      # Wilder's RSI\n    name: rsi_14\n    parameters:\n      period: 14\n", "")
    );
    let edit = Edit::RemoveIndicator {
        name: "ema_fast".to_string(),
    };
    let edited = apply_edit(TOML, Format::Toml, &edit).unwrap();
    assert_eq!(
        edited,
        TOML.replace("[[indicators]]\ntype = \"ema\"   # fast one\nname = \"ema_fast\"\nparameters = { period = 12 }\n\n", "")
    );
}

#[test]
fn renaming_an_indicator_renames_its_references() {
    let edit = Edit::RenameIndicator {
        name: "rsi_14".to_string(),
        new_name: "rsi_fast".to_string(),
    };
    let edited = apply_edit(YAML, Format::Yaml, &edit).unwrap();
    assert_eq!(edited, YAML.replace("rsi_14", "rsi_fast"));
    assert!(!validate(&edited, Format::Yaml).has_errors());
}

#[test]
fn changing_an_indicator_type_rewrites_the_type_value_only() {
    let edit = Edit::ChangeIndicatorType {
        name: "sma_200".to_string(),
        indicator_type: "ema".to_string(),
    };
    let edited = apply_edit(YAML, Format::Yaml, &edit).unwrap();
    assert_eq!(edited, YAML.replace("type: sma", "type: ema"));
}

#[test]
fn condition_clauses_are_added_replaced_and_removed_in_place() {
    let add = Edit::AddClause {
        condition: ConditionField::Exit,
        connective: Connective::Or,
        clause: "close < sma_200".to_string(),
    };
    let edited = apply_edit(YAML, Format::Yaml, &add).unwrap();
    assert_eq!(
        edited,
        YAML.replace("rsi_14 > 70\n", "rsi_14 > 70 OR close < sma_200\n")
    );

    let replace = Edit::ReplaceClause {
        condition: ConditionField::Entry,
        index: 1,
        clause: "close > sma_200 OR volume > 0".to_string(),
    };
    let edited = apply_edit(YAML, Format::Yaml, &replace).unwrap();
    assert_eq!(
        edited,
        YAML.replace("AND close > sma_200", "AND (close > sma_200 OR volume > 0)")
    );

    let remove = Edit::RemoveClause {
        condition: ConditionField::Entry,
        index: 1,
    };
    let edited = apply_edit(TOML, Format::Toml, &remove).unwrap();
    assert_eq!(edited, TOML.replace(" \\\n  AND volume > 0", ""));
}

#[test]
fn adding_an_and_clause_to_an_or_condition_parenthesises_the_old_one() {
    let text = replace_line(
        YAML,
        "exit_conditions: rsi_14 > 70",
        "exit_conditions: rsi_14 > 70 OR close < 1",
    );
    let add = Edit::AddClause {
        condition: ConditionField::Exit,
        connective: Connective::And,
        clause: "volume > 0".to_string(),
    };
    let edited = apply_edit(&text, Format::Yaml, &add).unwrap();
    assert!(
        edited.contains("exit_conditions: (rsi_14 > 70 OR close < 1) AND volume > 0\n"),
        "{edited}"
    );
}

#[test]
fn edits_report_typed_errors() {
    let missing = Edit::RemoveIndicator {
        name: "nope".to_string(),
    };
    assert_eq!(
        apply_edit(YAML, Format::Yaml, &missing),
        Err(EditError::UnknownIndicator {
            name: "nope".to_string()
        })
    );
    let taken = Edit::AddIndicator {
        indicator_type: "rsi".to_string(),
        name: "rsi_14".to_string(),
        parameters: Vec::new(),
    };
    assert_eq!(
        apply_edit(YAML, Format::Yaml, &taken),
        Err(EditError::NameTaken {
            name: "rsi_14".to_string()
        })
    );
    let bad_clause = Edit::AddClause {
        condition: ConditionField::Exit,
        connective: Connective::And,
        clause: "rsi_14 >".to_string(),
    };
    assert!(matches!(
        apply_edit(YAML, Format::Yaml, &bad_clause),
        Err(EditError::InvalidClause { .. })
    ));
    let last = Edit::RemoveClause {
        condition: ConditionField::Exit,
        index: 0,
    };
    assert_eq!(
        apply_edit(YAML, Format::Yaml, &last),
        Err(EditError::LastClause)
    );
}

// ----- the check command (server side only) -----

#[cfg(feature = "ssr")]
use trading_strategy::server::commands::check::run_check;

#[cfg(feature = "ssr")]
fn write_file(name: &str, text: &str) -> std::path::PathBuf {
    let directory = std::env::temp_dir().join(format!("language-check-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[cfg(feature = "ssr")]
#[test]
fn check_prints_diagnostics_like_a_compiler_and_fails_on_errors() {
    let path = write_file(
        "bad.yaml",
        &replace_line(YAML, "timeframe: 1h", "timeframe: 1H"),
    );
    let mut out = Vec::new();
    let status = run_check(std::slice::from_ref(&path), false, false, &mut out);
    let printed = String::from_utf8(out).unwrap();
    assert_eq!(status, 1);
    let expected = format!(
        "{}:4:12: error[E016]: unknown timeframe `1H`; did you mean `1h`? (one of 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w)\n  |\n4 | timeframe: 1H\n  |            ^^\n",
        path.display()
    );
    assert!(printed.starts_with(&expected), "{printed}");
}

#[cfg(feature = "ssr")]
#[test]
fn check_json_and_explain_succeed_on_a_valid_file() {
    let path = write_file("good.toml", TOML);
    let mut out = Vec::new();
    assert_eq!(
        run_check(std::slice::from_ref(&path), true, true, &mut out),
        0
    );
    let printed: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(printed[0]["diagnostics"], serde_json::json!([]));
    assert_eq!(printed[0]["summary"]["warm_up_bars"], serde_json::json!(26));
    let mut out = Vec::new();
    assert_eq!(run_check(&[path], false, true, &mut out), 0);
    let printed = String::from_utf8(out).unwrap();
    assert!(
        printed.contains("entry_conditions: crosses_above(ema_fast, ema_slow) AND volume > 0"),
        "{printed}"
    );
}

#[cfg(feature = "ssr")]
#[test]
fn check_exits_with_two_for_an_unreadable_file() {
    let mut out = Vec::new();
    let missing = std::env::temp_dir().join("no-such-strategy.yaml");
    assert_eq!(run_check(&[missing], false, false, &mut out), 2);
}

#[test]
fn adding_a_clause_to_a_missing_stop_condition_writes_the_condition() {
    let add = Edit::AddClause {
        condition: ConditionField::Stop,
        connective: Connective::Or,
        clause: "unrealized_pnl_pct < -0.05".to_string(),
    };
    let edited = apply_edit(TOML, Format::Toml, &add).unwrap();
    assert_eq!(
        edited,
        TOML.replace(
            "exit_conditions = \"crosses_below(ema_fast, ema_slow)\"\n",
            "exit_conditions = \"crosses_below(ema_fast, ema_slow)\"\nstop_conditions = \"unrealized_pnl_pct < -0.05\"\n"
        )
    );
    assert!(!validate(&edited, Format::Toml).has_errors());
}

#[test]
fn adding_an_indicator_to_an_inline_array_keeps_one_item_per_line() {
    let text = "name = \"Inline\"\ntrading_pair = \"BTC/USD\"\ntimeframe = \"1h\"\nindicators = [\n  { type = \"rsi\", name = \"rsi_14\" },\n]\nentry_conditions = \"rsi_14 < 30\"\nexit_conditions = \"rsi_14 > 70\"\n";
    let edit = Edit::AddIndicator {
        indicator_type: "sma".to_string(),
        name: "sma_20".to_string(),
        parameters: Vec::new(),
    };
    let edited = apply_edit(text, Format::Toml, &edit).unwrap();
    assert_eq!(
        edited,
        text.replace(
            "  { type = \"rsi\", name = \"rsi_14\" },\n",
            "  { type = \"rsi\", name = \"rsi_14\" },\n  { type = \"sma\", name = \"sma_20\" },\n"
        )
    );
}

#[test]
fn a_long_chain_of_minus_signs_prints_in_a_form_that_parses_back() {
    let condition = format!("close < {}1 - {}volume", "-".repeat(150), "-".repeat(150));
    let expression = parse_condition(&condition).expression.expect("parses");
    let printed = print_expression(&expression);
    let reparsed = parse_condition(&printed)
        .expression
        .expect("the canonical form parses");
    assert_eq!(reparsed.without_spans(), expression.without_spans());
}

#[test]
fn a_chained_comparison_with_a_long_middle_term_stays_within_the_operator_limit() {
    let middle = vec!["close"; 600].join(" + ");
    let condition = format!("open < {middle} < high");
    let outcome = parse_condition(&condition);
    assert!(outcome
        .diagnostics
        .iter()
        .any(|d| d.message.contains("more than 1000 operators")));
}

#[test]
fn deeply_nested_input_is_refused_within_a_small_stack() {
    // Server worker threads have 2 MiB stacks; hostile nesting must not exhaust them.
    let depth = 20_000;
    let documents = [
        (
            format!("a = {}{}\n", "[".repeat(depth), "]".repeat(depth)),
            Format::Toml,
        ),
        (
            format!("a = {}1{}\n", "{b = ".repeat(depth), "}".repeat(depth)),
            Format::Toml,
        ),
        (
            format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth)),
            Format::Yaml,
        ),
        (
            format!(
                "entry_conditions: \"{}close > 1{}\"\n",
                "(".repeat(depth),
                ")".repeat(depth)
            ),
            Format::Yaml,
        ),
        (
            format!("entry_conditions: \"{}close > 1\"\n", "NOT ".repeat(depth)),
            Format::Yaml,
        ),
        (
            format!("entry_conditions: \"close{}\"\n", " + 1".repeat(depth)),
            Format::Yaml,
        ),
    ];
    for (text, format) in documents {
        let worker = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || syntax_test(&text, format).has_errors())
            .unwrap();
        assert!(worker.join().expect("no stack overflow"));
    }
}

#[test]
fn a_section_is_valid_when_no_error_lies_inside_it() {
    let text = replace_line(YAML, "period: 200", "period: 0");
    let validation = validate(&text, Format::Yaml);
    assert!(!validation.section_is_valid("indicators"));
    assert!(validation.section_is_valid("entry_conditions"));
    assert!(validation.section_is_valid("risk_parameters"));
    assert!(validation.section_is_valid("indicator"));
}

#[test]
fn comments_inside_a_block_scalar_condition_are_ignored() {
    let text = replace_line(
        YAML,
        "  rsi_14 < 30\n",
        "  rsi_14 < 30   # oversold\n  # and the trend is up:\n",
    );
    let validation = validate(&text, Format::Yaml);
    assert!(
        validation.diagnostics.is_empty(),
        "{:#?}",
        validation.diagnostics
    );
    let strategy = validation.into_valid().unwrap();
    assert_eq!(
        strategy.entry_conditions.unwrap().canonical,
        "rsi_14 < 30 AND close > sma_200"
    );
}

#[test]
fn windows_line_ends_read_the_same_and_edits_keep_them() {
    for (text, format) in [(YAML, Format::Yaml), (TOML, Format::Toml)] {
        let crlf = text.replace('\n', "\r\n");
        let validation = validate(&crlf, format);
        assert!(
            validation.diagnostics.is_empty(),
            "{:#?}",
            validation.diagnostics
        );
        let model = validation.into_valid().unwrap();
        assert_eq!(
            model.entry_conditions.unwrap().canonical,
            validate(text, format)
                .into_valid()
                .unwrap()
                .entry_conditions
                .unwrap()
                .canonical
        );
        let edit = Edit::AddIndicator {
            indicator_type: "atr".to_string(),
            name: "atr_14".to_string(),
            parameters: vec![("period".to_string(), EditValue::Number(14.0))],
        };
        let edited = apply_edit(&crlf, format, &edit).unwrap();
        assert_eq!(
            edited,
            apply_edit(text, format, &edit)
                .unwrap()
                .replace('\n', "\r\n")
        );
    }
}

#[test]
fn a_parameter_is_written_under_an_empty_toml_parameters_table() {
    let text = TOML.replace("period = 26\n", "");
    let edit = Edit::SetParameter {
        indicator: "ema_slow".to_string(),
        parameter: "period".to_string(),
        value: EditValue::Number(30.0),
    };
    let edited = apply_edit(&text, Format::Toml, &edit).unwrap();
    assert_eq!(edited, TOML.replace("period = 26\n", "period = 30\n"));
}

#[test]
fn the_changes_between_two_versions_read_as_a_list() {
    let before = validate(YAML, Format::Yaml).into_valid().unwrap();
    let edited = YAML
        .replace("period: 14", "period: 21")
        .replace(
            "exit_conditions: rsi_14 > 70",
            "exit_conditions: rsi_14 > 75",
        )
        .replace("max_drawdown: 0.2", "max_drawdown: 0.25")
        .replace(
            "      period: 200\n",
            "      period: 200\n  - type: atr\n    name: atr_14\n",
        );
    let after = validate(&edited, Format::Yaml).into_valid().unwrap();
    let changes: Vec<String> = trading_strategy::language::describe_changes(&before, &after)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        changes,
        vec![
            "rsi_14.period 14 -> 21",
            "atr_14 added: atr (period 14)",
            "exit_conditions rsi_14 > 70 -> rsi_14 > 75",
            "risk_parameters.max_drawdown 0.2 -> 0.25",
        ]
    );
}
