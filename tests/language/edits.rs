//! The edit API: each edit's result is the original text changed in one place, so the rest of
//! the document stays byte-identical (comments, style, line ends).

use super::examples::{replace_line, TOML, YAML};
use trading_strategy::language::model::Format;
use trading_strategy::language::{
    apply_edit, validate, ConditionField, Connective, Edit, EditError, EditValue,
};

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
