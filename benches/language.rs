//! Validation and the syntax test of a 10-indicator, 40-clause strategy, in YAML and TOML, and
//! the syntax test of every hostile shape (tests/hostile/documents.rs) at 64 KB and at the
//! 256 KB limit, so that the ratio of the two shows that the cost grows linearly.
//! Run: `cargo bench --bench language`; the figures are in BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

#[path = "../tests/hostile/documents.rs"]
mod documents;

use trading_strategy::language::model::Format;
use trading_strategy::language::{syntax_test, validate};

const INDICATORS: [(&str, &str, &str); 10] = [
    ("rsi", "rsi_14", "period: 14"),
    ("sma", "sma_50", "period: 50"),
    ("sma", "sma_200", "period: 200"),
    ("ema", "ema_12", "period: 12"),
    ("ema", "ema_26", "period: 26"),
    (
        "macd",
        "macd_std",
        "fast_period: 12, slow_period: 26, signal_period: 9",
    ),
    ("bb", "bb_20", "period: 20, multiplier: 2.0"),
    ("atr", "atr_14", "period: 14"),
    (
        "stochastic",
        "stoch",
        "k_period: 14, k_smoothing: 3, d_period: 3",
    ),
    ("adx", "adx_14", "period: 14"),
];

/// 20 entry clauses, 12 exit clauses and 8 stop clauses.
const ENTRY: [&str; 20] = [
    "rsi_14 < 35",
    "rsi_14 > 10",
    "close > sma_200",
    "sma_50 > sma_200",
    "crosses_above(ema_12, ema_26)",
    "macd_std.histogram > 0",
    "macd_std.macd > macd_std.signal",
    "close < bb_20.upper",
    "close > bb_20.lower",
    "bb_20.bandwidth > 0.01",
    "atr_14 > 0",
    "atr_14 / close < 0.05",
    "stoch.k < 30",
    "stoch.k > stoch.d",
    "adx_14 > 20",
    "volume > volume[1]",
    "close > open",
    "high[1] < high",
    "close > highest(high[1], 20) - 2 * atr_14",
    "NOT (close < lowest(low[1], 10))",
];
const EXIT: [&str; 12] = [
    "rsi_14 > 70",
    "crosses_below(ema_12, ema_26)",
    "close < sma_50",
    "macd_std.histogram < 0",
    "close > bb_20.upper",
    "stoch.k > 80",
    "adx_14 < 15",
    "bars_in_trade > 50",
    "unrealized_pnl_pct > 0.1",
    "close < entry_price - 3 * atr_14",
    "abs(close - sma_50) > 4 * atr_14",
    "volume < volume[5] / 2",
];
const STOP: [&str; 8] = [
    "unrealized_pnl_pct < -0.05",
    "drawdown > 0.08",
    "close < entry_price * 0.95",
    "close < bb_20.lower - atr_14",
    "rsi_14 < 5",
    "low < lowest(low[1], 50)",
    "crosses_below(close, sma_200)",
    "max(open, close) < min(sma_50, sma_200) - atr_14",
];

fn yaml_document() -> String {
    let mut text = String::from(
        "name: Benchmark strategy\ntrading_pair: BTC/USD\ntimeframe: 1h\nindicators:\n",
    );
    for (indicator_type, name, parameters) in INDICATORS {
        text.push_str(&format!(
            "  - type: {indicator_type}\n    name: {name}\n    parameters: {{ {parameters} }}\n"
        ));
    }
    for (key, clauses, connective) in [
        ("entry_conditions", &ENTRY[..], "AND"),
        ("exit_conditions", &EXIT[..], "OR"),
        ("stop_conditions", &STOP[..], "OR"),
    ] {
        text.push_str(&format!(
            "{key}: |\n  {}\n",
            clauses.join(&format!("\n  {connective} "))
        ));
    }
    text.push_str(
        "position_sizing:\n  type: percentage\n  percentage_of_capital: 0.1\n  max_position_size: 0.5\n\
         risk_parameters:\n  max_daily_loss: 0.05\n  max_drawdown: 0.2\n  stop_loss_percentage: 0.03\n  take_profit_percentage: 0.09\n",
    );
    text
}

fn toml_document() -> String {
    let mut text = String::from(
        "name = \"Benchmark strategy\"\ntrading_pair = \"BTC/USD\"\ntimeframe = \"1h\"\n",
    );
    for (key, clauses, connective) in [
        ("entry_conditions", &ENTRY[..], "AND"),
        ("exit_conditions", &EXIT[..], "OR"),
        ("stop_conditions", &STOP[..], "OR"),
    ] {
        text.push_str(&format!(
            "{key} = \"\"\"\n{}\"\"\"\n",
            clauses.join(&format!("\n  {connective} "))
        ));
    }
    for (indicator_type, name, parameters) in INDICATORS {
        let parameters = parameters.replace(':', " =");
        text.push_str(&format!("\n[[indicators]]\ntype = \"{indicator_type}\"\nname = \"{name}\"\nparameters = {{ {parameters} }}\n"));
    }
    text.push_str(
        "\n[position_sizing]\ntype = \"percentage\"\npercentage_of_capital = 0.1\nmax_position_size = 0.5\n\
         \n[risk_parameters]\nmax_daily_loss = 0.05\nmax_drawdown = 0.2\nstop_loss_percentage = 0.03\ntake_profit_percentage = 0.09\n",
    );
    text
}

fn language(criterion: &mut Criterion) {
    for (label, text, format) in [
        ("yaml", yaml_document(), Format::Yaml),
        ("toml", toml_document(), Format::Toml),
    ] {
        let validation = validate(&text, format);
        assert!(
            !validation.has_errors(),
            "the benchmark document must be valid: {:#?}",
            validation.diagnostics
        );
        criterion.bench_function(
            &format!("validate/{label}/10 indicators, 40 clauses"),
            |bencher| bencher.iter(|| validate(black_box(&text), format)),
        );
        criterion.bench_function(
            &format!("syntax_test/{label}/10 indicators, 40 clauses"),
            |bencher| bencher.iter(|| syntax_test(black_box(&text), format)),
        );
    }
}

fn hostile_documents(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("hostile");
    group.sample_size(10);
    for shape in documents::SHAPES {
        for kilobytes in [64, 256] {
            let text = (shape.generate)(kilobytes * 1024);
            group.bench_function(format!("{}/{kilobytes} KB", shape.name), |bencher| {
                bencher.iter(|| syntax_test(black_box(&text), shape.format))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, language, hostile_documents);
criterion_main!(benches);
