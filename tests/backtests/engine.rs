//! The backtest engine against outside references: indicator values against the TA-Lib Python
//! package (and the published definitions of HMA, CMF and VWAP), and whole backtests against
//! backtesting.py, on the market data in tests/data (copies of ../shared/data). The Python side runs in a virtual
//! environment that `scripts/python-reference` prepares (idempotently) on first use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use trading_strategy::backtests::candles::{read_candles_csv, Candles};
use trading_strategy::backtests::{
    backtest_document, compute_indicators, BacktestSettings, ExitReason,
};
use trading_strategy::language::model::Format;
use trading_strategy::language::validate;

const DATA_FILES: [&str; 3] = ["GOOG.csv", "BTCUSD.csv", "EURUSD.csv"];

fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn data_file(name: &str) -> PathBuf {
    let shared = std::env::var("TRADING_STRATEGY_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| crate_root().join("tests/data"));
    shared.join(name)
}

/// The virtual environment's python, prepared once per test binary.
fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Ok(python) = std::env::var("TRADING_STRATEGY_PYTHON") {
            return python;
        }
        let output = Command::new("bash")
            .arg(crate_root().join("scripts/python-reference"))
            .output()
            .expect("bash runs scripts/python-reference");
        assert!(
            output.status.success(),
            "scripts/python-reference failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_string()
    })
}

fn run_python(script: &str, args: &[&str]) -> Value {
    let output = Command::new(python())
        .arg(crate_root().join("tests/reference").join(script))
        .args(args)
        .env("TQDM_DISABLE", "1")
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the reference script prints JSON")
}

fn candles(name: &str) -> Candles {
    let text = std::fs::read_to_string(data_file(name)).unwrap();
    let import = read_candles_csv(&text).unwrap();
    assert!(import.rejected.is_empty(), "{name}: {:?}", import.rejected);
    import.candles
}

/// `actual` is within `relative` of `expected`, measured against the larger magnitude of the
/// two (an exact match for both being zero).
fn close_enough(actual: f64, expected: f64, relative: f64) -> bool {
    (actual - expected).abs() <= relative * actual.abs().max(expected.abs())
}

#[test]
fn every_indicator_matches_ta_lib_and_the_published_definitions_within_1e_9_relative_on_the_shared_data(
) {
    let text =
        std::fs::read_to_string(crate_root().join("tests/reference/all_indicators.yaml")).unwrap();
    let strategy = validate(&text, Format::Yaml)
        .into_valid()
        .expect("the strategy is valid");
    let mut compared = 0;
    for file in DATA_FILES {
        let candles = candles(file);
        let columns = compute_indicators(&strategy, &candles).unwrap();
        let reference = run_python("talib_values.py", &[data_file(file).to_str().unwrap()]);
        let reference = reference.as_object().unwrap();
        assert_eq!(
            columns.names.len(),
            reference.len(),
            "{file}: every output is compared"
        );
        for (name, expected) in reference {
            let actual = columns
                .column(name)
                .unwrap_or_else(|| panic!("no column {name}"));
            let expected = expected.as_array().unwrap();
            assert_eq!(actual.len(), expected.len(), "{file} {name}");
            for (bar, (actual, expected)) in actual.iter().zip(expected).enumerate() {
                match expected.as_f64() {
                    None => assert!(
                        actual.is_nan(),
                        "{file} {name} bar {bar}: expected undefined, got {actual}"
                    ),
                    Some(expected) => assert!(
                        close_enough(*actual, expected, 1e-9),
                        "{file} {name} bar {bar}: {actual} differs from {expected}"
                    ),
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 200_000, "compared {compared} values");
}

fn strategy_document(indicators: &str, entry: &str, exit: &str) -> String {
    format!(
        "name: Reference strategy\ntrading_pair: GOOG/USD\ntimeframe: 1d\nindicators:\n{indicators}\
         entry_conditions: {entry}\nexit_conditions: {exit}\n\
         position_sizing:\n  type: percentage\n  percentage_of_capital: 0.95\n\
         risk_parameters:\n  max_daily_loss: 1\n  max_drawdown: 1\n"
    )
}

/// Runs the engine and backtesting.py on GOOG.csv and compares every trade and the final equity.
fn assert_same_as_backtesting_py(document: &str, python_strategy: &str, commission: f64) {
    let candles = candles("GOOG.csv");
    let settings = BacktestSettings {
        commission,
        ..BacktestSettings::default()
    };
    let report = backtest_document(document, Format::Yaml, &candles, &settings).unwrap();
    let reference = run_python(
        "backtesting_py_trades.py",
        &[
            data_file("GOOG.csv").to_str().unwrap(),
            python_strategy,
            &commission.to_string(),
            "0",
            "0.95",
        ],
    );
    let expected = reference["trades"].as_array().unwrap();
    let open = reference["open_trades"].as_array().unwrap();
    assert!(
        expected.len() >= 5,
        "the reference makes enough trades to compare: {}",
        expected.len()
    );
    let (closed, at_end): (Vec<_>, Vec<_>) = report
        .trades
        .iter()
        .partition(|trade| trade.exit_reason != ExitReason::EndOfData);
    assert_eq!(closed.len(), expected.len(), "trade count");
    for (number, (trade, expected)) in closed.iter().zip(expected).enumerate() {
        let context = format!("trade {number}: {trade:?} vs {expected}");
        assert_eq!(
            trade.entry_bar as u64,
            expected["entry_bar"].as_u64().unwrap(),
            "{context}"
        );
        assert_eq!(
            trade.exit_bar as u64,
            expected["exit_bar"].as_u64().unwrap(),
            "{context}"
        );
        assert!(
            close_enough(
                trade.entry_price,
                expected["entry_price"].as_f64().unwrap(),
                1e-9
            ),
            "{context}"
        );
        assert!(
            close_enough(
                trade.exit_price,
                expected["exit_price"].as_f64().unwrap(),
                1e-9
            ),
            "{context}"
        );
        assert!(
            close_enough(trade.quantity, expected["size"].as_f64().unwrap(), 1e-6),
            "{context}"
        );
    }
    assert_eq!(at_end.len(), open.len(), "trades open at the end");
    // backtesting.py marks open trades at the last close; the engine sells them there, paying
    // the exit commission, which is the only difference.
    let last_close = reference["last_close"].as_f64().unwrap();
    let mut expected_equity = reference["final_equity"].as_f64().unwrap();
    for (trade, open) in at_end.iter().zip(open) {
        assert_eq!(trade.entry_bar as u64, open["entry_bar"].as_u64().unwrap());
        expected_equity -= open["size"].as_f64().unwrap() * last_close * commission;
    }
    assert!(
        close_enough(report.metrics.final_equity, expected_equity, 1e-6),
        "final equity {} vs backtesting.py {expected_equity}",
        report.metrics.final_equity
    );
}

#[test]
fn an_sma_crossover_matches_backtesting_py_trade_for_trade() {
    let document = strategy_document(
        "  - { type: sma, name: sma_10, parameters: { period: 10 } }\n  - { type: sma, name: sma_30, parameters: { period: 30 } }\n",
        "crosses_above(sma_10, sma_30)",
        "crosses_below(sma_10, sma_30)",
    );
    assert_same_as_backtesting_py(&document, "sma_cross", 0.001);
}

#[test]
fn an_rsi_reversion_with_a_time_exit_matches_backtesting_py_trade_for_trade() {
    let document = strategy_document(
        "  - { type: rsi, name: rsi_14, parameters: { period: 14 } }\n",
        "rsi_14 < 30",
        "rsi_14 > 70 OR bars_in_trade >= 20",
    );
    assert_same_as_backtesting_py(&document, "rsi", 0.002);
}
