//! What the attacks send: a strategy to backtest, candle files of rejected or valid rows, and
//! starting a backtest run.

use crate::load::call;
use anyhow::Result;
use reqwest::Client;

pub(super) const DAILY_STRATEGY: &str = "name: Attacked\ntrading_pair: BTC/USD\ntimeframe: 1d\nindicators:\n  - type: rsi\n    name: rsi_14\n    parameters:\n      period: 14\nentry_conditions: rsi_14 < 30\nexit_conditions: rsi_14 > 70\nposition_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\nrisk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n";

pub(super) fn status_of(response: Result<reqwest::Response>) -> u16 {
    response.map_or(0, |response| response.status().as_u16())
}

pub(super) async fn start_backtest(
    client: &Client,
    base: &str,
    id: &str,
    (from, to): (&str, &str),
) -> Result<reqwest::Response> {
    call(
        client,
        base,
        "/api/strategies/start-backtest",
        &[
            ("id", id),
            ("from", from),
            ("to", to),
            ("cash", "10000"),
            ("commission", "0.1"),
            ("slippage", "0"),
        ],
    )
    .await
}

/// `bytes` of a candle file whose every row is `1`.
pub(super) fn rejected_rows(bytes: usize) -> Vec<u8> {
    let mut file = b"time,open,high,low,close\n".to_vec();
    file.extend(std::iter::repeat_n(*b"1\n", (bytes - file.len()) / 2).flatten());
    file
}

/// About `bytes` of valid one-minute candles.
pub(super) fn valid_candles(bytes: usize) -> Vec<u8> {
    let mut file = String::from("time,open,high,low,close,volume\n");
    let mut minute = 0i64;
    while file.len() < bytes {
        let close = 100.0 + (minute as f64 / 500.0).sin() * 10.0;
        file.push_str(&format!(
            "{},{:.4},{:.4},{:.4},{:.4},{}\n",
            1_600_000_000 + 60 * minute,
            close,
            close + 1.0,
            close - 1.0,
            close + 0.25,
            100 + minute % 50
        ));
        minute += 1;
    }
    file.into_bytes()
}
