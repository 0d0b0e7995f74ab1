//! Backtest throughput: a five-indicator strategy, parsed from YAML as users write it, over one
//! million candles (validation, indicators, compiled conditions and simulation all included).
//! Run: `cargo bench --bench backtest`, or `scripts/bench/backtests` for the same data beside
//! backtesting.py and vectorbt; the figures are in BENCHMARKS.md.
//!
//! With `BENCH_CANDLES=FILE.csv` the candles come from that file (the comparison script writes
//! one); otherwise a seeded random walk of one million hourly candles is generated here.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

use trading_strategy::backtests::candles::{read_candles_csv, Candle, Candles};
use trading_strategy::backtests::{backtest_document, BacktestSettings};
use trading_strategy::language::model::Format;

const STRATEGY: &str = r#"
name: Five-indicator trend follower
trading_pair: BTC/USD
timeframe: 1h
indicators:
  - type: sma
    name: sma_50
    parameters: { period: 50 }
  - type: sma
    name: sma_200
    parameters: { period: 200 }
  - type: rsi
    name: rsi_14
    parameters: { period: 14 }
  - type: bb
    name: bb_20
    parameters: { period: 20, multiplier: 2.0 }
  - type: atr
    name: atr_14
    parameters: { period: 14 }
entry_conditions: |
  crosses_above(sma_50, sma_200) AND rsi_14 < 70
exit_conditions: |
  crosses_below(sma_50, sma_200) OR close > bb_20.upper
position_sizing:
  type: percentage
  percentage_of_capital: 0.95
risk_parameters:
  max_daily_loss: 1
  max_drawdown: 1
  stop_loss_percentage: 0.05
"#;

const BARS: usize = 1_000_000;

/// A seeded multiplicative random walk (xorshift), so every run sees the same candles.
fn synthetic_candles(bars: usize) -> Candles {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut candles = Candles::with_capacity(bars);
    let mut close = 100.0;
    for bar in 0..bars {
        let open = close;
        close = open * (1.0 + (uniform() - 0.5) * 0.02);
        let high = open.max(close) * (1.0 + uniform() * 0.005);
        let low = open.min(close) * (1.0 - uniform() * 0.005);
        candles.push(Candle {
            time: 1_500_000_000 + bar as i64 * 3_600,
            open,
            high,
            low,
            close,
            volume: 1_000.0 + uniform() * 1_000.0,
        });
    }
    candles
}

fn candles() -> Candles {
    match std::env::var("BENCH_CANDLES") {
        Ok(path) => {
            read_candles_csv(&std::fs::read_to_string(path).expect("BENCH_CANDLES is readable"))
                .expect("BENCH_CANDLES is a candle CSV")
                .candles
        }
        Err(_) => synthetic_candles(BARS),
    }
}

fn backtest(criterion: &mut Criterion) {
    let candles = candles();
    let settings = BacktestSettings {
        commission: 0.001,
        ..BacktestSettings::default()
    };
    let mut group = criterion.benchmark_group("backtest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(candles.len() as u64));
    group.bench_function("five_indicators_one_million_bars", |bencher| {
        bencher.iter(|| {
            backtest_document(
                black_box(STRATEGY),
                Format::Yaml,
                black_box(&candles),
                &settings,
            )
            .expect("the strategy runs")
        })
    });
    group.finish();
}

criterion_group!(benches, backtest);
criterion_main!(benches);
