//! What the validator and the syntax test say: spans in block scalars and multi-line strings,
//! columns in characters, messages with hints, every problem at once, the logic warnings, the
//! printer, deep nesting and the changes between versions.

use super::examples::{codes, only, replace_line, TOML, YAML};
use trading_strategy::language::expression::{parse_condition, print_expression};
use trading_strategy::language::indicators::INDICATORS;
use trading_strategy::language::model::{Diagnostic, Format, Severity};
use trading_strategy::language::syntax_test;
use trading_strategy::language::validate;

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
