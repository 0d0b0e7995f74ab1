//! Documents built to make a checker slow or its answer large: every shape that was once
//! quadratic (keys TOML moved into tables, thousands of keys, a whole list on one line, text
//! that is not ASCII) and a few that stress the parsers (errors on every line, deep nesting).
//! Each is generated at any size, so a test can compare the cost of one size with four times
//! it. Shared by the scaling test, the language benchmark and the attack load tool.

#![allow(dead_code)]

use trading_strategy::language::Format;

/// One hostile shape: a name for reports, its notation, and a generator for about `bytes`.
pub struct Shape {
    pub name: &'static str,
    pub format: Format,
    pub generate: fn(usize) -> String,
}

/// `unit` repeated until the text reaches about `bytes` (never over it), after `head`.
fn repeated(head: &str, unit: impl Fn(usize) -> String, tail: &str, bytes: usize) -> String {
    let mut text = head.to_string();
    let mut index = 0;
    loop {
        let next = unit(index);
        if text.len() + next.len() + tail.len() > bytes {
            break;
        }
        text.push_str(&next);
        index += 1;
    }
    text.push_str(tail);
    text
}

pub const SHAPES: &[Shape] = &[
    Shape {
        name: "TOML keys moved into tables",
        format: Format::Toml,
        generate: |bytes| repeated("", |_| "[[indicators]]\nversion=1\n".into(), "", bytes),
    },
    Shape {
        name: "TOML fields below one table",
        format: Format::Toml,
        generate: |bytes| {
            repeated(
                "name = \"x\"\n\n[[indicators]]\ntype = \"sma\"\nname = \"s\"\n[indicators.parameters]\n",
                |index| format!("p{index} = 1\n"),
                "",
                bytes,
            )
        },
    },
    Shape {
        name: "YAML unknown keys",
        format: Format::Yaml,
        generate: |bytes| repeated("", |index| format!("field_{index}: 1\n"), "", bytes),
    },
    Shape {
        name: "YAML one key repeated",
        format: Format::Yaml,
        generate: |bytes| repeated("", |_| "name: x\n".into(), "", bytes),
    },
    Shape {
        name: "YAML list on one line",
        format: Format::Yaml,
        generate: |bytes| repeated("indicators: [", |_| "1, ".into(), "1]\n", bytes),
    },
    Shape {
        name: "YAML non-ASCII list on one line",
        format: Format::Yaml,
        generate: |bytes| repeated("description: [", |_| "é€, ".into(), "é]\n", bytes),
    },
    Shape {
        name: "YAML thousands of indicators",
        format: Format::Yaml,
        generate: |bytes| {
            repeated(
                "name: many\ntrading_pair: BTC/USD\ntimeframe: 1d\nindicators:\n",
                |index| {
                    format!("  - {{type: sma, name: s{index}, parameters: {{period: 5, source: s{}}}}}\n", index + 1)
                },
                "entry_conditions: close > s0\nexit_conditions: close < s0\n",
                bytes,
            )
        },
    },
    Shape {
        name: "YAML long condition",
        format: Format::Yaml,
        generate: |bytes| {
            repeated(
                "entry_conditions: >\n  close > 1\n",
                |_| "  AND close > 1\n".into(),
                "",
                bytes,
            )
        },
    },
    Shape {
        name: "TOML syntax error on every line",
        format: Format::Toml,
        generate: |bytes| repeated("", |_| "= [\n".into(), "", bytes),
    },
    Shape {
        name: "TOML nested arrays",
        format: Format::Toml,
        generate: |bytes| repeated("a = ", |_| "[".into(), "", bytes),
    },
    Shape {
        name: "YAML nested flow lists",
        format: Format::Yaml,
        generate: |bytes| repeated("a: ", |_| "[".into(), "", bytes),
    },
];
