//! Fuzzes the edit API: any text, read as YAML and as TOML, with each kind of edit. An edit
//! either returns a typed error or a document that still reads (no syntax error where there
//! was none) and that validation and the syntax test take without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strategy_language::model::Format;
use strategy_language::{
    apply_edit, syntax_test, validate, ConditionField, Connective, Edit, EditValue,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Yaml, Format::Toml] {
        let validation = validate(text, format);
        let first = validation
            .strategy
            .as_ref()
            .and_then(|strategy| strategy.indicators.first())
            .map_or_else(|| "rsi_14".to_string(), |indicator| indicator.name.clone());
        let edits = [
            Edit::SetParameter {
                indicator: first.clone(),
                parameter: "period".to_string(),
                value: EditValue::Number(21.0),
            },
            Edit::SetParameter {
                indicator: first.clone(),
                parameter: "source".to_string(),
                value: EditValue::Text("hl2".to_string()),
            },
            Edit::RemoveParameter {
                indicator: first.clone(),
                parameter: "period".to_string(),
            },
            Edit::AddIndicator {
                indicator_type: "ema".to_string(),
                name: "ema_added".to_string(),
                parameters: vec![("period".to_string(), EditValue::Number(9.0))],
            },
            Edit::RemoveIndicator {
                name: first.clone(),
            },
            Edit::RenameIndicator {
                name: first.clone(),
                new_name: "renamed".to_string(),
            },
            Edit::ChangeIndicatorType {
                name: first,
                indicator_type: "sma".to_string(),
            },
            Edit::AddClause {
                condition: ConditionField::Entry,
                connective: Connective::Or,
                clause: "close > open".to_string(),
            },
            Edit::AddClause {
                condition: ConditionField::Stop,
                connective: Connective::And,
                clause: "drawdown > 0.1".to_string(),
            },
            Edit::ReplaceClause {
                condition: ConditionField::Exit,
                index: 0,
                clause: "close < open OR volume > 0".to_string(),
            },
            Edit::RemoveClause {
                condition: ConditionField::Entry,
                index: 1,
            },
        ];
        for edit in &edits {
            if let Ok(edited) = apply_edit(text, format, edit) {
                let report = syntax_test(&edited, format);
                assert!(
                    !report.diagnostics.iter().any(|d| d.code == "E001"),
                    "{edit:?} broke the syntax of {text:?}: {edited:?}"
                );
            }
        }
    }
});
