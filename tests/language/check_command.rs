//! `trading_strategy check`: diagnostics like a compiler's, JSON and the syntax test on
//! request, and the exit status.

use super::examples::{replace_line, TOML, YAML};
use trading_strategy::server::commands::check::run_check;

fn write_file(name: &str, text: &str) -> std::path::PathBuf {
    let directory = std::env::temp_dir().join(format!("language-check-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

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

#[test]
fn check_exits_with_two_for_an_unreadable_file() {
    let mut out = Vec::new();
    let missing = std::env::temp_dir().join("no-such-strategy.yaml");
    assert_eq!(run_check(&[missing], false, false, &mut out), 2);
}
