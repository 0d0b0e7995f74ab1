//! The market data a fresh install starts with, so the first backtest of every template needs
//! no import: real files where we have them (embedded in the binary), and generated bars,
//! stored under the source `synthetic`, for the templates' other pairs.

use sqlx::PgPool;

use super::candle_store::{insert_candles, no_candles_stored, CandleOwner, Series};
use crate::backtests::candles::{read_candles_csv, Candle, Candles};
use crate::language::model::Timeframe;

/// What the `source` column says of generated bars.
pub const SYNTHETIC_SOURCE: &str = "synthetic";

/// Real data, copied from `../shared/data` into `tests/data`. BTCUSD.csv is monthly, a
/// timeframe the language does not have, so it is not loaded; BTC/USD is synthetic instead.
const REAL_FILES: [(&str, Timeframe, &str, &str); 2] = [
    (
        "GOOG/USD",
        Timeframe::OneDay,
        "GOOG.csv",
        include_str!("../../../tests/data/GOOG.csv"),
    ),
    (
        "EUR/USD",
        Timeframe::OneHour,
        "EURUSD.csv",
        include_str!("../../../tests/data/EURUSD.csv"),
    ),
];

/// One series the sample data added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedSample {
    pub series: Series,
    pub source: String,
    pub bars: u64,
}

/// Loads the sample data when the `candles` table is empty, in one transaction, and returns
/// what it added; with any bar already stored it adds nothing, so `migrate` may run it every
/// time.
#[tracing::instrument(skip_all)]
pub async fn load_sample_data_if_empty(pool: &PgPool) -> anyhow::Result<Vec<LoadedSample>> {
    let mut transaction = pool.begin().await?;
    if !no_candles_stored(&mut transaction).await? {
        return Ok(Vec::new());
    }
    let mut loaded = Vec::new();
    for (pair, timeframe, source, text) in REAL_FILES {
        let candles = read_candles_csv(text)?.candles;
        loaded.push(store(&mut transaction, pair, timeframe, source, &candles).await?);
    }
    loaded.push(
        store(
            &mut transaction,
            "BTC/USD",
            Timeframe::OneDay,
            SYNTHETIC_SOURCE,
            &synthetic_daily_bitcoin(),
        )
        .await?,
    );
    transaction.commit().await?;
    Ok(loaded)
}

async fn store(
    connection: &mut sqlx::PgConnection,
    pair: &str,
    timeframe: Timeframe,
    source: &str,
    candles: &Candles,
) -> anyhow::Result<LoadedSample> {
    let series = Series {
        pair: pair.to_string(),
        timeframe,
    };
    let stored = insert_candles(
        connection,
        CandleOwner::Shared,
        &series,
        source,
        candles,
        |_| {},
    )
    .await?;
    Ok(LoadedSample {
        series,
        source: source.to_string(),
        bars: stored.inserted,
    })
}

/// Four years of daily BTC/USD bars from 2021-01-01: a seeded random walk of log returns (about
/// 3.5% a day), the same every time, clearly not history.
pub fn synthetic_daily_bitcoin() -> Candles {
    const START: i64 = 1_609_459_200; // 2021-01-01 00:00:00 UTC
    const DAY: i64 = 86_400;
    const BARS: usize = 4 * 365 + 1;
    let mut random = SplitMix64(0x5EED_B7C0_2021);
    let mut candles = Candles::with_capacity(BARS);
    let mut close = 30_000.0_f64;
    for bar in 0..BARS {
        let open = close;
        // Twelve uniforms minus six: close enough to a standard normal for sample data.
        let normal: f64 = (0..12).map(|_| random.unit()).sum::<f64>() - 6.0;
        close = open * (0.0005 + 0.035 * normal).exp();
        let high = open.max(close) * (1.0 + 0.015 * random.unit());
        let low = open.min(close) * (1.0 - 0.015 * random.unit());
        candles.push(Candle {
            time: START + bar as i64 * DAY,
            open,
            high,
            low,
            close,
            volume: (10_000.0 + 40_000.0 * random.unit()).round(),
        });
    }
    candles
}

/// A small, well-known generator (Steele, Lea and Flood), so the sample needs no dependency and
/// never changes between versions of one.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_real_files_read_without_a_rejected_row() {
        for (pair, _, source, text) in REAL_FILES {
            let import = read_candles_csv(text).unwrap();
            assert_eq!(import.rejected, vec![], "{pair} from {source}");
            assert!(import.candles.len() > 2_000, "{pair} from {source}");
        }
    }

    #[test]
    fn synthetic_bitcoin_is_the_same_every_time_and_valid_candles() {
        let candles = synthetic_daily_bitcoin();
        assert_eq!(candles, synthetic_daily_bitcoin());
        assert_eq!(candles.len(), 1_461);
        for bar in 0..candles.len() {
            let candle = candles.candle(bar);
            assert!(candle.low > 0.0, "bar {bar}: {candle:?}");
            assert!(candle.high >= candle.open.max(candle.close), "bar {bar}");
            assert!(candle.low <= candle.open.min(candle.close), "bar {bar}");
        }
        assert!(candles
            .time
            .windows(2)
            .all(|pair| pair[1] - pair[0] == 86_400));
    }
}
