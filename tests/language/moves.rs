//! Moving an indicator within the list through the edit API (the builder's "Move up" and
//! "Move down"): the item keeps its comments and layout, and everything else stays as typed.

use trading_strategy::language::{apply_edit, Edit, EditError, Format};

const YAML: &str = "name: \"Order\"\nindicators:\n  # the fast one\n  - type: ema\n    name: fast\n    parameters:\n      period: 12\n  - type: sma\n    name: slow\n    parameters:\n      period: 50\n  - type: rsi\n    name: rsi_14\nentry_conditions: \"fast > slow\"\n";

fn moved(text: &str, format: Format, name: &str, to: usize) -> String {
    apply_edit(
        text,
        format,
        &Edit::MoveIndicator {
            name: name.into(),
            to,
        },
    )
    .unwrap()
}

#[test]
fn moving_an_indicator_down_takes_its_comment_and_lines_with_it() {
    let after = moved(YAML, Format::Yaml, "fast", 1);
    assert_eq!(
        after,
        "name: \"Order\"\nindicators:\n  - type: sma\n    name: slow\n    parameters:\n      period: 50\n  # the fast one\n  - type: ema\n    name: fast\n    parameters:\n      period: 12\n  - type: rsi\n    name: rsi_14\nentry_conditions: \"fast > slow\"\n"
    );
}

#[test]
fn moving_the_last_indicator_to_the_top_and_back_gives_the_document_again() {
    let top = moved(YAML, Format::Yaml, "rsi_14", 0);
    assert!(top.find("name: rsi_14").unwrap() < top.find("name: fast").unwrap());
    assert_eq!(moved(&top, Format::Yaml, "rsi_14", 2), YAML);
}

#[test]
fn toml_indicator_tables_move_whole() {
    let toml = "name = \"Order\"\nentry_conditions = \"fast > slow\"\n\n[[indicators]]\ntype = \"ema\"\nname = \"fast\"\nparameters = { period = 12 }\n\n[[indicators]]\ntype = \"sma\"\nname = \"slow\"\nparameters = { period = 50 }\n\n[position_sizing]\ntype = \"percentage\"\n";
    let after = moved(toml, Format::Toml, "slow", 0);
    assert!(
        after.find("name = \"slow\"").unwrap() < after.find("name = \"fast\"").unwrap(),
        "{after}"
    );
    assert!(
        after.contains("[position_sizing]\ntype = \"percentage\""),
        "{after}"
    );
    assert_eq!(moved(&after, Format::Toml, "slow", 1), toml);
}

#[test]
fn moving_an_unknown_indicator_says_so() {
    let error = apply_edit(
        YAML,
        Format::Yaml,
        &Edit::MoveIndicator {
            name: "nope".into(),
            to: 0,
        },
    )
    .unwrap_err();
    assert!(
        matches!(error, EditError::UnknownIndicator { .. }),
        "{error:?}"
    );
}
