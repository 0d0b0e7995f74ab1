//! The `backtest` and `indicators` commands through the real binary: a table for people, JSON
//! for programs, CSV of indicator values, and one-line errors with the right exit status.
#![cfg(feature = "ssr")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared_data(name: &str) -> PathBuf {
    std::env::var("TRADING_STRATEGY_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"))
        .join(name)
}

fn write_file(name: &str, text: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("backtest-command-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const STRATEGY: &str = "name: SMA crossover\ntrading_pair: GOOG/USD\ntimeframe: 1d\nindicators:\n\
  - { type: sma, name: sma_10, parameters: { period: 10 } }\n\
  - { type: sma, name: sma_30, parameters: { period: 30 } }\n\
  - { type: bb, name: bb_20 }\n\
entry_conditions: crosses_above(sma_10, sma_30)\nexit_conditions: crosses_below(sma_10, sma_30)\n\
position_sizing:\n  type: percentage\n  percentage_of_capital: 0.95\n\
risk_parameters:\n  max_daily_loss: 0.1\n  max_drawdown: 0.5\n";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trading_strategy"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn backtest_prints_the_metrics_and_the_trades_as_a_table() {
    let strategy = write_file("table.yaml", STRATEGY);
    let goog = shared_data("GOOG.csv");
    let output = run(&[
        "backtest",
        "--strategy",
        strategy.to_str().unwrap(),
        "--candles",
        goog.to_str().unwrap(),
    ]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains("Strategy             SMA crossover"),
        "{stdout}"
    );
    for label in [
        "Total return",
        "CAGR",
        "Sharpe ratio",
        "Sortino ratio",
        "Max drawdown",
        "Win rate",
        "Profit factor",
        "Exposure",
    ] {
        assert!(stdout.contains(label), "{label} missing from {stdout}");
    }
    assert!(stdout.contains("exit_condition"), "{stdout}");
}

#[test]
fn backtest_json_carries_settings_metrics_trades_and_the_equity_curve_within_the_chosen_range() {
    let strategy = write_file("json.yaml", STRATEGY);
    let goog = shared_data("GOOG.csv");
    let output = run(&[
        "backtest",
        "--strategy",
        strategy.to_str().unwrap(),
        "--candles",
        goog.to_str().unwrap(),
        "--from",
        "2006-01-01",
        "--to",
        "2008-12-31",
        "--cash",
        "5000",
        "--commission",
        "0.001",
        "--slippage",
        "0.0005",
        "--json",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["settings"]["initial_cash"], 5000.0);
    assert_eq!(json["settings"]["commission"], 0.001);
    assert_eq!(json["metrics"]["initial_cash"], 5000.0);
    let trades = json["trades"].as_array().unwrap();
    assert_eq!(
        json["metrics"]["trades"].as_u64().unwrap() as usize,
        trades.len()
    );
    assert!(!trades.is_empty());
    let curve = json["equity_curve"].as_array().unwrap();
    // 2006-01-03 and 2008-12-31 are the first and last trading days in the range.
    assert_eq!(curve.first().unwrap()["time"], 1_136_246_400);
    assert_eq!(curve.last().unwrap()["time"], 1_230_681_600);
    assert_eq!(
        curve.last().unwrap()["equity"],
        json["metrics"]["final_equity"]
    );
}

#[test]
fn a_strategy_with_errors_exits_1_and_shows_its_diagnostics() {
    let strategy = write_file(
        "broken.yaml",
        &STRATEGY.replace("timeframe: 1d", "timeframe: 1H"),
    );
    let goog = shared_data("GOOG.csv");
    let output = run(&[
        "backtest",
        "--strategy",
        strategy.to_str().unwrap(),
        "--candles",
        goog.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("error[E016]: unknown timeframe `1H`"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .contains("the strategy has 1 error(s)"),
        "{stderr}"
    );
}

#[test]
fn a_missing_candle_file_is_a_one_line_error_with_exit_status_2() {
    let strategy = write_file("missing.yaml", STRATEGY);
    let output = run(&[
        "backtest",
        "--strategy",
        strategy.to_str().unwrap(),
        "--candles",
        "/nonexistent/candles.csv",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: /nonexistent/candles.csv: cannot read the file"),
        "{stderr}"
    );
}

#[test]
fn rejected_candle_rows_are_reported_with_their_line_and_the_rest_is_backtested() {
    let strategy = write_file("rejects.yaml", STRATEGY);
    let mut csv = std::fs::read_to_string(shared_data("GOOG.csv")).unwrap();
    csv.push_str("2020-01-01,10,5,9,9,100\n");
    let candles = write_file("with-bad-row.csv", &csv);
    let output = run(&[
        "backtest",
        "--strategy",
        strategy.to_str().unwrap(),
        "--candles",
        candles.to_str().unwrap(),
        "--json",
    ]);
    assert!(output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("with-bad-row.csv:2150: rejected: the high 5 is below the low 9"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["rejected_rows"][0]["line"], 2150);
}

#[test]
fn indicators_prints_every_output_per_bar_as_csv_with_empty_cells_while_warming_up() {
    let strategy = write_file("indicators.yaml", STRATEGY);
    let goog = shared_data("GOOG.csv");
    let output = run(&[
        "indicators",
        "--strategy",
        strategy.to_str().unwrap(),
        "--candles",
        goog.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "time,open,high,low,close,volume,sma_10,sma_30,bb_20.upper,bb_20.middle,bb_20.lower,bb_20.percent_b,bb_20.bandwidth"
    );
    assert_eq!(lines.len(), 1 + 2148);
    assert!(
        lines[1].starts_with("2004-08-19,100,104.06,95.96,100.34,22351900,,"),
        "{}",
        lines[1]
    );
    // The tenth bar has the first SMA(10): the mean of the first ten closes.
    let tenth: Vec<&str> = lines[10].split(',').collect();
    let closes: f64 = lines[1..=10]
        .iter()
        .map(|line| line.split(',').nth(4).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((tenth[6].parse::<f64>().unwrap() - closes / 10.0).abs() < 1e-9);
    assert_eq!(tenth[7], "");
}
